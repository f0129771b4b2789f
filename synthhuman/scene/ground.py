"""A ground you can stand on (``SceneConfig.ground``): the floor y = 0 as geometry under the feet, with a
procedural material and a soft contact shadow under each person (``docs/scenes.md``).

The ground is a grid whose topology every clip of a run shares (``CORE_CELLS`` + 2 ``OUTER_CELLS`` cells
per axis) and whose lines each clip places (:func:`ground_lines`): uniform over a core rectangle that
holds every frame's camera eye and every person (plus ``margin``), then cells growing geometrically out
to ``extent`` metres, so the far edge lies within a pixel of the horizon and the background image shows
only above it. Small cells near the camera keep the rasterizer's near-plane culling (a face with a corner
behind the camera is dropped) away from every visible part of the ground. The UV atlas gives the core
the middle 70 % of the texture in each direction; the texture is painted in metres through the same
mapping (:mod:`synthhuman.appearance.materials`), so it is not stretched.

In the renderer the ground is the last instance, P + K + 1 (after people and occluders), with part label
0, the first person's light and its own texture; ``Topology.ground_faces`` marks its faces, on which the
pipeline darkens the shading by the contact shadows (``FrameBatch.shadows``: spheres at each person's
joints, ambient occlusion of a sphere over a plane) and, with ``labels`` false, gives its pixels
background labels (depth 0, normals 0, instance 0, no flow).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from synthhuman.appearance._util import check_probabilities
from synthhuman.appearance.materials import MATERIALS, paint_material
from synthhuman.config import require
from synthhuman.rng import derived_generator

__all__ = [
    "CORE_CELLS",
    "JOINT_RADII",
    "OUTER_CELLS",
    "GroundConfig",
    "PlacedGround",
    "ground_lines",
    "ground_topology",
    "place_ground",
    "shadow_spheres",
]

CORE_CELLS = 32
"""Grid cells per axis across the core rectangle."""
OUTER_CELLS = 24
"""Grid cells per axis on each side outside the core, growing geometrically."""
_CORE_UV = (0.15, 0.85)

JOINT_RADII = (0.12, 0.09, 0.09, 0.12, 0.06, 0.06, 0.12, 0.05, 0.05, 0.13, 0.045, 0.045,
               0.06, 0.06, 0.06, 0.1, 0.05, 0.05, 0.045, 0.045, 0.04, 0.04, 0.04, 0.04)  # fmt: skip
"""Metres: the sphere at each SMPL joint that casts the contact shadow (about the limb's half thickness)."""


@dataclass(frozen=True)
class GroundConfig:
    """The ground. enabled: render the floor as geometry (off: today's scenes byte for byte); labels: its
    depth, normals and flow in the labels (false: its pixels are labelled as background); material_probs:
    weights of ``MATERIALS``; shadow: the contact shadows' strength in [0, 1] (0: none); extent: metres
    the grid reaches beyond the core; margin: metres around the cameras and people in the core."""

    enabled: bool = False
    labels: bool = True
    material_probs: tuple[float, ...] = (0.15, 0.45, 0.1, 0.0, 0.3)
    shadow: float = 0.8
    extent: float = 1000.0
    margin: float = 2.0

    def __post_init__(self) -> None:
        check_probabilities("ground.material_probs", self.material_probs, len(MATERIALS))
        require(0 <= self.shadow <= 1, "ground.shadow", "a strength in [0, 1]", self.shadow)
        require(10 <= self.extent <= 1e5, "ground.extent", "10..100000 metres", self.extent)
        require(0 <= self.margin <= 100, "ground.margin", "0..100 metres", self.margin)


def _ratio(first: float, cells: int, reach: float) -> float:
    """The growth g with first * (1 + g + ... + g^(cells - 1)) = reach (bisection; g >= 1)."""
    if first * cells >= reach:
        return 1.0
    lo, hi = 1.0, 4.0
    for _ in range(80):
        g = (lo + hi) / 2
        total = first * (g**cells - 1) / (g - 1)
        lo, hi = (g, hi) if total < reach else (lo, g)
    return (lo + hi) / 2


def ground_lines(lo: float, hi: float, extent: float) -> Tensor:
    """(CORE_CELLS + 2 OUTER_CELLS + 1,) float64 grid line positions along one axis: uniform over
    [lo, hi], then geometric out to ``extent`` beyond each end."""
    core = torch.linspace(lo, hi, CORE_CELLS + 1, dtype=torch.float64)
    first = (hi - lo) / CORE_CELLS
    g = _ratio(first, OUTER_CELLS, extent)
    steps = first * g ** torch.arange(OUTER_CELLS, dtype=torch.float64)
    out = steps.cumsum(0) * (extent / float(steps.sum()))  # exactly ``extent`` at the last line
    return torch.cat([lo - out.flip(0), core, hi + out])


def _axis_uv() -> Tensor:
    n = OUTER_CELLS
    a, b = _CORE_UV
    outer = torch.linspace(0, a, n + 1, dtype=torch.float64)[:-1]
    core = torch.linspace(a, b, CORE_CELLS + 1, dtype=torch.float64)
    return torch.cat([outer, core, torch.linspace(b, 1, n + 1, dtype=torch.float64)[1:]])


def ground_topology() -> tuple[Tensor, Tensor, Tensor]:
    """faces (F, 3) int64 (up-facing), uv (N, 2) float32, uv_faces (F, 3) of the ground grid; vertex
    (i, j) (x line i, z line j) is index i * n + j, as its UV."""
    n = CORE_CELLS + 2 * OUTER_CELLS + 1
    i, j = torch.meshgrid(torch.arange(n - 1), torch.arange(n - 1), indexing="ij")
    a = (i * n + j).flatten()
    b, c, d = a + 1, a + n, a + n + 1  # (i, j + 1), (i + 1, j), (i + 1, j + 1)
    faces = torch.cat([torch.stack([a, b, c], 1), torch.stack([c, b, d], 1)])
    u = _axis_uv()
    uv = torch.stack(torch.meshgrid(u, u, indexing="ij"), -1).reshape(-1, 2).float()
    return faces, uv, faces.clone()


@dataclass(frozen=True)
class PlacedGround:
    """The ground of a built clip: verts (N, 3) float64 world (y = 0); texture (S, S, 3) float32; info:
    what ``info.json`` records (material, core rectangle, extent, labels)."""

    verts: Tensor
    texture: Tensor
    info: dict


def place_ground(
    cfg: GroundConfig, clip_seed: int, eyes: Tensor, people: Tensor, texture_size: int
) -> PlacedGround:
    """The ground of a clip: the core holds ``eyes`` (T, 3) and ``people`` (N, 3) world points (their x-z),
    the texture and material from ``derived_generator(clip_seed, "ground")``."""
    pts = torch.cat([eyes.double().cpu(), people.double().cpu()])[:, [0, 2]]
    lo, hi = pts.amin(0) - cfg.margin, pts.amax(0) + cfg.margin
    xs = ground_lines(float(lo[0]), float(hi[0]), cfg.extent)
    zs = ground_lines(float(lo[1]), float(hi[1]), cfg.extent)
    gx, gz = torch.meshgrid(xs, zs, indexing="ij")
    verts = torch.stack([gx, torch.zeros_like(gx), gz], -1).reshape(-1, 3)
    gen = derived_generator(clip_seed, "ground")
    material = MATERIALS[int(torch.multinomial(torch.tensor(cfg.material_probs), 1, generator=gen))]
    # texel (row r, col c) has u = (c + 0.5) / S along x, v = 1 - (r + 0.5) / S along z (the UVs above)
    centres = (torch.arange(texture_size, dtype=torch.float64) + 0.5) / texture_size
    uv_axis = _axis_uv()
    x = _interp(centres, uv_axis, xs)[None, :].expand(texture_size, -1)
    z = _interp(1 - centres, uv_axis, zs)[:, None].expand(-1, texture_size)
    texture = paint_material(torch.stack([x, z], -1).float(), material, gen)
    info = {"material": material, "core": [float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])],
            "extent": cfg.extent, "labels": cfg.labels}  # fmt: skip
    return PlacedGround(verts, texture, info)


def _interp(x: Tensor, xp: Tensor, fp: Tensor) -> Tensor:
    i = torch.searchsorted(xp, x.contiguous(), right=True).clamp(1, len(xp) - 1)
    w = ((x - xp[i - 1]) / (xp[i] - xp[i - 1])).clamp(0, 1)
    return fp[i - 1] + w * (fp[i] - fp[i - 1])


def shadow_spheres(joints: Tensor, strength: float) -> Tensor:
    """(B, P * 24, 5) contact-shadow casters of world ``joints`` (B, P, 24, 3): centre, radius
    (``JOINT_RADII``), strength."""
    b, p = joints.shape[:2]
    radii = torch.tensor(JOINT_RADII, dtype=joints.dtype, device=joints.device).expand(b, p, -1)
    weight = torch.full_like(radii, strength)
    return torch.cat([joints, radii[..., None], weight[..., None]], -1).reshape(b, p * 24, 5)
