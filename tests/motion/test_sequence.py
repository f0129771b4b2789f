"""PoseSequence validation, slerp resampling, speed, heading and mirroring."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from synthhuman.body.mannequin import make_mannequin, pose_mannequin
from synthhuman.motion.sequence import (
    MIRROR_PERMUTATION,
    PoseSequence,
    aa_to_quat,
    change_speed,
    mirror,
    resample,
    rotate_heading,
)


def _geodesic(q0: np.ndarray, q1: np.ndarray) -> np.ndarray:
    """Angle (rad) between rotations given as quaternions."""
    return 2.0 * np.arccos(np.abs(np.sum(q0 * q1, -1)).clip(max=1.0))


def _spin_sequence(fps: float, seconds: float, omega: float, axis) -> PoseSequence:
    """Every joint spins at constant angular velocity ``omega`` (rad/s) about ``axis``."""
    t = np.arange(round(seconds * fps) + 1) / fps
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    aa = (omega * t)[:, None, None] * axis * np.ones((1, 24, 1))
    trans = np.stack([t, 0.5 * t, -t], 1)
    return PoseSequence(aa.reshape(-1, 72), trans, fps, name="spin")


def test_resample_constant_velocity_matches_analytic():
    # 3.0 rad/s for 1 s: angles pass pi, so axis-angle wraps (an axis-angle lerp would be badly wrong).
    seq = _spin_sequence(120.0, 1.0, 3.0 * math.pi / 2, (1.0, 2.0, -0.5))
    down = resample(seq, 30.0)
    assert down.num_frames == 31 and down.fps == 30.0
    t = np.arange(31) / 30.0
    axis = np.array([1.0, 2.0, -0.5]) / np.linalg.norm([1.0, 2.0, -0.5])
    want = aa_to_quat((1.5 * math.pi * t)[:, None] * axis)
    got = aa_to_quat(down.poses.reshape(31, 24, 3).astype(np.float64))
    assert _geodesic(got, want[:, None]).max() < 1e-5
    np.testing.assert_allclose(down.trans, np.stack([t, 0.5 * t, -t], 1), atol=1e-6)

    up = resample(down, 120.0)  # back up: slerp between 30 Hz frames of a constant-velocity spin is exact
    assert up.num_frames == 121
    t = np.arange(121) / 120.0
    want = aa_to_quat((1.5 * math.pi * t)[:, None] * axis)
    got = aa_to_quat(up.poses.reshape(121, 24, 3).astype(np.float64))
    assert _geodesic(got, want[:, None]).max() < 1e-5
    np.testing.assert_allclose(up.trans, seq.trans, atol=1e-6)


def test_resample_midpoint_is_geodesic_not_axis_angle_average():
    a = np.zeros(72)
    b = np.zeros(72)
    a[3:6] = [math.pi / 2, 0, 0]  # left hip: 90 deg about x, then 90 deg about y
    b[3:6] = [0, math.pi / 2, 0]
    seq = PoseSequence(np.stack([a, b]), np.zeros((2, 3)), fps=1.0)
    mid = resample(seq, 2.0)
    assert mid.num_frames == 3
    got = aa_to_quat(mid.poses[1, 3:6].astype(np.float64))
    qa, qb = aa_to_quat(a[3:6]), aa_to_quat(b[3:6])
    geodesic_mid = (qa + qb) / np.linalg.norm(qa + qb)
    assert _geodesic(got, geodesic_mid) < 1e-6
    # equidistant from both ends, half the total angle (120 deg between them)
    total = _geodesic(qa, qb)
    assert abs(total - 2 * math.pi / 3) < 1e-9
    assert abs(_geodesic(got, qa) - total / 2) < 1e-6 and abs(_geodesic(got, qb) - total / 2) < 1e-6
    # the axis-angle average is a different rotation (1.11 rad vs 1.23 rad about (1, 1, 0))
    average = aa_to_quat((a[3:6] + b[3:6]) / 2)
    assert _geodesic(average, geodesic_mid) > 0.1
    assert abs(np.linalg.norm(mid.poses[1, 3:6]) - 2 * math.acos(math.sqrt(2 / 3))) < 1e-6


def test_change_speed_and_heading():
    seq = _spin_sequence(30.0, 2.0, 1.0, (0, 1, 0))
    fast = change_speed(seq, 2.0)
    assert fast.fps == 30.0 and fast.num_frames == 31
    np.testing.assert_allclose(fast.poses, seq.poses[::2], atol=1e-6)
    slow = change_speed(seq, 0.5)
    assert slow.num_frames == 121
    np.testing.assert_allclose(slow.poses[::2], seq.poses, atol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        change_speed(seq, 0.0)

    turned = rotate_heading(seq, math.pi / 2)  # +Z turns to +X about +Y
    np.testing.assert_allclose(turned.trans[:, 0], seq.trans[:, 2], atol=1e-6)
    np.testing.assert_allclose(turned.trans[:, 2], -seq.trans[:, 0], atol=1e-6)
    np.testing.assert_allclose(turned.trans[:, 1], seq.trans[:, 1], atol=1e-6)
    np.testing.assert_allclose(turned.poses[:, 3:], seq.poses[:, 3:])
    # on a body: joints rotate rigidly about the Y axis through the origin (mannequin root at x = z = 0)
    m = make_mannequin(segments=6, rings=3)
    _, j0 = pose_mannequin(
        m,
        torch.tensor(seq.poses[:5], dtype=torch.float64),
        trans=torch.tensor(seq.trans[:5], dtype=torch.float64),
    )
    _, j1 = pose_mannequin(
        m,
        torch.tensor(turned.poses[:5], dtype=torch.float64),
        trans=torch.tensor(turned.trans[:5], dtype=torch.float64),
    )
    ry = torch.tensor([[0.0, 0, 1], [0, 1, 0], [-1, 0, 0]], dtype=torch.float64)
    torch.testing.assert_close(j1, j0 @ ry.T, atol=1e-5, rtol=0)


def _random_sequence(T: int = 7, seed: int = 0) -> PoseSequence:
    rng = np.random.default_rng(seed)
    return PoseSequence(rng.normal(0, 0.4, (T, 72)), rng.normal(0, 1, (T, 3)), 30.0, name="r")


def test_mirror_twice_is_identity():
    seq = _random_sequence()
    twice = mirror(mirror(seq))
    np.testing.assert_array_equal(twice.poses, seq.poses)
    np.testing.assert_array_equal(twice.trans, seq.trans)
    assert MIRROR_PERMUTATION[20] == 21 and MIRROR_PERMUTATION[0] == 0


def _reflect(joints: torch.Tensor) -> torch.Tensor:
    return joints[:, list(MIRROR_PERMUTATION)] * torch.tensor([-1.0, 1.0, 1.0], dtype=joints.dtype)


def test_mirror_swaps_sides_on_mannequin_exactly():
    seq = _random_sequence(seed=1)
    m = make_mannequin(segments=6, rings=3)
    _, j = pose_mannequin(
        m, torch.tensor(seq.poses, dtype=torch.float64), trans=torch.tensor(seq.trans, dtype=torch.float64)
    )
    ms = mirror(seq)
    _, jm = pose_mannequin(
        m, torch.tensor(ms.poses, dtype=torch.float64), trans=torch.tensor(ms.trans, dtype=torch.float64)
    )
    # mirrored pose's left wrist (20) = reflected original right wrist (21), and so for every joint
    torch.testing.assert_close(jm, _reflect(j), atol=1e-5, rtol=0)  # float32-stored poses


def test_mirror_swaps_sides_on_default_body():
    from synthhuman.body.default_body import load_default_body

    body = load_default_body("neutral", dtype=torch.float64)
    # The default body's rest joints are symmetric to 4.0e-5 m (measured: max |reflect(J) - J|); rigid
    # chains of up to 7 joints carry each rest offset once per level, so posed joints may differ by up to
    # about 7 x 4e-5 m; 1e-4 m is what the brief asks and what we measure (below 6e-5 m here).
    seq = _random_sequence(seed=2)
    out = body(
        None, torch.tensor(seq.poses, dtype=torch.float64), torch.tensor(seq.trans, dtype=torch.float64)
    )
    ms = mirror(seq)
    outm = body(
        None, torch.tensor(ms.poses, dtype=torch.float64), torch.tensor(ms.trans, dtype=torch.float64)
    )
    err = (outm.joints - _reflect(out.joints)).norm(dim=-1)
    assert float(err[:, 20].max()) < 1e-4  # left wrist vs reflected right wrist
    assert float(err.max()) < 1e-4


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            dict(poses=np.zeros((5, 69)), trans=np.zeros((5, 3)), fps=30),
            r"poses: expected shape \(T, 72\), got \(5, 69\)",
        ),
        (dict(poses=np.zeros(72), trans=np.zeros((1, 3)), fps=30), r"poses: expected shape"),
        (dict(poses=np.zeros((5, 72)), trans=np.zeros((4, 3)), fps=30), r"trans: expected 5 frames"),
        (dict(poses=np.zeros((5, 72)), trans=np.zeros((5, 2)), fps=30), r"trans: expected shape"),
        (dict(poses=np.zeros((0, 72)), trans=np.zeros((0, 3)), fps=30), r"at least 1 frame"),
        (dict(poses=np.zeros((5, 72)), trans=np.zeros((5, 3)), fps=0), r"fps: .*> 0, got 0"),
        (dict(poses=np.zeros((5, 72)), trans=np.zeros((5, 3)), fps=-30.0), r"fps: .*got -30"),
        (dict(poses=np.zeros((5, 72)), trans=np.zeros((5, 3)), fps=float("nan")), r"fps"),
        (dict(poses=np.zeros((5, 72)), trans=np.zeros((5, 3)), fps=30, name=3), r"name: expected a str"),
    ],
)
def test_sequence_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PoseSequence(**kwargs)


def test_sequence_nan_names_field_and_frame():
    poses = np.zeros((5, 72))
    poses[3, 10] = np.nan
    with pytest.raises(ValueError, match=r"poses: 1 non-finite .* frame 3"):
        PoseSequence(poses, np.zeros((5, 3)), 30)
    trans = np.zeros((5, 3))
    trans[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"trans: 1 non-finite"):
        PoseSequence(np.zeros((5, 72)), trans, 30)


def test_sequence_is_frozen_float32_readonly():
    seq = PoseSequence(np.zeros((2, 72)), torch.zeros(2, 3), 30)
    assert seq.poses.dtype == np.float32 and seq.trans.dtype == np.float32 and seq.fps == 30.0
    with pytest.raises(ValueError):
        seq.poses[0, 0] = 1.0
    with pytest.raises(AttributeError):
        seq.fps = 10.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="fps"):
        resample(seq, 0)
