"""Warp kernel of the in-place anti-aliasing pass (CPU): :func:`_antialias.antialias_forward` without its
output copy. Imported only when the warp backend is used."""

from __future__ import annotations

from typing import Any

import warp as wp

from synthhuman.render.kernels._antialias import _FACE_MASK, face_code, pixel_weights, row_span, span_near

wp.set_module_options({"enable_backward": False, "fuse_fp": False})


@wp.func
def unblended(value: Any, zero: Any, unit: Any):
    """``value`` clamped to [0, 1], NaN kept (as numpy's clip and torch's clamp)."""
    if value < zero:
        return zero
    if value > unit:
        return unit
    return value


@wp.kernel
def antialias_in_place(
    color: wp.array4d(dtype=Any),
    background: wp.array4d(dtype=Any),
    p2f: wp.array3d(dtype=wp.int64),
    flat_faces: wp.array(dtype=wp.int64),
    depth: wp.array3d(dtype=Any),
    screen: wp.array3d(dtype=Any),
    faces: wp.array2d(dtype=wp.int32),
    adj: wp.array2d(dtype=wp.int32),
    K: wp.array3d(dtype=Any),
    fp: Any,
    walk: int,
    frame0: int,
    window: wp.array2d(dtype=wp.int32),
    carry: wp.array2d(dtype=Any),
    saved: wp.array3d(dtype=Any),
):
    """One thread per frame frame0 + i, its rows top to bottom, each row's columns left to right.

    Before: ``color`` (B, H, W, C) holds the shading at covered pixels and ``background`` (B, H, W, C)
    clamped to [0, 1] at the others. After: what :func:`_antialias.antialias_forward` with ``clamp`` gives
    for the image that is the shading at covered pixels and the (unclamped) ``background`` elsewhere: each
    pair's change is computed from that image's colours, summed in the same order, and clamped. A pixel is
    overwritten when its row is processed; a covered pixel's colour before that is kept in ``saved``
    (B, W, C) for the pixel to its right and the one below (every covered pixel lies in the columns its
    row visits, so those two always find it there). Uncovered pixels read theirs from ``background``.
    ``carry`` as in :func:`_antialias.antialias_forward`."""
    i = wp.tid()
    b = frame0 + i
    h, w = p2f.shape[1], p2f.shape[2]
    f = wp.abs(K[b, 0, 0])
    unit = type(color[b, 0, 0, 0])(1.0)
    zero = unit - unit
    y0 = wp.max(0, int(window[b, 1]) - 1)
    y1 = wp.min(h, int(window[b, 3]) + 2)
    lo_above, hi_above = row_span(flat_faces, b, y0 - 1, h, w, window)
    lo, hi = row_span(flat_faces, b, y0, h, w, window)
    for y in range(y0, y1):
        lo_below, hi_below = row_span(flat_faces, b, y + 1, h, w, window)
        start, stop = span_near(lo_above, hi_above, lo, hi, lo_below, hi_below, w)
        lo_above, hi_above, lo, hi = lo, hi, lo_below, hi_below
        row = (b * h + y) * w
        w_next = zero
        right = face_code(flat_faces[row + wp.min(start, w - 1)])
        for x in range(start, stop):
            p = row + x
            here = right
            w_left, w_right, w_up, w_down, w_next, right = pixel_weights(
                p2f, flat_faces, depth, screen, faces, adj, f, fp, b, y, x, y0, y1, start, walk, unit,
                w_next, here, carry,
            )  # fmt: skip
            covered = here != _FACE_MASK
            blends = w_left != zero or w_right != zero or w_up != zero or w_down != zero
            if covered or blends:  # an empty pixel no pair blends into keeps its clamped background
                for c in range(color.shape[3]):
                    own = background[b, y, x, c]
                    if covered:
                        own = color[b, y, x, c]
                    value = own
                    # a covered neighbour left or above is overwritten already: its colour from `saved`
                    if w_left != zero:
                        left = background[b, y, x - 1, c]
                        if face_code(flat_faces[p - 1]) != _FACE_MASK:
                            left = saved[b, x - 1, c]
                        value = value + w_left * (left - own)
                    if w_right != zero:
                        nb = background[b, y, x + 1, c]
                        if right != _FACE_MASK:
                            nb = color[b, y, x + 1, c]
                        value = value + w_right * (nb - own)
                    if w_up != zero:
                        up = background[b, y - 1, x, c]
                        if face_code(flat_faces[p - w]) != _FACE_MASK:
                            up = saved[b, x, c]
                        value = value + w_up * (up - own)
                    if w_down != zero:
                        down = background[b, y + 1, x, c]
                        if face_code(flat_faces[p + w]) != _FACE_MASK:
                            down = color[b, y + 1, x, c]
                        value = value + w_down * (down - own)
                    if blends:
                        color[b, y, x, c] = wp.clamp(value, zero, unit)
                    else:
                        color[b, y, x, c] = unblended(own, zero, unit)
                    if covered:  # read by the pixel to the right and the one below
                        saved[b, x, c] = own
