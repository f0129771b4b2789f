"""Procedural skin and clothing textures in UV space, for any body with UVs and SMPL part labels.

Baking (:func:`bake_uv_layout`): the UV layout itself is rasterized as a flat mesh with our rasterizer,
UV ``(u, v)`` placed at pixel ``(u W - 0.5, (1 - v) H - 0.5)`` at depth 1 under an identity ``K``, so pixel
(col j, row i) is the texel centre ``u = (j + 0.5) / W``, ``v = 1 - (i + 0.5) / H`` of
``synthhuman.conventions``. That gives, per texel, a face and barycentrics, where the body's rest-pose
positions, normals and part labels are interpolated.

Painting (:func:`paint_texture`): clothing regions come from part labels and geometry (sleeve, leg and shoe
cuts along each limb's axis, a hair rule on the head's height and normal); every pattern is evaluated on
the 3-D rest positions with scales in metres, so stripes and checks run on continuously across UV seams.
A gutter of texels around every island is painted too, with positions extrapolated from the nearest face,
so bilinear and mip sampling at island borders read the continued pattern, not the empty background.

Labels are SMPL's (``docs/conventions.md``): label = joint index + 1, 1..24.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from synthhuman.appearance._util import check_probabilities, check_range
from synthhuman.config import require
from synthhuman.conventions import NUM_JOINTS
from synthhuman.render.checks import check_tensor
from synthhuman.render.mesh import vertex_normals
from synthhuman.render.raster import rasterize

PATTERNS = ("solid", "striped", "checked", "noise")
"""The surreal-style clothing patterns, in the order of ``TextureConfig.pattern_probs``."""
FABRIC_PATTERNS = ("plain", "striped", "plaid", "print", "heather")
"""The fabric-style clothing patterns (:mod:`.fabric`), in the order of ``TextureConfig.fabric_probs``."""
TEXTURE_STYLES = ("fabric", "surreal-style")
"""``TextureConfig.style``: fabric (woven/knit detail, prints, folds, seams) or the surreal-style look."""
REGIONS = ("skin", "top", "bottom", "shoes", "hair")
SKIN, TOP, BOTTOM, SHOES, HAIR = range(len(REGIONS))

# Part labels (joint + 1), SMPL order.
_HIPS, _NECK, _HEAD = 1, 13, 16
_UPLEG, _LEG, _FOOT, _TOES = (2, 3), (5, 6), (8, 9), (11, 12)
_SPINE, _COLLAR, _UPARM, _FOREARM = (4, 7, 10), (14, 15), (17, 18), (19, 20)
# Limb axes (start label, end label) of each label on a limb: s = 0 at the start part's centroid, 1 at
# the end part's.
_LIMB_AXIS = {
    **{lab: (14, 21) for lab in (14, 17, 19)},  # left arm: collar -> hand
    **{lab: (15, 22) for lab in (15, 18, 20)},  # right arm
    **{lab: (1, 8) for lab in (2, 5)},  # left leg: pelvis -> foot
    **{lab: (1, 9) for lab in (3, 6)},  # right leg
}

_TOP_PALETTE = (
    (0.92, 0.92, 0.90), (0.08, 0.08, 0.09), (0.50, 0.50, 0.52), (0.10, 0.14, 0.30), (0.70, 0.12, 0.12),
    (0.15, 0.30, 0.70), (0.15, 0.45, 0.25), (0.90, 0.80, 0.25), (0.90, 0.55, 0.65), (0.80, 0.72, 0.58),
    (0.90, 0.45, 0.12), (0.40, 0.20, 0.50), (0.50, 0.70, 0.90), (0.40, 0.42, 0.20), (0.45, 0.08, 0.15),
)  # fmt: skip
_BOTTOM_PALETTE = (
    (0.20, 0.28, 0.45), (0.12, 0.16, 0.28), (0.07, 0.07, 0.08), (0.35, 0.35, 0.37), (0.72, 0.64, 0.48),
    (0.40, 0.28, 0.18), (0.33, 0.36, 0.20), (0.10, 0.12, 0.22), (0.85, 0.84, 0.80), (0.62, 0.55, 0.45),
)  # fmt: skip
_SHOE_PALETTE = (
    (0.05, 0.05, 0.05), (0.90, 0.90, 0.88), (0.30, 0.18, 0.10), (0.45, 0.45, 0.47), (0.12, 0.14, 0.30),
    (0.55, 0.12, 0.10),
)  # fmt: skip
_HAIR_PALETTE = (
    (0.05, 0.04, 0.04), (0.15, 0.09, 0.05), (0.30, 0.19, 0.10), (0.45, 0.22, 0.10), (0.75, 0.60, 0.35),
    (0.60, 0.60, 0.60),
)  # fmt: skip
_PALETTES = {TOP: _TOP_PALETTE, BOTTOM: _BOTTOM_PALETTE, SHOES: _SHOE_PALETTE, HAIR: _HAIR_PALETTE}


@dataclass(frozen=True)
class TextureConfig:
    """How procedural textures are sampled.

    size: texture side in texels. skin_light, skin_dark: RGB ends of the skin-tone range; a tone is a
    uniform blend of the two with a little per-channel jitter. pattern_probs: weights of ``PATTERNS`` for
    each clothing region. sleeve_probs: (sleeveless, short, long); leg_probs: (shorts, knee length, full
    length). bald_prob, long_hair_prob: hair. stripe_period, check_size, noise_scale: (lo, hi) metres.
    gutter: texels painted around UV islands, continuing their patterns (the rest gets the mean colour).
    style: one of ``TEXTURE_STYLES``: "fabric" (:func:`synthhuman.appearance.fabric.paint_fabric`) or
    "surreal-style" (:func:`paint_texture`, the look before fabrics existed). fabric_probs: weights of
    ``FABRIC_PATTERNS`` for each clothing region of a fabric texture.
    """

    size: int = 512
    skin_light: tuple[float, float, float] = (0.96, 0.80, 0.69)
    skin_dark: tuple[float, float, float] = (0.30, 0.19, 0.12)
    pattern_probs: tuple[float, float, float, float] = (0.4, 0.25, 0.15, 0.2)
    sleeve_probs: tuple[float, float, float] = (0.1, 0.5, 0.4)
    leg_probs: tuple[float, float, float] = (0.25, 0.15, 0.6)
    bald_prob: float = 0.05
    long_hair_prob: float = 0.3
    stripe_period: tuple[float, float] = (0.015, 0.12)
    check_size: tuple[float, float] = (0.02, 0.10)
    noise_scale: tuple[float, float] = (0.03, 0.2)
    gutter: int = 8
    style: str = "fabric"
    fabric_probs: tuple[float, float, float, float, float] = (0.3, 0.2, 0.15, 0.15, 0.2)

    def __post_init__(self) -> None:
        require(8 <= self.size <= 8192, "size", "an int in [8, 8192] texels", self.size)
        for name in ("skin_light", "skin_dark"):
            rgb = getattr(self, name)
            require(len(rgb) == 3 and all(0 <= c <= 1 for c in rgb), name, "RGB in [0, 1]", rgb)
        check_probabilities("pattern_probs", self.pattern_probs, len(PATTERNS))
        check_probabilities("sleeve_probs", self.sleeve_probs, 3)
        check_probabilities("leg_probs", self.leg_probs, 3)
        for name in ("bald_prob", "long_hair_prob"):
            require(0 <= getattr(self, name) <= 1, name, "a probability in [0, 1]", getattr(self, name))
        for name in ("stripe_period", "check_size", "noise_scale"):
            check_range(name, getattr(self, name), low=1e-4)
        require(self.gutter >= 0, "gutter", ">= 0 texels", self.gutter)
        require(self.style in TEXTURE_STYLES, "style", f"one of {TEXTURE_STYLES}", self.style)
        check_probabilities("fabric_probs", self.fabric_probs, len(FABRIC_PATTERNS))


@dataclass(frozen=True)
class UVBake:
    """Rest-pose geometry at the covered texels of a (size, size) UV layout (all on CPU).

    texel: (N,) int64 row-major index of each baked texel: covered by a UV face, or in the gutter around
    the islands (``inside`` (N,) bool tells which). position: (N, 3) metres. normal: (N, 3) unit.
    footprint: (N,) metres per texel on the surface there. label: (N,) int64 part label 1..24.
    part_min, part_max: (25, 3) bounding box of each label's vertices
    (row 0 unused; NaN for absent labels). centroid: (25, 3) mean of each label's face centroids.
    """

    size: int
    texel: Tensor
    inside: Tensor
    position: Tensor
    normal: Tensor
    footprint: Tensor
    label: Tensor
    part_min: Tensor
    part_max: Tensor
    centroid: Tensor

    # What painting reads of the layout again and again, the same for every person of a body: computed on
    # first use and kept (read-only tensors; a clip's texture costs a third less).
    @functools.cached_property
    def limb_coordinate(self) -> Tensor:
        """(N,) position along each texel's limb axis (0 at its start part, 1 at its end); 0 elsewhere."""
        return _limb_coordinate(self.label, self.position, self.centroid)

    @functools.cached_property
    def derived(self) -> dict[object, object]:
        """Values painters derive from the layout alone, by key, filled on first use (:meth:`has_label`)."""
        return {}

    def has_label(self, labels: tuple[int, ...] | int) -> Tensor:
        """(N,) bool: texels whose part label is one of ``labels`` (kept per set of labels)."""
        key = ("labels", labels if isinstance(labels, tuple) else (labels,))
        if key not in self.derived:
            self.derived[key] = _isin(self.label, key[1])
        return self.derived[key]


