"""Warp kernels of the rasterizer: vertices projected once, then one thread per face z-buffers the pixel
centres of its screen box through ``atomic_min`` on the packed (float32 depth bits << 32 | face) key.

Every expression follows :mod:`synthhuman.render.raster` operation for operation (the same projection,
culling, canonical edges, fill rule and depth), so the keys, and with them ``pix_to_face``, equal the
PyTorch path's bit for bit. Imported only when the warp backend is used (it imports ``warp``).
"""

from __future__ import annotations

from typing import Any

import warp as wp

# no autodiff (PyTorch is the gradient path); no FMA contraction: the same bits on CPU and CUDA
wp.set_module_options({"enable_backward": False, "fuse_fp": False})

_FLOAT_BITS = """
#if defined(__CUDA_ARCH__)
    return __float_as_int(x);
#else
    int32_t bits;
    memcpy(&bits, &x, sizeof(bits));
    return bits;
#endif
"""


@wp.func_native(_FLOAT_BITS)
def float_bits(x: wp.float32) -> wp.int32:
    """The IEEE bit pattern of a float32 (positive floats order like their bits)."""
    ...


@wp.kernel
def project_vertices(
    verts: wp.array3d(dtype=Any),
    K: wp.array3d(dtype=Any),
    znear: Any,
    frame0: int,
    chunk: int,
    screen_x: wp.array2d(dtype=Any),
    screen_y: wp.array2d(dtype=Any),
):
    """Pixel positions of vertices [c * chunk, (c + 1) * chunk) (camera space (B, V, 3)) of frame
    frame0 + i (depth clamped to znear: faces with such vertices are culled anyway)."""
    i, c = wp.tid()
    b = frame0 + i
    for v in range(c * chunk, wp.min((c + 1) * chunk, verts.shape[1])):
        vx, vy = verts[b, v, 0], verts[b, v, 1]
        zs = wp.max(verts[b, v, 2], znear)
        screen_x[b, v] = (K[b, 0, 0] * vx + K[b, 0, 1] * vy) / zs + K[b, 0, 2]
        screen_y[b, v] = K[b, 1, 1] * vy / zs + K[b, 1, 2]


@wp.func
def to_camera(R: wp.array3d(dtype=Any), t: wp.array2d(dtype=Any), b: int, x: Any, y: Any, z: Any):
    """World point (x, y, z) into frame b's camera, as ``render.cameras.world_to_camera`` computes it
    (three products and three sums per coordinate, in its order). Returns (cx, cy, cz)."""
    cx = x * R[b, 0, 0] + y * R[b, 0, 1] + z * R[b, 0, 2] + t[b, 0]
    cy = x * R[b, 1, 0] + y * R[b, 1, 1] + z * R[b, 1, 2] + t[b, 1]
    cz = x * R[b, 2, 0] + y * R[b, 2, 1] + z * R[b, 2, 2] + t[b, 2]
    return cx, cy, cz


@wp.func
def to_pixels(K: wp.array3d(dtype=Any), b: int, cx: Any, cy: Any, cz: Any):
    """Camera point (cx, cy, cz) of frame b in pixels, as ``render.cameras.project`` computes it. Returns
    (u, v)."""
    return K[b, 0, 0] * (cx / cz) + K[b, 0, 1] * (cy / cz) + K[b, 0, 2], K[b, 1, 1] * (cy / cz) + K[b, 1, 2]


@wp.kernel
def camera_vertices(
    verts: wp.array3d(dtype=Any),
    R: wp.array3d(dtype=Any),
    t: wp.array2d(dtype=Any),
    K: wp.array3d(dtype=Any),
    znear: Any,
    frame0: int,
    chunk: int,
    verts_cam: wp.array3d(dtype=Any),
    screen: wp.array3d(dtype=Any),
    screen_x: wp.array2d(dtype=Any),
    screen_y: wp.array2d(dtype=Any),
):
    """World vertices [c * chunk, (c + 1) * chunk) (B, V, 3) of frame frame0 + i into its camera
    (``render.cameras.world_to_camera``, the same sums in the same order), their pixel positions as
    ``render.cameras.project`` gives them (``screen``, (B, V, 2)) and as the z-buffer computes them
    (``screen_x``, ``screen_y``, depth clamped to znear, as :func:`project_vertices`)."""
    i, c = wp.tid()
    b = frame0 + i
    for v in range(c * chunk, wp.min((c + 1) * chunk, verts.shape[1])):
        cx, cy, cz = to_camera(R, t, b, verts[b, v, 0], verts[b, v, 1], verts[b, v, 2])
        verts_cam[b, v, 0] = cx
        verts_cam[b, v, 1] = cy
        verts_cam[b, v, 2] = cz
        u, w = to_pixels(K, b, cx, cy, cz)
        screen[b, v, 0] = u
        screen[b, v, 1] = w
        zs = wp.max(cz, znear)
        screen_x[b, v] = (K[b, 0, 0] * cx + K[b, 0, 1] * cy) / zs + K[b, 0, 2]
        screen_y[b, v] = K[b, 1, 1] * cy / zs + K[b, 1, 2]


