"""UV texture sampling: bilinear, trilinear across a mip pyramid so small, far bodies do not alias.

UV convention (synthhuman.conventions): u left to right, v bottom to top; texel (i, j) of an (h, w) level
has its centre at ``u = (j + 0.5) / w``, ``v = 1 - (i + 0.5) / h``; addressing clamps to the edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from synthhuman.render.checks import check_float, check_tensor
from synthhuman.render.gather import take_rows


@dataclass(frozen=True)
class MipTexture:
    """A batch of T textures and their mip pyramids, flattened for gather-based sampling.

    texels: (sum_l T*h_l*w_l, C) all levels, level-major then texture, row-major.
    offsets, heights, widths: (L,) int64 per level. base_size: (H, W) of level 0.
    """

    texels: Tensor
    offsets: Tensor
    heights: Tensor
    widths: Tensor
    num_textures: int
    base_size: tuple[int, int]

    @property
    def num_levels(self) -> int:
        return self.offsets.shape[0]


def build_mipmaps(texture: Tensor, max_levels: int | None = None) -> MipTexture:
    """Mip pyramid of (T, H, W, C) float textures by 2x2 box filtering (odd sizes round up)."""
    check_tensor("texture", texture, 4)
    check_float("texture", texture)
    t, h, w, c = texture.shape
    if h == 0 or w == 0 or t == 0:
        raise ValueError(f"texture: expected non-empty (T, H, W, C), got shape {tuple(texture.shape)}")
    levels = [texture]
    limit = max_levels or (1 + math.ceil(math.log2(max(h, w))))
    while len(levels) < limit and max(levels[-1].shape[1:3]) > 1:
        prev = levels[-1].permute(0, 3, 1, 2)
        levels.append(F.avg_pool2d(prev, 2, ceil_mode=True).permute(0, 2, 3, 1))
    sizes = [lvl.shape[1] * lvl.shape[2] * t for lvl in levels]
    offsets = torch.tensor([0, *sizes[:-1]], device=texture.device).cumsum(0)
    return MipTexture(
        texels=torch.cat([lvl.reshape(-1, c) for lvl in levels]),
        offsets=offsets,
        heights=torch.tensor([lvl.shape[1] for lvl in levels], device=texture.device),
        widths=torch.tensor([lvl.shape[2] for lvl in levels], device=texture.device),
        num_textures=t,
        base_size=(h, w),
    )


def texture_lod(uv_tri: Tensor, screen_tri: Tensor, base_size: tuple[int, int]) -> Tensor:
    """Mip level from the ratio of a face's texel area to its pixel area.

    uv_tri: (N, 3, 2) UVs of the face corners; screen_tri: (N, 3, 2) pixel positions of its vertices.
    Returns (N,) level >= 0 (0 where the face is magnified).
    """

    def area(p: Tensor) -> Tensor:
        d1, d2 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
        return (d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]).abs()

    texels = area(uv_tri) * (base_size[0] * base_size[1])
    pixels = area(screen_tri).clamp_min(1e-12)
    return (0.5 * torch.log2((texels / pixels).clamp_min(1e-12))).clamp_min(0)


def sample_texture(tex: MipTexture, uv: Tensor, texture_index: Tensor, lod: Tensor | None = None) -> Tensor:
    """Sample textures at UVs.

    uv: (N, 2); texture_index: (N,) int64 in [0, T); lod: (N,) mip level (None: level 0, bilinear).
    Returns (N, C). Differentiable with respect to the texels and the UVs.
    """
    check_tensor("uv", uv, 2, (2,))
    if lod is None:
        return _bilinear(tex, uv, texture_index, torch.zeros_like(texture_index))
    lod = lod.clamp(0, tex.num_levels - 1)
    l0 = lod.floor().long()
    l1 = (l0 + 1).clamp(max=tex.num_levels - 1)
    frac = (lod - l0.to(lod.dtype))[:, None].to(tex.texels.dtype)
    return _bilinear(tex, uv, texture_index, l0) * (1 - frac) + _bilinear(tex, uv, texture_index, l1) * frac


def _bilinear(tex: MipTexture, uv: Tensor, texture_index: Tensor, level: Tensor) -> Tensor:
    h, w = tex.heights[level], tex.widths[level]
    x = uv[:, 0] * w - 0.5
    y = (1 - uv[:, 1]) * h - 0.5
    x0f, y0f = x.floor(), y.floor()
    fx, fy = (x - x0f)[:, None].to(tex.texels.dtype), (y - y0f)[:, None].to(tex.texels.dtype)
    x0, y0 = x0f.long(), y0f.long()
    base = tex.offsets[level] + texture_index * h * w
    # clamp-to-edge addressing: the four texel indices from two clamped columns and two clamped rows
    cols = torch.stack([x0, x0 + 1], 1).clamp_min_(0)
    cols = torch.minimum(cols, (w - 1)[:, None])
    rows = torch.stack([y0, y0 + 1], 1).clamp_min_(0)
    rows = base[:, None] + torch.minimum(rows, (h - 1)[:, None]) * w[:, None]
    texels = take_rows(tex.texels, (rows[:, :, None] + cols[:, None, :]).view(-1, 4))  # (N, 4, C)
    top = texels[:, 0] * (1 - fx) + texels[:, 1] * fx
    bottom = texels[:, 2] * (1 - fx) + texels[:, 3] * fx
    return top * (1 - fy) + bottom * fy