def bake_uv_layout(
    verts: Tensor,
    faces: Tensor,
    uv: Tensor,
    uv_faces: Tensor,
    face_labels: Tensor,
    size: int,
    gutter: int = 8,
) -> UVBake:
    """Rasterize the UV layout of a body: what lies under each texel of a (size, size) texture.

    verts: (V, 3) rest pose, metres, SMPL world (+Y up, facing +Z). faces: (F, 3) int64. uv: (Nuv, 2) in
    [0, 1]. uv_faces: (F, 3) int64 into uv. face_labels: (F,) int64 in 1..24. Texels covered by several
    UV faces (overlapping islands) take the lowest face id. The ``gutter`` texels around each island take
    the face of a covered neighbour, with the position extrapolated from that face's plane, so patterns
    painted there continue the island's (what bilinear and mip sampling at island borders reads).
    """
    f = check_tensor("faces", faces, 2, (3,)).shape[0]
    check_tensor("verts", verts, 2, (3,))
    check_tensor("uv", uv, 2, (2,))
    shape = tuple(uv_faces.shape)
    require(shape == (f, 3), "uv_faces", f"shape ({f}, 3), one row per face", shape)
    require(tuple(face_labels.shape) == (f,), "face_labels", f"shape ({f},)", tuple(face_labels.shape))
    if f and not bool(((face_labels >= 1) & (face_labels <= NUM_JOINTS)).all()):
        raise ValueError(f"face_labels: expected SMPL part labels in 1..{NUM_JOINTS}")
    require(size >= 1, "size", ">= 1 texel", size)
    require(gutter >= 0, "gutter", ">= 0 texels", gutter)
    verts = verts.detach().to("cpu", torch.float32)
    faces, uv_faces, face_labels = (t.detach().to("cpu", torch.int64) for t in (faces, uv_faces, face_labels))
    uv = uv.detach().to("cpu", torch.float32)

    texel_xy = torch.stack([uv[:, 0] * size - 0.5, (1 - uv[:, 1]) * size - 0.5], -1)
    flat = torch.cat([texel_xy, torch.ones(len(uv), 1)], -1)
    frags = rasterize(flat[None], uv_faces, torch.eye(3)[None], (size, size))
    face_map = _grow(frags.pix_to_face[0], gutter).flatten()
    texel = (face_map >= 0).nonzero().squeeze(1)
    face = face_map[texel]

    # Affine barycentrics of each texel centre in its face's UV triangle (outside it in the gutter).
    tri = texel_xy[uv_faces[face]]  # (N, 3, 2)
    p = torch.stack([texel % size, texel // size], -1).float()
    d1, d2, dp = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0], p - tri[:, 0]
    det = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    b1 = (dp[:, 0] * d2[:, 1] - dp[:, 1] * d2[:, 0]) / det
    b2 = (d1[:, 0] * dp[:, 1] - d1[:, 1] * dp[:, 0]) / det
    bary = torch.stack([1 - b1 - b2, b1, b2], -1)[..., None]
    normals = vertex_normals(verts[None], faces)[0]
    position = (verts[faces[face]] * bary).sum(1)
    normal = F.normalize((normals[faces[face]] * bary).sum(1), dim=-1)

    corners = verts[faces]  # (F, 3, 3)
    area3d = torch.linalg.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]).norm(dim=-1)
    footprint = (area3d / det.new_zeros(f).index_put_((face,), det.abs()).clamp_min(1e-12)).sqrt()

    labels = NUM_JOINTS + 1
    vert_label = torch.zeros(len(verts), dtype=torch.int64).index_put_(
        (faces.flatten(),), face_labels.repeat_interleave(3)
    )
    part_min = torch.full((labels, 3), math.nan)
    part_max = torch.full((labels, 3), math.nan)
    for lab in vert_label.unique().tolist():
        pts = verts[vert_label == lab]
        part_min[lab], part_max[lab] = pts.amin(0), pts.amax(0)
    count = torch.zeros(labels).index_add_(0, face_labels, torch.ones(f))
    centroid = torch.zeros(labels, 3).index_add_(0, face_labels, corners.mean(1)) / count[:, None]
    inside = frags.pix_to_face.flatten()[texel] >= 0
    return UVBake(
        size,
        texel,
        inside,
        position,
        normal,
        footprint[face],
        face_labels[face],
        part_min,
        part_max,
        centroid,
    )


