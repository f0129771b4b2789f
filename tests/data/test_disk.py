"""Reading generated datasets back as LabeledFrames: canonical frames equal the files, the stream plan is
deterministic and resumable, the test split is the middle frames, DataLoader workers, errors; a SURREAL
clip is the left-right mirror of the canonical clip of the same record."""

from __future__ import annotations

import itertools
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from torch.utils.data import DataLoader

from synthhuman.data.disk import DiskConfig, DiskFrames, list_clips, load_frames
from synthhuman.data.frames import LabeledFrames, StreamConfig, middle_frame
from synthhuman.generate import GenerateConfig, generate
from synthhuman.io.surreal import surreal_intrinsics
from synthhuman.io.video import read_mp4
from synthhuman.render.cameras import project
from synthhuman.scene import SceneConfig

T, H, W = 6, 64, 80
STREAM = StreamConfig(batch=2, clips_per_chunk=2, frames_per_clip=3)  # 3 batches per chunk


def make(out: Path, fmt: str = "canonical", **scene) -> Path:
    """6 clips (3 train, 3 test) of ``scene`` (default T frames of H x W, one person), seed 3."""
    scene = {"frames": T, "height": H, "width": W, "test_fraction": 0.5} | scene
    cfg = GenerateConfig(out=str(out), clips=6, seed=3, device="cpu", preview=False, format=fmt)
    generate(replace(cfg, scene=SceneConfig(**scene)))
    return out


@pytest.fixture(scope="module")
def canonical(tmp_path_factory) -> Path:
    """Two people per clip, so the person of interest matters."""
    return make(tmp_path_factory.mktemp("canonical") / "data", people=2)


@pytest.fixture(scope="module")
def mixed(canonical, tmp_path_factory) -> Path:
    """``canonical`` plus two train clips of 4 frames and one person (000100, 000101)."""
    root = tmp_path_factory.mktemp("mixed") / "data"
    shutil.copytree(canonical, root)
    short = make(tmp_path_factory.mktemp("short") / "data", frames=4)
    for k, folder in enumerate(sorted((short / "train").iterdir())[:2]):
        shutil.copytree(folder, root / "train" / f"{100 + k:06d}")
    return root


def take(ds, n: int) -> list[LabeledFrames]:
    return list(itertools.islice(iter(ds), n))


