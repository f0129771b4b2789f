"""Rendered clip records with per-frame cameras: each frame's K, R, t reproduce its joints from the world
joints; the camera's draws are recorded in info.json's extra."""

from __future__ import annotations

import numpy as np
import torch

from synthhuman.io.record import ClipRef
from synthhuman.pipeline import RenderConfig
from synthhuman.rendering import render_records
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
