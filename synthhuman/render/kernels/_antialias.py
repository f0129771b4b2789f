"""Warp kernels of silhouette anti-aliasing: the search for the silhouette edge between neighbouring pixels,
and (when nothing needs a gradient) the whole blend.

Every expression follows :mod:`synthhuman.render.antialiasing` operation for operation (the candidate
rule with its depth-gap test, the edge functions at the front pixel centre, the walk across front-facing
neighbours, the steep/horizontal split), so the pairs and the edges found equal the PyTorch walk's.
Floating-point contraction is off (``fuse_fp``): torch evaluates each product and sum on its own, and an
FMA would change the last bit of an edge function, and with it a decision at a tie.

A pair is named by its first pixel (row ``y``, column ``x``) and a direction ``d``: 0 pairs it with the
pixel to the right, 1 with the one below. Imported only when the warp backend is used (it imports
``warp``).
"""

from __future__ import annotations

from typing import Any

import warp as wp

wp.set_module_options({"enable_backward": False, "fuse_fp": False})

_FACE_MASK = wp.constant(wp.int64(0xFFFFFFFF))


@wp.func
def face_code(entry: wp.int64):
    """The low 32 bits of a pixel's entry, which name its face in either encoding the kernels read:
    ``pix_to_face`` (-1 where empty) or the z-buffer's keys (depth bits << 32 | face, ``EMPTY_KEY`` where
    empty). Equal codes mean the same face; an empty pixel's code is ``_FACE_MASK``, which no face has."""
    return entry & _FACE_MASK


@wp.func
def face_at(faces_or_keys: wp.array3d(dtype=wp.int64), b: int, y: int, x: int):
    """The face seen at pixel (y, x) of frame b, -1 where none (see :func:`face_code`)."""
    code = face_code(faces_or_keys[b, y, x])
    if code == _FACE_MASK:
        return wp.int64(-1)
    return code


@wp.func
def signum(x: Any):
    """-1, 0 or +1 (``torch.sign``; ``wp.sign`` gives +1 at 0)."""
    if x > type(x)(0.0):
        return type(x)(1.0)
    if x < type(x)(0.0):
        return type(x)(-1.0)
    return type(x)(0.0)


@wp.func
def edge_values(x1: Any, y1: Any, x2: Any, y2: Any, px: Any, py: Any, toward: Any, horizontal: wp.bool):
    """Edge corner 1 -> corner 2: (dx, dy, e_front, e_back): the edge function at the front pixel centre
    (px, py) and one pixel further, towards the back pixel (along x when ``horizontal``, else y)."""
    dx = x2 - x1
    dy = y2 - y1
    e_front = dx * (py - y1) - dy * (px - x1)
    step = dx
    if horizontal:
        step = -dy
    return dx, dy, e_front, e_front + toward * step


@wp.func
def is_candidate(
    pix_to_face: wp.array3d(dtype=wp.int64),
    depth: wp.array3d(dtype=Any),
    focal: Any,
    footprints: Any,
    b: int,
    y: int,
    x: int,
    y2: int,
    x2: int,
):
    """Whether pixels (y, x) and (y2, x2) of frame b may straddle a silhouette: one covered and one empty,
    or covered by different faces whose depths differ by more than ``footprints`` pixel footprints."""
    fa = face_at(pix_to_face, b, y, x)
    fb = face_at(pix_to_face, b, y2, x2)
    if fa < wp.int64(0):
        return fb >= wp.int64(0)
    if fb < wp.int64(0):
        return True
    if fa == fb:
        return False
    return depth_gap(depth[b, y, x], depth[b, y2, x2], focal, footprints)


@wp.func
def depth_gap(za: Any, zb: Any, focal: Any, footprints: Any):
    """Whether two covered neighbours' depths differ by more than ``footprints`` pixel footprints (z / f):
    then they need not lie on one continuous surface (symmetric in the two)."""
    return wp.abs(za - zb) * focal > wp.min(za, zb) * footprints


@wp.func
def silhouette_hit(face: wp.int64, edge: wp.int32, alpha: Any, edx: Any, edy: Any, horizontal: wp.bool):
    """A silhouette edge (dx, dy) crossed at ``alpha``: the hit (face, edge, alpha) where the edge belongs to
    this pass (steep edges to the horizontal pairs, the others to the vertical ones), else none (-1)."""
    if (wp.abs(edy) >= wp.abs(edx)) == horizontal:
        return face, edge, alpha
    return wp.int64(-1), wp.int32(0), alpha - alpha


