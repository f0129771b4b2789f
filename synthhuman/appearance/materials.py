"""Procedural materials for scene objects (occluders, the ground): textures painted in metres on the
object's surface, so that an atlas stretched over objects of any size shows undistorted wood, concrete,
painted metal, brushed metal or brick.

``paint_material(coords, kind, gen)``: ``coords`` (H, W, 2) float32 gives for each texel where it lies on
the surface in metres (2D surface coordinates, the second one vertical on walls); returns (H, W, 3) float32
in [0, 1]. Noise is 1/f^a fractal noise (:func:`synthhuman.appearance.natural.fractal_noise`), periodic,
looked up at the texel's position (so it tiles seamlessly across atlas regions of the same surface)."""

from __future__ import annotations

import torch
from torch import Tensor

from synthhuman.appearance.natural import fractal_noise

__all__ = ["MATERIALS", "paint_material"]

MATERIALS = ("wood", "concrete", "painted", "metal", "brick")
"""The materials :func:`paint_material` paints."""

_NOISE = 128  # texels per side of each noise tile
_COARSE_M = 2.0  # metres per tile: coarse variation (stains, grain runs)
_FINE_M = 0.25  # metres per tile: fine grain


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen))


def _lookup(tile: Tensor, x: Tensor, y: Tensor, period: float) -> Tensor:
    """Bilinear lookup of a periodic (N, N) tile at (x, y) metres, the tile spanning ``period`` metres."""
    n = tile.shape[-1]
    gx, gy = x / period * n, y / period * n
    x0, y0 = gx.floor(), gy.floor()
    fx, fy = gx - x0, gy - y0
    x0, y0 = x0.long() % n, y0.long() % n
    x1, y1 = (x0 + 1) % n, (y0 + 1) % n
    top = tile[y0, x0] * (1 - fx) + tile[y0, x1] * fx
    bottom = tile[y1, x0] * (1 - fx) + tile[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def _ramp(t: Tensor, dark: Tensor, light: Tensor) -> Tensor:
    """(..., 3) colours from ``dark`` (3,) to ``light`` (3,) at t (...) in [0, 1]."""
    t = t.clamp(0, 1)[..., None]
    return dark * (1 - t) + light * t


def _hsv(h: float, s: float, v: float) -> Tensor:
    k = torch.tensor([5.0, 3.0, 1.0])
    kk = (k + h * 6) % 6
    return v - v * s * torch.clamp(torch.minimum(kk, 4 - kk), 0, 1)


def paint_material(coords: Tensor, kind: str, gen: torch.Generator) -> Tensor:
    """(H, W, 3) float32 texture of material ``kind`` (one of :data:`MATERIALS`) at ``coords`` (H, W, 2)
    metres on the surface (module docstring), drawn from ``gen``."""
    if kind not in MATERIALS:
        raise ValueError(f"material: expected one of {MATERIALS}, got {kind!r}")
    x, y = coords[..., 0].float(), coords[..., 1].float()
    coarse_tile, fine_tile = fractal_noise(_NOISE, _NOISE, gen, _uniform(gen, 1.8, 2.6), channels=2)
    coarse = _lookup(coarse_tile, x, y, _COARSE_M)
    fine = _lookup(fine_tile, x, y, _FINE_M)
    gain = _uniform(gen, 0.75, 1.15)
    if kind == "wood":  # planks along the first coordinate, grain stretched along them
        width = _uniform(gen, 0.08, 0.25)
        grain = _lookup(fine_tile, x * 0.15, y * 3.0, _FINE_M)
        plank = torch.floor(y / width)
        shade = 0.5 + 0.18 * grain + 0.08 * coarse + 0.1 * torch.sin(plank * 12.9898).frac()
        gap = ((y / width).frac() < 0.04).float()
        dark, light = torch.tensor([0.25, 0.15, 0.08]), torch.tensor([0.72, 0.55, 0.36])
        rgb = _ramp(shade, dark, light) * (1 - 0.6 * gap[..., None])
    elif kind == "concrete":
        shade = 0.55 + 0.12 * coarse + 0.08 * fine
        speck = (fine > 2.2).float() * 0.15
        rgb = _ramp(shade - speck, torch.tensor([0.22, 0.22, 0.22]), torch.tensor([0.78, 0.76, 0.72]))
    elif kind == "painted":  # a saturated paint, worn and dirtier towards the ground
        base = _hsv(_uniform(gen, 0, 1), _uniform(gen, 0.4, 0.9), _uniform(gen, 0.45, 0.9))
        grime = (0.12 * (coarse + 1.0) * torch.exp(-y.clamp_min(0) / 0.4)).clamp(0, 0.5)
        wear = (coarse > 1.6).float() * 0.35
        rgb = base * (1 + 0.05 * fine[..., None]) * (1 - grime - wear)[..., None]
    elif kind == "metal":  # brushed: streaks along the vertical
        streak = _lookup(fine_tile, x * 4.0, y * 0.1, _FINE_M)
        shade = 0.55 + 0.1 * streak + 0.07 * coarse
        tint = torch.tensor([1.0, 1.0, 1.0]) + 0.06 * (torch.rand(3, generator=gen) - 0.5)
        rgb = _ramp(shade, torch.tensor([0.25, 0.26, 0.28]), torch.tensor([0.82, 0.83, 0.85])) * tint
    else:  # brick: courses with offset joints and mortar
        course, length = _uniform(gen, 0.06, 0.09), _uniform(gen, 0.2, 0.26)
        row = torch.floor(y / course)
        shifted = x / length + 0.5 * (row % 2)
        col = torch.floor(shifted)
        mortar = ((y / course).frac() < 0.12) | (shifted.frac() < 0.05)
        hue = torch.sin(row * 78.233 + col * 12.9898).mul(43758.5453).frac()  # a stable per-brick value
        brick = _ramp(
            0.35 + 0.4 * hue + 0.08 * fine, torch.tensor([0.35, 0.1, 0.06]), torch.tensor([0.8, 0.42, 0.28])
        )
        rgb = torch.where(
            mortar[..., None], torch.tensor([0.62, 0.6, 0.56]) * (1 + 0.1 * fine[..., None]), brick
        )
    return (rgb * gain).clamp(0, 1).float().contiguous()
