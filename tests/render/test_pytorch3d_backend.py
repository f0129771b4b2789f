"""Tests of the optional pytorch3d rasterizer backend: parity with ``rasterize`` where pytorch3d imports.

Tests marked by the ``p3d`` fixture are skipped when pytorch3d is not importable (it has no wheel for
current torch). The others run without it: the helpful ImportError and the pixel-to-NDC mapping.
"""

from __future__ import annotations

import sys

import pytest
import torch

from synthhuman.render.cameras import intrinsics, unproject
from synthhuman.render.pytorch3d_backend import (
    PYTORCH3D_MISSING,
    is_pytorch3d_available,
    pixels_to_ndc,
    rasterize_pytorch3d,
)
from synthhuman.render.raster import rasterize
from tests.render.reference import edge_distance, ray_hits

ZNEAR = 1e-2


@pytest.fixture
def p3d():
    """Skip unless pytorch3d and its compiled extension import."""
    pytest.importorskip(
        "pytorch3d.renderer",
        reason="pytorch3d is not importable (no wheel for this torch; build it from source to run this)",
        exc_type=ImportError,
    )


def _random_scene(
    seed: int, image_size: tuple[int, int], batch: int, dtype: torch.dtype, device: torch.device
):
    """``batch`` random cameras and meshes with one topology: ~80 free triangles plus a jittered grid.

    Triangles overlap and interpenetrate, some leave the image or cross the near plane; the grid has
    shared edges. Returns verts (B, V, 3), faces (F, 3), K (B, 3, 3).
    """
    h, w = image_size
    g = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g, dtype=torch.float64)

    n = 80
    Ks, verts = [], []
    for _ in range(batch):
        f = min(h, w) * (0.8 + 0.6 * rand(1).item())
        K = intrinsics(
            (f, f * (0.9 + 0.2 * rand(1).item())), (w / 2 + 4 * rand(1).item(), h / 2 - 3 * rand(1).item())
        )
        K = K.double()
        pix = torch.stack([-6 + (w + 12) * rand(n), -6 + (h + 12) * rand(n)], -1)
        centres = unproject(pix[None], 1 + 4 * rand(1, n), K)[0]
        size = 0.05 + 0.3 * rand(n, 1, 1) ** 2
        tris = centres[:, None] + size * centres[:, None, 2:] * torch.randn(
            n, 3, 3, generator=g, dtype=torch.float64
        )
        crossing = rand(n) < 0.1
        tris[crossing, 0, 2] = -1 + 1.02 * rand(int(crossing.sum()))
        gv, gu = torch.meshgrid(torch.linspace(2, h - 3, 4), torch.linspace(3, w - 4, 5), indexing="ij")
        grid_pix = torch.stack([gu.flatten(), gv.flatten()], -1).double() + 2 * (rand(20, 2) - 0.5)
        grid = unproject(grid_pix[None], 2 + rand(1, 20), K)[0]
        Ks.append(K[0])
        verts.append(torch.cat([tris.reshape(-1, 3), grid]))
    grid_faces = []
    for j in range(3):
        for i in range(4):
            a, b, c, d = (3 * n + k for k in (j * 5 + i, j * 5 + i + 1, (j + 1) * 5 + i, (j + 1) * 5 + i + 1))
            grid_faces += [[a, b, d], [a, d, c]]
    faces = torch.cat([torch.arange(3 * n).view(n, 3), torch.tensor(grid_faces)])
    return torch.stack(verts).to(device, dtype), faces.to(device), torch.stack(Ks).to(device, dtype)


def _assert_same_faces_except_ties(ours, theirs, verts, faces, K, image_size) -> None:
    """(B, H, W) face ids agree except at float32 depth ties or pixel centres on (or by) a face's edge."""
    for b in range(verts.shape[0]):
        hit_depth, _ = ray_hits(verts[b], faces, K[b], image_size, znear=ZNEAR)  # (H*W, F), inf on a miss
        dist = edge_distance(verts[b], faces, K[b], image_size)  # (H*W, F) pixels
        a_ids, b_ids = ours[b].flatten().cpu(), theirs[b].flatten().cpu()
        for pix in (a_ids != b_ids).nonzero().flatten().tolist():
            ids = [i for i in (a_ids[pix].item(), b_ids[pix].item()) if i >= 0]
            at_edge = min(dist[pix, i].item() for i in ids) <= 1e-3
            tied = (
                len(ids) == 2
                and abs(hit_depth[pix, ids[0]] - hit_depth[pix, ids[1]]) <= 1e-4 * hit_depth[pix, ids[0]]
            )
            assert at_edge or tied, f"batch {b}, pixel (v, u) {divmod(pix, image_size[1])}: faces {ids}"
    assert (ours != theirs).float().mean() < 0.01


