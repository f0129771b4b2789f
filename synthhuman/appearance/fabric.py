"""Fabric-like clothing textures on a baked UV layout (:func:`paint_fabric`), the default look.

Same regions as the surreal-style painter (:mod:`.textures`: skin, top, bottom, shoes, hair from the part
labels and the sleeve, leg and shoe cuts), but each garment is cloth rather than flat colour:

- a **pattern** (``FABRIC_PATTERNS``): plain, stripes, plaid (two band sets, three colours), a print (a
  lattice of dots) or heather (a melange of two yarn colours), laid on the 3-D rest positions in metres
  so it runs on across UV seams;
- a **weave** at texel scale: plain weave, twill (diagonal ribs) or knit (rows of V stitches), plus fibre
  noise per texel, so cloth has energy at the highest frequencies as real fabric has;
- **folds**: shading bands across the limbs (along each limb's axis) and the torso, with irregular phase;
- **seams** that follow the parts: hems at the sleeve and leg cuts, the shoulder seams (collar / upper arm
  labels), the waist seam (spine / hips labels), drawn as dark stitch lines.

Skin gets a faint mottling, hair fine strands. Randomness only from the explicit generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from synthhuman.appearance.textures import (
    BOTTOM,
    FABRIC_PATTERNS,
    HAIR,
    SHOES,
    SKIN,
    TOP,
    TextureConfig,
    UVBake,
    _band,
    _choice,
    _regions,
    _sample_outfit,
    _uniform,
)

WEAVES = ("plain", "twill", "knit")
_SLEEVE_LABELS, _LEG_LABELS = (17, 18, 19, 20), (2, 3, 5, 6)
_LIMB_ENDS = {
    14: (14, 21),
    17: (14, 21),
    19: (14, 21),
    15: (15, 22),
    18: (15, 22),
    20: (15, 22),
    2: (1, 8),
    5: (1, 8),
    3: (1, 9),
    6: (1, 9),
}


def _weave(kind: str, row: Tensor, col: Tensor, period: int) -> Tensor:
    """(N,) in [-1, 1]: a woven or knitted micro-pattern on the texel grid (row, col (N,) int64)."""
    if kind == "plain":  # over-under: a fine checker of warp and weft
        return (((row // period + col // period) % 2) * 2 - 1).float()
    if kind == "twill":  # diagonal ribs
        return torch.cos(2 * math.pi * (row + col).float() / (2 * period))
    p = 2 * period  # knit: rows of V-shaped stitches, each 2 * period texels wide
    v = (col % (2 * p) - p + 0.5).abs() / p
    return torch.cos(2 * math.pi * (row.float() / (2 * period) + 0.5 * v))


def _garment(
    kind: str, pos: Tensor, footprint: Tensor, colours: Tensor, gen: torch.Generator, cfg: TextureConfig
) -> Tensor:
    """(N, 3) base colours of one garment: pattern ``kind`` at rest positions ``pos`` (N, 3) metres with
    ``footprint`` (N,) metres per texel; ``colours`` (2, 3) primary and secondary."""
    c0, c1 = colours
    n = pos.shape[0]
    if kind == "plain":
        return c0.expand(n, 3)
    if kind in ("striped", "plaid"):
        period = _uniform(gen, *cfg.stripe_period)
        duty, phase = _uniform(gen, 0.15, 0.5), _uniform(gen, 0, 1)
        across = torch.tensor([0.0, 1.0, 0.0])
        t = _band(pos @ across / period + phase, duty, footprint / period)
        if kind == "striped":
            return c0 + (c1 - c0) * t[:, None]
        yaw = _uniform(gen, 0, math.pi)  # plaid: a second band set, horizontal, and a thin accent line
        along = torch.tensor([math.cos(yaw), 0.0, math.sin(yaw)])
        u = _band(pos @ along / period + _uniform(gen, 0, 1), duty, footprint / period)
        accent = _band(pos @ along / period + 0.5, 0.06, footprint / period)
        third = (c0 * 0.5 + c1 * 0.5) * 0.7
        out = c0 + (c1 - c0) * (0.6 * t[:, None]) + (third - c0) * (0.6 * u[:, None])
        return out * (1 - 0.3 * (accent * (1 - t))[:, None])
    if kind == "print":  # dots on a rotated 3-D lattice
        cell = _uniform(gen, *cfg.check_size)
        rot = torch.linalg.qr(torch.randn(3, 3, generator=gen))[0]
        q = pos @ rot / cell + torch.rand(3, generator=gen)
        d = ((q - q.round()) * cell).norm(dim=-1)  # metres to the nearest lattice point
        radius = _uniform(gen, 0.15, 0.35) * cell
        dot = ((radius - d) / footprint.clamp_min(1e-6) + 0.5).clamp(0, 1)
        return c0 + (c1 - c0) * dot[:, None]
    # heather: two yarn colours mixed at thread scale
    mix = torch.rand(n, generator=gen)
    waves = torch.sin(pos @ (F.normalize(torch.randn(3, 6, generator=gen), dim=0) * 2 * math.pi / 0.01)).mean(
        -1
    )
    w = (0.5 + 0.35 * waves + 0.3 * (mix - 0.5)).clamp(0, 1)
    return c0 + (c1 * 0.5 + c0 * 0.5 - c0) * w[:, None]


def _folds(bake: UVBake, gen: torch.Generator) -> Tensor:
    """(N,) shading factor <= 1: folds across the limbs (bands along each limb's axis) and the torso."""
    pos = bake.position
    s = bake.limb_coordinate
    on_limb = bake.has_label(_SLEEVE_LABELS + _LEG_LABELS)
    count = _uniform(gen, 5.0, 11.0)
    wobble = torch.sin(pos @ (F.normalize(torch.randn(3, generator=gen), dim=0) * 2 * math.pi / 0.3))
    phase = 2 * math.pi * torch.rand((), generator=gen) + 0.8 * wobble
    limb = torch.sin(2 * math.pi * count * s + phase)
    torso = torch.sin(2 * math.pi * pos[:, 1] / _uniform(gen, 0.06, 0.14) + phase)
    wave = torch.where(on_limb, limb, 0.5 * torso)
    depth = _uniform(gen, 0.05, 0.12)
    return 1 - depth * wave.clamp_min(0) ** 2


@dataclass(frozen=True)
class _SeamLines:
    """Where the seams lie on a layout, the same for every outfit: (N,) limb length of each texel's limb
    (0 off limbs), the shoulder seams' (collar label, arm label, limb coordinate of the seam) and the
    waist's height (None where the parts are missing)."""

    length: Tensor
    shoulders: tuple[tuple[int, int, float], ...]
    waist: float | None


def _seam_lines(bake: UVBake) -> _SeamLines:
    if "seam lines" in bake.derived:
        return bake.derived["seam lines"]
    pos, lab, s = bake.position, bake.label, bake.limb_coordinate
    length = torch.zeros(len(pos))
    for label, (a, b) in _LIMB_ENDS.items():
        length[lab == label] = float((bake.centroid[b] - bake.centroid[a]).norm().nan_to_num(0.0))
    shoulders = []
    for collar, arm in ((14, 17), (15, 18)):  # shoulder seams: where the collar's part meets the arm's
        a, b = s[lab == collar], s[lab == arm]
        if len(a) and len(b):
            shoulders.append((collar, arm, 0.5 * (float(a.quantile(0.95)) + float(b.quantile(0.05)))))
    hips, spine = pos[lab == 1, 1], pos[lab == 4, 1]
    waist = (
        0.5 * (float(hips.quantile(0.95)) + float(spine.quantile(0.05))) if len(hips) and len(spine) else None
    )
    lines = _SeamLines(length, tuple(shoulders), waist)
    bake.derived["seam lines"] = lines
    return lines


def _seams(bake: UVBake, region: Tensor, sleeve: float, leg: float) -> Tensor:
    """(N,) darkening in [0, 1] along the seams: hems at the sleeve and leg cuts, the shoulder seams and
    the waist seam, each a dashed stitch line about 1 cm inside the garment's edge."""
    pos, fp, has = bake.position, bake.footprint, bake.has_label
    s = bake.limb_coordinate
    lines = _seam_lines(bake)
    length = lines.length
    distance = torch.full((len(pos),), math.inf)  # metres from the nearest seam line
    sleeves = has(_SLEEVE_LABELS) & (region == TOP)
    legs = has(_LEG_LABELS) & (region == BOTTOM)
    distance = torch.where(sleeves, ((sleeve - s) * length - 0.01).abs(), distance)
    distance = torch.where(legs, ((leg - s) * length - 0.01).abs(), distance)
    for collar, arm, edge in lines.shoulders:
        near = has((collar, arm)) & (region == TOP)
        distance = torch.where(
            near, torch.minimum(distance, ((s - edge) * length.clamp_min(0.3)).abs()), distance
        )
    if lines.waist is not None:
        near = has((1, 4)) & ((region == TOP) | (region == BOTTOM))
        distance = torch.where(near, torch.minimum(distance, (pos[:, 1] - lines.waist).abs()), distance)
    width = 0.002 + 0.5 * fp  # a stitch line a couple of millimetres wide, at least a texel
    line = (1 - distance / width).clamp(0, 1)
    dashes = 0.6 + 0.4 * _band((pos[:, 0] + pos[:, 2]) / 0.006, 0.6, fp / 0.006)
    return line * dashes


def paint_fabric(bake: UVBake, gen: torch.Generator, cfg: TextureConfig = TextureConfig()) -> Tensor:
    """(size, size, 3) float32 in [0, 1]: one random person's skin, clothes and hair on a baked layout in
    the fabric style (see the module docstring). Texels outside the islands and their gutter get the mean
    colour; randomness only from ``gen`` (a CPU generator): the same state gives the same bytes."""
    outfit = _sample_outfit(gen, cfg)
    region = _regions(bake, outfit)
    pos, fp, n = bake.position, bake.footprint, len(bake.position)
    row, col = bake.texel // bake.size, bake.texel % bake.size
    fibre = torch.randn(n, generator=gen)
    colour = outfit.colours[SKIN, 0] * (1 + 0.025 * fibre[:, None]).expand(n, 3)  # faint mottling
    folds = _folds(bake, gen)
    for r in (TOP, BOTTOM, SHOES):
        mask = region == r
        kind = FABRIC_PATTERNS[_choice(gen, cfg.fabric_probs)]
        base = _garment(kind, pos[mask], fp[mask], outfit.colours[r], gen, cfg)
        weave = _weave(WEAVES[int(torch.randint(len(WEAVES), (), generator=gen))], row[mask], col[mask],
                       int(torch.randint(1, 3, (), generator=gen)))  # fmt: skip
        amount = _uniform(gen, 0.04, 0.1) if r != SHOES else 0.03
        texture = 1 + amount * weave + 0.035 * fibre[mask]
        colour[mask] = base * (texture * folds[mask])[:, None]
    hair = region == HAIR
    strands = torch.sin(
        pos[hair] @ (F.normalize(torch.randn(3, 4, generator=gen), dim=0) * 2 * math.pi / 0.004)
    )
    c0, c1 = outfit.colours[HAIR]
    colour[hair] = c0 + (c1 - c0) * (0.2 + 0.15 * strands.mean(-1) + 0.1 * fibre[hair])[:, None]
    colour = colour * (1 - 0.45 * _seams(bake, region, outfit.sleeve, outfit.leg))[:, None]
    colour = colour.clamp(0, 1)
    image = colour.mean(0).expand(bake.size * bake.size, 3).clone()
    image[bake.texel] = colour
    return image.view(bake.size, bake.size, 3)
