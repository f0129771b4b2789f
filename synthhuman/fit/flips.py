"""Limb flips: the discrete search that 2D joints cannot settle.

A bone seen in an image fixes its child joint's pixel, not which side of its parent the child lies in depth:
the child may sit at either of the two points of its camera ray at the bone's length from the parent
(the kinematic flip ambiguity). Gradient descent never crosses from one to the other (the limb would have
to pass through the configuration pointing along the ray), so a fit that starts on the wrong side stays
there. :func:`flip_bone` moves a bone to its other solution while keeping the pixel of its child and the
world orientation of everything below it (the limb's next bone moves rigidly along, its pixels nearly
unchanged); which side is right is for the rendered terms to say (depth order where limbs cross the body,
hidden joints) with the priors and joint limits.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial.transform import Rotation
from torch import Tensor

from synthhuman.conventions import NUM_JOINTS, SMPL_PARENTS

LIMB_BONES = ((16, 18), (17, 19), (18, 20), (19, 21), (1, 4), (2, 5), (4, 7), (5, 8))
"""(joint, child) of the bones whose depth is searched: upper arms, forearms, thighs, shins (left, right)."""


def global_rotations(pose: Tensor) -> np.ndarray:
    """(N, 72) axis-angle -> (N, 24, 3, 3) float64 world rotation of each joint (its chain's product)."""
    local = Rotation.from_rotvec(pose.detach().double().cpu().numpy().reshape(-1, 3)).as_matrix()
    local = local.reshape(-1, NUM_JOINTS, 3, 3)
    out = np.empty_like(local)
    for j, parent in enumerate(SMPL_PARENTS):
        out[:, j] = local[:, j] if parent < 0 else out[:, parent] @ local[:, j]
    return out


def flip_bone(pose: Tensor, joints: Tensor, joint: int, child: int) -> Tensor:
    """(N, 72) poses with the bone ``joint -> child`` flipped in depth.

    pose: (N, 72) axis-angle, global orientation in the camera's frame (as the fit's); joints: (N, 24, 3)
    the posed joints in camera space (camera at the origin). The child moves to the other point of its
    camera ray at the bone's length from ``joint``; ``joint``'s rotation turns by the smallest rotation
    that does it and ``child``'s rotation compensates, so the child's subtree keeps its world orientation.
    A bone already across its ray (no other solution in front of the camera) is left as it is."""
    if pose.ndim != 2 or pose.shape[1] != 3 * NUM_JOINTS:
        raise ValueError(f"pose: expected (N, {3 * NUM_JOINTS}), got {tuple(pose.shape)}")
    if joints.shape != (pose.shape[0], NUM_JOINTS, 3):
        raise ValueError(f"joints: expected ({pose.shape[0]}, {NUM_JOINTS}, 3), got {tuple(joints.shape)}")
    if SMPL_PARENTS[child] != joint:
        raise ValueError(f"child: joint {child} is not a child of joint {joint} in SMPL's tree")
    J = joints.detach().double().cpu().numpy()
    p, c = J[:, joint], J[:, child]
    ray = c / np.linalg.norm(c, axis=1, keepdims=True)
    other = 2 * (ray * p).sum(1) - np.linalg.norm(c, axis=1)  # the second root along the ray
    d = c - p
    d2 = other[:, None] * ray - p
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    d2 /= np.linalg.norm(d2, axis=1, keepdims=True).clip(1e-12)
    axis = np.cross(d, d2)
    sin = np.linalg.norm(axis, axis=1)
    angle = np.arctan2(sin, (d * d2).sum(1))
    ok = (other > 1e-3) & (sin > 1e-9)
    turn = Rotation.from_rotvec(np.where(ok[:, None], axis / sin.clip(1e-12)[:, None] * angle[:, None], 0))
    G = global_rotations(pose)
    new_joint = turn.as_matrix() @ G[:, joint]
    parent = SMPL_PARENTS[joint]
    local_joint = new_joint if parent < 0 else np.swapaxes(G[:, parent], 1, 2) @ new_joint
    local_child = np.swapaxes(new_joint, 1, 2) @ G[:, child]
    out = pose.detach().clone().view(-1, NUM_JOINTS, 3)
    for j, R in ((joint, local_joint), (child, local_child)):
        out[:, j] = torch.as_tensor(Rotation.from_matrix(R).as_rotvec(), dtype=pose.dtype, device=pose.device)
    return out.view(-1, 3 * NUM_JOINTS)
