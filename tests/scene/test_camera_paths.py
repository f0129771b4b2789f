"""Cameras of a clip: SURREAL's mode exactly as before; varied and moving cameras drawn from their own
generator, every frame in frame, smooth; the distance fit exact; the per-frame cameras through the renderer
(flow follows the camera's motion exactly)."""

from __future__ import annotations

import dataclasses
import hashlib
import math

import numpy as np
import pytest
import torch

from synthhuman.io.record import ClipRef
from synthhuman.pipeline import RenderConfig, render_frames
from synthhuman.render import camera_center, project
from synthhuman.rendering import render_records
from synthhuman.scene import (
    CameraConfig,
    SceneAssets,
    SceneConfig,
    build_clip,
    frame_batch,
    sample_clip,
    segments,
)
from synthhuman.scene.camera_paths import fitted_distance
from synthhuman.scene.config import CAMERA_MOVES


def _digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


# Recorded by running the code of commit c2f8603 (before camera modes existed) on this project's CPU
# machine, torch 2.13, both render backends agreeing: SceneConfig(frames=6, height=48, width=64, people=1),
# run seed 7, train clips 0 and 1, rendered with render_records(..., RenderConfig(backend="torch")).
BEFORE = {
    0: {
        "distance": 8.421473264694214,
        "heading": 3.5162350447965083,
        "t": [-0.38680222630500793, 0.7246498465538025, 9.246919631958008],
        "digests": {
            "depth": "aa5568595521a3c8",
            "segm": "fcd64761e7c8f431",
            "joints2d": "ce2beb36bba0bea1",
            "joints3d": "61692f185596f577",
            "flow": "2db5e41cf665da91",
        },
    },
    1: {
        "distance": 7.762908548116684,
        "heading": 5.6422555731066915,
        "t": [0.5687217712402344, 0.7232813835144043, 8.655438423156738],
        "digests": {
            "depth": "4c22c7aa15f58f13",
            "segm": "64c08421e6abe84e",
            "joints2d": "c7baf69d37fe6282",
            "joints3d": "82db0ccd0985ccef",
            "flow": "f97a8e91df614dd7",
        },
    },
}


def test_surreal_mode_draws_places_and_renders_as_before():
    cfg = SceneConfig(frames=6, height=48, width=64, people=1)
    assert cfg.camera.mode == "surreal"
    assets = SceneAssets(cfg)
    for index, before in BEFORE.items():
        params = sample_clip(assets, 7, "train", index)
        clip = build_clip(assets, params)
        assert params.camera is None and clip.camera_info == {}
        assert params.distance == before["distance"] and clip.distance == before["distance"]
        assert params.people[0].heading == before["heading"]
        assert clip.cameras.t[0].tolist() == before["t"]
        assert torch.equal(clip.cameras.R, torch.diag(torch.tensor([1.0, -1.0, -1.0])).expand(6, 3, 3))
    refs = [ClipRef("train", i) for i in BEFORE]
    records = render_records(assets, refs, 7, torch.device("cpu"), RenderConfig(backend="torch"))
    for record in records:
        digests = {name: _digest(getattr(record, name)) for name in BEFORE[0]["digests"]}
        assert digests == BEFORE[record.info.index]["digests"]
        assert "camera" not in record.info.extra


def _scene(mode: str, frames: int = 8, **camera) -> SceneAssets:
    return SceneAssets(
        SceneConfig(frames=frames, height=96, width=128, camera=CameraConfig(mode=mode, **camera))
    )


@pytest.fixture(scope="module")
def varied() -> SceneAssets:
    return _scene("varied")


def _check_in_frame(clip, cfg: SceneConfig) -> None:
    """Every vertex of every frame projects inside that frame's image (margin included), in front."""
    cam = clip.cameras
    points = cam.to_camera(clip.verts.double())
    K = cam.K.double()
    uv = project(points, K)
    m = cfg.camera.margin
    assert float(points[..., 2].min()) >= cfg.camera.distance_min - 1e-6
    lo_u, hi_u = m * cfg.width - 0.5, (1 - m) * cfg.width - 0.5
    lo_v, hi_v = m * cfg.height - 0.5, (1 - m) * cfg.height - 0.5
    assert float(uv[..., 0].min()) >= lo_u - 1e-3 and float(uv[..., 0].max()) <= hi_u + 1e-3
    assert float(uv[..., 1].min()) >= lo_v - 1e-3 and float(uv[..., 1].max()) <= hi_v + 1e-3


