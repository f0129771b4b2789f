"""Procedural UV textures: determinism, coverage of every part, continuity across UV seams, fallback."""

from __future__ import annotations

import warnings

import pytest
import torch

from synthhuman.appearance.textures import (
    BOTTOM,
    HAIR,
    SHOES,
    SKIN,
    TOP,
    TextureConfig,
    _regions,
    _sample_outfit,
    bake_uv_layout,
    paint_texture,
    part_colours,
    procedural_texture,
)
from synthhuman.body.mannequin import make_mannequin
from synthhuman.render.texture import build_mipmaps, sample_texture


@pytest.fixture(scope="module")
def body():
    return make_mannequin()


@pytest.fixture(scope="module")
def bake(body):
    return bake_uv_layout(body.v_template, body.faces, body.uv, body.uv_faces, body.face_labels, 256)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_deterministic_per_seed_and_different_across_seeds(body):
    cfg = TextureConfig(size=128)
    args = (body.v_template, body.faces, body.uv, body.uv_faces, body.face_labels)
    a = procedural_texture(*args, _gen(3), cfg)
    b = procedural_texture(*args, _gen(3), cfg)
    assert a.shape == (128, 128, 3) and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert not torch.equal(a, procedural_texture(*args, _gen(4), cfg))
    assert float(a.min()) >= 0 and float(a.max()) <= 1


def test_texel_centres_follow_the_uv_convention(body, bake):
    # A covered texel's interpolated UV (rasterized UV layout) is its centre in conventions.py's terms.
    size, texel, label = bake.size, bake.texel[bake.inside], bake.label[bake.inside]
    row, col = texel // size, texel % size
    uv_centre = torch.stack([(col + 0.5) / size, 1 - (row + 0.5) / size], -1)
    # Every covered texel centre lies in the UV footprint of some face of its part: sample the mannequin's
    # own atlas tile (label j in tile j) and check the tile matches the baked label.
    tile_col = (uv_centre[:, 0] * 6).floor().long()
    tile_row = ((1 - uv_centre[:, 1]) * 4).floor().long()
    assert torch.equal(tile_row * 6 + tile_col + 1, label)


def test_every_part_is_painted_and_nothing_is_left_black(bake):
    texel, label = bake.texel[bake.inside], bake.label[bake.inside]
    covered = label.bincount(minlength=25)
    assert bool((covered[1:] > 0).all()), "every part label has texels"
    for seed in range(8):
        tex = paint_texture(bake, _gen(seed)).view(-1, 3)
        assert bool((tex.sum(-1) > 0).all()), "no black texel: islands painted, the rest dilated or filled"
        painted = tex[texel]
        for part in range(1, 25):
            assert float(painted[label == part].sum(-1).min()) > 0.03


def test_regions_follow_the_parts(bake):
    seen = set()
    for seed in range(20):
        region = _regions(bake, _sample_outfit(_gen(seed), TextureConfig()))
        seen |= set(region.unique().tolist())
        assert bool((region[torch.isin(bake.label, torch.tensor([8, 9, 11, 12]))] == SHOES).all())
        assert bool((region[torch.isin(bake.label, torch.tensor([21, 22, 23, 24]))] == SKIN).all())
        assert bool((region[torch.isin(bake.label, torch.tensor([4, 7, 10]))] == TOP).all())
        assert bool((region[bake.label == 1] == BOTTOM).all())
    assert seen == {SKIN, TOP, BOTTOM, SHOES, HAIR}


def _seam_points(body):
    """UVs of matching 3-D points on both sides of every UV seam edge: (E, 2) and (E, 2)."""
    faces, uv_faces = body.faces, body.uv_faces
    f = faces.shape[0]
    a, b = faces, faces.roll(-1, 1)  # edge k: corner k -> k+1
    ua, ub = uv_faces, uv_faces.roll(-1, 1)
    opposite = uv_faces.roll(-2, 1)
    v = body.v_template.shape[0]
    key = (torch.minimum(a, b) * v + torch.maximum(a, b)).flatten()
    order = key.argsort(stable=True)
    key_sorted = key[order]
    assert bool((key_sorted[0::2] == key_sorted[1::2]).all()), "closed mesh: every edge twice"
    e0, e1 = order[0::2], order[1::2]  # flat (face * 3 + k) of both sides

    def side(e, first_vertex):
        face = e // 3
        same = a.flatten()[e] == first_vertex
        u_first = torch.where(same, ua.flatten()[e], ub.flatten()[e])
        u_second = torch.where(same, ub.flatten()[e], ua.flatten()[e])
        return u_first, u_second, opposite.flatten()[e], face

    first = a.flatten()[e0]
    p0, q0, o0, _ = side(e0, first)
    p1, q1, o1, _ = side(e1, first)
    seam = (p0 != p1) | (q0 != q1)
    assert int(seam.sum()) > 100 and f > 0
    uv = body.uv

    def point(p, q, o):  # near the edge midpoint, nudged 2% into the face
        return 0.49 * uv[p] + 0.49 * uv[q] + 0.02 * uv[o]

    return point(p0[seam], q0[seam], o0[seam]), point(p1[seam], q1[seam], o1[seam])


def test_stripes_are_continuous_across_uv_seams(body):
    cfg = TextureConfig(size=512, pattern_probs=(0, 1, 0, 0), stripe_period=(0.04, 0.08))
    bake = bake_uv_layout(body.v_template, body.faces, body.uv, body.uv_faces, body.face_labels, cfg.size)
    side0, side1 = _seam_points(body)
    for seed in range(3):
        mip = build_mipmaps(paint_texture(bake, _gen(seed), cfg)[None])
        idx = torch.zeros(len(side0), dtype=torch.int64)
        c0, c1 = sample_texture(mip, side0, idx), sample_texture(mip, side1, idx)
        across = (c0 - c1).abs().amax(-1)
        shuffled = (c0 - c1[torch.randperm(len(c1), generator=_gen(seed))]).abs().amax(-1)
        assert float(across.mean()) < 0.03, "the two sides of a seam show the same colour"
        assert float(across.quantile(0.98)) < 0.15
        assert float(shuffled.mean()) > 4 * float(across.mean()), "the comparison can tell stripes apart"


def test_no_uv_fallback_warns_once_and_colours_parts(body):
    name = "test-body-without-uvs"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = part_colours(body.face_labels, _gen(0), name)
        second = part_colours(body.face_labels, _gen(0), name)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and name in messages[0]
    assert torch.equal(first.texture, second.texture)
    assert first.uv_faces.shape == body.faces.shape
    tex = build_mipmaps(first.texture[None])
    colour = sample_texture(tex, first.uv[1:], torch.zeros(24, dtype=torch.int64))  # labels 1..24
    torch.testing.assert_close(colour[15], colour[20])  # head and left hand: the same skin
    torch.testing.assert_close(colour[7], colour[10])  # left foot and left toes: the same shoes


def test_bad_input_names_the_field(body):
    args = [body.v_template, body.faces, body.uv, body.uv_faces, body.face_labels, 16]
    bad = list(args)
    bad[3] = body.uv_faces[:-1]
    with pytest.raises(ValueError, match="uv_faces"):
        bake_uv_layout(*bad)
    bad = list(args)
    bad[4] = torch.zeros_like(body.face_labels)
    with pytest.raises(ValueError, match="face_labels"):
        bake_uv_layout(*bad)
    with pytest.raises(ValueError, match="pattern_probs"):
        TextureConfig(pattern_probs=(0, 0, 0, 0))
    with pytest.raises(ValueError, match="size"):
        TextureConfig(size=4)
