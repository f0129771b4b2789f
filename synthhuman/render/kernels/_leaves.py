"""Warp kernel of the dead-leaves backgrounds' occlusion (:func:`synthhuman.appearance.natural.
dead_leaves_background`): for every pixel, the front-most leaf covering it: one thread per leaf tests the
pixels of its box and keeps the smallest covering leaf per pixel (``atomic_min``), without the reference's
list of every (leaf, pixel) pair. Each
test is the reference's float32 arithmetic operation for operation (no FMA contraction), so the winners
are the same. Imported only when Warp is used."""

from __future__ import annotations

import warp as wp

wp.set_module_options({"enable_backward": False, "fuse_fp": False})


@wp.kernel
def front_leaf(
    box: wp.array2d(dtype=wp.int64),
    shape: wp.array2d(dtype=wp.float32),
    width: int,
    winner: wp.array(dtype=wp.int64),
):
    """One thread per leaf i: every pixel of its box [x0, x1) x [y0, y1) (box[i]) that its shape covers
    takes min(winner, i) (``winner`` starts at n everywhere: the front-most covering leaf remains).
    shape[i]: centre x, y, cos, sin, 1 / half-length, 1 / half-width, 1 for a rectangle (else an
    ellipse)."""
    i = wp.tid()
    cx, cy, c, s = shape[i, 0], shape[i, 1], shape[i, 2], shape[i, 3]
    ia, ib, rect = shape[i, 4], shape[i, 5], shape[i, 6] > 0.0
    for y in range(wp.int32(box[i, 2]), wp.int32(box[i, 3])):
        dy = wp.float32(y) - cy
        for x in range(wp.int32(box[i, 0]), wp.int32(box[i, 1])):
            dx = wp.float32(x) - cx
            a = (c * dx + s * dy) * ia
            b = (c * dy - s * dx) * ib
            inside = False
            if rect:
                inside = wp.max(wp.abs(a), wp.abs(b)) < 1.0
            else:
                inside = a * a + b * b < 1.0
            if inside:
                wp.atomic_min(winner, y * width + x, wp.int64(i))