def test_varied_cameras_have_their_focal_height_pitch_and_roll_and_keep_the_clip_in_frame(varied):
    cfg = varied.cfg
    focals, rolls, heights = [], [], []
    for index in range(6):
        params = sample_clip(varied, 0, "train", index)
        clip = build_clip(varied, params)
        info = clip.camera_info
        cam = clip.cameras
        assert torch.equal(cam.R, cam.R[:1].expand_as(cam.R)) and torch.equal(
            cam.t, cam.t[:1].expand_as(cam.t)
        )
        f = float(cam.K[0, 0, 0])
        assert f == pytest.approx(params.camera.focal * cfg.width / 320, rel=1e-6)
        assert 300 <= params.camera.focal <= 1500 and info["move"] == "static"
        # the distance scales with the focal (SURREAL's image size), then only backs off
        assert clip.distance >= params.distance * params.camera.focal / 600 - 1e-9
        eye = camera_center(cam.R[:1].double(), cam.t[:1].double())[0]
        assert float(eye[1]) == pytest.approx(info["height"], abs=1e-5)
        if clip.distance == pytest.approx(info["scaled_distance"]):
            assert info["height"] == pytest.approx(params.camera.height, abs=1e-5)  # no back-off: as drawn
        R = cam.R[0].double()
        pitch = math.asin(float(-R[2, 1]))  # the optical axis' downward slope
        assert pitch == pytest.approx(info["pitch"], abs=1e-5)
        # roll about the optical axis: the world's up, seen in the image, turns by the drawn roll
        assert math.atan2(float(R[0, 1]), float(-R[1, 1])) == pytest.approx(params.camera.roll, abs=1e-5)
        _check_in_frame(clip, cfg)
        focals.append(params.camera.focal), rolls.append(params.camera.roll), heights.append(info["height"])
    assert max(focals) - min(focals) > 100 and max(rolls) - min(rolls) > 0.02 and max(heights) > min(heights)


def test_camera_draws_come_from_their_own_generator(varied):
    surreal = SceneAssets(dataclasses.replace(varied.cfg, camera=CameraConfig()))
    for index in range(3):
        a, b = sample_clip(surreal, 3, "test", index), sample_clip(varied, 3, "test", index)
        assert a.distance == b.distance and torch.equal(a.placement, b.placement)
        assert torch.equal(a.background, b.background) and a.people[0].heading == b.people[0].heading
        again = sample_clip(varied, 3, "test", index).camera
        assert again.focal == b.camera.focal and torch.equal(again.shake, b.camera.shake)
    assert sample_clip(varied, 3, "test", 0).camera.focal != sample_clip(varied, 3, "test", 1).camera.focal


