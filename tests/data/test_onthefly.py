"""On-the-fly data: deterministic streams, resumable at any batch, the same clips as ``generate``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from synthhuman.data.frames import LabeledFrames, StreamConfig, middle_frame
from synthhuman.data.onthefly import OnTheFlyConfig, SyntheticHumans
from synthhuman.generate import GenerateConfig, generate
from synthhuman.io.canonical import read_canonical_clip
from synthhuman.scene import SceneAssets, SceneConfig

T, H, W = 8, 64, 80
SCENE = SceneConfig(frames=T, height=H, width=W, people=2)
STREAM = StreamConfig(batch=4, clips_per_chunk=3, frames_per_clip=4)  # 3 batches per chunk


@pytest.fixture(scope="module")
def assets() -> SceneAssets:
    return SceneAssets(SCENE)


def stream(assets: SceneAssets, start: int = 0, **kw) -> SyntheticHumans:
    kw.setdefault("device", "cpu")
    return SyntheticHumans(OnTheFlyConfig(stream=STREAM, scene=SCENE, **kw), start=start, assets=assets)


def take(ds: SyntheticHumans, n: int) -> list[LabeledFrames]:
    it = iter(ds)
    return [next(it) for _ in range(n)]


def assert_same(a: LabeledFrames, b: LabeledFrames) -> None:
    assert a.clip_ids == b.clip_ids and torch.equal(a.frame, b.frame)
    for name in ("image", "depth", "segm", "joints2d", "joints3d"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name


def test_batches_have_labels_that_agree(assets):
    batch = take(stream(assets), 1)[0]
    assert batch.image.shape == (4, H, W, 3) and batch.segm.dtype == torch.uint8
    fg = batch.segm > 0
    assert torch.equal(fg, batch.depth > 0) and fg.any(dim=(1, 2)).all()
    assert 0 <= float(batch.image.min()) and float(batch.image.max()) <= 1
    # the person of interest's pelvis projects through the camera onto its joints2d (checked by depth)
    pelvis = batch.joints3d[:, 0]
    assert (pelvis[:, 2] > 1).all()
    assert all(c.startswith("train/") for c in batch.clip_ids)


def test_a_chunk_draws_each_clip_frames_per_clip_times_and_shuffles_them(assets):
    batches = take(stream(assets), STREAM.batches_per_chunk)
    ids = [c for b in batches for c in b.clip_ids]
    assert sorted(set(ids)) == [f"train/{i:06d}" for i in range(STREAM.clips_per_chunk)]
    assert all(ids.count(c) == STREAM.frames_per_clip for c in set(ids))
    assert ids != sorted(ids)  # shuffled across batches
    frames = {(c, int(f)) for b in batches for c, f in zip(b.clip_ids, b.frame, strict=True)}
    assert len(frames) == len(ids)  # distinct frames of each clip


def test_stream_is_deterministic_and_resumes_at_any_batch(assets):
    full = take(stream(assets), 5)
    for a, b in zip(full, take(stream(assets), 5), strict=True):
        assert_same(a, b)
    for a, b in zip(full, take(stream(assets, prefetch=False), 5), strict=True):  # no background thread
        assert_same(a, b)
    for start in (2, 4):  # inside the first chunk, and inside the second
        for a, b in zip(full[start:], take(stream(assets, start), 5 - start), strict=True):
            assert_same(a, b)
    other = take(stream(assets, seed=1), 1)[0]
    assert other.clip_ids != full[0].clip_ids or not torch.equal(other.image, full[0].image)


def test_test_split_is_the_middle_frame_of_fixed_test_clips(assets):
    ds = stream(assets, split="test", test_clips=6)
    batches = list(ds)
    assert len(ds) == 2 and [len(b) for b in batches] == [4, 2]
    ids = [c for b in batches for c in b.clip_ids]
    assert ids == [f"test/{i:06d}" for i in range(6)]
    assert all(int(f) == middle_frame(T) for b in batches for f in b.frame)
    again = list(stream(assets, split="test", test_clips=6))
    for a, b in zip(batches, again, strict=True):
        assert_same(a, b)
    tail = list(stream(assets, start=1, split="test", test_clips=6))
    assert len(tail) == 1
    assert_same(tail[0], batches[1])
    with pytest.raises(TypeError, match="endless"):
        len(stream(assets))


def test_dataloader_workers_give_the_same_test_batches(assets):
    ds = stream(assets, split="test", test_clips=6)
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2)
    for a, b in zip(list(ds), list(loader), strict=True):
        assert_same(a, b)


def test_the_test_set_is_what_generate_writes_with_the_same_seed(assets, tmp_path: Path):
    """The same sampler and seeds: the middle frame of each test clip generate writes has the labels the
    on-the-fly test set renders (the image differs only by H.264)."""
    scene = replace(SCENE, test_fraction=0.5)
    generate(GenerateConfig(out=str(tmp_path), clips=4, seed=5, device="cpu", preview=False, scene=scene))
    ds = SyntheticHumans(
        OnTheFlyConfig("test", seed=5, device="cpu", stream=STREAM, test_clips=2, scene=scene),
        assets=SceneAssets(scene),
    )
    frames = LabeledFrames.cat(list(ds))
    m = middle_frame(T)
    for k in range(2):
        disk = read_canonical_clip(tmp_path / "test" / f"{k:06d}")
        np.testing.assert_array_equal(frames.segm[k].numpy(), disk.segm[m])
        np.testing.assert_array_equal(frames.depth[k].numpy(), disk.depth[m])
        people = disk.joints2d.shape[1]
        matches = [
            np.allclose(frames.joints2d[k].numpy(), disk.joints2d[m, p], atol=1e-4) for p in range(people)
        ]
        assert any(matches)
        rgb_error = np.abs(frames.image[k].numpy() * 255 - disk.rgb[m].astype(np.float32)).mean()
        assert rgb_error < 12, rgb_error  # H.264 at CRF 23 of photo-like backgrounds at 64x80
        other = read_canonical_clip(tmp_path / "test" / f"{1 - k:06d}").rgb[m].astype(np.float32)
        assert np.abs(frames.image[k].numpy() * 255 - other).mean() > 2 * rgb_error  # another clip: far


def test_bad_configs_are_refused(assets):
    with pytest.raises(ValueError, match="split: expected one of"):
        OnTheFlyConfig(split="val")
    with pytest.raises(ValueError, match="device: expected auto, cpu, cuda or cuda:N, got 'gpu'"):
        OnTheFlyConfig(device="gpu")
    with pytest.raises(ValueError, match="a multiple of batch = 5"):
        StreamConfig(batch=5, clips_per_chunk=3, frames_per_clip=4)
    with pytest.raises(ValueError, match="assets: loaded for another scene config"):
        SyntheticHumans(OnTheFlyConfig(device="cpu"), assets=assets)


@pytest.mark.gpu
def test_rendering_on_cuda_gives_the_cpu_frames(assets):
    """The same clips rendered on the training GPU: the same labels but for rare ties at part borders."""
    cpu = take(stream(assets), 1)[0]
    cuda = take(stream(assets, device="cuda"), 1)[0]
    assert cuda.image.is_cuda and cuda.clip_ids == cpu.clip_ids and torch.equal(cuda.frame, cpu.frame)
    assert (cuda.segm.cpu() == cpu.segm).float().mean() > 0.999
    both = (cuda.depth.cpu() > 0) & (cpu.depth > 0)
    torch.testing.assert_close(cuda.depth.cpu()[both], cpu.depth[both], atol=1e-4, rtol=0)
    assert (cuda.image.cpu() - cpu.image).abs().mean() < 2e-3
    torch.testing.assert_close(cuda.joints2d.cpu(), cpu.joints2d, atol=1e-3, rtol=0)
