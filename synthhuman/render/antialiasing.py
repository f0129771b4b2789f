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

from synthhuman.render.cameras import project
from synthhuman.render.corners import corner_sum
from synthhuman.render.gather import take_rows
from synthhuman.render.raster import Fragments

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
    :func:`synthhuman.render.mesh.face_adjacency`. Returns a new (B, H, W, C) image.
    """
    return antialias_(color.clone(), fragments, verts, faces, K, adjacency)


def antialias_(
    color: Tensor, fragments: Fragments, verts: Tensor, faces: Tensor, K: Tensor, adjacency: Tensor
) -> Tensor:
    """:func:`antialias` in place: ``color`` (B, H, W, C), contiguous, receives the blend and is returned
    (for callers that own the image: it saves copying it)."""
    b, h, w, c = color.shape
    if (b, h, w) != tuple(fragments.pix_to_face.shape):
        raise ValueError(
            f"color: expected (B, H, W) = {tuple(fragments.pix_to_face.shape)}, got {tuple(color.shape)}"
        )
    if not color.is_contiguous():
        raise ValueError("color: expected a contiguous tensor (it is blended in place)")
    # Pairs with the neighbour to the right, then below, searched for their silhouettes in one walk.
    right, below = _candidate_pairs(fragments, K, 1, True), _candidate_pairs(fragments, K, w, False)
    first = torch.cat([right, below])
    if first.shape[0] == 0:
        return color
    horizontal = torch.arange(first.shape[0], device=first.device) < right.shape[0]
    second = first + torch.where(horizontal, 1, w)
    flat = color.view(b * h * w, c)
    screen = project(verts, K)
    target, change = _blend_pairs(flat, fragments, screen, faces, adjacency, first, second, horizontal)
    flat.index_add_(0, target, change)
    return color


def _candidate_pairs(fragments: Fragments, K: Tensor, step: int, horizontal: bool) -> Tensor:
    """First pixels (M,) (flat) of neighbour pairs (p, p + step) that may straddle a silhouette: covered
    and empty, or covered by different faces with a depth gap. Found from the covered pixels alone."""
    h, w = fragments.image_size
    fg, face, z = fragments.pixel_index, fragments.face, fragments.depth_fg.detach()
    if fg.shape[0] == 0:
        return fg
    pos = fg % (h * w)
    coord = pos % w if horizontal else torch.div(pos, w, rounding_mode="floor")
    last = (w if horizontal else h) - 1
    if horizontal:  # covered pixels are sorted: a right neighbour is covered when it is the next one
        adjacent = fg[1:] == fg[:-1] + 1
        nothing = adjacent.new_zeros(1)
        next_face = torch.where(torch.cat([adjacent, nothing]), torch.cat([face[1:], face[:1]]), -1)
        next_z = torch.cat([z[1:], z[:1]])
        prev_covered = torch.cat([nothing, adjacent])
    else:
        p2f, depth = fragments.pix_to_face.flatten(), fragments.depth.detach().flatten()
        below = torch.where(coord < last, fg + step, fg)
        next_face, next_z = p2f.index_select(0, below), depth.index_select(0, below)
        prev_covered = p2f.index_select(0, torch.where(coord > 0, fg - step, fg)) >= 0
    # Two covered neighbours whose depths differ by less than this many pixel footprints (z / f) lie on one
    # continuous surface, seen at less than about 56 degrees: no silhouette to search for between them.
    focal = K[:, 0, 0].detach().abs().index_select(0, torch.div(fg, h * w, rounding_mode="floor"))
    gap = (z - next_z).abs() * focal > torch.minimum(z, next_z) * _CONTINUOUS_SURFACE_FOOTPRINTS
    covered_first = (coord < last) & (face != next_face) & ((next_face < 0) | gap)
    empty_first = (coord > 0) & ~prev_covered  # and a covered second pixel
    return torch.cat([fg[covered_first], fg[empty_first] - step])


def _blend_pairs(
    flat: Tensor,
    fragments: Fragments,
    screen: Tensor,
    faces: Tensor,
    adjacency: Tensor,
    pa: Tensor,
    pb: Tensor,
    horizontal: Tensor,
) -> tuple[Tensor, Tensor]:
    """Pixels (M,) and their colour changes (M, C) from neighbouring pixel pairs (pa, pb), flat indices,
    ``horizontal`` (M,) bool where pb is pa's right neighbour (else the one below)."""
    p2f = fragments.pix_to_face.flatten()
    depth = fragments.depth.detach().flatten()
    fa, fb = p2f.index_select(0, pa), p2f.index_select(0, pb)
    za = torch.where(fa >= 0, depth.index_select(0, pa), torch.inf)
    zb = torch.where(fb >= 0, depth.index_select(0, pb), torch.inf)
    a_front = za <= zb
    front = torch.where(a_front, pa, pb)
    back = torch.where(a_front, pb, pa)
    pair, alpha = _silhouette_crossings(
        screen,
        faces,
        adjacency,
        torch.where(a_front, fa, fb),
        torch.where(a_front, fb, fa),
        front,
        torch.where(a_front, 1.0, -1.0).to(screen.dtype),
        horizontal,
        fragments.image_size,
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
    toward_back: Tensor,
    horizontal: Tensor,
    image_size: tuple[int, int],
) -> tuple[Tensor, Tensor]:
    """Where the segment from each front pixel centre to its back neighbour crosses a silhouette edge.

    The back pixel lies one pixel from the front one along x where ``horizontal`` (M,) else along y, in
    direction ``toward_back`` (M,) (+1 or -1). Each edge is handled by one pass only, so no pixel's
    coverage is counted twice: horizontal pairs take edges steeper than 45 degrees, vertical pairs the
    others (as nvdiffrast does).

    Starting in the front pixel's face, follow the segment across edges into front-facing neighbours (at
    grazing angles the silhouette edge often belongs to a neighbour of the visible face) until it crosses
    a silhouette edge, for at most _MAX_WALK faces. Returns the indices (K,) of the pairs that cross one
    and the crossing fractions alpha (K,) in [0, 1], differentiable with respect to ``screen``.
    """
    h, w = image_size
    num_verts = screen.shape[1]
    screen = screen.reshape(-1, 2)
    vertex_base = torch.div(front, h * w, rounding_mode="floor") * num_verts
    p_front = _pixel_xy(front, h, w, screen.dtype)
    pair = torch.arange(front.shape[0], device=front.device)
    found_pair, found_alpha = [], []
    for _ in range(_MAX_WALK):
        x, y = _screen_corners(screen, faces, face, vertex_base)
        dx, dy = x.roll(-2, 1) - x.roll(-1, 1), y.roll(-2, 1) - y.roll(-1, 1)  # edge k: corner k+1 -> k+2
        e_front = dx * (p_front[:, 1:2] - y.roll(-1, 1)) - dy * (p_front[:, 0:1] - x.roll(-1, 1))
        area = corner_sum(e_front)[:, None]  # twice the signed area
        # edge functions are affine: one pixel along x changes e by -dy, along y by dx
        e_back = e_front + toward_back[:, None] * torch.where(horizontal[:, None], -dy, dx)
        orient = torch.sign(area)
        e_front, e_back = e_front * orient, e_back * orient
        leaving = (e_back < 0) & (e_front > e_back)
        alpha_k = torch.where(leaving, e_front / (e_front - e_back).clamp_min(1e-12), torch.inf)
        alpha, edge = alpha_k.min(1)
        neighbour = adjacency.view(-1).index_select(0, face * 3 + edge)
        nx, ny = _screen_corners(screen, faces, neighbour.clamp_min(0), vertex_base)
        nb_area = (nx[:, 1] - nx[:, 0]) * (ny[:, 2] - ny[:, 0]) - (nx[:, 2] - nx[:, 0]) * (
            ny[:, 1] - ny[:, 0]
        )
        crossing = torch.isfinite(alpha) & (alpha <= 1)
        silhouette = crossing & ((neighbour < 0) | (torch.sign(nb_area) != orient[:, 0]))
        edge_dx, edge_dy = dx.gather(1, edge[:, None])[:, 0], dy.gather(1, edge[:, None])[:, 0]
        steep = edge_dy.abs() >= edge_dx.abs()
        hit = (silhouette & (steep == horizontal)).nonzero().squeeze(1)
        found_pair.append(pair.index_select(0, hit))
        found_alpha.append(alpha.index_select(0, hit).clamp(0, 1))
        # stepping into the back pixel's own face means one continuous surface: no silhouette here
        walk = (crossing & ~silhouette & (neighbour != back_face)).nonzero().squeeze(1)
        if walk.shape[0] == 0:
            break
        pair, face, vertex_base, back_face, p_front, toward_back, horizontal = (
            t.index_select(0, walk)
            for t in (pair, neighbour, vertex_base, back_face, p_front, toward_back, horizontal)
        )
    return torch.cat(found_pair), torch.cat(found_alpha)


def _screen_corners(
    screen: Tensor, faces: Tensor, face: Tensor, vertex_base: Tensor
) -> tuple[Tensor, Tensor]:
    """x and y (M, 3) of the corners of faces (M,) of frames whose first vertex is row ``vertex_base``
    (M,) (= b * V) of the flattened (B * V, 2) screen positions."""
    xy = take_rows(screen, take_rows(faces, face) + vertex_base[:, None])
    return xy[..., 0], xy[..., 1]


def _pixel_xy(p: Tensor, h: int, w: int, dtype: torch.dtype) -> Tensor:
    q = p % (h * w)
    return torch.stack([q % w, torch.div(q, w, rounding_mode="floor")], -1).to(dtype)
