"""Brute-force float64 reference rasterizer: one Möller–Trumbore ray/triangle test per (pixel, face).

Written independently of ``synthhuman.render.raster``: the ray through the centre of pixel (u, v) is
``K^-1 [u, v, 1]`` from the camera origin; a pixel sees the face with the nearest positive hit (edges
included, ties to the lower face id). Faces with any vertex at ``z <= znear`` are skipped. One camera and
one mesh at a time: ``verts (V, 3)``, ``faces (F, 3)``, ``K (3, 3)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class ReferenceFragments:
    """Dense (H, W) results: face id (-1 empty), barycentrics in the face's vertex order, planar z."""

    pix_to_face: Tensor
    bary: Tensor
    depth: Tensor


def pixel_centres(image_size: tuple[int, int]) -> Tensor:
    """(H*W, 2) float64 pixel centres (u, v), row-major."""
    h, w = image_size
    v, u = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    return torch.stack([u.flatten(), v.flatten()], -1).double()


def pixel_rays(K: Tensor, image_size: tuple[int, int]) -> Tensor:
    """(H*W, 3) float64 rays ``K^-1 [u, v, 1]`` through the pixel centres, row-major; their z is 1."""
    pix = pixel_centres(image_size)
    return torch.cat([pix, torch.ones_like(pix[:, :1])], -1) @ torch.linalg.inv(K.detach().cpu().double()).T


def ray_hits(
    verts: Tensor, faces: Tensor, K: Tensor, image_size: tuple[int, int], znear: float = 1e-2
) -> tuple[Tensor, Tensor]:
    """Every pixel ray against every face: (H*W, F) hit depth (inf on a miss) and (H*W, F, 3) barycentrics."""
    rays = pixel_rays(K, image_size)  # (P, 3)
    tri = verts.detach().cpu().double()[faces.cpu()]  # (F, 3, 3)
    v0, e1, e2 = tri[:, 0], tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    tvec = -v0  # ray origin (the camera centre) minus v0
    qvec = torch.linalg.cross(tvec, e1)
    # Möller–Trumbore with its triple products rotated so that each is a (P, 3) @ (3, F) product:
    # det = e1 . (d x e2) = d . (e2 x e1), b1 = tvec . (d x e2) / det = d . (e2 x tvec) / det.
    det = rays @ torch.linalg.cross(e2, e1).T
    b1 = rays @ torch.linalg.cross(e2, tvec).T / det
    b2 = rays @ qvec.T / det
    t = (e2 * qvec).sum(-1) / det  # ray parameter; rays have z = 1, so this is the planar depth
    bary = torch.stack([1 - b1 - b2, b1, b2], -1)
    in_front = (tri[..., 2] > znear).all(-1)
    hit = (bary >= 0).all(-1) & (t > 0) & in_front & (det != 0)
    return torch.where(hit, t, torch.inf), bary


def rasterize_reference(
    verts: Tensor, faces: Tensor, K: Tensor, image_size: tuple[int, int], znear: float = 1e-2
) -> ReferenceFragments:
    """Nearest hit per pixel (ties to the lower face id; ``argmin`` returns the first minimum)."""
    h, w = image_size
    t, bary = ray_hits(verts, faces, K, image_size, znear)
    depth, face = t.min(-1)
    covered = torch.isfinite(depth)
    bary = bary.gather(1, face[:, None, None].expand(-1, 1, 3))[:, 0]
    return ReferenceFragments(
        pix_to_face=torch.where(covered, face, -1).view(h, w),
        bary=torch.where(covered[:, None], bary, 0.0).view(h, w, 3),
        depth=torch.where(covered, depth, 0.0).view(h, w),
    )


def edge_distance(verts: Tensor, faces: Tensor, K: Tensor, image_size: tuple[int, int]) -> Tensor:
    """(H*W, F) screen-space distance in pixels from each pixel centre to the nearest edge of each face.

    Only meaningful for faces in front of the camera (all z > 0).
    """
    cam = verts.detach().cpu().double() @ K.detach().cpu().double().T
    screen = (cam[:, :2] / cam[:, 2:])[faces.cpu()]  # (F, 3, 2)
    p = pixel_centres(image_size)[:, None, None, :]  # (P, 1, 1, 2)
    a, b = screen, screen.roll(-1, 1)
    ab = b - a
    s = (((p - a) * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-300)).clamp(0, 1)
    return (p - a - s[..., None] * ab).norm(dim=-1).amin(-1)