@wp.func
def face_corners(
    screen: wp.array3d(dtype=Any), faces: wp.array2d(dtype=wp.int32), b: int, face: wp.int64, like: Any
):
    """Face ``face``'s corners on screen in frame b, in ``like``'s dtype: (x0, y0, x1, y1, x2, y2)."""
    i0, i1, i2 = faces[face, 0], faces[face, 1], faces[face, 2]
    x0, y0 = type(like)(screen[b, i0, 0]), type(like)(screen[b, i0, 1])
    x1, y1 = type(like)(screen[b, i1, 0]), type(like)(screen[b, i1, 1])
    x2, y2 = type(like)(screen[b, i2, 0]), type(like)(screen[b, i2, 1])
    return x0, y0, x1, y1, x2, y2


@wp.func
def silhouette_walk(
    screen: wp.array3d(dtype=Any),
    faces: wp.array2d(dtype=wp.int32),
    adjacency: wp.array2d(dtype=wp.int32),
    b: int,
    start_face: wp.int64,
    back_face: wp.int64,
    px: Any,
    py: Any,
    toward: Any,
    horizontal: wp.bool,
    max_walk: int,
):
    """From ``start_face`` (seen at the front pixel centre (px, py)), follow the segment towards the back
    pixel across edges into front-facing neighbours until it crosses a silhouette edge. Returns (face, edge
    k, alpha unclamped) of the hit, face -1 where none is found within ``max_walk`` faces, where the edge
    belongs to the other direction's pass, or where the walk reaches ``back_face``."""
    zero = px - px
    tiny = type(px)(1.0e-12)
    face = start_face
    # the face's corners on screen, carried from one step to the next (the neighbour's, read to test it)
    x0, y0, x1, y1, x2, y2 = face_corners(screen, faces, b, face, px)
    for _step in range(max_walk):
        # the three neighbours' corners on screen, loaded before the exit edge is known: the loads no longer
        # wait for the edge's divisions (the anti-aliasing pass 8 % faster); an open edge's -1 reads the
        # last face (Warp wraps negative indices), whose values are never used
        m0, m1, m2 = adjacency[face, 0], adjacency[face, 1], adjacency[face, 2]
        px0, py0, px1, py1, px2, py2 = face_corners(screen, faces, b, wp.int64(m0), px)
        qx0, qy0, qx1, qy1, qx2, qy2 = face_corners(screen, faces, b, wp.int64(m1), px)
        rx0, ry0, rx1, ry1, rx2, ry2 = face_corners(screen, faces, b, wp.int64(m2), px)
        # edge k joins corner k+1 -> k+2
        dx0, dy0, ef0, eb0 = edge_values(x1, y1, x2, y2, px, py, toward, horizontal)
        dx1, dy1, ef1, eb1 = edge_values(x2, y2, x0, y0, px, py, toward, horizontal)
        dx2, dy2, ef2, eb2 = edge_values(x0, y0, x1, y1, px, py, toward, horizontal)
        area = ef0 + ef1
        area = area + ef2
        orient = signum(area)
        ef0, eb0 = ef0 * orient, eb0 * orient
        ef1, eb1 = ef1 * orient, eb1 * orient
        ef2, eb2 = ef2 * orient, eb2 * orient
        # the first edge of least alpha among those the segment leaves the face through
        found = False
        alpha = zero
        edge = wp.int32(0)
        edx, edy = dx0, dy0
        if eb0 < zero and ef0 > eb0:
            alpha = ef0 / wp.max(ef0 - eb0, tiny)
            found = True
        if eb1 < zero and ef1 > eb1:
            a1 = ef1 / wp.max(ef1 - eb1, tiny)
            if not found or a1 < alpha:
                alpha, edge, edx, edy = a1, 1, dx1, dy1
            found = True
        if eb2 < zero and ef2 > eb2:
            a2 = ef2 / wp.max(ef2 - eb2, tiny)
            if not found or a2 < alpha:
                alpha, edge, edx, edy = a2, 2, dx2, dy2
            found = True
        if not found or not (alpha <= type(px)(1.0)):
            return wp.int64(-1), wp.int32(0), zero
        neighbour = wp.int64(m0)
        nx0, ny0, nx1, ny1, nx2, ny2 = px0, py0, px1, py1, px2, py2
        if edge == 1:
            neighbour = wp.int64(m1)
            nx0, ny0, nx1, ny1, nx2, ny2 = qx0, qy0, qx1, qy1, qx2, qy2
        elif edge == 2:
            neighbour = wp.int64(m2)
            nx0, ny0, nx1, ny1, nx2, ny2 = rx0, ry0, rx1, ry1, rx2, ry2
        if neighbour < wp.int64(0):  # an open edge: a silhouette
            return silhouette_hit(face, edge, alpha, edx, edy, horizontal)
        nb_area = (nx1 - nx0) * (ny2 - ny0) - (nx2 - nx0) * (ny1 - ny0)
        if signum(nb_area) != orient:  # the neighbour faces the other way: a silhouette
            return silhouette_hit(face, edge, alpha, edx, edy, horizontal)
        # stepping into the back pixel's own face means one continuous surface: no silhouette here
        if neighbour == back_face:
            return wp.int64(-1), wp.int32(0), zero
        face = neighbour
        x0, y0, x1, y1, x2, y2 = nx0, ny0, nx1, ny1, nx2, ny2
    return wp.int64(-1), wp.int32(0), zero


