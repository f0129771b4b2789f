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

Backends: "torch" searches the silhouette edges with the PyTorch walk below (the reference); "warp" finds
the same pairs and edges with a Warp kernel (:mod:`synthhuman.render.kernels.silhouette`) and blends them
with the same differentiable expressions as the walk's last step (:func:`blend_silhouette_hits`), so
images and gradients agree with the reference up to the order in which changes into one pixel, and
gradients into one vertex, are summed. Without gradients,
:func:`synthhuman.render.kernels.silhouette.antialias_forward` does the whole blend in one kernel.
"""

from __future__ import annotations

import torch
from torch import Tensor

from synthhuman.render.cameras import project
from synthhuman.render.corners import corner_sum
from synthhuman.render.gather import take_rows
from synthhuman.render.raster import Fragments
from synthhuman.render.raster import resolve_backend as resolve_raster_backend

_CONTINUOUS_SURFACE_FOOTPRINTS = 1.5
"""Depth gap, in pixel footprints, below which covered neighbours are taken as one continuous surface: a
surface less than 1.5 footprints (1.75 cm at 7 m with f = 600 px) in front of another is not smoothed."""

_MAX_WALK = 64
"""Faces followed along a pixel-pair segment in search of its silhouette edge. At a smooth surface's rim
many thin, grazing faces can lie within one pixel (16 for a 96 x 192 sphere 14 px across); the active set
shrinks at each step, so a long walk costs little."""


def antialias(
    color: Tensor,
    fragments: Fragments,
    verts: Tensor,
    faces: Tensor,
    K: Tensor,
    adjacency: Tensor,
    *,
    backend: str = "auto",
) -> Tensor:
    """Blend colours across silhouette edges.

    color: (B, H, W, C) shaded image composited over the background. verts: (B, V, 3) camera space, the
    rasterized ones; faces: (F, 3) int64; K: (B, 3, 3); adjacency: (F, 3) int64 from
    :func:`synthhuman.render.mesh.face_adjacency`. backend: "auto", "warp" or "torch", as for
    :func:`synthhuman.render.rasterize` (the same pairs, edges and gradients either way). Returns a new
    (B, H, W, C) image.
    """
    return antialias_(color.clone(), fragments, verts, faces, K, adjacency, backend=backend)


def antialias_(
    color: Tensor,
    fragments: Fragments,
    verts: Tensor,
    faces: Tensor,
    K: Tensor,
    adjacency: Tensor,
    *,
    backend: str = "auto",
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
    use_warp = resolve_backend(backend, fragments, verts, K) == "warp"
    flat = color.view(b * h * w, c)
    if use_warp:
        from synthhuman.render.kernels.silhouette import silhouette_codes

        if fragments.pixel_index.shape[0] == 0:
            return color
        screen = project(verts, K)
        codes = silhouette_codes(
            fragments.pix_to_face,
            fragments.depth.detach(),
            screen.detach(),
            faces,
            adjacency,
            K.detach(),
            continuous_footprints=_CONTINUOUS_SURFACE_FOOTPRINTS,
            max_walk=_MAX_WALK,
        )
        slot = (codes.view(-1) >= 0).nonzero().squeeze(1)
        if slot.shape[0] == 0:
            return color
        code = codes.view(-1).index_select(0, slot).long()
        target, change = _blend_found(flat, fragments, screen, faces, slot, code >> 2, code & 3)
    else:
        first, horizontal = _torch_pairs(fragments, K)
        if first.shape[0] == 0:
            return color
        second = first + torch.where(horizontal, 1, w)
        screen = project(verts, K)
        target, change = _blend_pairs(flat, fragments, screen, faces, adjacency, first, second, horizontal)
    flat.index_add_(0, target, change)
    return color


def resolve_backend(backend: str, fragments: Fragments, verts: Tensor, K: Tensor) -> str:
    """The backend that runs, "warp" or "torch", for a requested one and these inputs: the rasterizer's
    choice (:func:`synthhuman.render.raster.resolve_backend`), and the search kernel also needs depth,
    verts and K of one float dtype."""
    chosen = resolve_raster_backend(backend, verts)
    if chosen == "torch":
        return chosen
    dtypes = {fragments.depth.dtype, torch.promote_types(verts.dtype, K.dtype), K.dtype}
    fits = len(dtypes) == 1 and fragments.depth.dtype in (torch.float32, torch.float64)
    if backend == "warp" and not fits:
        raise ValueError(
            "backend 'warp': expected cpu or cuda tensors and depth, verts and K of one dtype (float32 or "
            f"float64), got {verts.device}, depth {fragments.depth.dtype}, verts {verts.dtype}, K {K.dtype}"
        )
    return "warp" if fits else "torch"


def silhouette_hits(
    fragments: Fragments, screen: Tensor, faces: Tensor, adjacency: Tensor, K: Tensor
) -> tuple[Tensor, Tensor]:
    """The PyTorch walk's silhouette edges in the layout of
    :func:`synthhuman.render.kernels.silhouette.silhouette_search` (the reference it is tested against).

    screen: (B, V, 2) projected vertices; faces, adjacency: (F, 3) int64; K: (B, 3, 3). Returns (hit_face,
    hit_edge), each (2, B, H, W) int64: face and edge index (0..2) of the silhouette edge of every pixel's
    pair with its right ([0]) and lower ([1]) neighbour, -1 where there is none.
    """
    b, (h, w) = fragments.batch_size, fragments.image_size
    n = b * h * w
    hit_face = torch.full((2 * n,), -1, dtype=torch.int64, device=fragments.pix_to_face.device)
    hit_edge = hit_face.clone()
    first, horizontal = _torch_pairs(fragments, K)
    if first.shape[0] > 0:
        with torch.no_grad():
            second = first + torch.where(horizontal, 1, w)
            front, _, face, back_face, toward = _front_back(fragments, first, second, screen.dtype)
            pair, _, found_face, found_edge = _silhouette_crossings(
                screen, faces, adjacency, face, back_face, front, toward, horizontal, (h, w)
            )
            slot = first.index_select(0, pair) + torch.where(horizontal.index_select(0, pair), 0, n)
            hit_face[slot], hit_edge[slot] = found_face, found_edge
    return hit_face.view(2, b, h, w), hit_edge.view(2, b, h, w)


def blend_silhouette_hits(
    flat: Tensor, fragments: Fragments, screen: Tensor, faces: Tensor, hit_face: Tensor, hit_edge: Tensor
) -> tuple[Tensor, Tensor]:
    """The blend of :func:`antialias` from silhouette edges found beforehand, differentiable w.r.t.
    ``screen`` and ``flat``.

    flat: (B*H*W, C) image; screen: (B, V, 2) projected vertices; faces: (F, 3) int64; hit_face, hit_edge:
    (2, B, H, W) int64 from :func:`synthhuman.render.kernels.silhouette.silhouette_search` (or
    :func:`silhouette_hits`). Returns the target pixels (M,) (flat) and their colour changes (M, C), to be
    ``index_add_``-ed into ``flat``: the expressions of the PyTorch walk's final step, for the found edge.
    """
    slot = (hit_face.reshape(-1) >= 0).nonzero().squeeze(1)
    face, edge = hit_face.reshape(-1).index_select(0, slot), hit_edge.reshape(-1).index_select(0, slot)
    return _blend_found(flat, fragments, screen, faces, slot, face, edge)


def _blend_found(
    flat: Tensor,
    fragments: Fragments,
    screen: Tensor,
    faces: Tensor,
    slot: Tensor,
    face: Tensor,
    edge: Tensor,
) -> tuple[Tensor, Tensor]:
    """:func:`blend_silhouette_hits` for the hits (M,) at ``slot`` (flat into (2, B, H, W)): face and
    edge (M,) int64."""
    b, (h, w) = fragments.batch_size, fragments.image_size
    n = b * h * w
    horizontal = slot < n
    pa = slot - torch.where(horizontal, 0, n)
    pb = pa + torch.where(horizontal, 1, w)
    front, back, _, _, toward = _front_back(fragments, pa, pb, screen.dtype)
    vertex_base = torch.div(front, h * w, rounding_mode="floor") * screen.shape[1]
    p_front = _pixel_xy(front, h, w, screen.dtype)
    e_front, e_back, _, _, _ = _edge_functions(
        screen.reshape(-1, 2), faces, face, vertex_base, p_front, toward, horizontal
    )
    ef, eb = e_front.gather(1, edge[:, None])[:, 0], e_back.gather(1, edge[:, None])[:, 0]
    alpha = ef / (ef - eb).clamp_min(1e-12)
    return _blend(flat, front, back, alpha.clamp(0, 1))


def _torch_pairs(fragments: Fragments, K: Tensor) -> tuple[Tensor, Tensor]:
    """First pixels (M,) (flat) of the candidate pairs with the neighbour to the right, then below, and
    ``horizontal`` (M,) bool, true for the pairs with the right neighbour."""
    w = fragments.image_size[1]
    right, below = _candidate_pairs(fragments, K, 1, True), _candidate_pairs(fragments, K, w, False)
    first = torch.cat([right, below])
    horizontal = torch.arange(first.shape[0], device=first.device) < right.shape[0]
    return first, horizontal


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
    front, back, face, back_face, toward = _front_back(fragments, pa, pb, screen.dtype)
    pair, alpha, _, _ = _silhouette_crossings(
        screen, faces, adjacency, face, back_face, front, toward, horizontal, fragments.image_size
    )
    return _blend(flat, front.index_select(0, pair), back.index_select(0, pair), alpha)


def _front_back(
    fragments: Fragments, pa: Tensor, pb: Tensor, dtype: torch.dtype
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """For pixel pairs (pa, pb) (M,): the front (nearer; an empty pixel is infinitely far, ties go to pa)
    and back pixels (M,), their faces (M,), and ``toward_back`` (M,) in ``dtype``: +1 where pb is the back
    pixel, else -1."""
    p2f = fragments.pix_to_face.flatten()
    depth = fragments.depth.detach().flatten()
    fa, fb = p2f.index_select(0, pa), p2f.index_select(0, pb)
    za = torch.where(fa >= 0, depth.index_select(0, pa), torch.inf)
    zb = torch.where(fb >= 0, depth.index_select(0, pb), torch.inf)
    a_front = za <= zb
    return (
        torch.where(a_front, pa, pb),
        torch.where(a_front, pb, pa),
        torch.where(a_front, fa, fb),
        torch.where(a_front, fb, fa),
        torch.where(a_front, 1.0, -1.0).to(dtype),
    )


def _blend(flat: Tensor, front: Tensor, back: Tensor, alpha: Tensor) -> tuple[Tensor, Tensor]:
    """Target pixels (M,) and colour changes (M, C) for pairs (front, back) (M,) whose silhouette edge
    crosses at fraction ``alpha`` (M,) in [0, 1] from the front pixel centre."""
    c_front, c_back = flat.index_select(0, front), flat.index_select(0, back)
    spill = (alpha - 0.5)[:, None].to(flat.dtype)
    into_back = spill >= 0
    target = torch.where(into_back[:, 0], back, front)
    return target, spill.abs() * torch.where(into_back, c_front - c_back, c_back - c_front)


def _edge_functions(
    screen: Tensor,
    faces: Tensor,
    face: Tensor,
    vertex_base: Tensor,
    p_front: Tensor,
    toward_back: Tensor,
    horizontal: Tensor,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Edge functions (M, 3) of faces (M,) (edge k: corner k+1 -> k+2) at the front pixel centres p_front
    (M, 2) and one pixel towards the back pixel, both multiplied by the face's orientation; also dx, dy
    (M, 3) of the edges and the orientation (M, 1) (sign of twice the signed area). screen: (B*V, 2)."""
    x, y = _screen_corners(screen, faces, face, vertex_base)
    dx, dy = x.roll(-2, 1) - x.roll(-1, 1), y.roll(-2, 1) - y.roll(-1, 1)
    e_front = dx * (p_front[:, 1:2] - y.roll(-1, 1)) - dy * (p_front[:, 0:1] - x.roll(-1, 1))
    area = corner_sum(e_front)[:, None]  # twice the signed area
    # edge functions are affine: one pixel along x changes e by -dy, along y by dx
    e_back = e_front + toward_back[:, None] * torch.where(horizontal[:, None], -dy, dx)
    orient = torch.sign(area)
    return e_front * orient, e_back * orient, dx, dy, orient


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
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Where the segment from each front pixel centre to its back neighbour crosses a silhouette edge.

    The back pixel lies one pixel from the front one along x where ``horizontal`` (M,) else along y, in
    direction ``toward_back`` (M,) (+1 or -1). Each edge is handled by one pass only, so no pixel's
    coverage is counted twice: horizontal pairs take edges steeper than 45 degrees, vertical pairs the
    others (as nvdiffrast does).

    Starting in the front pixel's face, follow the segment across edges into front-facing neighbours (at
    grazing angles the silhouette edge often belongs to a neighbour of the visible face) until it crosses
    a silhouette edge, for at most _MAX_WALK faces. Returns the indices (K,) of the pairs that cross one,
    the crossing fractions alpha (K,) in [0, 1], differentiable with respect to ``screen``, and the face
    (K,) and edge index (K,) (0..2) crossed.
    """
    h, w = image_size
    num_verts = screen.shape[1]
    screen = screen.reshape(-1, 2)
    vertex_base = torch.div(front, h * w, rounding_mode="floor") * num_verts
    p_front = _pixel_xy(front, h, w, screen.dtype)
    pair = torch.arange(front.shape[0], device=front.device)
    found_pair, found_alpha = [], []
    found_face, found_edge = [], []
    for _ in range(_MAX_WALK):
        e_front, e_back, dx, dy, orient = _edge_functions(
            screen, faces, face, vertex_base, p_front, toward_back, horizontal
        )
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
        found_face.append(face.index_select(0, hit))
        found_edge.append(edge.index_select(0, hit))
        # stepping into the back pixel's own face means one continuous surface: no silhouette here
        walk = (crossing & ~silhouette & (neighbour != back_face)).nonzero().squeeze(1)
        if walk.shape[0] == 0:
            break
        pair, face, vertex_base, back_face, p_front, toward_back, horizontal = (
            t.index_select(0, walk)
            for t in (pair, neighbour, vertex_base, back_face, p_front, toward_back, horizontal)
        )
    return torch.cat(found_pair), torch.cat(found_alpha), torch.cat(found_face), torch.cat(found_edge)


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