def _grow(face_map: Tensor, steps: int) -> Tensor:
    """(H, W) face ids with each empty (-1) texel within ``steps`` of a covered one given the face of a
    neighbour (the first covered one in a fixed neighbour order, so it is deterministic)."""
    shifts = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1))
    for _ in range(steps):
        padded = F.pad(face_map[None, None].double(), (1, 1, 1, 1), value=-1.0)[0, 0].long()
        h, w = face_map.shape
        grown = face_map.clone()
        for dy, dx in shifts:
            neighbour = padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
            grown = torch.where((grown < 0) & (neighbour >= 0), neighbour, grown)
        if torch.equal(grown, face_map):
            break
        face_map = grown
    return face_map


@dataclass(frozen=True)
class _Outfit:
    """One person's sampled look: colours (5, 2, 3) (primary, secondary per region; skin in row 0), limb
    cuts along the limb axes (sleeve, leg, shoe) and hair parameters."""

    colours: Tensor
    sleeve: float
    leg: float
    shoe: float
    hairline: float
    nape: float
    bald: bool
    long_hair: bool


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen))


def _choice(gen: torch.Generator, weights: tuple[float, ...]) -> int:
    return int(torch.multinomial(torch.tensor(weights, dtype=torch.float64), 1, generator=gen))