@wp.func
def pair_hit(
    pix_to_face: wp.array3d(dtype=wp.int64),
    depth: wp.array3d(dtype=Any),
    screen: wp.array3d(dtype=Any),
    faces: wp.array2d(dtype=wp.int32),
    adjacency: wp.array2d(dtype=wp.int32),
    focal: Any,
    footprints: Any,
    b: int,
    y: int,
    x: int,
    d: int,
    max_walk: int,
):
    """The pair of first pixel (y, x) in direction d: (face, edge, alpha, first_is_front); face -1 where
    the pair is not a candidate or no silhouette edge is found."""
    zero = focal - focal
    h, w = pix_to_face.shape[1], pix_to_face.shape[2]
    y2, x2 = y, x + 1
    if d == 1:
        y2, x2 = y + 1, x
    if y2 >= h or x2 >= w or y < 0 or x < 0:
        return wp.int64(-1), wp.int32(0), zero, True
    if not is_candidate(pix_to_face, depth, focal, footprints, b, y, x, y2, x2):
        return wp.int64(-1), wp.int32(0), zero, True
    fa = face_at(pix_to_face, b, y, x)
    fb = face_at(pix_to_face, b, y2, x2)
    # the nearer pixel is the front one (an empty pixel is infinitely far; ties: the first)
    a_front = True
    if fa < wp.int64(0):
        a_front = False
    elif fb >= wp.int64(0):
        a_front = depth[b, y, x] <= depth[b, y2, x2]
    one = type(focal)(1.0)
    if a_front:
        hit_face, edge, alpha = silhouette_walk(
            screen, faces, adjacency, b, fa, fb, type(focal)(x), type(focal)(y), one, d == 0, max_walk
        )
    else:
        hit_face, edge, alpha = silhouette_walk(
            screen, faces, adjacency, b, fb, fa, type(focal)(x2), type(focal)(y2), -one, d == 0, max_walk
        )
    return hit_face, edge, alpha, a_front


@wp.func
def row_span(
    flat_faces: wp.array(dtype=wp.int64), b: int, y: int, h: int, w: int, window: wp.array2d(dtype=wp.int32)
):
    """First and last covered column of row y of frame b: (w, -1) where the row (or y itself) is outside
    the image or empty. Only the columns of the frame's ``window`` (B, 4) (x0, y0, x1, y1, the box holding
    every covered pixel) are read."""
    lo, hi = wp.int32(w), wp.int32(-1)
    if y >= 0 and y < h and y >= int(window[b, 1]) and y <= int(window[b, 3]):
        row = (b * h + y) * w
        first, last = wp.max(int(window[b, 0]), 0), wp.min(int(window[b, 2]), w - 1)
        for x in range(first, last + 1):
            if face_code(flat_faces[row + x]) != _FACE_MASK:
                lo = x
                break
        if lo < w:
            for k in range(last - first + 1):
                if face_code(flat_faces[row + last - k]) != _FACE_MASK:
                    hi = last - k
                    break
    return lo, hi


