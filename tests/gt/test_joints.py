"""Joint projection and visibility."""

from __future__ import annotations

import torch

from synthhuman.gt import project_joints
from synthhuman.render import intrinsics

H, W = 48, 64


def test_joints_projection_and_visibility(device):
    K = intrinsics(50.0, ((W - 1) / 2, (H - 1) / 2), dtype=torch.float64, device=device)
    depth = torch.zeros(1, H, W, dtype=torch.float64, device=device)
    depth[0, :, : W // 2] = 2.0  # a wall at 2 m over the left half
    joints = torch.tensor(
        [[[-0.5, 0.0, 3.0], [0.5, 0.0, 3.0], [-0.5, 0.0, 2.1], [50.0, 0.0, 3.0], [0.0, 0.0, -1.0]]],
        dtype=torch.float64,
        device=device,
    )
    out = project_joints(joints, K, depth)
    expected_u = 50.0 * joints[0, :4, 0] / joints[0, :4, 2] + (W - 1) / 2
    torch.testing.assert_close(out.joints2d[0, :4, 0], expected_u)
    # behind the wall / free / just behind the wall within tolerance / off-image / behind the camera
    assert out.visible[0].tolist() == [False, True, True, False, False]