def _palette_pair(gen: torch.Generator, palette: tuple[tuple[float, float, float], ...]) -> Tensor:
    """(2, 3): two different palette colours, each with +-15% brightness and slight per-channel jitter."""
    first = int(torch.randint(len(palette), (), generator=gen))
    second = (first + 1 + int(torch.randint(len(palette) - 1, (), generator=gen))) % len(palette)
    base = torch.tensor([palette[first], palette[second]])
    gain = 0.85 + 0.3 * torch.rand(2, 1, generator=gen)
    tint = 1 + 0.1 * (torch.rand(2, 3, generator=gen) - 0.5)
    return (base * gain * tint).clamp(0, 1)


def _sample_outfit(gen: torch.Generator, cfg: TextureConfig) -> _Outfit:
    tone = float(torch.rand((), generator=gen))
    skin = torch.tensor(cfg.skin_light) * (1 - tone) + torch.tensor(cfg.skin_dark) * tone
    skin = (skin * (1 + 0.08 * (torch.rand(3, generator=gen) - 0.5))).clamp(0, 1)
    colours = torch.stack(
        [torch.stack([skin, skin * 0.9])] + [_palette_pair(gen, _PALETTES[r]) for r in (1, 2, 3, 4)]
    )
    sleeve = ((0.08, 0.12), (0.25, 0.42), (0.86, 0.93))[_choice(gen, cfg.sleeve_probs)]
    leg = ((0.28, 0.42), (0.55, 0.72), (0.93, 0.99))[_choice(gen, cfg.leg_probs)]
    return _Outfit(
        colours=colours,
        sleeve=_uniform(gen, *sleeve),
        leg=_uniform(gen, *leg),
        shoe=_uniform(gen, 0.9, 0.98),
        hairline=_uniform(gen, 0.62, 0.8),
        nape=_uniform(gen, 0.2, 0.45),
        bald=bool(torch.rand((), generator=gen) < cfg.bald_prob),
        long_hair=bool(torch.rand((), generator=gen) < cfg.long_hair_prob),
    )


