"""The procedural mannequin: mesh validity, UVs, rig, posing, texture and demo motion."""

from __future__ import annotations

import math

import pytest
import torch

from synthhuman.body import demo_motion, make_mannequin, mannequin_texture, pose_mannequin
from synthhuman.body.mannequin import GIRTH_PER_BETA, SIZE_PER_BETA
from synthhuman.conventions import NUM_JOINTS, SMPL_PARENTS

RESOLUTIONS = [{}, {"segments": 4, "rings": 3}]


def test_default_size_and_dtypes():
    m = make_mannequin()
    V, F = m.v_template.shape[0], m.faces.shape[0]
    assert 13_000 <= F <= 15_000
    assert m.v_template.shape == (V, 3) and m.v_template.dtype == torch.float32
    assert m.faces.dtype == m.uv_faces.dtype == m.part_labels.dtype == m.face_labels.dtype == torch.int64
    assert m.uv_faces.shape == m.faces.shape and m.face_labels.shape == (F,)
    assert m.weights.shape == (V, NUM_JOINTS) and m.shapedirs.shape == (V, 3, 10)
    assert m.J_regressor.shape == (NUM_JOINTS, V) and m.joints_rest.shape == (NUM_JOINTS, 3)
    assert m.parents.tolist() == list(SMPL_PARENTS)
    assert make_mannequin() is m


def test_tiny_version_and_bad_arguments():
    assert make_mannequin(segments=4, rings=3).faces.shape[0] == 384
    with pytest.raises(ValueError, match="segments"):
        make_mannequin(segments=2)


def test_proportions():
    m = make_mannequin()
    lo, hi = m.v_template.amin(0), m.v_template.amax(0)
    assert abs(lo[1]) < 0.01 and 1.65 < hi[1] < 1.8  # standing on the ground, about 1.7 m tall
    assert torch.allclose(lo[0], -hi[0])  # symmetric
    left, right = [1, 4, 7, 10, 13, 16, 18, 20, 22], [2, 5, 8, 11, 14, 17, 19, 21, 23]
    assert (m.joints_rest[left, 0] > 0).all() and (m.joints_rest[right, 0] < 0).all()  # +X is the left
    assert m.joints_rest[10, 2] > m.joints_rest[7, 2]  # toes point +Z


