"""Occluders (``SceneConfig.occluders``): textured static objects standing on the ground between the
camera and the people, partially hiding them.

An occluder is an extra instance of the scene mesh (``docs/scenes.md``): part label 0 (segmentation 0 on
it), instance id P + 1 + k, its own texture (a procedural material painted in metres,
:mod:`synthhuman.appearance.materials`) and the light of the clip's first person. Its mesh is a slot of
:mod:`.occluder_mesh` (every clip of a run shares the topology). Being static in the world, it moves in
the image only with the camera, and every label (depth, normals, flow, joint visibility) follows from the
one rasterization.

Randomness: everything about the occluders of a clip draws from generators of their own,
``derived_generator(clip seed, "occluders")`` (kinds, sizes, materials, placement draws) and
``derived_generator(clip seed, "occluders", "texture", k)`` (occluder k's texture), so the clip's people,
motion, light and camera are the same with occluders on or off.

Placement (:func:`place_occluders`, once the clip is posed and its cameras fitted): occluder k tries up to
``tries`` candidates, each a drawn frame t, person p, share f of the way from that person's pelvis to the
camera's eye at frame t (``distance_share``) and a sideways offset (up to half a metre at the person's
depth, plus the occluder's own radius, so that it covers part of the person); a candidate is taken when
its footprint stays clear of every person's swept footprint at every frame (people may walk towards it)
and of the occluders already placed, and every corner of it is at least ``min_depth`` in front of every
frame's camera (moving cameras included). When no candidate fits, the occluder is left out (its mesh
collapsed; ``placed: false`` in ``info.json``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from synthhuman.appearance._util import check_probabilities
from synthhuman.appearance.materials import MATERIALS, paint_material
from synthhuman.config import require
from synthhuman.rng import derived_generator
from synthhuman.scene.occluder_mesh import SlotTemplate, slot_template, slot_vertices, texel_coordinates

__all__ = [
    "OCCLUDER_KINDS",
    "OccluderConfig",
    "OccluderParams",
    "PlacedOccluders",
    "occluder_template",
    "place_occluders",
    "sample_occluders",
]

OCCLUDER_KINDS = ("box", "cylinder", "slab", "pole")
"""What an occluder is (``OccluderConfig.kind_probs`` weighs them)."""

KIND_SHAPES = {
    # kind: (variant, half_x range, half_z range (None: a circle), height range) in metres
    "box": ("square", (0.15, 0.45), (0.15, 0.45), (0.4, 1.2)),
    "cylinder": ("round", (0.15, 0.4), None, (0.5, 1.3)),
    "slab": ("square", (0.25, 0.7), (0.02, 0.06), (0.4, 1.3)),
    "pole": ("round", (0.03, 0.07), None, (2.0, 3.2)),
}
"""Each kind's prism (``occluder_mesh.VARIANTS``) and the uniform ranges of its size."""

_PLACE_DRAWS = 5  # per candidate: frame, person, distance share, sideways offset, yaw


@dataclass(frozen=True)
class OccluderConfig:
    """Occluders of a clip. count: K per clip (0: none, today's scenes byte for byte); kind_probs: weights
    of ``OCCLUDER_KINDS``; material_probs: weights of ``appearance.materials.MATERIALS``; distance_share:
    (lo, hi) share of the person-to-camera distance at which an occluder stands (from the person); min_depth:
    metres every corner keeps in front of every frame's camera; tries: placement candidates per occluder."""

    count: int = 0
    kind_probs: tuple[float, ...] = (0.3, 0.25, 0.25, 0.2)
    material_probs: tuple[float, ...] = (0.2, 0.2, 0.25, 0.15, 0.2)
    distance_share: tuple[float, float] = (0.1, 0.5)
    min_depth: float = 0.5
    tries: int = 16

    def __post_init__(self) -> None:
        require(0 <= self.count <= 64, "occluders.count", "an int in 0..64", self.count)
        check_probabilities("occluders.kind_probs", self.kind_probs, len(OCCLUDER_KINDS))
        check_probabilities("occluders.material_probs", self.material_probs, len(MATERIALS))
        lo, hi = self.distance_share
        require(0 < lo <= hi < 1, "occluders.distance_share", "0 < low <= high < 1", self.distance_share)
        require(self.min_depth > 0, "occluders.min_depth", "> 0 metres", self.min_depth)
        require(1 <= self.tries <= 1000, "occluders.tries", "an int in 1..1000", self.tries)