def assert_same(a: list[LabeledFrames], b: list[LabeledFrames]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.clip_ids == y.clip_ids and torch.equal(x.frame, y.frame)
        for name in ("image", "depth", "segm", "joints2d", "joints3d"):
            assert torch.equal(getattr(x, name), getattr(y, name)), name


# --- canonical ------------------------------------------------------------------------------------------


def test_list_clips_finds_the_finished_clips_sorted(canonical):
    (canonical / "train" / ".000009.123.tmp").mkdir()  # what a killed run leaves: not a clip
    for split in ("train", "test"):
        clips = list_clips(canonical, split)
        assert [c.clip_id for c in clips] == [f"{split}/{i:06d}" for i in range(3)]
        assert {(c.format, c.num_frames, c.num_people) for c in clips} == {("canonical", T, 2)}
        assert clips[0].path("labels") == canonical / split / "000000" / "labels.npz"


def test_load_frames_equals_the_files(canonical):
    clip = list_clips(canonical, "train")[1]
    frames = torch.tensor([5, 0, 5, 2])
    people = torch.tensor([1, 0, 0, 1])
    got = load_frames(clip, frames, people)
    with np.load(clip.path("labels")) as labels:
        f, p = frames.numpy(), people.numpy()
        assert np.array_equal(got.segm.numpy(), labels["segm"][f])
        assert np.array_equal(got.depth.numpy(), labels["depth"][f])
        assert np.array_equal(got.joints2d.numpy(), labels["joints2d"][f, p])
        assert np.array_equal(got.joints3d.numpy(), labels["joints3d"][f, p])
        default = load_frames(clip, frames)  # person 0
        assert np.array_equal(default.joints3d.numpy(), labels["joints3d"][f, 0])
    # The image is the decoded mp4 exactly (H.264 loses against the render; that is the file's business).
    rgb = read_mp4(clip.path("video"))[frames.numpy()]
    assert torch.equal(got.image, torch.from_numpy(rgb).float() / 255)
    assert got.clip_ids == ("train/000001",) * 4 and torch.equal(got.frame, frames)


def test_train_stream_is_deterministic_and_resumable(canonical):
    cfg = DiskConfig(str(canonical), "train", seed=7, stream=STREAM)
    ds = DiskFrames(cfg)
    first = take(ds, 9)  # chunks 0-2: clip positions 0-5, i.e. two epochs of the 3 train clips
    assert_same(first, take(DiskFrames(cfg), 9))
    assert_same(first[4:], take(DiskFrames(cfg, start=4), 5))
    assert all(len(b) == STREAM.batch for b in first)
    picks = [pick for k in range(3) for pick in ds.chunk_picks(k)]
    order = [i for i, _, _ in picks]
    assert sorted(order[:3]) == sorted(order[3:]) == [0, 1, 2]  # each epoch visits every clip once
    again = {i: f for i, f, _ in picks[:3]}
    assert any(not torch.equal(again[i], f) for i, f, _ in picks[3:])  # other frames in another epoch
    people = torch.cat([p for _, _, p in picks])
    assert set(people.tolist()) == {0, 1}  # two people per clip: both are drawn
    for k in range(3):  # the batches hold exactly the chunk's planned (clip, frame) pairs, shuffled
        planned = sorted((f"train/{i:06d}", x) for i, f, _ in ds.chunk_picks(k) for x in f.tolist())
        batches = first[3 * k : 3 * k + 3]
        got = sorted((c, x) for b in batches for c, x in zip(b.clip_ids, b.frame.tolist(), strict=True))
        assert got == planned
    other = take(DiskFrames(replace(cfg, seed=8)), 3)
    assert any(
        x.clip_ids != y.clip_ids or not torch.equal(x.frame, y.frame)
        for x, y in zip(first[:3], other, strict=True)
    )


def test_short_clips_give_fewer_batches_and_start_still_resumes(mixed):
    stream = StreamConfig(batch=5, clips_per_chunk=2, frames_per_clip=5)  # 5 frames of 6, or all 4
    cfg = DiskConfig(str(mixed), "train", seed=1, stream=stream)
    ds = DiskFrames(cfg)
    assert [c.num_frames for c in ds.clips] == [6, 6, 6, 4, 4]
    counts = [ds.chunk_batches(k) for k in range(8)]
    assert set(counts) == {1, 2}  # 10 frames: 2 batches; 9 or 8 frames: 1 batch, the rest dropped
    stream0 = take(ds, sum(counts))
    assert all(len(b) == 5 for b in stream0)
    for start in (1, 2, 3, 7):
        k, skip = ds.locate(start)
        assert sum(counts[:k]) + skip == start and skip < counts[k]
        assert_same(stream0[start : start + 2], take(DiskFrames(cfg, start=start), 2))
    with pytest.raises(ValueError, match=r"stream: expected clips_per_chunk \* min\(frames_per_clip"):
        DiskFrames(replace(cfg, stream=StreamConfig(batch=6, clips_per_chunk=1, frames_per_clip=6)))


def test_test_split_is_the_middle_frames(canonical):
    cfg = DiskConfig(str(canonical), "test", seed=2, stream=STREAM)
    ds = DiskFrames(cfg)
    assert len(ds) == 2
    batches = list(ds)
    assert [len(b) for b in batches] == [2, 1]
    assert sum((b.clip_ids for b in batches), ()) == tuple(f"test/{i:06d}" for i in range(3))
    assert all((b.frame == middle_frame(T)).all() for b in batches)
    clip = list_clips(canonical, "test")[2]
    with np.load(clip.path("labels")) as labels:
        assert np.array_equal(batches[1].segm[0].numpy(), labels["segm"][middle_frame(T)])
    assert_same(list(ds), batches)
    tail = DiskFrames(cfg, start=1)
    assert len(tail) == 1
    assert_same(list(tail), batches[1:])
    assert len(DiskFrames(cfg, start=5)) == 0 and list(DiskFrames(cfg, start=5)) == []
    with pytest.raises(TypeError, match="endless"):
        len(DiskFrames(replace(cfg, split="train")))


def test_dataloader_workers(canonical):
    # test: the same batches in the same order (3 batches of 1: the workers end unevenly)
    cfg = DiskConfig(
        str(canonical), "test", stream=StreamConfig(batch=1, clips_per_chunk=1, frames_per_clip=1)
    )
    single = list(DataLoader(DiskFrames(cfg), batch_size=None, num_workers=0))
    assert_same(list(DataLoader(DiskFrames(cfg), batch_size=None, num_workers=2)), single)
    # train: worker w reads chunks w, w + 2, ...; the DataLoader takes a batch from each worker in turn,
    # so output m is batch (m // 2) % 3 of chunk m % 2 + 2 * ((m // 2) // 3)
    train = DiskFrames(replace(cfg, split="train", stream=STREAM))
    single = take(train, 12)
    loader = DataLoader(train, batch_size=None, num_workers=2)
    interleaved = [single[(m % 2 + 2 * (m // 2 // 3)) * 3 + (m // 2) % 3] for m in range(12)]
    assert_same(list(itertools.islice(iter(loader), 12)), interleaved)


def test_errors_name_the_problem(canonical, tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere: dataset folder not found"):
        DiskFrames(DiskConfig(str(tmp_path / "nowhere")))
    with pytest.raises(ValueError, match=r"split: expected one of \('train', 'test'\), got 'val'"):
        DiskConfig(str(canonical), "val")
    with pytest.raises(ValueError, match="format: expected one of"):
        DiskConfig(str(canonical), format="tar")
    with pytest.raises(ValueError, match=r"format not recognised: looked for manifest.json"):
        DiskFrames(DiskConfig(str(tmp_path)))
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "canonical"}))
    (tmp_path / "train").mkdir()
    with pytest.raises(ValueError, match=f"{tmp_path}: no finished canonical clip of split 'train'"):
        DiskFrames(DiskConfig(str(tmp_path)))
    with pytest.raises(ValueError, match="format: .* says 'canonical', got 'surreal'"):
        list_clips(canonical, "train", "surreal")

    clip = list_clips(canonical, "train")[0]
    with pytest.raises(ValueError, match=r"frames: expected values in 0..5 for train/000000, got \[6\]"):
        load_frames(clip, torch.tensor([6]))
    with pytest.raises(ValueError, match=r"people: expected values in 0..1"):
        load_frames(clip, torch.tensor([0]), torch.tensor([2]))
    broken = tmp_path / "broken"
    shutil.copytree(clip.folder, broken)
    with np.load(broken / "labels.npz") as labels:
        arrays = dict(labels)
    arrays["joints3d"] = arrays["joints3d"][:, :, :10]
    np.savez(broken / "labels.npz", **arrays)
    with pytest.raises(ValueError, match=r"labels.npz: joints3d: expected shape \(6, 2, 24, 3\)"):
        load_frames(replace(clip, folder=broken), torch.tensor([0]))
    (broken / "labels.npz").unlink()
    with pytest.raises(FileNotFoundError, match="broken/labels.npz: missing"):
        load_frames(replace(clip, folder=broken), torch.tensor([0]))


# --- SURREAL --------------------------------------------------------------------------------------------


def test_surreal_intrinsics_are_surreals_k_at_pixel_centres():
    K = surreal_intrinsics(240, 320)  # SURREAL's [[600, 0, 160], [0, 600, 120]] with centres at j + 0.5
    assert np.array_equal(K, [[600, 0, 159.5], [0, 600, 119.5], [0, 0, 1]])


@pytest.fixture(scope="module", params=[(240, 320), (64, 80)], ids=["320x240", "80x64"])
def pair(request, tmp_path_factory) -> tuple[Path, Path, int]:
    """The same 4-frame clips (one person) as canonical and as SURREAL files, and the image width."""
    h, w = request.param
    roots = [
        make(tmp_path_factory.mktemp(fmt) / "data", fmt, frames=4, height=h, width=w)
        for fmt in ("canonical", "surreal")
    ]
    return roots[0], roots[1], w


def test_surreal_clips_are_the_mirror_of_canonical_clips(pair):
    canonical, surreal, width = pair
    for split in ("train", "test"):
        clips = list_clips(surreal, split)
        assert [c.clip_id for c in clips] == [f"{split}/run0/{i:06d}/{i:06d}_c0001" for i in range(3)]
        assert {(c.format, c.num_frames, c.num_people) for c in clips} == {("surreal", 4, 1)}
        for c, s in zip(list_clips(canonical, split), clips, strict=True):
            frames = torch.tensor([3, 0, 1, 2, 1])
            a, b = load_frames(c, frames), load_frames(s, frames)
            assert torch.equal(b.segm, a.segm.flip(-1))
            mirror = a.depth.flip(-1)
            body = mirror > 0
            assert torch.equal(b.depth > 0, body)  # 1e10 background -> 0
            assert ((b.depth - mirror).abs() <= 1e-4 * mirror).all()
            # joints2D are rounded to whole pixels: within half a pixel of the mirrored canonical joints
            assert ((b.joints2d[..., 0] - (width - 1 - a.joints2d[..., 0])).abs() <= 0.5 + 1e-3).all()
            assert ((b.joints2d[..., 1] - a.joints2d[..., 1]).abs() <= 0.5 + 1e-3).all()
            assert torch.allclose(b.joints3d, a.joints3d * torch.tensor([-1.0, 1.0, 1.0]), atol=1e-4, rtol=0)
            # joints3d and joints2d agree in the mirrored image, through the intrinsics depth used
            K = torch.from_numpy(surreal_intrinsics(*b.segm.shape[1:])).float().expand(len(frames), 3, 3)
            assert (project(b.joints3d, K) - b.joints2d).abs().max() <= 0.5 + 1e-3
            # two H.264 encodings of mirrored frames: close on average, not pixel for pixel (photo-like
            # backgrounds have detail at every scale, which H.264 keeps less exactly than smooth ones;
            # unmirrored frames differ by far more)
            assert (b.image - a.image.flip(-2)).abs().mean() < 0.03
            assert (b.image - a.image).abs().mean() > 0.05


def test_surreal_test_split_and_stream(pair):
    _, surreal, _ = pair
    test = DiskFrames(
        DiskConfig(str(surreal), "test", stream=StreamConfig(batch=2, clips_per_chunk=1, frames_per_clip=2))
    )
    batches = list(test)
    assert len(test) == 2 and [len(b) for b in batches] == [2, 1]
    assert all((b.frame == middle_frame(4)).all() for b in batches)
    train = DiskFrames(DiskConfig(str(surreal), "train", seed=4, stream=STREAM))
    assert_same(take(train, 4)[1:], take(DiskFrames(train.cfg, start=1), 3))


def test_surreal_errors_name_the_file_and_field(pair, tmp_path):
    _, surreal, _ = pair
    clip = list_clips(surreal, "train")[0]
    broken = tmp_path / "train" / "run0" / "seq"
    shutil.copytree(clip.folder, broken)
    clip = replace(clip, folder=broken)
    original = clip.path("info").read_bytes()
    info = scipy.io.loadmat(clip.path("info"))
    info["joints3D"] = info["joints3D"][:, :10]
    scipy.io.savemat(clip.path("info"), {k: v for k, v in info.items() if not k.startswith("__")})
    with pytest.raises(ValueError, match=r"000000_c0001_info.mat: joints3D: expected shape \(3, 24, 4\)"):
        load_frames(clip, torch.tensor([0]))
    clip.path("info").write_bytes(original)
    clip.path("segm").unlink()
    with pytest.raises(FileNotFoundError, match="000000_c0001_segm.mat: missing"):
        load_frames(clip, torch.tensor([0]))
    assert list_clips(tmp_path, "train", "surreal")[0].clip_id == "train/run0/seq/000000_c0001"
    clip.path("video").unlink()  # the mp4 comes last: without it the clip is unfinished
    with pytest.raises(ValueError, match="no finished surreal clip of split 'train'"):
        list_clips(tmp_path, "train", "surreal")