def _limb_coordinate(label: Tensor, position: Tensor, centroid: Tensor) -> Tensor:
    """(N,) position along each label's limb axis (0 at its start part, 1 at its end part); 0 off limbs
    and where a limb's parts are missing."""
    start = torch.zeros(NUM_JOINTS + 1, dtype=torch.int64)
    end = torch.zeros(NUM_JOINTS + 1, dtype=torch.int64)
    for lab, (a, b) in _LIMB_AXIS.items():
        start[lab], end[lab] = a, b
    a, b = centroid[start[label]], centroid[end[label]]
    d = b - a
    s = ((position - a) * d).sum(-1) / (d * d).sum(-1)
    return torch.nan_to_num(torch.where(start[label] > 0, s, 0.0), nan=0.0)


def _isin(label: Tensor, labels: tuple[int, ...] | int) -> Tensor:
    return torch.isin(label, torch.tensor(labels if isinstance(labels, tuple) else (labels,)))


def _regions(bake: UVBake, outfit: _Outfit) -> Tensor:
    """(N,) region index (``REGIONS``) of each covered texel."""
    lab, pos, nrm, has = bake.label, bake.position, bake.normal, bake.has_label
    s = bake.limb_coordinate
    region = torch.full_like(lab, SKIN)
    shoes = has(_FOOT + _TOES) | (has(_LEG) & (s > outfit.shoe))
    region[shoes] = SHOES
    bottom = has(_HIPS) | (has(_UPLEG + _LEG) & (s < outfit.leg))
    region[bottom] = BOTTOM
    top = has(_SPINE + _COLLAR) | (has(_UPARM + _FOREARM) & (s < outfit.sleeve))
    region[top] = TOP
    if not outfit.bald:
        lo, hi = bake.part_min[_HEAD, 1], bake.part_max[_HEAD, 1]
        h = (pos[:, 1] - lo) / (hi - lo)
        back = nrm[:, 2] < -0.25
        side = nrm[:, 0].abs() > 0.7
        hair = (lab == _HEAD) & ((h > outfit.hairline) | (back & (h > outfit.nape)) | (side & (h > 0.55)))
        if outfit.long_hair:
            hair |= (lab == _NECK) & back
        region[hair] = HAIR
    return region


def _band(t: Tensor, duty: float, blur: Tensor) -> Tensor:
    """Filtered square wave of period 1: 1 over the first ``duty`` of each period, 0 elsewhere, with edges
    ramped over ``blur`` periods (the texel footprint, so patterns do not alias at texel resolution)."""
    f = t - t.floor()
    inside = torch.minimum(f, duty - f)
    outside = torch.minimum(f - duty, 1 - f)
    signed = torch.where(f < duty, inside, -outside)
    return (0.5 + signed / blur.clamp_min(1e-6)).clamp(0, 1)


