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


@pytest.mark.parametrize("seed", range(6))
def test_fit_camera_on_float32_points_equals_float64_bit_for_bit(seed):
    from synthhuman.scene import fit_camera

    gen = torch.Generator().manual_seed(seed)
    n = 200_000
    # a body-sized cloud (seeds 0-2) and one far from the origin (3-5), with ties on the extremes
    offset = torch.tensor([0.0, 0.0, 0.0]) if seed < 3 else torch.tensor([250.0, 3.0, -400.0])
    points = (torch.randn(n, 3, generator=gen) * torch.tensor([0.4, 0.8, 0.3]) + offset).float()
    points[:10] = points[10]
    cfg = SceneConfig()
    for distance in (0.5, 7.0, 40.0):  # the farthest point decides, or the sampled distance does
        ref = fit_camera(points.double(), 0.9, distance, cfg)
        got = fit_camera(points, 0.9, distance, cfg)
        assert got[2] == ref[2]
        assert torch.equal(got[0], ref[0]) and torch.equal(got[1], ref[1])
