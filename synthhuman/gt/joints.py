"""2D/3D joints with visibility."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from synthhuman.conventions import DEFAULT_JOINT_TOLERANCE
from synthhuman.render import project


@dataclass(frozen=True)
class Joints:
    """joints2d (B, J, 2) pixels; joints3d (B, J, 3) camera space; visible (B, J) bool."""

    joints2d: Tensor
    joints3d: Tensor
    visible: Tensor


def project_joints(
    joints_cam: Tensor, K: Tensor, depth: Tensor, tolerance: float = DEFAULT_JOINT_TOLERANCE
) -> Joints:
    """Project (B, J, 3) camera-space joints with K (B, 3, 3); visibility from the (B, H, W) depth map.

    A joint is visible when it is in front of the camera, inside the image, and no surface at its pixel
    is nearer than its depth minus ``tolerance``.
    """
    b, h, w = depth.shape
    z = joints_cam[..., 2]
    uv = project(joints_cam, K)
    col, row = torch.round(uv[..., 0]), torch.round(uv[..., 1])
    inside = (z > 0) & (col >= 0) & (col <= w - 1) & (row >= 0) & (row <= h - 1)
    flat = torch.arange(b, device=depth.device)[:, None] * (h * w)
    flat = flat + row.clamp(0, h - 1).long() * w + col.clamp(0, w - 1).long()
    surface = depth.detach().flatten()[flat]
    unoccluded = (surface <= 0) | (surface >= z - tolerance)
    return Joints(uv, joints_cam, inside & unoccluded)