def _pattern_params(kind: str, gen: torch.Generator, cfg: TextureConfig) -> tuple:
    """The random parameters of one region's pattern (what :func:`_pattern` draws), in draw order."""
    if kind == "solid":
        return ()
    if kind == "striped":
        period = _uniform(gen, *cfg.stripe_period)
        across = torch.rand((), generator=gen) < 0.7  # mostly horizontal bands
        direction = (
            torch.tensor([0.0, 1.0, 0.0]) if across else F.normalize(torch.randn(3, generator=gen), dim=0)
        )
        return period, direction, _uniform(gen, 0, 1), _uniform(gen, 0.25, 0.6)
    if kind == "checked":
        return _uniform(gen, *cfg.check_size), torch.rand(3, generator=gen)
    scale = _uniform(gen, *cfg.noise_scale)
    directions = F.normalize(torch.randn(8, 3, generator=gen), dim=-1)
    freq = (2 * math.pi / scale) * (0.6 + 0.8 * torch.rand(8, generator=gen))
    return directions, freq, 2 * math.pi * torch.rand(8, generator=gen)


def _pattern(kind: str, params: tuple, pos: Tensor, footprint: Tensor) -> Tensor:
    """(N,) mix weight in [0, 1] between a region's two colours at rest positions ``pos`` (N, 3), with
    ``footprint`` (N,) metres per texel; ``params`` from :func:`_pattern_params`."""
    if kind == "solid":
        return torch.zeros(len(pos))
    if kind == "striped":
        period, direction, phase, duty = params
        t = pos @ direction / period + phase
        return _band(t, duty, footprint / period)
    if kind == "checked":  # a 3-D checkerboard: the product of three +-1 square waves
        cell, offset = params
        t = pos / (2 * cell) + offset
        waves = 2 * _band(t, 0.5, (footprint / (2 * cell))[:, None]) - 1
        return 0.5 - 0.5 * waves.prod(-1)
    directions, freq, phase = params  # noise: a sum of plane waves of random direction and phase
    waves = torch.sin(pos @ (directions * freq[:, None]).T + phase).sum(-1) / 2
    return torch.sigmoid(2.5 * waves)


@dataclass(frozen=True)
class _Plan:
    """Everything :func:`paint_texture` draws: the outfit, the wrinkles' directions (4, 3) and phases (4,),
    and per clothing region (top, bottom, shoes, hair) its pattern kind and parameters."""

    outfit: _Outfit
    wrinkle_dirs: Tensor
    wrinkle_phase: Tensor
    patterns: tuple[tuple[str, tuple], ...]


def _plan(gen: torch.Generator, cfg: TextureConfig) -> _Plan:
    outfit = _sample_outfit(gen, cfg)
    wrinkle_dirs = F.normalize(torch.randn(4, 3, generator=gen), dim=-1) * (2 * math.pi / 0.12)
    wrinkle_phase = 6.28 * torch.rand(4, generator=gen)
    patterns = []
    for r in (TOP, BOTTOM, SHOES, HAIR):
        kind = "noise" if r == HAIR else PATTERNS[_choice(gen, cfg.pattern_probs)]
        patterns.append((kind, _pattern_params(kind, gen, cfg)))
    return _Plan(outfit, wrinkle_dirs, wrinkle_phase, tuple(patterns))


def skip_paint_texture(gen: torch.Generator, cfg: TextureConfig = TextureConfig()) -> None:
    """Advance ``gen`` exactly as :func:`paint_texture` would, without painting (cheap). A person with a
    fabric texture calls it so that what the clip's generator draws next is what it was with
    surreal-style textures."""
    _plan(gen, cfg)


