"""Limb flips: the child joint keeps its pixel and its bone's length and moves to the other point of its
camera ray; the subtree below keeps its world orientation; flipping twice gives the pose back; the flip
search in a fit recovers a limb that starts on the wrong side where the rendered parts show it."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.spatial.transform import Rotation

from synthhuman.body.default_body import load_default_body
from synthhuman.fit import FitConfig, FitTargets, PartMesh, hard_parts, library_pose_prior
from synthhuman.fit.fitting import _flip_search, _Objective, _windows
from synthhuman.fit.flips import LIMB_BONES, flip_bone, global_rotations
from synthhuman.render import intrinsics, project
from synthhuman.scene import BUNDLED_TEST_MOTIONS


@pytest.fixture(scope="module")
def body():
    return load_default_body("female").double()


def posed(body, n: int = 5, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    pose = torch.randn(n, 72, generator=gen, dtype=torch.float64) * 0.4
    facing = Rotation.from_euler("x", math.pi) * Rotation.from_euler("y", 0.5)
    pose[:, :3] = torch.tensor(facing.as_rotvec())
    trans = torch.tensor([[0.2, -0.1, 3.0]], dtype=torch.float64).expand(n, 3)
    return pose, body.posed_joints(pose) + trans[:, None], trans


@pytest.mark.parametrize("bone", LIMB_BONES)
def test_flip_keeps_the_child_on_its_ray_at_the_bones_length(body, bone):
    joint, child = bone
    pose, joints, trans = posed(body)
    flipped = flip_bone(pose, joints, joint, child)
    after = body.posed_joints(flipped) + trans[:, None]
    # the parent does not move; the child stays on its camera ray (same pixel) at the same distance
    torch.testing.assert_close(after[:, joint], joints[:, joint], atol=1e-7, rtol=0)
    ray_before = torch.nn.functional.normalize(joints[:, child], dim=-1)
    ray_after = torch.nn.functional.normalize(after[:, child], dim=-1)
    torch.testing.assert_close(ray_after, ray_before, atol=1e-7, rtol=0)
    length = (joints[:, child] - joints[:, joint]).norm(dim=-1)
    torch.testing.assert_close((after[:, child] - after[:, joint]).norm(dim=-1), length, atol=1e-7, rtol=0)
    # ... but at the other depth: the second root of |s ray - parent| = length
    p = joints[:, joint]
    other = 2 * (ray_before * p).sum(-1) - joints[:, child].norm(dim=-1)
    torch.testing.assert_close(after[:, child].norm(dim=-1), other, atol=1e-7, rtol=0)
    assert float((after[:, child] - joints[:, child]).norm(dim=-1).min()) > 1e-3
    # the child's subtree keeps its world orientation
    G0, G1 = global_rotations(pose), global_rotations(flipped)
    assert abs(G1[:, child] - G0[:, child]).max() < 1e-7
    # joints outside the bone's subtree do not move
    for other_joint in (0, 3, 6, 9, 12, 15):
        torch.testing.assert_close(after[:, other_joint], joints[:, other_joint], atol=1e-7, rtol=0)


def test_flipping_twice_gives_the_joints_back(body):
    pose, joints, trans = posed(body, seed=3)
    once = flip_bone(pose, joints, 18, 20)
    twice = flip_bone(once, body.posed_joints(once) + trans[:, None], 18, 20)
    torch.testing.assert_close(body.posed_joints(twice) + trans[:, None], joints, atol=1e-8, rtol=0)


def test_flip_checks_its_arguments(body):
    pose, joints, _ = posed(body, 2)
    with pytest.raises(ValueError, match="child: joint 20 is not a child of joint 16"):
        flip_bone(pose, joints, 16, 20)
    with pytest.raises(ValueError, match=r"joints: expected \(2, 24, 3\), got \(2, 23, 3\)"):
        flip_bone(pose, joints[:, :23], 16, 18)
    with pytest.raises(ValueError, match=r"pose: expected \(N, 72\), got \(2, 69\)"):
        flip_bone(pose[:, 3:], joints, 16, 18)


def test_the_flip_search_puts_an_arm_back_in_front_of_the_chest():
    """An upper arm across the chest, started behind it (the same 2D joints): the rendered part map sees
    the difference and the search flips it back; both sides fit the joints equally well."""
    body = load_default_body("male")
    prior = library_pose_prior(exclude=BUNDLED_TEST_MOTIONS)
    h, w = 96, 72
    pose = torch.zeros(1, 72)
    pose[0, :3] = torch.tensor(
        (Rotation.from_euler("x", math.pi) * Rotation.from_euler("y", 0.3)).as_rotvec()
    )
    pose[0, 48:51] = torch.tensor(Rotation.from_euler("yz", [-130, -30], degrees=True).as_rotvec())
    trans = torch.tensor([[0.0, 0.0, 4.0]])
    truth = body(None, pose, trans, normals=False)
    K = intrinsics(110.0, ((w - 1) / 2, (h - 1) / 2), 1)
    mesh = PartMesh.of(body.faces, body.part_labels, body.face_labels, body.dtype)
    targets = FitTargets(
        K=K, joints2d=project(truth.joints, K), joints_weight=torch.ones(1, 24), image_size=(h, w),
        parts=hard_parts(mesh, truth.vertices, K, (h, w)),
    )  # fmt: skip
    behind = flip_bone(pose, truth.joints, 16, 18)
    assert float(body(None, behind, trans, normals=False).joints[0, 18, 2]) > float(truth.joints[0, 18, 2])
    cfg = FitConfig()
    objective = _Objective(targets, body, mesh, prior, cfg, _windows(targets, cfg.window_margin))
    params = {"orient": behind[:, :3].clone(), "body_pose": behind[:, 3:].clone(), "trans": trans.clone()}
    flipped = _flip_search(objective, params, 0.0)
    assert int(flipped[0]) >= 1
    got = body(None, torch.cat([params["orient"], params["body_pose"]], 1), trans, normals=False).joints
    assert float((got - truth.joints).norm(dim=-1).max()) < 0.01
