"""Analytic anti-aliasing of silhouette edges, the source of silhouette gradients.

For every pair of horizontally or vertically neighbouring pixels that see different faces, take the
nearer pixel's face and the edge through which the segment between the two pixel centres leaves it. If
that edge is a silhouette (a boundary edge, or the face across it faces the other way), the edge crosses
the segment at fraction ``alpha`` from the nearer centre, and the two colours are blended by the pixel
area the edge moves across (a 1-D box filter): the farther pixel takes ``alpha - 1/2`` of the nearer
colour when the edge passes the midpoint, else the nearer pixel takes ``1/2 - alpha`` of the farther one.
``alpha`` is a differentiable function of the projected vertices, so moving an edge changes colours
smoothly (as in nvdiffrast's ``antialias``). Label layers are not passed through here: they stay
point-sampled.
"""

from __future__ import annotations

import torch
from torch import Tensor

from synthhuman.render._gather import take_batched, take_rows
from synthhuman.render.cameras import project
from synthhuman.render.rasterize import Fragments

_CONTINUOUS_SURFACE_FOOTPRINTS = 1.5
"""Depth gap, in pixel footprints, below which covered neighbours are taken as one continuous surface: a
surface less than 1.5 footprints (1.75 cm at 7 m with f = 600 px) in front of another is not smoothed."""

_MAX_WALK = 64
"""Faces followed along a pixel-pair segment in search of its silhouette edge. At a smooth surface's rim
many thin, grazing faces can lie within one pixel (16 for a 96 x 192 sphere 14 px across); the active set
shrinks at each step, so a long walk costs little."""


def antialias(
    color: Tensor, fragments: Fragments, verts: Tensor, faces: Tensor, K: Tensor, adjacency: Tensor
) -> Tensor:
    """Blend colours across silhouette edges.

    color: (B, H, W, C) shaded image composited over the background. verts: (B, V, 3) camera space, the
    rasterized ones; faces: (F, 3); K: (B, 3, 3); adjacency: (F, 3) from
    :func:`synthhuman.render.mesh.face_adjacency`. Returns (B, H, W, C).
    """
    b, h, w, c = color.shape
    if (b, h, w) != tuple(fragments.pix_to_face.shape):
        raise ValueError(
            f"color: expected (B, H, W) = {tuple(fragments.pix_to_face.shape)}, got {tuple(color.shape)}"
        )
    screen = project(verts, K)  # (B, V, 2)
    flat = color.reshape(b * h * w, c)
    targets, changes = [], []
    for step, horizontal in ((1, True), (w, False)):  # neighbours to the right, then below
        pa = _candidate_pairs(fragments, K, step, horizontal)
        if pa.shape[0] == 0:
            continue
        target, change = _blend_pairs(flat, fragments, screen, faces, adjacency, pa, pa + step, horizontal)
        targets.append(target)
        changes.append(change)
    if not targets:
        return color
    return flat.index_add(0, torch.cat(targets), torch.cat(changes)).view(b, h, w, c)


def _candidate_pairs(fragments: Fragments, K: Tensor, step: int, horizontal: bool) -> Tensor:
    """First pixels (M,) (flat) of neighbour pairs (p, p + step) that may straddle a silhouette: covered
    and empty, or covered by different faces with a depth gap. Found from the covered pixels alone."""
    h, w = fragments.image_size
    p2f = fragments.pix_to_face.flatten()
    depth = fragments.depth.detach().flatten()
    fg = fragments.pixel_index
    pos = fg % (h * w)
    coord = pos % w if horizontal else torch.div(pos, w, rounding_mode="floor")
    last = (w if horizontal else h) - 1
    after = fg[coord < last]  # covered first pixel, any second pixel
    before = fg[coord > 0] - step
    before = before[p2f[before] < 0]  # empty first pixel, covered second (covered pairs come from `after`)
    first = torch.cat([after, before])
    second = first + step
    f1, f2 = p2f.index_select(0, first), p2f.index_select(0, second)
    z1, z2 = depth.index_select(0, first), depth.index_select(0, second)
    # Two covered neighbours whose depths differ by less than this many pixel footprints (z / f) lie on one
    # continuous surface, seen at less than about 56 degrees: no silhouette to search for between them.
    focal = K[:, 0, 0].detach().abs().index_select(0, torch.div(first, h * w, rounding_mode="floor"))
    gap = (z1 - z2).abs() * focal > torch.minimum(z1, z2) * _CONTINUOUS_SURFACE_FOOTPRINTS
    keep = (f1 != f2) & (((f1 < 0) | (f2 < 0)) | gap)
    return first.index_select(0, keep.nonzero().squeeze(1))


