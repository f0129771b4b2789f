"""Scene sampling and building: determinism, ground contact, people apart, the clip in frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthhuman.render.cameras import project
from synthhuman.scene import CameraConfig, SceneAssets, SceneConfig, build_clip, sample_clip, segments


@pytest.fixture(scope="module")
def assets() -> SceneAssets:
    return SceneAssets(SceneConfig(frames=8, height=96, width=128, people=2))


def test_sample_is_deterministic_per_clip(assets):
    a, b = sample_clip(assets, 0, "train", 3), sample_clip(assets, 0, "train", 3)
    other = sample_clip(assets, 0, "train", 4)
    for pa, pb in zip(a.people, b.people, strict=True):
        assert np.array_equal(pa.pose, pb.pose) and torch.equal(pa.texture, pb.texture)
        assert pa.motion == pb.motion and pa.heading == pb.heading
    assert torch.equal(a.background, b.background) and a.distance == b.distance
    assert a.people[0].heading != other.people[0].heading
    assert sample_clip(assets, 1, "train", 3).people[0].heading != a.people[0].heading


def test_splits_use_disjoint_motions_and_shapes(assets):
    train = {s.name for s in assets.motions["train"]}
    test = {s.name for s in assets.motions["test"]}
    assert train and test and not train & test
    for g in assets.cfg.genders:
        rows_train = set(assets.shapes[(g, "train")].rows.tolist())
        rows_test = set(assets.shapes[(g, "test")].rows.tolist())
        assert rows_train and rows_test and not rows_train & rows_test


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


def test_segments_tile_the_clip_with_flow_neighbours(assets):
    clip = build_clip(assets, sample_clip(assets, 0, "train", 0))
    for backward in (False, True):
        for size in (3, 4, 8, 100):
            segs = segments(clip, size, backward)
            kept = [k for s in segs for k in range(s.keep_start, s.keep_stop)]
            assert kept == list(range(8))
            for s in segs:
                assert s.stop - s.start <= size
                assert s.stop == 8 or s.stop > s.keep_stop  # a next frame for forward flow
                if backward:
                    assert s.start == 0 or s.start < s.keep_start  # a previous frame for backward flow