def paint_texture(bake: UVBake, gen: torch.Generator, cfg: TextureConfig = TextureConfig()) -> Tensor:
    """(size, size, 3) float32 in [0, 1]: one random person's skin, clothes and hair on a baked layout, in
    the surreal-style look (flat colours, stripes, checks, smooth noise).

    Texels outside the islands and their gutter get the mean colour. Randomness comes only from ``gen``
    (a CPU generator): the same generator state gives the same bytes.
    """
    plan = _plan(gen, cfg)
    outfit = plan.outfit
    region = _regions(bake, outfit)
    pos = bake.position
    colour = outfit.colours[SKIN, 0].expand(len(pos), 3).clone()
    wrinkles = 1 + 0.04 * torch.sin(pos @ plan.wrinkle_dirs.T + plan.wrinkle_phase).mean(-1)
    for r, (kind, params) in zip((TOP, BOTTOM, SHOES, HAIR), plan.patterns, strict=True):
        mask = region == r
        weight = _pattern(kind, params, pos[mask], bake.footprint[mask])[:, None]
        if r == HAIR:  # strands: a fine, low-contrast noise in the hair colour
            weight = 0.35 * weight
        c0, c1 = outfit.colours[r]
        colour[mask] = (c0 + (c1 - c0) * weight) * wrinkles[mask, None]
    colour = colour.clamp(0, 1)
    image = colour.mean(0).expand(bake.size * bake.size, 3).clone()
    image[bake.texel] = colour
    return image.view(bake.size, bake.size, 3)


def procedural_texture(
    verts: Tensor,
    faces: Tensor,
    uv: Tensor,
    uv_faces: Tensor,
    face_labels: Tensor,
    gen: torch.Generator,
    cfg: TextureConfig = TextureConfig(),
) -> Tensor:
    """(cfg.size, cfg.size, 3) float32 procedural texture for a body with UVs (see :func:`bake_uv_layout`
    for the shapes). To paint many textures of one body, bake once and call :func:`paint_texture`."""
    bake = bake_uv_layout(verts, faces, uv, uv_faces, face_labels, cfg.size, cfg.gutter)
    return paint_texture(bake, gen, cfg)


@dataclass(frozen=True)
class PartColourTexture:
    """Flat per-part colours usable wherever a UV texture is: texture (S, S, 3) float32 with one tile of
    ``tile`` x ``tile`` texels per label (5 x 5 grid, row-major by label 0..24), uv (25, 2) tile centres,
    uv_faces (F, 3) int64 (each face's three corners at its label's tile centre)."""

    texture: Tensor
    uv: Tensor
    uv_faces: Tensor


_WARNED_BODIES: set[str] = set()


def part_colours(
    face_labels: Tensor, gen: torch.Generator, body: str, cfg: TextureConfig = TextureConfig(), tile: int = 4
) -> PartColourTexture:
    """The fallback for bodies without UVs: one colour per part, from the same outfit sampler as
    :func:`procedural_texture` (skin, top and sleeves, bottom and legs, shoes; no patterns, no hair).

    face_labels: (F,) int64 in 1..24. Warns once per ``body`` name (per process) that it has no UVs.
    """
    if body not in _WARNED_BODIES:
        _WARNED_BODIES.add(body)
        warnings.warn(
            f"{body}: the body has no UVs; rendering flat per-part colours instead of textures", stacklevel=2
        )
    check_tensor("face_labels", face_labels, 1)
    outfit = _sample_outfit(gen, cfg)
    label = torch.arange(NUM_JOINTS + 1)
    region = torch.full_like(label, SKIN)
    region[_isin(label, _FOOT + _TOES)] = SHOES
    region[_isin(label, (_HIPS,) + _UPLEG) | (_isin(label, _LEG) & (outfit.leg > 0.9))] = BOTTOM
    region[_isin(label, _SPINE + _COLLAR + _UPARM) | (_isin(label, _FOREARM) & (outfit.sleeve > 0.8))] = TOP
    grid = 5
    texture = outfit.colours[region, 0].view(grid, grid, 1, 1, 3).expand(grid, grid, tile, tile, 3)
    texture = texture.permute(0, 2, 1, 3, 4).reshape(grid * tile, grid * tile, 3).contiguous()
    centre = torch.stack([(label % grid + 0.5) / grid, 1 - (label // grid + 0.5) / grid], -1)
    labels = face_labels.detach().to("cpu", torch.int64)
    if labels.numel() and not bool(((labels >= 1) & (labels <= NUM_JOINTS)).all()):
        raise ValueError(f"face_labels: expected SMPL part labels in 1..{NUM_JOINTS}")
    return PartColourTexture(texture, centre, labels[:, None].expand(-1, 3).contiguous())