def _blend_pairs(
    flat: Tensor,
    fragments: Fragments,
    screen: Tensor,
    faces: Tensor,
    adjacency: Tensor,
    pa: Tensor,
    pb: Tensor,
    horizontal: bool,
) -> tuple[Tensor, Tensor]:
    """Pixels (M,) and their colour changes (M, C) from neighbouring pixel pairs (pa, pb), flat indices."""
    p2f = fragments.pix_to_face.flatten()
    depth = torch.where(p2f >= 0, fragments.depth.detach().flatten(), torch.inf)
    a_front = depth[pa] <= depth[pb]
    front = torch.where(a_front, pa, pb)
    back = torch.where(a_front, pb, pa)
    pair, alpha = _silhouette_crossings(
        screen,
        faces,
        adjacency,
        p2f.index_select(0, front),
        p2f.index_select(0, back),
        front,
        back,
        fragments.image_size,
        horizontal,
    )
    front, back = front.index_select(0, pair), back.index_select(0, pair)
    c_front, c_back = flat.index_select(0, front), flat.index_select(0, back)
    spill = (alpha - 0.5)[:, None].to(flat.dtype)
    into_back = spill >= 0
    target = torch.where(into_back[:, 0], back, front)
    return target, spill.abs() * torch.where(into_back, c_front - c_back, c_back - c_front)


def _silhouette_crossings(
    screen: Tensor,
    faces: Tensor,
    adjacency: Tensor,
    face: Tensor,
    back_face: Tensor,
    front: Tensor,
    back: Tensor,
    image_size: tuple[int, int],
    horizontal: bool,
) -> tuple[Tensor, Tensor]:
    """Where the segment from each front pixel centre to its back neighbour crosses a silhouette edge.

    Each edge is handled by one pass only, so no pixel's coverage is counted twice: horizontal pairs take
    edges steeper than 45 degrees, vertical pairs the others (as nvdiffrast does).

    Starting in the front pixel's face, follow the segment across edges into front-facing neighbours (at
    grazing angles the silhouette edge often belongs to a neighbour of the visible face) until it crosses
    a silhouette edge, for at most _MAX_WALK faces. Returns the indices (K,) of the pairs that cross one
    and the crossing fractions alpha (K,) in [0, 1], differentiable with respect to ``screen``.
    """
    h, w = image_size
    batch = torch.div(front, h * w, rounding_mode="floor")
    p_front, p_back = _pixel_xy(front, h, w, screen.dtype), _pixel_xy(back, h, w, screen.dtype)
    pair = torch.arange(front.shape[0], device=front.device)
    found_pair, found_alpha = [], []
    for _ in range(_MAX_WALK):
        tri = take_batched(screen, batch, take_rows(faces, face))  # (M, 3, 2)
        e_front, area = _edge_functions(tri, p_front)
        e_back, _ = _edge_functions(tri, p_back)
        orient = torch.sign(area)[:, None]
        e_front, e_back = e_front * orient, e_back * orient
        leaving = (e_back < 0) & (e_front > e_back)
        alpha_k = torch.where(leaving, e_front / (e_front - e_back).clamp_min(1e-12), torch.inf)
        alpha, edge = alpha_k.min(1)
        neighbour = adjacency.view(-1).index_select(0, face * 3 + edge)
        nb_tri = take_batched(screen, batch, take_rows(faces, neighbour.clamp_min(0)))
        _, nb_area = _edge_functions(nb_tri, p_front)
        crossing = torch.isfinite(alpha) & (alpha <= 1)
        silhouette = crossing & ((neighbour < 0) | (torch.sign(nb_area) != torch.sign(area)))
        corners = tri.reshape(-1, 2)
        base = torch.arange(0, corners.shape[0], 3, device=tri.device)
        start = corners.index_select(0, base + (edge + 1) % 3)  # edge k runs from corner k+1 to k+2
        direction = corners.index_select(0, base + (edge + 2) % 3) - start
        steep = direction[:, 1].abs() >= direction[:, 0].abs()
        hit = (silhouette & (steep if horizontal else ~steep)).nonzero().squeeze(1)
        found_pair.append(pair.index_select(0, hit))
        found_alpha.append(alpha.index_select(0, hit).clamp(0, 1))
        # stepping into the back pixel's own face means one continuous surface: no silhouette here
        walk = (crossing & ~silhouette & (neighbour != back_face)).nonzero().squeeze(1)
        if walk.shape[0] == 0:
            break
        pair, face, batch, back_face, p_front, p_back = (
            t.index_select(0, walk) for t in (pair, neighbour, batch, back_face, p_front, p_back)
        )
    return torch.cat(found_pair), torch.cat(found_alpha)


def _pixel_xy(p: Tensor, h: int, w: int, dtype: torch.dtype) -> Tensor:
    q = p % (h * w)
    return torch.stack([q % w, torch.div(q, w, rounding_mode="floor")], -1).to(dtype)


def _edge_functions(tri: Tensor, p: Tensor) -> tuple[Tensor, Tensor]:
    """Edge functions e_k (M, 3) of (M, 3, 2) triangles at points (M, 2), and twice their signed area."""
    x, y = tri[..., 0], tri[..., 1]
    x1, y1, x2, y2 = x.roll(-1, 1), y.roll(-1, 1), x.roll(-2, 1), y.roll(-2, 1)
    e = (x2 - x1) * (p[:, 1:2] - y1) - (y2 - y1) * (p[:, 0:1] - x1)
    return e, e.sum(1)
