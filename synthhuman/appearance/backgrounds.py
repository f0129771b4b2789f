"""Procedural backgrounds that need no downloaded images."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def procedural_background(height: int, width: int, gen: torch.Generator) -> Tensor:
    """(H, W, 3) float32 in [0, 1]: a floor/wall scene (two vertical gradients split at a horizon) with
    smooth multi-scale noise, so backgrounds have texture at several scales as photos do."""
    if height <= 0 or width <= 0:
        raise ValueError(f"procedural_background: expected positive size, got {(height, width)}")
    wall, floor = torch.rand(2, 3, generator=gen) * 0.6 + 0.2
    horizon = 0.45 + 0.3 * torch.rand((), generator=gen)
    rows = torch.linspace(0, 1, height)[:, None, None]
    shade = 1 - 0.35 * (rows - horizon).abs()
    img = torch.where(rows < horizon, wall, floor) * shade
    img = img.expand(height, width, 3).clone()
    for scale in (4, 16, 64):
        noise = torch.rand(1, 3, max(2, height // scale), max(2, width // scale), generator=gen)
        noise = F.interpolate(noise, (height, width), mode="bilinear", align_corners=False)
        img += 0.08 * (noise[0].permute(1, 2, 0) - 0.5)
    return img.clamp(0, 1)