@dataclass(frozen=True)
class OccluderParams:
    """What is random about one occluder (:func:`sample_occluders`). half_x, half_z, height, bevel:
    metres (round kinds: half_x = half_z = radius); material: one of ``MATERIALS``; texture (S, S, 3)
    float32; draws (tries, 5) float64 in [0, 1): per placement candidate its frame, person, distance share,
    sideways offset and yaw."""

    kind: str
    half_x: float
    half_z: float
    height: float
    bevel: float
    material: str
    texture: Tensor
    draws: Tensor

    @property
    def variant(self) -> str:
        return KIND_SHAPES[self.kind][0]

    @property
    def radius(self) -> float:
        """Metres: the footprint's circumscribed radius."""
        return math.hypot(self.half_x, self.half_z)


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen, dtype=torch.float64))


def _choice(gen: torch.Generator, weights: tuple[float, ...]) -> int:
    return int(torch.multinomial(torch.tensor(weights, dtype=torch.float64), 1, generator=gen))


def sample_occluders(cfg: OccluderConfig, clip_seed: int, texture_size: int) -> tuple[OccluderParams, ...]:
    """Draw the ``cfg.count`` occluders of the clip whose seed is ``clip_seed`` (module docstring)."""
    gen = derived_generator(clip_seed, "occluders")
    out = []
    for k in range(cfg.count):
        kind = OCCLUDER_KINDS[_choice(gen, cfg.kind_probs)]
        variant, xr, zr, hr = KIND_SHAPES[kind]
        half_x = _uniform(gen, *xr)
        half_z = _uniform(gen, *zr) if zr is not None else half_x
        height = _uniform(gen, *hr)
        bevel = (
            min(0.01, 0.2 * min(half_x, half_z), 0.1 * height)
            if variant == "square"
            else min(0.01, 0.1 * height, 0.2 * half_x)
        )
        material = MATERIALS[_choice(gen, cfg.material_probs)]
        draws = torch.rand(cfg.tries, _PLACE_DRAWS, generator=gen, dtype=torch.float64)
        coords = texel_coordinates(variant, half_x, half_z, height, bevel, texture_size)
        texture = paint_material(coords, material, derived_generator(clip_seed, "occluders", "texture", k))
        out.append(OccluderParams(kind, half_x, half_z, height, bevel, material, texture, draws))
    return tuple(out)


@dataclass(frozen=True)
class PlacedOccluders:
    """The occluders of a built clip. verts (K * V_slot, 3) world, static over the clip; info: one dict per
    occluder, what ``info.json`` records (``docs/conventions.md``)."""

    verts: Tensor
    info: tuple[dict, ...]


_TEMPLATE: list[SlotTemplate] = []


def occluder_template() -> SlotTemplate:
    """The slot topology (built once)."""
    if not _TEMPLATE:
        _TEMPLATE.append(slot_template())
    return _TEMPLATE[0]


def _swept(verts: Tensor, roots: Tensor) -> float:
    """Metres: the farthest (every 7th) vertex from the pelvis in x-z over the clip: (T, V, 3), (T, 2)."""
    return float((verts[:, ::7, [0, 2]] - roots[:, None]).norm(dim=-1).max())


def _corners(o: OccluderParams, centre: tuple[float, float], yaw: float) -> Tensor:
    """(8, 3) float64 corners of the occluder's bounding box in the world."""
    c, s = math.cos(yaw), math.sin(yaw)
    pts = []
    for sx in (-1, 1):
        for sz in (-1, 1):
            x, z = sx * o.half_x, sz * o.half_z
            for y in (0.0, o.height):
                pts.append([centre[0] + c * x + s * z, y, centre[1] - s * x + c * z])
    return torch.tensor(pts, dtype=torch.float64)


