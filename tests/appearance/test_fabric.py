"""Fabric clothing textures: cloth detail at the highest frequencies, variety across seeds, seams, and
the surreal-style draws that a fabric texture replays without painting."""

from __future__ import annotations

import pytest
import torch

from synthhuman.appearance.fabric import WEAVES, _weave, paint_fabric
from synthhuman.appearance.textures import (
    BOTTOM,
    TOP,
    TextureConfig,
    _regions,
    _sample_outfit,
    bake_uv_layout,
    paint_texture,
    skip_paint_texture,
)
from synthhuman.body.mannequin import make_mannequin


@pytest.fixture(scope="module")
def bake():
    body = make_mannequin()
    return bake_uv_layout(body.v_template, body.faces, body.uv, body.uv_faces, body.face_labels, 256)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def high_frequency_share(image: torch.Tensor, mask: torch.Tensor) -> float:
    """Mean squared discrete Laplacian over mean squared deviation, at texels whose 4 neighbours are all in
    ``mask`` (S, S) bool: the share of an image's energy at the texel scale."""
    grey = image.double().mean(-1)
    lap = 4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    inner = mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    values = grey[1:-1, 1:-1][inner]
    return float((lap[inner] ** 2).mean() / ((values - values.mean()) ** 2).mean().clamp_min(1e-12))


def clothing_mask(bake, seed: int) -> torch.Tensor:
    region = _regions(bake, _sample_outfit(_gen(seed), TextureConfig()))
    mask = torch.zeros(bake.size * bake.size, dtype=torch.bool)
    mask[bake.texel[bake.inside & ((region == TOP) | (region == BOTTOM))]] = True
    return mask.view(bake.size, bake.size)


def test_fabric_has_texel_scale_detail_that_flat_clothes_lack(bake):
    cfg = TextureConfig(size=256, fabric_probs=(1, 0, 0, 0, 0))  # plain cloth: only weave, fibre, folds
    flat = TextureConfig(size=256, pattern_probs=(1, 0, 0, 0))  # surreal-style solid colours
    for seed in range(3):
        mask = clothing_mask(bake, seed)  # both painters draw the same outfit first from the same seed
        fabric = paint_fabric(bake, _gen(seed), cfg)
        solid = paint_texture(bake, _gen(seed), flat)
        assert high_frequency_share(fabric, mask) > 0.2  # white noise: 20; a smooth ramp: ~0
        assert high_frequency_share(fabric, mask) > 5 * high_frequency_share(solid, mask)


def test_deterministic_varied_and_in_range(bake):
    cfg = TextureConfig(size=256)
    a = paint_fabric(bake, _gen(1), cfg)
    assert a.shape == (256, 256, 3) and a.dtype == torch.float32
    assert float(a.min()) >= 0 and float(a.max()) <= 1
    assert torch.equal(a, paint_fabric(bake, _gen(1), cfg))
    others = [paint_fabric(bake, _gen(s), cfg) for s in range(2, 5)]
    assert all(float((a - o).abs().mean()) > 0.02 for o in others)


def test_every_weave_is_a_texel_scale_pattern():
    row, col = torch.meshgrid(torch.arange(16), torch.arange(16), indexing="ij")
    for kind in WEAVES:
        w = _weave(kind, row.flatten(), col.flatten(), 1).view(16, 16)
        assert float(w.min()) >= -1 and float(w.max()) <= 1 and float(w.std()) > 0.3, kind


def test_seams_darken_texels_along_the_cuts(bake):
    cfg = TextureConfig(size=256, fabric_probs=(1, 0, 0, 0, 0))
    from synthhuman.appearance.fabric import _seams

    outfit = _sample_outfit(_gen(0), cfg)
    seams = _seams(bake, _regions(bake, outfit), outfit.sleeve, outfit.leg)
    assert float(seams.min()) >= 0 and float(seams.max()) <= 1
    share = float((seams > 0.5).float().mean())
    assert 0.001 < share < 0.1  # thin lines, present


@pytest.mark.parametrize(
    "probs", [(1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1), (0.4, 0.25, 0.15, 0.2)]
)
def test_skipping_a_surreal_style_texture_advances_the_generator_as_painting_it(bake, probs):
    cfg = TextureConfig(size=256, pattern_probs=probs)
    for seed in range(6):
        a, b = _gen(seed), _gen(seed)
        paint_texture(bake, a, cfg)
        skip_paint_texture(b, cfg)
        assert torch.equal(a.get_state(), b.get_state())


def test_bad_style_names_the_field():
    with pytest.raises(ValueError, match="style: expected one of"):
        TextureConfig(style="velvet")
    with pytest.raises(ValueError, match="fabric_probs"):
        TextureConfig(fabric_probs=(0, 0, 0, 0, 0))
