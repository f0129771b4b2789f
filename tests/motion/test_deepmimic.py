"""The bundled DeepMimic library (no pybullet needed) and, when pybullet is installed, the converter."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from synthhuman.body.default_body import load_default_body
from synthhuman.motion.deepmimic import (
    DM_FRAME_SIZE,
    LIBRARY_FPS,
    convert_frames,
    dm_quat_to_smpl,
    dm_vec_to_smpl,
    frames_to_smpl_quats,
    read_bundled_library,
    read_library,
    write_library,
)
from synthhuman.motion.sequence import aa_to_quat, mirror, quat_rotate

NAMES = {
    "backflip", "cartwheel", "crawl", "dance_a", "dance_b", "getup_facedown", "getup_faceup", "jump", "kick",
    "punch", "roll", "run", "spin", "spinkick", "walk",
}  # fmt: skip
UPRIGHT = ("walk", "run", "jump", "punch", "dance_a", "dance_b", "spinkick")


@pytest.fixture(scope="module")
def body():
    return load_default_body("neutral")


@pytest.fixture(scope="module")
def library():
    return {s.name: s for s in read_bundled_library()}


@pytest.fixture(scope="module")
def posed(library, body):
    out = {}
    with torch.no_grad():
        for name, s in library.items():
            o = body(None, torch.tensor(s.poses.copy()), torch.tensor(s.trans.copy()))
            out[name] = (o.joints.double().numpy(), o.vertices.double().numpy())
    return out


def test_library_loads(library):
    assert set(library) == NAMES
    total = sum(s.duration for s in library.values())
    assert 30.0 < total < 36.0  # about 34 s of motion
    for s in library.values():
        assert s.fps == LIBRARY_FPS and s.source == "deepmimic"
        assert 20 <= s.num_frames <= 200, s.name
        assert np.isfinite(s.poses).all() and np.isfinite(s.trans).all()
        assert s.poses.dtype == np.float32
        assert np.abs(s.poses).max() <= math.pi + 1e-4  # axis-angle with angle <= pi


def test_upright_clips_keep_head_above_pelvis(posed):
    for name in UPRIGHT:
        J, _ = posed[name]
        up = J[:, 15] - J[:, 0]
        assert up[:, 1].min() > 0.3, name  # head joint 0.62 m above the pelvis standing
    J, _ = posed["kick"]  # a high kick leans the torso far back, but the head stays above the pelvis
    assert (J[:, 15, 1] - J[:, 0, 1]).min() > 0.05


def test_feet_on_ground(posed):
    for name, (_, V) in posed.items():
        assert abs(V[..., 1].min()) < 1e-3, name  # lowest vertex of the clip on y = 0
    _, V = posed["walk"]
    assert V[..., 1].min(axis=1).max() < 0.05  # walking: a foot on the ground in every frame


def test_walk_is_walking(library, posed):
    """Travels the way it faces, legs alternate with the opposite arm, knees bend forward."""
    s = library["walk"]
    J, _ = posed["walk"]
    facing = quat_rotate(aa_to_quat(s.poses[:, :3].astype(np.float64)), np.array([0.0, 0.0, 1.0]))
    facing[:, 1] = 0
    facing /= np.linalg.norm(facing, axis=1, keepdims=True)
    travel = J[-1, 0] - J[0, 0]
    assert np.linalg.norm(travel) > 0.8
    assert travel @ facing.mean(0) / np.linalg.norm(travel) > 0.95
    feet = ((J[:, 7] - J[:, 8]) * facing).sum(1)  # left ankle ahead of right
    hands = ((J[:, 20] - J[:, 21]) * facing).sum(1)
    assert feet.max() > 0.2 and feet.min() < -0.2  # feet alternate
    assert np.corrcoef(feet, hands)[0, 1] < -0.7  # arms swing opposite to the legs
    for hip, knee, ankle in ((1, 4, 7), (2, 5, 8)):
        ahead = ((J[:, knee] - 0.5 * (J[:, hip] + J[:, ankle])) * facing).sum(1)
        assert ahead.min() > -0.01  # knees never bend backwards


def test_mirror_library(library, posed, body):
    s = library["walk"]
    m = mirror(s)
    np.testing.assert_allclose(mirror(m).poses, s.poses, atol=1e-5)
    with torch.no_grad():
        Jm = body(None, torch.tensor(m.poses.copy()), torch.tensor(m.trans.copy())).joints.double().numpy()
    J, _ = posed["walk"]
    flip = np.array([-1.0, 1.0, 1.0])
    # the mirrored left ankle is where the reflected right ankle was (default body symmetric to ~mm)
    np.testing.assert_allclose(Jm[:, 7], J[:, 8] * flip, atol=0.01)
    np.testing.assert_allclose(Jm[:, 0], J[:, 0] * flip, atol=0.01)


def test_library_round_trip_and_errors(tmp_path, library):
    path = write_library([library["walk"], library["run"]], tmp_path / "lib.npz")
    back = {s.name: s for s in read_library(path)}
    assert set(back) == {"walk", "run"}
    np.testing.assert_array_equal(back["walk"].poses, library["walk"].poses)
    with pytest.raises(FileNotFoundError):
        read_library(tmp_path / "missing.npz")
    np.savez(tmp_path / "bad.npz", poses_x=np.zeros((3, 72), np.float32))
    with pytest.raises(ValueError, match="trans_x"):
        read_library(tmp_path / "bad.npz")


def _frames(T=4, dur=1 / 30):
    f = np.zeros((T, DM_FRAME_SIZE))
    f[:, 0] = dur
    for off in (4, 8, 12, 16, 21, 25, 30, 35, 39):
        f[:, off] = 1.0  # identity quaternions
    return f


def test_axes_and_rest_pose(body):
    assert np.allclose(dm_vec_to_smpl(np.array([1.0, 0, 0])), [0, 0, 1])  # forward -> +Z
    assert np.allclose(dm_vec_to_smpl(np.array([0, 0, 1.0])), [-1, 0, 0])  # right -> -X
    q = np.array([math.cos(0.3), 0, 0, math.sin(0.3)])  # about DeepMimic z (right)
    assert np.allclose(
        quat_rotate(dm_quat_to_smpl(q), [0, 1.0, 0]), dm_vec_to_smpl(quat_rotate(q, [0, 1.0, 0]))
    )
    # the DeepMimic rest pose (all identity) is a standing body with the arms hanging down
    seq = convert_frames(_frames())
    with torch.no_grad():
        J = body(None, torch.tensor(seq.poses[:1].copy())).joints[0].numpy()
    for sh, el, wr in ((16, 18, 20), (17, 19, 21)):
        arm = (J[wr] - J[sh]) / np.linalg.norm(J[wr] - J[sh])
        assert arm[1] < -0.97  # straight down
        assert abs(J[el, 0] - J[sh, 0]) < 0.05
    # 90 degrees of elbow flexion (positive in DeepMimic) bring the forearm forward (+Z)
    f = _frames()
    f[:, 29] = f[:, 43] = math.pi / 2
    f[:, 20] = f[:, 34] = -math.pi / 2  # knee flexion: the shin goes back (-Z)
    with torch.no_grad():
        J = body(None, torch.tensor(convert_frames(f).poses[:1].copy())).joints[0].numpy()
    for el, wr in ((18, 20), (19, 21)):
        fore = (J[wr] - J[el]) / np.linalg.norm(J[wr] - J[el])
        assert fore[2] > 0.97
    for kn, an in ((4, 7), (5, 8)):
        shin = (J[an] - J[kn]) / np.linalg.norm(J[an] - J[kn])
        assert shin[2] < -0.97


def test_chest_split_and_timing():
    f = _frames(T=3, dur=0.05)
    f[-1, 0] = 0.0  # the last frame's duration is unused
    ang = 0.6
    f[:, 8:12] = [math.cos(ang / 2), 0, 0, math.sin(ang / 2)]
    q, _ = frames_to_smpl_quats(f)
    from synthhuman.motion.sequence import quat_mul

    total = quat_mul(quat_mul(q[0, 3], q[0, 6]), q[0, 9])
    assert np.allclose(total, dm_quat_to_smpl(f[0, 8:12]), atol=1e-9)
    seq = convert_frames(f, fps=40.0)
    assert seq.num_frames == 5 and seq.fps == 40.0  # 0.1 s at 40 fps
    bad = _frames()
    bad[1, 0] = 0.0
    with pytest.raises(ValueError, match="durations"):
        convert_frames(bad)
    with pytest.raises(ValueError, match="shape"):
        frames_to_smpl_quats(np.zeros((3, 43)))


def test_converter_reproduces_bundled_library(tmp_path):
    """With pybullet installed, converting its clips again gives the committed library."""
    pytest.importorskip("pybullet_data")
    from synthhuman.motion.deepmimic import convert_file, pybullet_motion_files

    files = pybullet_motion_files()
    assert len(files) == 15
    lib = {s.name: s for s in read_bundled_library()}
    for f in files[:3]:
        s = convert_file(f)
        np.testing.assert_allclose(s.poses, lib[s.name].poses, atol=1e-5)
        np.testing.assert_allclose(s.trans, lib[s.name].trans, atol=1e-5)
