"""``synthhuman generate``: layers, their agreement, determinism, resume, shards, user bodies, Ray."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from synthhuman.generate import GenerateConfig, generate, plan
from synthhuman.io.canonical import read_canonical_clip
from synthhuman.render.cameras import project
from synthhuman.scene import AssetConfig, SceneConfig
from synthhuman.viz import label_palette  # noqa: F401  (viz must import without a display)

T, H, W = 6, 96, 128


def small(out: Path, **kw) -> GenerateConfig:
    kw.setdefault("scene", SceneConfig(frames=T, height=H, width=W, people=2))
    kw.setdefault("clips", 3)
    return GenerateConfig(out=str(out), device="cpu", batch_frames=100, **kw)


def clip_arrays(root: Path) -> dict[str, dict]:
    out = {}
    for split in ("train", "test"):
        for folder in sorted((root / split).glob("*")):
            c = read_canonical_clip(folder)
            out[f"{split}/{folder.name}"] = {
                f.name: getattr(c, f.name) for f in dataclasses.fields(c) if f.name != "info"
            }
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "data"
    res = generate(small(out))
    assert res.written == 3 and res.frames == 3 * T
    return out


def test_layout_manifest_and_preview(dataset):
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert manifest["format"] == "canonical" and manifest["seed"] == 0
    assert manifest["config"]["scene"]["frames"] == T
    assert {c["split"] for c in manifest["clips"]} == {"train", "test"} and len(manifest["clips"]) == 3
    assert all("sha256:" in v for v in manifest["assets"].values())
    assert sorted(p.name for p in (dataset / "train" / "000000").iterdir()) == [
        "info.json",
        "labels.npz",
        "rgb.mp4",
    ]
    assert (dataset / "preview.png").stat().st_size > 10_000
    assert not list(dataset.rglob(".*tmp*"))


def test_every_layer_has_its_shape_dtype_and_range(dataset):
    folder = dataset / "train" / "000000"
    with np.load(folder / "labels.npz") as labels:
        c = {k: labels[k] for k in labels.files}  # as stored
    c["rgb"] = read_canonical_clip(folder).rgb
    c["info"] = json.loads((folder / "info.json").read_text())
    P = 2
    expected = {
        "rgb": ((T, H, W, 3), np.uint8), "depth": ((T, H, W), np.float32),
        "normals": ((T, H, W, 3), np.float16), "segm": ((T, H, W), np.uint8),
        "instance": ((T, H, W), np.uint8), "flow": ((T, H, W, 2), np.float16),
        "flow_valid": ((T, H, W), np.bool_), "joints2d": ((T, P, 24, 2), np.float32),
        "joints3d": ((T, P, 24, 3), np.float32), "joints_visible": ((T, P, 24), np.bool_),
        "pose": ((T, P, 72), np.float32), "betas": ((P, 10), np.float32), "trans": ((T, P, 3), np.float32),
        "gender": ((P,), None), "K": ((T, 3, 3), np.float32), "R": ((T, 3, 3), np.float32),
        "t": ((T, 3), np.float32), "light": ((P, 9), np.float32),
    }  # fmt: skip
    for name, (shape, dtype) in expected.items():
        assert c[name].shape == shape, name
        assert dtype is None or c[name].dtype == dtype, name
    assert set(c["gender"]) <= {"female", "male"}
    fg = c["segm"] > 0
    assert fg.any() and c["segm"].max() <= 24
    assert set(np.unique(c["instance"])) == {0, 1, 2}
    assert (c["depth"][fg] > 1).all() and (c["depth"][~fg] == 0).all()
    n = np.linalg.norm(c["normals"].astype(np.float32), axis=-1)
    assert np.allclose(n[fg], 1, atol=2e-3) and (n[~fg] == 0).all()
    assert not c["flow_valid"][-1].any()
    assert c["info"]["split"] == "train" and len(c["info"]["motions"]) == P


def test_layers_agree_with_each_other(dataset):
    for folder in sorted((dataset / "train").glob("*")):
        c = read_canonical_clip(folder, video=False)
        fg = c.segm > 0
        assert np.array_equal(fg, c.depth > 0) and np.array_equal(fg, c.instance > 0)
        # joints3d (camera) is the world joints through R, t; joints2d their projection with K
        K, R, t = (torch.from_numpy(getattr(c, k)).double() for k in ("K", "R", "t"))
        j3 = torch.from_numpy(c.joints3d).double()
        uv = project(j3.reshape(T, -1, 3), K).reshape(T, 2, 24, 2)
        assert torch.allclose(uv, torch.from_numpy(c.joints2d).double(), atol=1e-3)
        # flow moves each valid pixel onto the same body part and person in the next frame: labels are
        # point-sampled, so a target within half a pixel of a part border may land on the neighbour part;
        # the source part must then be among the target's 3x3 neighbours
        flow = c.flow
        tt, rows, cols = np.nonzero(c.flow_valid)
        assert tt.size > 100
        r2 = np.round(rows + flow[tt, rows, cols, 1]).astype(int)
        c2 = np.round(cols + flow[tt, rows, cols, 0]).astype(int)
        segm_next = np.pad(c.segm, ((0, 0), (1, 1), (1, 1)))
        near = [segm_next[tt + 1, r2 + 1 + dr, c2 + 1 + dc] for dr in (-1, 0, 1) for dc in (-1, 0, 1)]
        source = c.segm[tt, rows, cols]
        assert (np.stack(near) == source).any(0).mean() > 0.995
        assert (c.segm[tt + 1, r2, c2] == source).mean() > 0.8
        there = c.instance[tt + 1, r2, c2]
        assert ((there != 0) & (there != c.instance[tt, rows, cols])).mean() < 0.01  # not another person
        # visible joints lie on their own person's pixels
        vis = c.joints_visible
        j2 = np.round(c.joints2d).astype(int)
        for p in range(2):
            tv, jv = np.nonzero(vis[:, p])
            inst = c.instance[tv, j2[tv, p, jv, 1], j2[tv, p, jv, 0]]
            assert (inst == p + 1).mean() > 0.9


def test_same_bytes_whatever_the_batch_size(dataset, tmp_path):
    other = tmp_path / "b4"
    generate(replace(small(other), batch_frames=4, writers=1, preview=False))
    a, b = clip_arrays(dataset), clip_arrays(other)
    assert a.keys() == b.keys()
    for key in a:
        for name in a[key]:
            assert np.array_equal(a[key][name], b[key][name]), (key, name)


def test_shards_make_up_the_whole_run(dataset, tmp_path):
    out = tmp_path / "sharded"
    for i in range(2):
        res = generate(replace(small(out), shard=(i, 2), resume=i > 0, preview=False))
        assert res.written == len(plan(small(out))[i::2])
    a, b = clip_arrays(dataset), clip_arrays(out)
    assert a.keys() == b.keys()
    assert all(
        np.array_equal(a[k]["segm"], b[k]["segm"]) and np.array_equal(a[k]["rgb"], b[k]["rgb"]) for k in a
    )


def test_resume_after_a_kill_mid_clip(dataset, tmp_path, monkeypatch):
    import synthhuman.io.canonical as canonical

    out = tmp_path / "killed"
    real = canonical.write_npz
    calls = []

    def dying(path, arrays, level):  # the second clip dies while writing its labels
        calls.append(path)
        if len(calls) == 2:
            Path(path).with_name(".labels.npz.999.tmp").write_bytes(b"partial")
            raise KeyboardInterrupt
        return real(path, arrays, level)

    monkeypatch.setattr(canonical, "write_npz", dying)
    with pytest.raises(KeyboardInterrupt):
        generate(replace(small(out), writers=1, preview=False))
    monkeypatch.setattr(canonical, "write_npz", real)
    written_before = [str(p.relative_to(out)) for p in out.glob("*/0*")]
    assert "train/000001" not in written_before  # the clip that died half-written is not there
    with pytest.raises(ValueError, match="--resume"):
        generate(replace(small(out), preview=False))
    res = generate(replace(small(out), resume=True, preview=False))
    assert res.written == 3 - len(written_before) and res.skipped == len(written_before)
    assert not list(out.rglob(".*tmp*"))
    a, b = clip_arrays(dataset), clip_arrays(out)
    assert all(np.array_equal(a[k]["depth"], b[k]["depth"]) for k in a) and a.keys() == b.keys()


def test_another_config_in_the_same_folder_is_refused(dataset):
    with pytest.raises(ValueError, match="another dataset.*seed: 0 in the folder, 5 in this run"):
        generate(replace(small(dataset), seed=5, resume=True))


def test_unwritable_output_is_refused_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="not writable"):
        generate(small(blocker / "sub"))


def test_user_body_file(tmp_path):
    from tests.body.tiny_smpl import make_tiny_model, write_npz

    model = tmp_path / "SMPL_NEUTRAL.npz"
    write_npz(model, make_tiny_model("smpl"))
    scene = SceneConfig(frames=4, height=64, width=96, genders=("neutral",))
    with pytest.warns(UserWarning, match="no UVs"):
        generate(small(tmp_path / "out", clips=1, scene=scene, assets=AssetConfig(body=str(model))))
    c = read_canonical_clip(tmp_path / "out" / "train" / "000000")
    assert (c.segm > 0).sum() > 50 and c.betas.shape == (1, 10)
    assert len(np.unique(c.segm)) > 5


@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="Ray is not installed (extra 'distributed')"
)
def test_ray_local_gives_the_same_clips(dataset, tmp_path):
    import ray

    out = tmp_path / "ray"
    try:
        generate(replace(small(out), ray="local", preview=False))
    finally:
        ray.shutdown()
    a, b = clip_arrays(dataset), clip_arrays(out)  # a Ray worker runs one thread, this process two
    assert a.keys() == b.keys()
    assert [(k, n) for k in a for n in a[k] if not np.array_equal(a[k][n], b[k][n])] == []


def test_surreal_format_through_generate(tmp_path):
    from synthhuman.io.surreal import read_surreal_clip, surreal_clip_paths

    scene = SceneConfig(frames=5, height=H, width=W)
    cfg = small(tmp_path / "s", clips=2, format="surreal", scene=scene)
    assert generate(cfg).written == 2
    paths = surreal_clip_paths(tmp_path / "s", "000000", 1, "train")
    assert paths.complete
    c = read_surreal_clip(paths.info)
    assert (
        c.info["joints2D"].shape == (2, 24, 5) and c.segm.shape == (5, H, W) and c.rgb.shape == (5, H, W, 3)
    )
    assert generate(replace(cfg, resume=True)).written == 0
    with pytest.raises(ValueError, match="people"):
        replace(cfg, scene=SceneConfig(frames=5, height=H, width=W, people=2))


def test_webdataset_format_through_generate(tmp_path):
    import webdataset as wds

    from synthhuman.io.webdataset import label_png_decoder

    cfg = small(tmp_path / "w", clips=3, format="webdataset")
    assert generate(cfg).written == 3
    shards = sorted(str(p) for p in (tmp_path / "w").glob("*/*.tar"))
    samples = list(wds.WebDataset(shards, shardshuffle=False).decode(label_png_decoder, "rgb8"))
    assert len(samples) == 3 * T
    keys = {s["__key__"] for s in samples}
    assert "000000_0000" in keys and len(keys) == 2 * T  # train and test shards reuse clip ids 000000
    s0 = samples[0]
    assert s0["segm.png"].shape == (H, W) and s0["depth.npy.gz"].shape == (H, W)
    assert generate(replace(cfg, resume=True)).written == 0


def test_info_summarises_every_sampled_clip(dataset):
    from synthhuman.overview import dataset_info

    info = dataset_info(dataset)
    assert info["clips_finished"] == 3 and info["splits"] == {"train": 2, "test": 1}
    depths = [read_canonical_clip(f, video=False) for f in sorted(dataset.glob("*/0*"))]
    body = np.concatenate([c.depth[c.segm > 0] for c in depths]).astype(np.float64)
    stats = info["value_ranges (sampled clips)"]["depth_m (body)"]
    assert stats["mean"] == pytest.approx(body.mean()) and stats["max"] == pytest.approx(body.max())
