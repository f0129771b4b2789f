"""Texture sampling: bilinear at texel centres, box-filtered mip levels, per-face level of detail, seams."""

from __future__ import annotations

import math

import torch

from synthhuman.render.cameras import intrinsics
from synthhuman.render.interpolation import interpolate
from synthhuman.render.raster import rasterize
from synthhuman.render.texture import build_mipmaps, sample_texture, texture_lod


def _texel_uv(i, j, h, w, dtype=torch.float64):
    """UV of the centre of texel (row i, col j) (conventions: v up)."""
    return torch.tensor([[(j + 0.5) / w, 1 - (i + 0.5) / h]], dtype=dtype)


def test_bilinear_exact_at_texel_centres_and_midpoints(device, dtype):
    tex = torch.rand(2, 5, 7, 3, dtype=dtype, generator=torch.Generator().manual_seed(1)).to(device)
    mip = build_mipmaps(tex)
    for t, i, j in [(0, 0, 0), (1, 4, 6), (0, 2, 3), (1, 1, 5)]:
        uv = _texel_uv(i, j, 5, 7, dtype).to(device)
        got = sample_texture(mip, uv, torch.tensor([t], device=device))
        torch.testing.assert_close(got[0], tex[t, i, j])
    mid = (_texel_uv(2, 3, 5, 7, dtype) + _texel_uv(2, 4, 5, 7, dtype)).to(device) / 2
    got = sample_texture(mip, mid, torch.tensor([0], device=device))[0]
    torch.testing.assert_close(got, (tex[0, 2, 3] + tex[0, 2, 4]) / 2)
    # clamp to edge outside [0, 1]
    got = sample_texture(
        mip, torch.tensor([[-0.3, 1.4]], dtype=dtype, device=device), torch.tensor([1], device=device)
    )
    torch.testing.assert_close(got[0], tex[1, 0, 0])


def test_mip_levels_are_box_filtered_and_trilinear(device):
    tex = torch.rand(1, 8, 8, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2)).to(device)
    mip = build_mipmaps(tex)
    assert mip.num_levels == 4 and mip.heights.tolist() == [8, 4, 2, 1]
    uv = _texel_uv(1, 2, 4, 4).to(device)  # a level-1 texel centre
    idx = torch.zeros(1, dtype=torch.int64, device=device)
    level1 = tex[0, 2:4, 4:6].mean((0, 1))
    torch.testing.assert_close(
        sample_texture(mip, uv, idx, torch.ones(1, dtype=torch.float64, device=device))[0], level1
    )
    whole = sample_texture(mip, uv, idx, torch.full((1,), 3.0, dtype=torch.float64, device=device))[0]
    torch.testing.assert_close(whole, tex[0].mean((0, 1)))
    half = sample_texture(mip, uv, idx, torch.full((1,), 0.5, dtype=torch.float64, device=device))[0]
    level0 = sample_texture(mip, uv, idx)[0]
    torch.testing.assert_close(half, (level0 + level1) / 2)


def test_texture_lod_from_texel_to_pixel_ratio():
    uv = torch.tensor([[[0.0, 0.0], [0.5, 0.0], [0.0, 0.5]]], dtype=torch.float64)
    screen = torch.tensor([[[0.0, 0.0], [32.0, 0.0], [0.0, 32.0]]], dtype=torch.float64)
    # 0.5 x 0.5 of a 256^2 texture = 128^2 texels over 32^2 pixels: 16 texels per pixel -> level 2
    assert float(texture_lod(uv, screen, (256, 256))[0]) == 2.0
    assert float(texture_lod(uv, screen * 8, (256, 256))[0]) == 0.0  # magnified: level 0


def test_seams_per_corner_uvs(device):
    """Two triangles sharing an edge in 3-D but mapped to separate UV islands interpolate their own UVs."""
    verts = torch.tensor(
        [[[-1.0, -1, 3], [1, -1, 3], [1, 1, 3], [-1, 1, 3]]], dtype=torch.float64, device=device
    )
    faces = torch.tensor([[0, 2, 1], [0, 3, 2]], device=device)
    uv = torch.tensor(
        [[[0.0, 0.0], [0.4, 0.4], [0.4, 0.0], [0.6, 0.6], [0.6, 1.0], [1.0, 1.0]]],
        dtype=torch.float64,
        device=device,
    )
    uv_faces = torch.tensor([[0, 1, 2], [3, 4, 5]], device=device)
    K = intrinsics(8.0, (7.5, 7.5), dtype=torch.float64, device=device)
    frags = rasterize(verts, faces, K, (16, 16))
    uvs = interpolate(uv, frags, uv_faces)[0]
    first, second = frags.pix_to_face[0] == 0, frags.pix_to_face[0] == 1
    assert bool(first.any()) and bool(second.any())
    assert float(uvs[first].max()) <= 0.4 + 1e-12 and float(uvs[second].min()) >= 0.6 - 1e-12


def test_mipmapping_prevents_aliasing_of_far_textures(device):
    """A far plane with a 1-texel checker texture: with per-face mip levels each pixel shows the checker's
    average (grey); sampling level 0 alone gives a moire pattern of light and dark bands."""
    size = 256
    checker = ((torch.arange(size)[:, None] + torch.arange(size)[None, :]) % 2).double()
    mip = build_mipmaps(checker[None, ..., None].expand(1, size, size, 3).contiguous().to(device))
    verts = torch.tensor(
        [[[-1.0, -1, 20], [1, -1, 20], [1, 1, 20], [-1, 1, 20]]], dtype=torch.float64, device=device
    )
    faces = torch.tensor([[0, 2, 1], [0, 3, 2]], device=device)
    uv = torch.tensor([[0.0, 0.0], [1, 0], [1, 1], [0, 1]], dtype=torch.float64, device=device)
    K = intrinsics(200.0, (15.5, 15.5), dtype=torch.float64, device=device)  # the plane spans 20 x 20 px
    frags = rasterize(verts, faces, K, (32, 32))
    uvs = interpolate(uv[None], frags, faces)[0][frags.pix_to_face[0] >= 0]
    corner_uv = uv[faces[frags.face]]
    screen = torch.stack([200.0 * verts[0, :, 0] / 20 + 15.5, 200.0 * verts[0, :, 1] / 20 + 15.5], -1)
    lod = texture_lod(corner_uv, screen[faces[frags.face]], (size, size))
    assert torch.allclose(lod, torch.full_like(lod, math.log2(size / 20)), atol=1e-6)
    idx = torch.zeros(len(uvs), dtype=torch.int64, device=device)
    filtered = sample_texture(mip, uvs, idx, lod)[:, 0]
    aliased = sample_texture(mip, uvs, idx)[:, 0]
    assert float((filtered - 0.5).abs().max()) < 0.05
    assert float((aliased - 0.5).abs().max()) > 0.3
