"""Rendered clip records with per-frame cameras: each frame's K, R, t reproduce its joints from the world
joints; the camera's draws are recorded in info.json's extra."""

from __future__ import annotations

import numpy as np
import torch

from synthhuman.io.record import ClipRef
from synthhuman.pipeline import RenderConfig
from synthhuman.rendering import render_records, rgb_to_bytes
from synthhuman.scene import CameraConfig, SceneAssets, SceneConfig

T = 10


def test_per_frame_cameras_reproduce_joints2d_from_joints3d():
    cfg = SceneConfig(
        frames=T, height=48, width=64, camera=CameraConfig(mode="moving", moves=("orbit", "pan"))
    )
    assets = SceneAssets(cfg)
    refs = [ClipRef("train", 0), ClipRef("train", 1)]
    records = list(render_records(assets, refs, 5, torch.device("cpu"), RenderConfig(backend="torch"), 7))
    for r in records:
        assert r.K.shape == (T, 3, 3) and r.R.shape == (T, 3, 3) and r.t.shape == (T, 3)
        assert not r.static_camera and r.info.extra["camera"]["move"] in ("orbit", "pan")
        R, t, K = r.R.astype(np.float64), r.t.astype(np.float64), r.K.astype(np.float64)
        cam = np.einsum("tij,tpkj->tpki", R, r.joints3d_world.astype(np.float64)) + t[:, None, None]
        np.testing.assert_allclose(cam, r.joints3d, atol=1e-4)
        j = r.joints3d.astype(np.float64)
        u = K[:, None, None, 0, 0] * j[..., 0] / j[..., 2] + K[:, None, None, 0, 2]
        v = K[:, None, None, 1, 1] * j[..., 1] / j[..., 2] + K[:, None, None, 1, 2]
        np.testing.assert_allclose(np.stack([u, v], -1), r.joints2d, atol=1e-3)
        # with frame 0's camera for every frame the joints would land elsewhere: the cameras do move
        cam0 = np.einsum("ij,tpkj->tpki", R[0], r.joints3d_world.astype(np.float64)) + t[0]
        assert np.abs(cam0[-1] - r.joints3d[-1]).max() > 0.05


def test_rgb_to_bytes_equals_torchs_cast_in_both_precisions():
    gen = torch.Generator().manual_seed(3)
    for dtype in (torch.float32, torch.float64):
        rgb = torch.rand(11, 5, 7, 3, generator=gen, dtype=dtype)  # 11 frames: a partial last chunk
        edges = torch.tensor([0.0, 1.0, 0.5 / 255, 1.5 / 255, 127.5 / 255, 254.5 / 255], dtype=dtype)
        rgb.view(-1)[: len(edges)] = edges  # half-way values round up, as torch's cast does
        out = np.zeros((11, 5, 7, 3), np.uint8)
        rgb_to_bytes(rgb, out)
        np.testing.assert_array_equal(out, (rgb * 255 + 0.5).to(torch.uint8).numpy())
        assert out.reshape(-1)[:2].tolist() == [0, 255]


def test_clips_prepared_ahead_on_their_own_thread_are_the_same():
    cfg = SceneConfig(frames=6, height=32, width=48)
    assets = SceneAssets(cfg)
    refs = [ClipRef("train", i) for i in range(3)]
    render = RenderConfig(backend="torch")
    a = list(render_records(assets, refs, 2, torch.device("cpu"), render, 8))
    b = list(render_records(assets, refs, 2, torch.device("cpu"), render, 8, prepare_ahead=2))
    assert [r.info for r in a] == [r.info for r in b]
    for x, y in zip(a, b, strict=True):
        for name in ("rgb", "depth", "segm", "flow", "joints2d", "pose", "K"):
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name))


def test_cpu_split_runs_torch_on_one_thread_and_the_kernels_on_its_threads():
    from synthhuman.render.kernels import cpu_workers
    from synthhuman.rendering import cpu_split

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with cpu_split(torch.device("cpu")):
            assert torch.get_num_threads() == 1 and cpu_workers() == 2
        assert torch.get_num_threads() == 2 and cpu_workers() == 2
    finally:
        torch.set_num_threads(before)


def test_array_pool_reuses_a_written_records_arrays_only():
    from synthhuman.rendering import ArrayPool

    cfg = SceneConfig(frames=4, height=16, width=24)
    assets = SceneAssets(cfg)
    refs = [ClipRef("train", i) for i in range(3)]
    render = RenderConfig(backend="torch")
    pool = ArrayPool()
    records = render_records(assets, refs, 1, torch.device("cpu"), render, 4, arrays=pool)
    first = next(records)  # one clip per batch; the next clip's arrays are taken before this one is out
    held = {id(first.rgb), id(first.depth)}
    first_rgb = first.rgb.copy()
    pool.give_back(first)  # written: the third clip's arrays can be the first's
    second, third = next(records), next(records)
    assert {id(third.rgb), id(third.depth)} == held and id(second.rgb) not in held
    fresh = list(render_records(assets, refs, 1, torch.device("cpu"), render, 4))
    np.testing.assert_array_equal(fresh[0].rgb, first_rgb)
    np.testing.assert_array_equal(fresh[2].rgb, third.rgb)
    pool.give_back(fresh[0])  # not the pool's: ignored
    assert pool.empty((4, 16, 24, 3), np.uint8) is not fresh[0].rgb