def _angle(R0: torch.Tensor, R1: torch.Tensor) -> torch.Tensor:
    """(T,) radians between rotations (T, 3, 3)."""
    cos = ((R1 @ R0.transpose(-1, -2)).diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2
    return torch.arccos(cos.clamp(-1, 1))


@pytest.mark.parametrize("move", CAMERA_MOVES)
def test_moving_cameras_move_smoothly_and_keep_every_frame_in_frame(move):
    assets = _scene("moving", frames=30, moves=(move,), shake_deg=2.0)
    cfg = assets.cfg
    for index in range(2):
        clip = build_clip(assets, sample_clip(assets, 0, "train", index))
        assert clip.camera_info["move"] == move
        R, t = clip.cameras.R.double(), clip.cameras.t.double()
        eye = camera_center(R, t)
        step = (eye[1:] - eye[:-1]).norm(dim=-1) / clip.distance + _angle(R[:-1], R[1:])
        assert float(step.max()) > 1e-3, move  # it moves
        # smooth: neighbouring steps differ by little compared with the steps themselves
        assert float((step[1:] - step[:-1]).abs().max()) <= 0.3 * float(step.max()) + 1e-9, move
        _check_in_frame(clip, cfg)
        if move in ("pan", "shake"):  # the eye stays put: only the camera turns
            assert float((eye - eye[:1]).norm(dim=-1).max()) < 1e-4 * clip.distance
        if move == "orbit":  # every frame looks at one point, from the same distance, turning about +Y
            aim = eye + clip.distance * R[:, 2]
            assert float((aim - aim[:1]).norm(dim=-1).max()) < 1e-4 * clip.distance
            assert float(_angle(R[:1], R[-1:])[0]) == pytest.approx(abs(clip.camera_info["amount"]), rel=0.05)
            assert float((eye[:, 1] - eye[0, 1]).abs().max()) < 1e-4 * clip.distance


def test_fitted_distance_is_the_smallest_that_keeps_every_frame_in_frame():
    """A camera drawn to stand too close backs off exactly until a vertex touches the margin."""
    assets = _scene(
        "moving", frames=12, moves=("orbit",), distance_mean=1.0, distance_std=0.0, distance_min=0.5
    )
    cfg = assets.cfg
    clip = build_clip(assets, sample_clip(assets, 0, "train", 0))
    assert clip.distance > clip.camera_info["scaled_distance"] + 0.1  # it had to back off
    _check_in_frame(clip, cfg)
    points = clip.cameras.to_camera(clip.verts.double())
    uv = project(points, clip.cameras.K.double())
    m = cfg.camera.margin
    reach = torch.stack(
        [
            (uv[..., 0] - (cfg.width - 1) / 2).abs() / (cfg.width / 2 - m * cfg.width),
            (uv[..., 1] - (cfg.height - 1) / 2).abs() / (cfg.height / 2 - m * cfg.height),
        ]
    )
    assert float(reach.max()) == pytest.approx(1.0, abs=1e-3)  # tight, not backed off further
    # a camera that slides along its own x axis as the distance grows sees the point leave the image: an
    # upper bound (0.6 m here) below the distance asked for (1 m)
    R = torch.eye(3, dtype=torch.float64).expand(1, 3, 3)
    w = torch.tensor([[-1.0, 0.0, 0.0]], dtype=torch.float64)
    point = torch.tensor([[[0.0, 0.0, 1.0]]], dtype=torch.float64)
    with pytest.raises(ValueError, match="camera: no distance keeps the clip in frame"):
        fitted_distance(point, torch.zeros(3, dtype=torch.float64), R, w, 1.0, 100.0, cfg)


@pytest.fixture(scope="module")
def orbiting():
    """A clip whose camera orbits 90 degrees in 8 frames, so flow is mostly the camera's motion."""
    assets = _scene(
        "moving", frames=8, moves=("orbit",), orbit_range=(90.0, 90.0), focal_range=(500.0, 500.0)
    )
    return assets, build_clip(assets, sample_clip(assets, 0, "train", 1))


@pytest.mark.parametrize("backend", ["torch", "warp"])
def test_flow_follows_the_moving_camera_to_the_same_body_point(orbiting, backend):
    if backend == "warp":
        pytest.importorskip("warp")
    assets, clip = orbiting
    batch = frame_batch(segments(clip, 100, False), assets, False)
    topo = assets.topology_on("cpu")
    with torch.no_grad():
        out = render_frames(batch, topo, RenderConfig(backend=backend))
    frags = out.fragments

    # exact: the surface point seen at each valid pixel of frame t, at frame t+1 (its vertices and its
    # camera), projected, minus the pixel
    valid = out.flow.valid
    assert not bool(valid[-1].any()) and int(valid.sum()) > 500
    b, rows, cols = valid.nonzero().unbind(1)
    faces = topo.faces[frags.pix_to_face[b, rows, cols]]
    bary = frags.bary[b, rows, cols].double()
    world = (bary[..., None] * clip.verts[b[:, None] + 1, faces].double()).sum(1)
    cams = clip.cameras
    nxt = b + 1
    cam_next = torch.einsum("nij,nj->ni", cams.R[nxt].double(), world) + cams.t[nxt].double()
    target = project(cam_next[:, None], cams.K[nxt].double())[:, 0]
    pixel = torch.stack([cols, rows], -1).double()
    torch.testing.assert_close(out.flow.flow[b, rows, cols].double(), target - pixel, atol=2e-3, rtol=0)
    # the camera's motion is in it: with frame t's camera at t+1 the flow would be far from this one
    cam_same = torch.einsum("nij,nj->ni", cams.R[b].double(), world) + cams.t[b].double()
    static = project(cam_same[:, None], cams.K[b].double())[:, 0] - pixel
    assert float((static - (target - pixel)).norm(dim=-1).mean()) > 0.5
    # and the flow lands on the same body part at t+1 (labels are point-sampled: a target within half a
    # pixel of a part border may land on the neighbour part, so the source part is among its 3x3 neighbours)
    r2 = (rows + out.flow.flow[b, rows, cols, 1]).round().long()
    c2 = (cols + out.flow.flow[b, rows, cols, 0]).round().long()
    source = out.segm[b, rows, cols]
    assert float((out.segm[nxt, r2, c2] == source).double().mean()) > 0.8
    padded = torch.nn.functional.pad(out.segm, (1, 1, 1, 1))
    near = torch.stack([padded[nxt, r2 + 1 + i, c2 + 1 + j] for i in (-1, 0, 1) for j in (-1, 0, 1)])
    assert float((near == source).any(0).double().mean()) > 0.99