@wp.func
def span_near(lo_above: int, hi_above: int, lo: int, hi: int, lo_below: int, hi_below: int, w: int):
    """The columns [start, stop) of a row whose pixels or 4-neighbours may be covered (from the covered
    spans of the row, the one above and the one below); every pair of pixels seeing different faces in the
    row, or between it and the row below or above, has a pixel in it."""
    start = wp.min(lo_above, lo_below)
    stop = wp.max(hi_above, hi_below) + 1
    if hi >= 0:
        start = wp.min(start, wp.max(lo - 1, 0))
        stop = wp.max(stop, wp.min(hi + 2, w))
    return start, stop


@wp.kernel
def silhouette_search(
    pix_to_face: wp.array3d(dtype=wp.int64),
    flat_faces: wp.array(dtype=wp.int64),
    depth: wp.array3d(dtype=Any),
    screen: wp.array3d(dtype=Any),
    faces: wp.array2d(dtype=wp.int32),
    adjacency: wp.array2d(dtype=wp.int32),
    K: wp.array3d(dtype=Any),
    footprints: Any,
    max_walk: int,
    frame0: int,
    rows: int,
    columns: int,
    window: wp.array2d(dtype=wp.int32),
    right: wp.array(dtype=wp.int32),
    below: wp.array(dtype=wp.int32),
):
    """One thread per tile of ``rows`` x ``columns`` pixels of frame frame0 + i: the silhouette hits, flat
    (B * H * W,), of each pixel's pairs with the pixel to the right and below, as ``face * 4 + edge``,
    written where a hit is found (the outputs hold -1 beforehand). ``flat_faces`` is ``pix_to_face`` flat.
    Tiles of whole rows skip the columns far from any covered pixel."""
    i, tile_y, tile_x = wp.tid()
    b = frame0 + i
    h, w = pix_to_face.shape[1], pix_to_face.shape[2]
    focal = wp.abs(K[b, 0, 0])
    y0, x0 = tile_y * rows, tile_x * columns
    y1, x1 = wp.min(y0 + rows, h), wp.min(x0 + columns, w)
    spans = columns == w
    if spans:  # rows with no covered pixel and no covered neighbour have no pair
        y0 = wp.max(y0, int(window[b, 1]) - 1)
        y1 = wp.min(y1, int(window[b, 3]) + 2)
    lo_above, hi_above, lo, hi = wp.int32(w), wp.int32(-1), wp.int32(0), wp.int32(w - 1)
    if spans:
        lo_above, hi_above = row_span(flat_faces, b, y0 - 1, h, w, window)
        lo, hi = row_span(flat_faces, b, y0, h, w, window)
    for y in range(y0, y1):
        start, stop = x0, x1
        lo_below, hi_below = 0, w - 1
        if spans:
            lo_below, hi_below = row_span(flat_faces, b, y + 1, h, w, window)
            start, stop = span_near(lo_above, hi_above, lo, hi, lo_below, hi_below, w)
        row = (b * h + y) * w
        for x in range(start, stop):
            # a pair is a candidate only where its pixels see different faces (or one sees none): most
            # pairs are rejected here, without a call (Warp passes arrays to functions by value)
            p = row + x
            here = face_code(flat_faces[p])
            if x + 1 < w:
                if face_code(flat_faces[p + 1]) != here:
                    f0, e0, _alpha0, _front0 = pair_hit(
                        pix_to_face, depth, screen, faces, adjacency, focal, footprints, b, y, x, 0, max_walk
                    )
                    if f0 >= wp.int64(0):
                        right[p] = wp.int32(f0) * 4 + e0
            if y + 1 < h:
                if face_code(flat_faces[p + w]) != here:
                    f1, e1, _alpha1, _front1 = pair_hit(
                        pix_to_face, depth, screen, faces, adjacency, focal, footprints, b, y, x, 1, max_walk
                    )
                    if f1 >= wp.int64(0):
                        below[p] = wp.int32(f1) * 4 + e1
        lo_above, hi_above, lo, hi = lo, hi, lo_below, hi_below


