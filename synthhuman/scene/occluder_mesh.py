"""The meshes of occluders (``scene.occluders``): small prisms we build ourselves, one fixed topology per
occluder slot so that every clip of a run shares the renderer's ``Topology``.

A slot holds two variants, each a closed, outward-oriented prism standing on the ground (y = 0): a
**square** one (a rectangle with bevelled corners: boxes and slabs) and a **round** one (a 24-gon:
cylinders and poles). An occluder uses one variant; the other is collapsed onto a single point, so its
faces have zero area and never cover a pixel (both rasterizers skip zero-area faces).

Each variant has six rings of its profile: the bottom cap's inner ring, the bottom rim, a bevel ring
``e`` above it, a bevel ring ``e`` below the top, the top rim and the top cap's inner ring, plus the two
cap centres. The bevels (``e`` about 1 cm) keep the mesh watertight with interpolated vertex normals that
are flat over each side and turn only within the bevel, as a real object's rounded edges do.

UV atlas (fixed per slot; the texture painter undoes the stretch, :func:`texel_coordinates`): the sides
wrap around u in [0, 1], v in [0, 0.74] (bevels in the first and last 0.02); the top cap in the square
u in [0, 0.24], v in [0.76, 1]; the bottom cap in u in [0.26, 0.5], v in [0.76, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

VARIANTS = ("square", "round")
"""The two prisms of a slot."""
SIDES = {"square": 8, "round": 24}
"""Profile points of each variant (square: two per bevelled corner)."""
_V_RINGS = (0.0, 0.02, 0.72, 0.74)  # side v of the bottom rim, bottom bevel, top bevel, top rim
_CAP_BOXES = ((0.12, 0.88), (0.38, 0.88))  # top and bottom caps: centre (u, v); half size 0.12
_CAP_HALF = 0.12
_INNER = 0.94  # the cap's inner ring in the atlas: this share of the rim


@dataclass(frozen=True)
class SlotTemplate:
    """The topology of one occluder slot. faces (F, 3) int64 into the slot's (V,) vertices; uv (Nuv, 2);
    uv_faces (F, 3) int64; variant_verts: per variant its vertex range [start, stop)."""

    faces: Tensor
    uv: Tensor
    uv_faces: Tensor
    variant_verts: dict[str, tuple[int, int]]

    @property
    def num_verts(self) -> int:
        return max(stop for _, stop in self.variant_verts.values())


def _unit_profile(variant: str) -> tuple[Tensor, Tensor]:
    """(n, 2) profile directions (x, z) of the unit shape, counter-clockwise seen from above in (x, z),
    and (n + 1,) u along the sides (the seam repeats u = 1)."""
    n = SIDES[variant]
    if variant == "round":
        theta = torch.arange(n, dtype=torch.float64) * (2 * math.pi / n)
        return torch.stack([theta.cos(), theta.sin()], 1), torch.linspace(0, 1, n + 1, dtype=torch.float64)
    phi = torch.tensor([45.0 + 90 * k + s for k in range(4) for s in (-22.5, 22.5)], dtype=torch.float64)
    phi = phi.deg2rad()
    u = torch.tensor([0.0] + [0.01 if j % 2 == 0 else 0.24 for j in range(n)], dtype=torch.float64).cumsum(0)
    return torch.stack([phi.cos(), phi.sin()], 1), u / u[-1]


def profile(variant: str, half_x: float, half_z: float, bevel: float) -> Tensor:
    """(n, 2) float64 profile (x, z) in metres of a variant: an ellipse of half axes (half_x, half_z)
    (round), or a rectangle of half sides (half_x, half_z) whose corners are rounded with radius
    ``bevel`` (square, two points per corner)."""
    d, _ = _unit_profile(variant)
    if variant == "round":
        return d * torch.tensor([half_x, half_z], dtype=torch.float64)
    corner = torch.tensor([half_x - bevel, half_z - bevel], dtype=torch.float64)
    signs = torch.tensor([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=torch.float64).repeat_interleave(2, 0)
    return signs * corner + bevel * d


def _variant_topology(variant: str) -> tuple[Tensor, Tensor, Tensor]:
    """faces (F, 3), uv (Nuv, 2), uv_faces (F, 3) of one variant, outward-oriented."""
    n = SIDES[variant]
    d, u = _unit_profile(variant)
    j = torch.arange(n)
    k = (j + 1) % n
    ring = [r * n for r in range(6)]  # vertex rings: 0 bottom inner, 1..4 rims and bevels, 5 top inner
    bottom, top = 6 * n, 6 * n + 1
    faces, uv_faces = [], []
    # UVs: side rings (4 x (n + 1)), then cap rings (2 caps x (inner n, rim n, centre 1))
    side_uv = torch.stack([torch.stack([u, torch.full_like(u, v)], 1) for v in _V_RINGS])  # (4, n + 1, 2)
    caps = []
    for cu, cv in _CAP_BOXES:
        rim = torch.stack([cu + _CAP_HALF * d[:, 0], cv + _CAP_HALF * d[:, 1]], 1)
        inner = torch.stack([cu + _INNER * _CAP_HALF * d[:, 0], cv + _INNER * _CAP_HALF * d[:, 1]], 1)
        caps.append(torch.cat([inner, rim, torch.tensor([[cu, cv]], dtype=torch.float64)]))
    uv = torch.cat([side_uv.reshape(-1, 2), *caps])
    side0, cap0 = 0, 4 * (n + 1)
    for r in range(3):  # side strips between rings 1..4
        a, b = ring[r + 1], ring[r + 2]
        ua, ub = side0 + r * (n + 1), side0 + (r + 1) * (n + 1)
        faces += [torch.stack([a + j, b + k, a + k], 1), torch.stack([a + j, b + j, b + k], 1)]
        uv_faces += [
            torch.stack([ua + j, ub + j + 1, ua + j + 1], 1),
            torch.stack([ua + j, ub + j, ub + j + 1], 1),
        ]
    for cap, (inner, rim, centre) in enumerate(((ring[5], ring[4], top), (ring[0], ring[1], bottom))):
        base = cap0 + cap * (2 * n + 1)
        ui, ur, uc = base + j, base + n + j, base + 2 * n
        uik, urk = base + k, base + n + k
        faces += [
            torch.stack([rim + j, inner + k, inner + j], 1),
            torch.stack([rim + j, rim + k, inner + k], 1),
        ]
        uv_faces += [torch.stack([ur, uik, ui], 1), torch.stack([ur, urk, uik], 1)]
        faces.append(torch.stack([inner + j, inner + k, torch.full_like(j, centre)], 1))
        uv_faces.append(torch.stack([ui, uik, torch.full_like(j, uc)], 1))
    faces, uv_faces = torch.cat(faces), torch.cat(uv_faces)
    # orient every face outward on a reference prism (its right-hand normal away from the axis' middle)
    ref = variant_vertices(variant, 1.0, 1.0, 1.0, 0.1)
    tri = ref[faces]
    normal = torch.linalg.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    centroid = tri.mean(1) - torch.tensor([0.0, 0.5, 0.0], dtype=torch.float64)
    inward = (normal * centroid).sum(1) < 0
    faces[inward] = faces[inward][:, [0, 2, 1]]
    uv_faces[inward] = uv_faces[inward][:, [0, 2, 1]]
    return faces, uv.float(), uv_faces


def variant_vertices(variant: str, half_x: float, half_z: float, height: float, bevel: float) -> Tensor:
    """(6 n + 2, 3) float64 vertices of a variant in its own frame (base centre at the origin, +Y up)."""
    rim = profile(variant, half_x, half_z, bevel)
    inner = (
        profile(variant, half_x - bevel, half_z - bevel, bevel)
        if variant == "square"
        else rim * (1 - bevel / max(half_x, half_z))
    )
    rings = [(inner, 0.0), (rim, 0.0), (rim, bevel), (rim, height - bevel), (rim, height), (inner, height)]
    pts = [torch.stack([p[:, 0], torch.full_like(p[:, 0], y), p[:, 1]], 1) for p, y in rings]
    centres = torch.tensor([[0.0, 0.0, 0.0], [0.0, height, 0.0]], dtype=torch.float64)
    return torch.cat([*pts, centres])


def slot_template() -> SlotTemplate:
    """The topology of one slot: the square variant's vertices first, then the round one's."""
    faces, uvs, uv_faces, ranges = [], [], [], {}
    v0 = t0 = 0
    for variant in VARIANTS:
        f, uv, uf = _variant_topology(variant)
        nv = 6 * SIDES[variant] + 2
        faces.append(f + v0)
        uv_faces.append(uf + t0)
        uvs.append(uv)
        ranges[variant] = (v0, v0 + nv)
        v0, t0 = v0 + nv, t0 + uv.shape[0]
    return SlotTemplate(torch.cat(faces), torch.cat(uvs), torch.cat(uv_faces), ranges)


def slot_vertices(
    template: SlotTemplate, variant: str, half_x: float, half_z: float, height: float, bevel: float,
    centre: tuple[float, float], yaw: float,
) -> Tensor:  # fmt: skip
    """(V, 3) float64 world vertices of a slot: ``variant`` standing at ``centre`` (x, z) on the ground,
    turned by ``yaw`` about +Y; the other variant collapsed onto the base centre."""
    out = torch.empty(template.num_verts, 3, dtype=torch.float64)
    base = torch.tensor([centre[0], 0.0, centre[1]], dtype=torch.float64)
    c, s = math.cos(yaw), math.sin(yaw)
    rot = torch.tensor([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]], dtype=torch.float64)
    for name, (start, stop) in template.variant_verts.items():
        if name == variant:
            out[start:stop] = variant_vertices(name, half_x, half_z, height, bevel) @ rot.T + base
        else:
            out[start:stop] = base
    return out


def texel_coordinates(variant: str, half_x: float, half_z: float, height: float, bevel: float, size: int):
    """Where each texel of a (size, size) atlas lies on the occluder's surface, in metres, for painting a
    texture that is not stretched: (size, size, 2) float32 (along the surface, height) on the sides;
    (x, z) on the caps (other texels: the side's mapping clamped)."""
    rim = profile(variant, half_x, half_z, bevel)
    seg = (rim.roll(-1, 0) - rim).norm(dim=1)
    s_metric = torch.cat([torch.zeros(1, dtype=torch.float64), seg.cumsum(0)])  # (n + 1,) along the sides
    _, u_ring = _unit_profile(variant)
    centres = (torch.arange(size, dtype=torch.float64) + 0.5) / size
    u = centres[None, :].expand(size, size)
    v = (1 - centres)[:, None].expand(size, size)
    y_knots = torch.tensor([0.0, bevel, height - bevel, height], dtype=torch.float64)
    side_s = _interp(u, u_ring, s_metric)
    side_y = _interp(v.clamp(0, _V_RINGS[-1]), torch.tensor(_V_RINGS, dtype=torch.float64), y_knots)
    out = torch.stack([side_s, side_y], -1)
    for cu, cv in _CAP_BOXES:
        px, pz = (u - cu) / _CAP_HALF, (v - cv) / _CAP_HALF
        inside = (px.abs() <= 1) & (pz.abs() <= 1)
        cap = torch.stack([px * half_x, pz * half_z], -1)
        out = torch.where(inside[..., None], cap, out)
    return out.float()


def _interp(x: Tensor, xp: Tensor, fp: Tensor) -> Tensor:
    """Piecewise-linear interpolation of knots (xp increasing, fp) at x (clamped to the knots' range)."""
    i = torch.searchsorted(xp, x.contiguous().clamp(xp[0], xp[-1]), right=True).clamp(1, len(xp) - 1)
    x0, x1, f0, f1 = xp[i - 1], xp[i], fp[i - 1], fp[i]
    w = ((x - x0) / (x1 - x0).clamp_min(1e-12)).clamp(0, 1)
    return f0 + w * (f1 - f0)
