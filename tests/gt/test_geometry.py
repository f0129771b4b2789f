"""Depth and normals from Fragments, against a sphere's analytic ones."""

from __future__ import annotations

import torch

from synthhuman.gt import normal_map
from synthhuman.render import intrinsics, rasterize, unproject, vertex_normals
from tests.meshes import uv_sphere

H, W = 48, 64


def test_sphere_depth_and_normals_match_analytic(device, dtype):
    center = torch.tensor([0.2, -0.1, 3.0], dtype=dtype, device=device)
    v, faces = uv_sphere(0.8, tuple(center.tolist()), n_lat=64, n_lon=128, dtype=dtype)
    v, faces = v.to(device), faces.to(device)
    K = intrinsics(50.0, ((W - 1) / 2, (H - 1) / 2), dtype=dtype, device=device)
    frags = rasterize(v[None], faces, K, (H, W))
    normals = normal_map(frags, vertex_normals(v[None], faces), faces)[0]
    covered = frags.pix_to_face[0] >= 0
    rows, cols = covered.nonzero().unbind(1)
    rays = unproject(
        torch.stack([cols, rows], -1).to(dtype)[None], torch.ones_like(rows, dtype=dtype)[None], K
    )[0]
    # exact ray-sphere intersection; the mesh is inscribed: its faces sag inside the sphere by up to
    # 0.8 (1 - cos(pi/64 * sqrt 2)) ~ 1 mm, more along oblique rays
    d = rays / rays.norm(dim=-1, keepdim=True)
    b = (d * center).sum(-1)
    disc = b * b - (center * center).sum() + 0.8**2
    inner = disc > 0.05  # away from the rim, where the polygonal silhouette differs from the sphere
    dist = b - disc.clamp_min(0).sqrt()
    hit = d * dist[:, None]
    torch.testing.assert_close(frags.depth[0][covered][inner], hit[inner, 2], atol=2.5e-3, rtol=0)
    expected_n = torch.nn.functional.normalize(hit - center, dim=-1)
    err = (normals[covered][inner] - expected_n[inner]).norm(dim=-1)
    assert float(err.max()) < 0.02
    assert torch.allclose(normals[covered].norm(dim=-1), torch.ones((), dtype=dtype, device=device))
    assert float(normals[~covered].abs().max()) == 0 and float(frags.depth[0][~covered].abs().max()) == 0
