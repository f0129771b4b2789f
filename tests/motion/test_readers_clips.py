"""AMASS and SURREAL readers on tiny generated files; clip windows, splits, ground placement."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from synthhuman.body.default_body import load_default_body
from synthhuman.motion.clips import (
    ClipTooShortError,
    all_clip_windows,
    clip_windows,
    lowest_vertex_height,
    place_on_ground,
    root_trajectory,
    split_of,
    split_sequences,
)
from synthhuman.motion.readers import read_amass, read_amass_npz, read_surreal_smpl_data
from synthhuman.motion.sequence import PoseSequence


@pytest.fixture(scope="module")
def body():
    return load_default_body("neutral")


def _upright_z_up(T: int) -> np.ndarray:
    """Global orientations of a body standing upright in a Z-up world: Rx(+90 deg) (SMPL +Y -> +Z),
    then a heading about +Z that changes over time."""
    from synthhuman.motion.sequence import aa_to_quat, quat_mul, quat_to_aa

    qx = aa_to_quat(np.array([math.pi / 2, 0, 0]))
    heading = np.linspace(0, 2.0, T)[:, None] * np.array([0, 0, 1.0])
    return quat_to_aa(quat_mul(aa_to_quat(heading), np.broadcast_to(qx, (T, 4))))


def _head_above_pelvis(seq: PoseSequence, body) -> None:
    out = body(None, torch.tensor(seq.poses), torch.tensor(seq.trans))
    up = out.joints[:, 15] - out.joints[:, 0]
    assert float(up[:, 1].min()) > 0.5  # head 0.62 m above the pelvis on the default body
    assert float(up[:, [0, 2]].abs().max()) < 0.1


@pytest.mark.parametrize("dim", [156, 165])
def test_amass_reader(tmp_path, body, dim):
    T = 6
    poses = np.zeros((T, dim))
    poses[:, :3] = _upright_z_up(T)
    poses[:, 3:66] = 0.1
    left, right = {156: (66, 111), 165: (75, 120)}[dim]
    poses[:, left : left + 3] = [0.2, 0.0, 0.0]
    poses[:, right : right + 3] = [0.0, 0.3, 0.0]
    trans = np.stack([np.linspace(0, 1, T), np.linspace(0, 2, T), np.full(T, 0.9)], 1)  # Z-up: z height
    path = tmp_path / "CMU" / "07" / "07_01_poses.npz"
    path.parent.mkdir(parents=True)
    np.savez(path, poses=poses, trans=trans, mocap_framerate=np.array(120.0), betas=np.zeros(16),
             gender=np.array("female"))  # fmt: skip
    rec = read_amass(path)
    seq = rec.sequence
    assert (seq.num_frames, seq.fps, seq.name, seq.subject, seq.source) == (
        T,
        120.0,
        "07_01_poses",
        "07",
        "amass",
    )
    assert rec.gender == "female" and rec.betas.shape == (16,)
    np.testing.assert_allclose(seq.poses[:, 3:66], 0.1, atol=1e-6)
    np.testing.assert_allclose(seq.poses[:, 66:69], [[0.2, 0, 0]] * T, atol=1e-6)
    np.testing.assert_allclose(seq.poses[:, 69:72], [[0, 0.3, 0]] * T, atol=1e-6)
    # Z-up (x, y, z) -> Y-up (x, z, -y)
    np.testing.assert_allclose(seq.trans, np.stack([trans[:, 0], trans[:, 2], -trans[:, 1]], 1), atol=1e-6)
    flat = body(
        None,
        torch.tensor(seq.poses).clone().index_fill_(1, torch.arange(3, 72), 0.0),
        torch.tensor(seq.trans),
    )
    up = flat.joints[:, 15] - flat.joints[:, 0]
    assert float(up[:, 1].min()) > 0.6 and float(up[:, [0, 2]].abs().max()) < 0.05
    zero_hands = read_amass_npz(path, hands="zero")
    assert not zero_hands.poses[:, 66:].any()


def test_amass_bad_files(tmp_path):
    good = dict(poses=np.zeros((4, 156)), trans=np.zeros((4, 3)), mocap_framerate=np.array(60.0),
                betas=np.zeros(16), gender=np.array("male"))  # fmt: skip
    cases = {
        "missing_trans": ({"trans": None}, r"missing field 'trans'"),
        "nan": ({"poses": np.full((4, 156), np.nan)}, r"field 'poses': .*non-finite"),
        "dims": ({"poses": np.zeros((4, 100))}, r"field 'poses': expected 2-d .*\(4, 100\)"),
        "fps0": ({"mocap_framerate": np.array(0.0)}, r"field 'mocap_framerate': .*> 0"),
        "frames": ({"trans": np.zeros((3, 3))}, r"field 'trans': expected 4 frames"),
        "gender": ({"gender": np.array(1.0)}, r"field 'gender'"),
    }
    for name, (change, match) in cases.items():
        fields = {**good, **change}
        fields = {k: v for k, v in fields.items() if v is not None}
        path = tmp_path / f"{name}.npz"
        np.savez(path, **fields)
        with pytest.raises(ValueError, match=match) as e:
            read_amass_npz(path)
        assert str(path) in str(e.value)
    with pytest.raises(FileNotFoundError, match="nothere.npz"):
        read_amass_npz(tmp_path / "nothere.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        read_amass_npz(junk)


def _surreal_file(path, names, T=5):
    fields = {}
    for i, n in enumerate(names):
        p = np.zeros((T + i, 72))
        p[:, :3] = _upright_z_up(T + i)
        fields[f"pose_{n}"] = p
        fields[f"trans_{n}"] = np.tile([0.1, 0.2, 0.9], (T + i, 1))
    fields["maleshapes"] = np.zeros((3, 10))
    np.savez(path, **fields)


def test_surreal_reader_and_split(tmp_path, body):
    path = tmp_path / "smpl_data.npz"
    _surreal_file(path, ["01_01", "01_02", "02_05", "03_01"])
    seqs = read_surreal_smpl_data(path)
    assert [s.name for s in seqs] == ["01_01", "01_02", "02_05", "03_01"]
    assert [s.subject for s in seqs] == ["01", "01", "02", "03"]
    assert all(s.fps == 120.0 and s.source == "surreal" for s in seqs)
    for s in seqs:
        _head_above_pelvis(s, body)
        np.testing.assert_allclose(s.trans, np.tile([0.1, 0.9, -0.2], (s.num_frames, 1)), atol=1e-6)
    split = {"train": ["01", "03"], "test": ["02"]}
    assert [s.name for s in read_surreal_smpl_data(path, split, "train")] == ["01_01", "01_02", "03_01"]
    assert [s.name for s in read_surreal_smpl_data(path, split, "test")] == ["02_05"]
    with pytest.raises(ValueError, match="in both"):
        read_surreal_smpl_data(path, {"train": ["01"], "test": ["01"]}, "train")
    with pytest.raises(ValueError, match="needs subjects_split"):
        read_surreal_smpl_data(path, None, "train")


def test_surreal_bad_files(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, pose_01_01=np.zeros((5, 72)))
    with pytest.raises(ValueError, match=r"bad.npz: missing field 'trans_01_01'"):
        read_surreal_smpl_data(path)
    np.savez(path, pose_01_01=np.zeros((5, 69)), trans_01_01=np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"bad.npz: field 'pose_01_01': expected 2-d"):
        read_surreal_smpl_data(path)
    np.savez(path, pose_01_01=np.zeros((5, 72)), trans_01_01=np.full((5, 3), np.nan))
    with pytest.raises(ValueError, match=r"bad.npz: field 'trans_01_01': .*non-finite"):
        read_surreal_smpl_data(path)
    np.savez(path, shapes=np.zeros(3))
    with pytest.raises(ValueError, match=r"bad.npz: no 'pose_<seq>' fields"):
        read_surreal_smpl_data(path)


def _seq(T, name="s", subject=""):
    return PoseSequence(np.zeros((T, 72)), np.zeros((T, 3)), 30.0, name=name, subject=subject)


def test_clip_windows():
    assert clip_windows(_seq(100)) == [(0, 100)]
    assert clip_windows(_seq(249)) == [(0, 100), (50, 150), (100, 200)]
    assert clip_windows(_seq(250)) == [(0, 100), (50, 150), (100, 200), (150, 250)]
    assert clip_windows(_seq(10), frames=4, stride=3) == [(0, 4), (3, 7), (6, 10)]
    with pytest.raises(ClipTooShortError, match=r"'short': 99 frames .* clip of 100 frames"):
        clip_windows(_seq(99, "short"))
    with pytest.raises(ValueError, match="stride"):
        clip_windows(_seq(100), stride=0)
    clips, skipped = all_clip_windows([_seq(120, "a"), _seq(30, "b"), _seq(100, "c")])
    assert clips == [(0, 0, 100), (2, 0, 100)]
    assert skipped[0][0] == "b" and "30 frames" in skipped[0][1]


def test_split_deterministic_by_subject():
    seqs = [_seq(2, f"{s:02d}_{k:02d}", f"{s:02d}") for s in range(40) for k in range(3)]
    a = split_sequences(seqs, 0.25)
    b = split_sequences(list(reversed(seqs)), 0.25)
    assert {s.name for s in a["test"]} == {s.name for s in b["test"]}
    test_subjects = {s.subject for s in a["test"]}
    assert test_subjects.isdisjoint({s.subject for s in a["train"]})
    assert 3 <= len(test_subjects) <= 20
    assert split_of("01_01", 0.0) == "train" and split_of("01_01", 1.0) == "test"
    by_name = split_sequences(seqs, 0.5, by="name")
    assert len(by_name["train"]) + len(by_name["test"]) == len(seqs)


def test_place_on_ground_and_root_trajectory(body):
    T = 7
    rng = np.random.default_rng(0)
    poses = rng.normal(0, 0.3, (T, 72))
    trans = np.stack([np.linspace(0, 1, T), np.full(T, 3.0), np.zeros(T)], 1)
    seq = PoseSequence(poses, trans, 30.0)
    betas = np.zeros(10, np.float32)
    betas[0] = 1.0
    grounded = place_on_ground(seq, body, betas, chunk=3)
    assert abs(lowest_vertex_height(grounded, body, betas)) < 1e-5
    np.testing.assert_allclose(grounded.trans[:, [0, 2]], seq.trans[:, [0, 2]])
    d = grounded.trans[:, 1] - seq.trans[:, 1]
    assert np.ptp(d) < 1e-6  # one constant shift for the whole clip
    root = root_trajectory(grounded, body, betas)
    out = body(
        torch.tensor(betas)[None].expand(T, -1), torch.tensor(grounded.poses), torch.tensor(grounded.trans)
    )
    np.testing.assert_allclose(root, out.joints[:, 0].double().numpy(), atol=1e-5)
    np.testing.assert_allclose(root_trajectory(seq), seq.trans)
