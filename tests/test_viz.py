"""Pictures of layers."""

from __future__ import annotations

import torch

from synthhuman.viz import depth_image


def test_depth_pictures_grade_by_disparity_and_keep_people_apart_from_a_far_ground():
    depth = torch.tensor([[0.0, 2.0, 4.0, 1000.0]])
    img = depth_image(depth)[0, :, 0].int().tolist()
    assert img[0] == 0 and img[1] == 255 and img[3] == round(0.2 * 255)
    # 4 m sits halfway in disparity between 2 m and (almost) infinity, not at the far end
    assert abs(img[2] - round(255 * (0.2 + 0.8 * (1 / 4 - 1e-3) / (1 / 2 - 1e-3)))) <= 1