@wp.func
def canonical_edge(xa: Any, ya: Any, xb: Any, yb: Any):
    """An edge a -> b with its endpoints in lexicographic order: (lo_x, lo_y, d_x, d_y, sign), where the
    edge function through (lo, lo + d) times ``sign`` is the one through (a, b)."""
    one = xa - xa + type(xa)(1.0)
    # selects, not branches: the order of a small face's corners is a coin toss for the branch predictor
    # (the z-buffer pass 3 % faster)
    swap = xa > xb or (xa == xb and ya > yb)
    lo_x, lo_y = wp.where(swap, xb, xa), wp.where(swap, yb, ya)
    d_x, d_y = wp.where(swap, xa - xb, xb - xa), wp.where(swap, ya - yb, yb - ya)
    return lo_x, lo_y, d_x, d_y, wp.where(swap, -one, one)


@wp.func
def lesser(a: Any, b: Any):
    """``wp.min`` of finite values as one select (``wp.min`` also handles NaN, in several instructions; the
    vertices are checked finite, and a NaN here could only come from infinities)."""
    return wp.where(a <= b, a, b)


@wp.func
def greater(a: Any, b: Any):
    """``wp.max`` of finite values as one select (see :func:`lesser`)."""
    return wp.where(a >= b, a, b)


@wp.func
def clamp_finite(x: Any, lo: Any, hi: Any):
    """``wp.clamp`` of finite values by selects (the z-buffer pass 4 % faster)."""
    return lesser(greater(lo, x), hi)


@wp.kernel
def zbuffer_faces(
    screen_x: wp.array2d(dtype=Any),
    screen_y: wp.array2d(dtype=Any),
    verts: wp.array3d(dtype=Any),
    faces: wp.array2d(dtype=wp.int64),
    znear: Any,
    cull_backfaces: int,
    frame0: int,
    chunk: int,
    keys: wp.array3d(dtype=wp.int64),
    window: wp.array2d(dtype=wp.int32),
):
    """Faces [c * chunk, (c + 1) * chunk) of frame frame0 + i: cull, then keep the nearest key at each
    covered pixel; ``window`` (B, 4) grows to the box (x0, y0, x1, y1) of the surviving faces' boxes.
    (One face per thread on CUDA; a chunk per thread on CPU, where a thread costs more than a face.)"""
    i, c = wp.tid()
    b = frame0 + i
    h, w = keys.shape[1], keys.shape[2]
    for f in range(c * chunk, wp.min((c + 1) * chunk, faces.shape[0])):
        i0, i1, i2 = faces[f, 0], faces[f, 1], faces[f, 2]
        x0, x1, x2 = screen_x[b, i0], screen_x[b, i1], screen_x[b, i2]
        y0, y1, y2 = screen_y[b, i0], screen_y[b, i1], screen_y[b, i2]
        zero = x0 - x0
        area2 = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        if cull_backfaces != 0:
            if not (area2 < zero):
                continue
        elif area2 == zero:
            continue
        # most faces hold no pixel centre: that test first (its box needs no depth)
        bx0 = clamp_finite(wp.ceil(lesser(lesser(x0, x1), x2)), zero, type(zero)(w - 1))
        by0 = clamp_finite(wp.ceil(lesser(lesser(y0, y1), y2)), zero, type(zero)(h - 1))
        bx1 = clamp_finite(wp.floor(greater(greater(x0, x1), x2)), type(zero)(-1.0), type(zero)(w - 1))
        by1 = clamp_finite(wp.floor(greater(greater(y0, y1), y2)), type(zero)(-1.0), type(zero)(h - 1))
        if bx0 > bx1 or by0 > by1:
            continue
        z0, z1, z2 = verts[b, i0, 2], verts[b, i1, 2], verts[b, i2, 2]
        if lesser(lesser(z0, z1), z2) <= znear:
            continue
        col0, row0, col1, row1 = int(bx0), int(by0), int(bx1), int(by1)
        wp.atomic_min(window, b, 0, wp.int32(col0))
        wp.atomic_min(window, b, 1, wp.int32(row0))
        wp.atomic_max(window, b, 2, wp.int32(col1))
        wp.atomic_max(window, b, 3, wp.int32(row1))
        # edge k joins corner k+1 -> k+2 (opposite corner k)
        lx0, ly0, dx0, dy0, s0 = canonical_edge(x1, y1, x2, y2)
        lx1, ly1, dx1, dy1, s1 = canonical_edge(x2, y2, x0, y0)
        lx2, ly2, dx2, dy2, s2 = canonical_edge(x0, y0, x1, y1)
        area_sign = wp.sign(area2)
        pos0, pos1, pos2 = s0 * area_sign > zero, s1 * area_sign > zero, s2 * area_sign > zero
        w0, w1, w2 = s0 / z0, s1 / z1, s2 / z2
        face_bits = wp.int64(f)
        for row in range(row0, row1 + 1):
            py = type(zero)(row)
            for col in range(col0, col1 + 1):
                px = type(zero)(col)
                e0 = dx0 * (py - ly0) - dy0 * (px - lx0)
                if (e0 >= zero) != pos0:
                    continue
                e1 = dx1 * (py - ly1) - dy1 * (px - lx1)
                if (e1 >= zero) != pos1:
                    continue
                e2 = dx2 * (py - ly2) - dy2 * (px - lx2)
                if (e2 >= zero) != pos2:
                    continue
                inv_depth = zero + e0 * w0
                inv_depth = inv_depth + e1 * w1
                inv_depth = inv_depth + e2 * w2
                depth = area2 / inv_depth
                if depth > zero:
                    key = (wp.int64(float_bits(wp.float32(depth))) << wp.int64(32)) | face_bits
                    wp.atomic_min(keys, b, row, col, key)