def _fits(
    o: OccluderParams, centre: tuple[float, float], yaw: float, roots: list[Tensor], radii: list[float],
    placed: list[tuple[tuple[float, float], float]], R: Tensor, t: Tensor, min_depth: float,
) -> bool:  # fmt: skip
    """Whether an occluder at ``centre``, ``yaw`` keeps clear of every person at every frame and of the
    occluders ``placed``, and in front of every camera by ``min_depth``."""
    c = torch.tensor(centre, dtype=torch.float64)
    for root, radius in zip(roots, radii, strict=True):
        if bool(((root - c).norm(dim=-1) < radius + o.radius).any()):
            return False
    for other, r in placed:
        if math.dist(centre, other) < r + o.radius:
            return False
    corners = _corners(o, centre, yaw)  # (8, 3)
    z = (corners @ R[:, 2].T + t[:, 2]).amin()  # camera z of every corner in every frame
    return bool(z >= min_depth)


def place_occluders(
    occluders: tuple[OccluderParams, ...], first_instance: int, verts: list[Tensor], joints: list[Tensor],
    R: Tensor, t: Tensor, cfg: OccluderConfig,
) -> PlacedOccluders:  # fmt: skip
    """Place ``occluders`` in a posed clip (module docstring): people's ``verts`` (T, V, 3) and ``joints``
    (T, 24, 3) world, per frame camera ``R`` (T, 3, 3), ``t`` (T, 3). ``first_instance``: the first
    occluder's instance id (P + 1)."""
    template = occluder_template()
    roots = [j[:, 0, [0, 2]].double().cpu() for j in joints]
    radii = [_swept(v.double().cpu(), r) for v, r in zip(verts, roots, strict=True)]
    R, t = R.double().cpu(), t.double().cpu()
    eyes = -(R.transpose(1, 2) @ t[..., None])[..., 0]  # (T, 3)
    T = R.shape[0]
    placed: list[tuple[tuple[float, float], float]] = []
    out_verts, info = [], []
    for k, o in enumerate(occluders):
        chosen = None
        for frame_u, person_u, share_u, side_u, yaw_u in o.draws.tolist():
            frame = min(int(frame_u * T), T - 1)
            p = min(int(person_u * len(verts)), len(verts) - 1)
            target = roots[p][frame]
            eye = eyes[frame, [0, 2]]
            along = target - eye
            dist = float(along.norm())
            if dist < 1e-6:
                continue
            d = along / dist
            n = torch.stack([-d[1], d[0]])
            lo, hi = cfg.distance_share
            share = lo + (hi - lo) * share_u
            side = (2 * side_u - 1) * (0.5 * (1 - share) + o.radius)  # metres sideways of the line of sight
            centre_t = target - share * dist * d + side * n
            centre = (float(centre_t[0]), float(centre_t[1]))
            view_yaw = math.atan2(float(d[0]), float(d[1]))
            yaw = view_yaw + math.radians(60 * yaw_u - 30) if o.kind == "slab" else 2 * math.pi * yaw_u
            if _fits(o, centre, yaw, roots, radii, placed, R, t, cfg.min_depth):
                chosen = (centre, yaw, frame, p)
                break
        idx = first_instance + k
        base = {"instance": idx, "kind": o.kind, "material": o.material,
                "size": [2 * o.half_x, 2 * o.half_z, o.height]}  # fmt: skip
        if chosen is None:
            out_verts.append(torch.zeros(template.num_verts, 3, dtype=torch.float64))  # collapsed
            info.append({**base, "placed": False})
            continue
        centre, yaw, frame, p = chosen
        placed.append((centre, o.radius))
        out_verts.append(
            slot_vertices(template, o.variant, o.half_x, o.half_z, o.height, o.bevel, centre, yaw)
        )
        info.append({**base, "placed": True, "position": [centre[0], 0.0, centre[1]], "yaw": yaw,
                     "aimed_at": {"frame": frame, "person": p + 1}})  # fmt: skip
    verts_all = torch.cat(out_verts) if out_verts else torch.zeros(0, 3, dtype=torch.float64)
    return PlacedOccluders(verts_all, tuple(info))