@wp.func
def pair_weights(
    pix_to_face: wp.array3d(dtype=wp.int64),
    depth: wp.array3d(dtype=Any),
    screen: wp.array3d(dtype=Any),
    faces: wp.array2d(dtype=wp.int32),
    adjacency: wp.array2d(dtype=wp.int32),
    focal: Any,
    footprints: Any,
    b: int,
    y: int,
    x: int,
    d: int,
    max_walk: int,
    color_one: Any,
):
    """The weights |alpha - 1/2| (colour dtype) with which the pair of first pixel (y, x), direction d,
    moves the other pixel's colour into its first and into its second pixel: at most one is non-zero (the
    pair's target), both 0 where there is no blend."""
    face, _edge, alpha, a_front = pair_hit(
        pix_to_face, depth, screen, faces, adjacency, focal, footprints, b, y, x, d, max_walk
    )
    zero = color_one - color_one
    if face < wp.int64(0):
        return zero, zero
    spill = type(color_one)(wp.clamp(alpha, focal - focal, type(focal)(1.0)) - type(focal)(0.5))
    # the target is the back pixel when the edge passes the midpoint, else the front one
    if (spill >= zero) != a_front:
        return wp.abs(spill), zero
    return zero, wp.abs(spill)


@wp.func
def one_surface(
    here: wp.int64,
    other: wp.int64,
    z: Any,
    depth: wp.array3d(dtype=Any),
    focal: Any,
    footprints: Any,
    b: int,
    y2: int,
    x2: int,
):
    """Whether a pixel covered with face code ``here`` at depth ``z`` and its neighbour (y2, x2) of frame b,
    code ``other`` (a different one), lie on one continuous surface: both covered, depths within
    ``footprints`` pixel footprints (:func:`is_candidate`'s test, symmetric in the two pixels). Such a
    pair is no candidate: rejected with the depths at hand, without the pair's search."""
    if here == _FACE_MASK or other == _FACE_MASK:
        return False
    return not depth_gap(z, depth[b, y2, x2], focal, footprints)


@wp.func
def pixel_weights(
    p2f: wp.array3d(dtype=wp.int64),
    flat_faces: wp.array(dtype=wp.int64),
    depth: wp.array3d(dtype=Any),
    screen: wp.array3d(dtype=Any),
    faces: wp.array2d(dtype=wp.int32),
    adj: wp.array2d(dtype=wp.int32),
    f: Any,
    fp: Any,
    b: int,
    y: int,
    x: int,
    y0: int,
    y1: int,
    start: int,
    walk: int,
    unit: Any,
    w_from_left: Any,
    here: wp.int64,
    carry: wp.array2d(dtype=Any),
):
    """The weights (colour dtype) with which pixel (y, x) of frame b takes its left, right, upper and lower
    neighbour's colour, for a thread that scans rows y0 <= y < y1 top to bottom and each row's columns
    from ``start`` rightwards: ``here`` is the pixel's face code and ``w_from_left`` the weight of its pair
    with the left neighbour, found at x - 1 (zero at ``start``, where it is found here). A pair is evaluated
    once: the weight of the right pair for the next pixel is returned, the lower pair's for the row below
    left in ``carry`` (B, W). Only pairs whose pixels see different faces can blend (most are rejected
    here, without a call). Returns (w_left, w_right, w_up, w_down, w_next, right), ``right`` the right
    neighbour's face code."""
    h, w = p2f.shape[1], p2f.shape[2]
    zero = unit - unit
    p = (b * h + y) * w + x
    w_left, w_right, w_up, w_down, w_next = w_from_left, zero, zero, zero, zero
    right = here
    z = f - f
    if here != _FACE_MASK:
        z = depth[b, y, x]
    if x == start and x > 0:
        left = face_code(flat_faces[p - 1])
        if left != here and not one_surface(here, left, z, depth, f, fp, b, y, x - 1):
            _w0, w_left = pair_weights(p2f, depth, screen, faces, adj, f, fp, b, y, x - 1, 0, walk, unit)
    if x + 1 < w:
        right = face_code(flat_faces[p + 1])
        if right != here and not one_surface(here, right, z, depth, f, fp, b, y, x + 1):
            w_right, w_next = pair_weights(p2f, depth, screen, faces, adj, f, fp, b, y, x, 0, walk, unit)
    if y > 0:
        up = face_code(flat_faces[p - w])
        if up != here and not one_surface(here, up, z, depth, f, fp, b, y - 1, x):
            if y == y0:
                _w1, w_up = pair_weights(p2f, depth, screen, faces, adj, f, fp, b, y - 1, x, 1, walk, unit)
            else:
                w_up = carry[b, x]  # left by the row above, which saw the same pair
    if y + 1 < h:
        down = face_code(flat_faces[p + w])
        if down != here and not one_surface(here, down, z, depth, f, fp, b, y + 1, x):
            w_down, w_below = pair_weights(p2f, depth, screen, faces, adj, f, fp, b, y, x, 1, walk, unit)
            if y + 1 < y1:
                carry[b, x] = w_below  # read by the row below only where it sees this pair
    return w_left, w_right, w_up, w_down, w_next, right