@pytest.mark.parametrize("image_size", [(24, 32), (32, 24)])
@pytest.mark.parametrize("cull_backfaces", [False, True])
def test_matches_rasterize(p3d, device, dtype, image_size, cull_backfaces):
    verts, faces, K = _random_scene(0, image_size, 2, dtype, device)
    ours = rasterize(verts, faces, K, image_size, cull_backfaces=cull_backfaces, znear=ZNEAR)
    theirs = rasterize_pytorch3d(verts, faces, K, image_size, cull_backfaces=cull_backfaces, znear=ZNEAR)
    assert theirs.pix_to_face.shape == ours.pix_to_face.shape and theirs.pix_to_face.dtype == torch.int64
    assert theirs.bary.shape == ours.bary.shape and theirs.bary.dtype == dtype
    assert theirs.depth.shape == ours.depth.shape and theirs.depth.dtype == dtype
    assert 0.3 < (theirs.pix_to_face >= 0).float().mean() < 0.99, "the scene should be partly covered"
    _assert_same_faces_except_ties(ours.pix_to_face, theirs.pix_to_face, verts, faces, K, image_size)

    # Same face -> same values: both recompute them with ``barycentrics``.
    same = ours.pix_to_face == theirs.pix_to_face
    torch.testing.assert_close(theirs.bary[same], ours.bary[same])
    torch.testing.assert_close(theirs.depth[same], ours.depth[same])
    empty = theirs.pix_to_face < 0
    assert not theirs.depth[empty].any() and not theirs.bary[empty].any()
    assert torch.equal(theirs.to_dense(theirs.face), theirs.pix_to_face.clamp_min(0))
    assert (theirs.pixel_index.diff() > 0).all()


def test_gradients_match_rasterize(p3d, device):
    image_size = (24, 32)
    verts, faces, K = _random_scene(1, image_size, 1, torch.float64, device)
    grads = []
    for fn in (rasterize, rasterize_pytorch3d):
        v, k = verts.clone().requires_grad_(), K.clone().requires_grad_()
        out = fn(v, faces, k, image_size, znear=ZNEAR)
        weights = torch.linspace(0.5, 1.5, 3, dtype=torch.float64, device=device)
        ((out.bary * weights).sum() + out.depth.sum()).backward()
        grads.append((out.pix_to_face, v.grad, k.grad))
    (f0, gv0, gk0), (f1, gv1, gk1) = grads
    if torch.equal(f0, f1):  # otherwise a tie pixel legitimately changes which vertices get gradient
        torch.testing.assert_close(gv1, gv0)
        torch.testing.assert_close(gk1, gk0)


def test_near_plane_and_empty(p3d, device):
    """Faces behind the near plane are culled, as by ``rasterize``; a mesh wholly behind renders empty."""
    K = intrinsics(20.0, (11.5, 7.5), dtype=torch.float64, device=device)
    verts = torch.tensor([[[-1.0, -1.0, -2.0], [1.0, -1.0, -2.0], [0.0, 1.0, -2.0]]], dtype=torch.float64)
    frags = rasterize_pytorch3d(verts.to(device), torch.tensor([[0, 1, 2]], device=device), K, (16, 24))
    assert (frags.pix_to_face == -1).all() and frags.face.numel() == 0 and not frags.depth.any()


def test_checks_arguments_like_rasterize(p3d):
    K = intrinsics(20.0, (11.5, 7.5))
    verts = torch.rand(1, 3, 3) + torch.tensor([0.0, 0.0, 2.0])
    with pytest.raises(ValueError, match="faces"):
        rasterize_pytorch3d(verts, torch.tensor([[0, 1, 3]]), K, (16, 24))
    with pytest.raises(ValueError, match="K: expected dtype"):
        rasterize_pytorch3d(verts, torch.tensor([[0, 1, 2]]), K.double(), (16, 24))


def test_missing_pytorch3d_raises_helpful_import_error(monkeypatch):
    """Without pytorch3d (forced absent here), the backend says how to get it; nothing else needs it."""
    for name in [m for m in sys.modules if m == "pytorch3d" or m.startswith("pytorch3d.")] + ["pytorch3d"]:
        monkeypatch.setitem(sys.modules, name, None)
    assert not is_pytorch3d_available()
    verts = torch.rand(1, 3, 3) + torch.tensor([0.0, 0.0, 2.0])
    with pytest.raises(ImportError, match="build it from source") as info:
        rasterize_pytorch3d(verts, torch.tensor([[0, 1, 2]]), intrinsics(20.0, (11.5, 7.5)), (16, 24))
    assert str(info.value) == PYTORCH3D_MISSING and "synthhuman.render.raster" in str(info.value)


@pytest.mark.parametrize("image_size", [(3, 5), (6, 4), (4, 4)])
def test_pixel_centres_map_to_pytorch3d_pixel_centres(image_size):
    """Our pixel (u, v) lands on pytorch3d's centre of row v, column u (``PixToNonSquareNdc``)."""
    h, w = image_size

    def pix_to_non_square_ndc(i: torch.Tensor, s1: int, s2: int) -> torch.Tensor:
        ndc_range = 2.0 * s1 / s2 if s1 > s2 else 2.0
        return -ndc_range / 2 + (ndc_range * i + ndc_range / 2) / s1

    v, u = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    ndc = pixels_to_ndc(torch.stack([u, v], -1), image_size)
    # The rasterizer counts from the +X (left) and +Y (top) ends: column u is index W - 1 - u.
    expected = torch.stack(
        [pix_to_non_square_ndc(w - 1 - u, w, h), pix_to_non_square_ndc(h - 1 - v, h, w)], -1
    )
    torch.testing.assert_close(ndc, expected, atol=1e-12, rtol=0)
    # The top-left image corner is at +X (left), +Y (up); the shorter side spans exactly [-1, 1].
    corner = pixels_to_ndc(torch.tensor([-0.5, -0.5], dtype=torch.float64), image_size)
    assert (corner > 0).all() and corner.min() == 1.0