@pytest.mark.parametrize("res", RESOLUTIONS, ids=["default", "tiny"])
def test_parts_closed_and_outward(res):
    m = make_mannequin(**res)
    tri = m.v_template.double()[m.faces]
    signed = (tri[:, 0] * torch.linalg.cross(tri[:, 1], tri[:, 2], dim=-1)).sum(-1) / 6.0
    for label in range(1, NUM_JOINTS + 1):
        faces = m.faces[m.face_labels == label]
        assert (m.part_labels[faces] == label).all()
        directed = torch.cat([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
        keys = directed[:, 0] * len(m.v_template) + directed[:, 1]
        reverse = directed[:, 1] * len(m.v_template) + directed[:, 0]
        assert keys.unique().numel() == keys.numel()  # no directed edge twice: consistent winding
        assert torch.isin(reverse, keys).all()  # every edge has its twin: closed, two faces per edge
        assert signed[m.face_labels == label].sum() > 0  # counter-clockwise seen from outside


def test_labels_and_weights():
    m = make_mannequin()
    counts = torch.bincount(m.part_labels, minlength=NUM_JOINTS + 1)
    assert counts[0] == 0 and (counts[1:] > 0).all()
    assert (m.part_labels[m.faces] == m.face_labels[:, None]).all()
    assert torch.equal(m.weights.argmax(1) + 1, m.part_labels)
    assert torch.equal(m.weights.sum(1), torch.ones(len(m.weights)))


@pytest.mark.parametrize("res", RESOLUTIONS, ids=["default", "tiny"])
def test_uvs(res):
    m = make_mannequin(**res)
    assert m.uv.min() >= 0 and m.uv.max() <= 1
    assert m.uv_faces.min() >= 0 and m.uv_faces.max() < len(m.uv)
    assert len(m.uv) > len(m.v_template)  # the seams
    # Same topology: every UV belongs to exactly one vertex.
    owner = torch.full((len(m.uv),), -1, dtype=torch.int64)
    owner[m.uv_faces.flatten()] = m.faces.flatten()
    assert (owner >= 0).all() and torch.equal(owner[m.uv_faces], m.faces)
    # Each part stays in its tile of the 6 x 4 atlas (column j % 6, row j // 6 from the top).
    j = m.part_labels[owner] - 1
    col, row = (m.uv[:, 0] * 6).floor(), ((1 - m.uv[:, 1]) * 4).floor()
    assert torch.equal(col.long(), j % 6) and torch.equal(row.long(), j // 6)
    # Not mirrored: counter-clockwise in UV space too.
    t = m.uv[m.uv_faces]
    e1, e2 = t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]
    area = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    assert (area > 0).all()


def test_regressor_reproduces_rest_joints():
    m = make_mannequin()
    assert (m.J_regressor >= 0).all() and torch.allclose(m.J_regressor.sum(1), torch.ones(NUM_JOINTS))
    assert (m.J_regressor @ m.v_template - m.joints_rest).abs().max() < 1e-6


def test_zero_pose_reproduces_template(device, dtype):
    m = make_mannequin()
    pose = torch.zeros(2, 72, dtype=dtype, device=device)
    verts, joints = pose_mannequin(m, pose)
    assert verts.shape == (2, len(m.v_template), 3) and verts.dtype == dtype and verts.device == device
    assert (verts.cpu() - m.v_template.to(dtype)).abs().max() < 1e-6
    assert (joints.cpu() - m.joints_rest.to(dtype)).abs().max() < 1e-6


def test_left_elbow_rotation_moves_only_forearm_and_hand():
    m = make_mannequin()
    pose = torch.zeros(1, 72, dtype=torch.float64)
    pose[0, 18 * 3 + 1] = math.pi / 2  # +90 degrees about +Y at the left elbow
    verts, joints = pose_mannequin(m, pose)
    moved = (verts[0] - m.v_template.double()).norm(dim=-1)
    lower_arm = torch.isin(m.part_labels, torch.tensor([19, 21, 23]))  # forearm, hand, fingers
    assert moved[~lower_arm].max() < 1e-6
    hand = torch.isin(m.part_labels, torch.tensor([21, 23]))
    assert moved[hand].min() > 0.05 and moved[lower_arm].max() > 0.3
    rest = m.joints_rest.double()
    still = torch.ones(NUM_JOINTS, dtype=torch.bool)
    still[[20, 22]] = False
    assert (joints[0, still] - rest[still]).abs().max() < 1e-6  # the elbow included
    wrist = rest[18] + torch.tensor([0.0, 0.0, -(rest[20, 0] - rest[18, 0])], dtype=torch.float64)
    assert torch.allclose(joints[0, 20], wrist, atol=1e-6)  # +X forearm turns to -Z


def test_betas_and_trans():
    m = make_mannequin()
    pose = torch.zeros(3, 72)
    betas = torch.zeros(3, 10)
    betas[1, 0] = 1.0  # girth
    betas[2, 1] = 1.0  # size
    trans = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    verts, joints = pose_mannequin(m, pose, betas, trans)
    assert torch.allclose(joints[1], m.joints_rest, atol=1e-6)  # girth keeps the skeleton
    pelvis = m.part_labels == 1
    width = verts[1, pelvis, 0].amax() / m.v_template[pelvis, 0].amax()
    assert abs(width - (1 + GIRTH_PER_BETA)) < 1e-5
    scaled = m.v_template * (1 + SIZE_PER_BETA) + trans[2]
    assert torch.allclose(verts[2], scaled, atol=1e-5)
    assert torch.allclose(joints[2], m.joints_rest * (1 + SIZE_PER_BETA) + trans[2], atol=1e-5)
    with pytest.raises(ValueError, match="betas"):
        pose_mannequin(m, pose, torch.zeros(3, 5))


def test_texture_deterministic_per_seed():
    a = mannequin_texture(64, gen=torch.Generator().manual_seed(7))
    b = mannequin_texture(64, gen=torch.Generator().manual_seed(7))
    c = mannequin_texture(64, gen=torch.Generator().manual_seed(8))
    assert a.shape == (64, 64, 3) and a.dtype == torch.float32
    assert a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)
    # Each tile has a visible pattern (at least two distinct colours).
    for row in range(4):
        for col in range(6):
            tile = a[row * 16 + 2 : row * 16 + 14, round(col * 64 / 6) + 2 : round((col + 1) * 64 / 6) - 2]
            assert tile.reshape(-1, 3).unique(dim=0).shape[0] >= 2, (row, col)


def test_demo_motion():
    pose, trans = demo_motion(64, dtype=torch.float64)
    assert pose.shape == (64, 72) and trans.shape == (64, 3) and pose.dtype == trans.dtype == torch.float64
    assert (pose[1:] - pose[:-1]).abs().max() < 0.2  # smooth at 30 fps
    assert (trans[1:, 2] > trans[:-1, 2]).all()  # walks towards +Z
    hips = pose[:, [3, 6]]  # L_hip, R_hip flexion about +X
    assert torch.corrcoef(torch.stack([hips[:, 0], hips[:, 1]]))[0, 1] < -0.9  # legs in antiphase
    verts, _ = pose_mannequin(make_mannequin(), pose, trans=trans)
    assert verts[..., 1].amin(1).abs().max() < 1e-6  # a foot on the ground in every frame
    assert demo_motion(5)[0].dtype == torch.float32