@wp.kernel
def antialias_forward(
    color: wp.array4d(dtype=Any),
    p2f: wp.array3d(dtype=wp.int64),
    flat_faces: wp.array(dtype=wp.int64),
    depth: wp.array3d(dtype=Any),
    screen: wp.array3d(dtype=Any),
    faces: wp.array2d(dtype=wp.int32),
    adj: wp.array2d(dtype=wp.int32),
    K: wp.array3d(dtype=Any),
    fp: Any,
    walk: int,
    clamp: int,
    frame0: int,
    rows: int,
    columns: int,
    window: wp.array2d(dtype=wp.int32),
    carry: wp.array2d(dtype=Any),
    out: wp.array4d(dtype=Any),
):
    """One thread per tile of ``rows`` x ``columns`` pixels of frame frame0 + i (a whole frame on CPU, where
    a thread costs more than a pixel; one pixel on CUDA). Each pixel some pair blends into gets its colour
    plus the changes of the pairs it belongs to (with its left, right, upper and lower neighbour) that
    target it, summed in that order, clamped to [0, 1] when ``clamp``; ``out`` holds ``color`` (clamped
    when ``clamp``) beforehand and keeps it where no pair blends. Arguments as in :func:`silhouette_search`
    (``p2f`` = pix_to_face, ``adj`` = adjacency, ``fp`` = footprints, ``walk`` = max_walk). A pair inside
    a tile is evaluated once, its weight for the second pixel carried to the next column (a register) or
    row (``carry`` (B, W), the tile's own entries, written and read only where the pair exists). Tiles of
    whole rows skip the columns far from any covered pixel."""
    i, tile_y, tile_x = wp.tid()
    b = frame0 + i
    h, w = p2f.shape[1], p2f.shape[2]
    f = wp.abs(K[b, 0, 0])
    unit = type(color[b, 0, 0, 0])(1.0)
    zero = unit - unit
    y0, x0 = tile_y * rows, tile_x * columns
    y1, x1 = wp.min(y0 + rows, h), wp.min(x0 + columns, w)
    spans = columns == w
    if spans:  # rows with no covered pixel and no covered neighbour have no pair
        y0 = wp.max(y0, int(window[b, 1]) - 1)
        y1 = wp.min(y1, int(window[b, 3]) + 2)
    lo_above, hi_above, lo, hi = wp.int32(w), wp.int32(-1), wp.int32(0), wp.int32(w - 1)
    if spans:
        lo_above, hi_above = row_span(flat_faces, b, y0 - 1, h, w, window)
        lo, hi = row_span(flat_faces, b, y0, h, w, window)
    for y in range(y0, y1):
        start, stop = x0, x1
        lo_below, hi_below = 0, w - 1
        if spans:
            lo_below, hi_below = row_span(flat_faces, b, y + 1, h, w, window)
            start, stop = span_near(lo_above, hi_above, lo, hi, lo_below, hi_below, w)
        lo_above, hi_above, lo, hi = lo, hi, lo_below, hi_below
        row = (b * h + y) * w
        w_next = zero  # weight into (y, x) of the pair with its left neighbour, found at x - 1
        right = face_code(flat_faces[row + wp.min(start, w - 1)])
        for x in range(start, stop):
            here = right
            w_left, w_right, w_up, w_down, w_next, right = pixel_weights(
                p2f, flat_faces, depth, screen, faces, adj, f, fp, b, y, x, y0, y1, start, walk, unit,
                w_next, here, carry,
            )  # fmt: skip
            if w_left != zero or w_right != zero or w_up != zero or w_down != zero:
                for c in range(color.shape[3]):
                    own = color[b, y, x, c]
                    value = own
                    if w_left != zero:
                        value = value + w_left * (color[b, y, x - 1, c] - own)
                    if w_right != zero:
                        value = value + w_right * (color[b, y, x + 1, c] - own)
                    if w_up != zero:
                        value = value + w_up * (color[b, y - 1, x, c] - own)
                    if w_down != zero:
                        value = value + w_down * (color[b, y + 1, x, c] - own)
                    if clamp != 0:
                        value = wp.clamp(value, zero, unit)
                    out[b, y, x, c] = value
