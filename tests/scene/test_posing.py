"""Posing and camera fit: ground contact, people apart, the clip in frame."""

from __future__ import annotations

import pytest
import torch

from synthhuman.render import project
from synthhuman.scene import CameraConfig, SceneAssets, SceneConfig, build_clip, sample_clip


@pytest.mark.parametrize("index", range(4))
def test_built_clip_on_ground_apart_and_in_frame(assets, index):
    cfg = assets.cfg
    clip = build_clip(assets, sample_clip(assets, 0, "train", index))
    T, V = cfg.frames, clip.verts.shape[1] // cfg.people
    verts = clip.verts.view(T, cfg.people, V, 3)
    # each person's lowest vertex over the clip is on the ground plane y = 0
    assert torch.allclose(verts[..., 1].amin((0, 2)), torch.zeros(cfg.people), atol=1e-5)
    # people never overlap: their horizontal footprints stay apart at every frame
    a, b = verts[:, 0, ::7, :][..., [0, 2]], verts[:, 1, ::7, :][..., [0, 2]]
    gap = torch.cdist(a.double(), b.double()).amin()
    assert gap > 0.0
    # the camera is level and the whole clip projects inside the image, margin included
    R = clip.cameras.R[0]
    assert torch.allclose(R[1], torch.tensor([0.0, -1.0, 0.0]), atol=1e-6)
    uv = project(clip.cameras.to_camera(clip.verts), clip.cameras.K)
    m = cfg.camera.margin
    assert float(uv[..., 0].min()) >= m * cfg.width - 0.5 - 1e-3
    assert float(uv[..., 0].max()) <= (1 - m) * cfg.width - 0.5 + 1e-3
    assert float(uv[..., 1].min()) >= m * cfg.height - 0.5 - 1e-3
    assert float(uv[..., 1].max()) <= (1 - m) * cfg.height - 0.5 + 1e-3
    assert clip.distance >= clip.params.distance - 1e-9  # backs off, never moves closer


def test_camera_distance_is_the_sampled_one_when_everything_fits():
    cfg = SceneConfig(
        frames=4, height=240, width=320, camera=CameraConfig(distance_mean=30.0, distance_std=0.0)
    )
    assets = SceneAssets(cfg)
    clip = build_clip(assets, sample_clip(assets, 0, "train", 0))
    assert clip.distance == pytest.approx(30.0)
