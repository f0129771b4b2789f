"""Warp kernels of the fused no-grad forward (float32): one thread per pixel for fragments, vertex normals,
texture, shading, composite, the label layers and optical flow; one per joint for the joints.

Each quantity follows its PyTorch reference expression for expression (``render.raster.barycentrics``,
``render.texture``, ``render.shading``, ``gt.flow``); only sums whose order PyTorch leaves to its kernels
(vertex normals) are summed in a fixed order of our own; the joints follow ``gt.project_joints``. Imported
only when the warp backend is used.
"""

from __future__ import annotations

import warp as wp

from synthhuman.render.kernels._raster import to_camera, to_pixels

# no autodiff (PyTorch is the gradient path); no FMA contraction: the same bits on CPU and CUDA
wp.set_module_options({"enable_backward": False, "fuse_fp": False})

_EMPTY = wp.constant(wp.int64(0x7FFFFFFFFFFFFFFF))
_FACE_MASK = wp.constant(wp.int64(0xFFFFFFFF))
_C1, _C2, _C3, _C4, _C5 = (
    wp.constant(wp.float32(c)) for c in (0.429043, 0.511664, 0.743125, 0.886227, 0.247708)
)


@wp.func
def vertex_normal(
    world: wp.array3d(dtype=wp.float32),
    offsets: wp.array(dtype=wp.int64),
    corners: wp.array2d(dtype=wp.int32),
    b: int,
    v: int,
):
    """The unit area-weighted normal of vertex v of frame b (world axes): the (v1 - v0) x (v2 - v0) of the
    vertex's faces (``offsets``/``corners``: CSR, face order, each face as its corners' vertex ids, read in
    one run) of the ``world`` vertices (B, V, 3), summed in face order (as ``render.mesh.vertex_normals``
    forms them; it leaves the order to its kernels)."""
    sx, sy, sz = float(0.0), float(0.0), float(0.0)  # noqa: UP018  (warp: a variable, not a constant)
    for j in range(int(offsets[v]), int(offsets[v + 1])):
        i0, i1, i2 = corners[j, 0], corners[j, 1], corners[j, 2]
        ax = world[b, i1, 0] - world[b, i0, 0]
        ay = world[b, i1, 1] - world[b, i0, 1]
        az = world[b, i1, 2] - world[b, i0, 2]
        bx = world[b, i2, 0] - world[b, i0, 0]
        by = world[b, i2, 1] - world[b, i0, 1]
        bz = world[b, i2, 2] - world[b, i0, 2]
        sx += ay * bz - az * by
        sy += az * bx - ax * bz
        sz += ax * by - ay * bx
    length = wp.max(wp.sqrt(sx * sx + sy * sy + sz * sz), 1.0e-12)
    return wp.vec3f(sx / length, sy / length, sz / length)


@wp.kernel
def vertex_normals(
    world: wp.array3d(dtype=wp.float32),
    offsets: wp.array(dtype=wp.int64),
    corners: wp.array2d(dtype=wp.int32),
    frame0: int,
    chunk: int,
    seen: wp.array2d(dtype=wp.uint8),
    everyone: int,
    normals: wp.array3d(dtype=wp.float32),
):
    """:func:`vertex_normal` of the vertices [c * chunk, (c + 1) * chunk) of frame frame0 + i that
    ``seen`` (B, V) marks (all of them when ``everyone``), in vertex order, into ``normals`` (B, V, 3)
    (left as they are for the others)."""
    i, c = wp.tid()
    b = frame0 + i
    for v in range(c * chunk, wp.min((c + 1) * chunk, normals.shape[1])):
        if everyone == 0:
            if seen[b, v] == wp.uint8(0):  # read only here: ``seen`` may be a dummy when ``everyone``
                continue
        n = vertex_normal(world, offsets, corners, b, v)
        normals[b, v, 0] = n[0]
        normals[b, v, 1] = n[1]
        normals[b, v, 2] = n[2]


@wp.func
def window_columns(window: wp.array2d(dtype=wp.int32), b: int, row: int, s: int, span: int):
    """The columns [start, stop) of thread s's span (``span`` pixels) of row ``row`` of frame b that lie in
    the frame's ``window`` (B, 4) (x0, y0, x1, y1, inclusive): none where the row is outside it."""
    if row < int(window[b, 1]) or row > int(window[b, 3]):
        return 0, 0
    return wp.max(s * span, int(window[b, 0])), wp.min((s + 1) * span, int(window[b, 2]) + 1)


@wp.kernel
def mark_seen_vertices(
    keys: wp.array3d(dtype=wp.int64),
    faces: wp.array2d(dtype=wp.int32),
    window: wp.array2d(dtype=wp.int32),
    frame0: int,
    span: int,
    seen: wp.array2d(dtype=wp.uint8),
):
    """Mark in ``seen`` (B, V) the corners of the face at each covered pixel among [s * span, (s + 1) *
    span) of row ``row`` of frame frame0 + i (``seen`` holds zeros beforehand; threads that mark one vertex
    all write 1)."""
    i, row, s = wp.tid()
    b = frame0 + i
    start, stop = window_columns(window, b, row, s, span)
    for col in range(start, stop):
        key = keys[b, row, col]
        if key != _EMPTY:
            f = key & _FACE_MASK
            seen[b, faces[f, 0]] = wp.uint8(1)
            seen[b, faces[f, 1]] = wp.uint8(1)
            seen[b, faces[f, 2]] = wp.uint8(1)


@wp.func
def perspective_bary(
    verts: wp.array3d(dtype=wp.float32),
    K: wp.array3d(dtype=wp.float32),
    b: int,
    i0: wp.int64,
    i1: wp.int64,
    i2: wp.int64,
    px: float,
    py: float,
):
    """Perspective-correct barycentrics and planar depth at pixel centre (px, py), as
    ``render.raster.barycentrics``, and the face's screen area (twice, unsigned: for the mip level).
    Returns (b0, b1, b2, depth, area)."""
    k00, k01, k02, k11, k12 = K[b, 0, 0], K[b, 0, 1], K[b, 0, 2], K[b, 1, 1], K[b, 1, 2]
    z0, z1, z2 = verts[b, i0, 2], verts[b, i1, 2], verts[b, i2, 2]
    x0 = k00 * verts[b, i0, 0] / z0 + k01 * verts[b, i0, 1] / z0 + k02
    x1 = k00 * verts[b, i1, 0] / z1 + k01 * verts[b, i1, 1] / z1 + k02
    x2 = k00 * verts[b, i2, 0] / z2 + k01 * verts[b, i2, 1] / z2 + k02
    y0 = k11 * verts[b, i0, 1] / z0 + k12
    y1 = k11 * verts[b, i1, 1] / z1 + k12
    y2 = k11 * verts[b, i2, 1] / z2 + k12
    e0 = (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)
    e1 = (x0 - x2) * (py - y2) - (y0 - y2) * (px - x2)
    e2 = (x1 - x0) * (py - y0) - (y1 - y0) * (px - x0)
    w0, w1, w2 = e0 / z0, e1 / z1, e2 / z2
    inv_depth = w0 + w1 + w2
    area = wp.abs((x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0))
    return w0 / inv_depth, w1 / inv_depth, w2 / inv_depth, (e0 + e1 + e2) / inv_depth, area


@wp.func
def bilinear(
    texels: wp.array2d(dtype=wp.float32),
    offsets: wp.array(dtype=wp.int64),
    heights: wp.array(dtype=wp.int64),
    widths: wp.array(dtype=wp.int64),
    level: int,
    tex: wp.int64,
    u: float,
    v: float,
):
    """Clamp-to-edge bilinear lookup of texture ``tex`` at mip ``level`` (as ``render.texture``)."""
    h, w = heights[level], widths[level]
    x = u * float(w) - 0.5
    y = (1.0 - v) * float(h) - 0.5
    x0f, y0f = wp.floor(x), wp.floor(y)
    fx, fy = x - x0f, y - y0f
    x0, y0 = wp.int64(x0f), wp.int64(y0f)
    base = offsets[level] + tex * h * w
    c0 = wp.min(wp.max(x0, wp.int64(0)), w - wp.int64(1))
    c1 = wp.min(wp.max(x0 + wp.int64(1), wp.int64(0)), w - wp.int64(1))
    r0 = base + wp.min(wp.max(y0, wp.int64(0)), h - wp.int64(1)) * w
    r1 = base + wp.min(wp.max(y0 + wp.int64(1), wp.int64(0)), h - wp.int64(1)) * w
    out = wp.vec3f()
    for c in range(3):
        top = texels[r0 + c0, c] * (1.0 - fx) + texels[r0 + c1, c] * fx
        bottom = texels[r1 + c0, c] * (1.0 - fx) + texels[r1 + c1, c] * fx
        out[c] = top * (1.0 - fy) + bottom * fy
    return out


@wp.func
def clamp01(value: float):
    """``value`` clamped to [0, 1], NaN kept (as torch's clamp and numpy's clip)."""
    if value < 0.0:
        return 0.0
    if value > 1.0:
        return 1.0
    return value


@wp.func
def irradiance(nx: float, ny: float, nz: float, sh: wp.array3d(dtype=wp.float32), b: int, p: int):
    """SH irradiance at a world normal, in SURREAL's axes (as ``render.shading.sh_irradiance``)."""
    x, y, z = nx, -ny, -nz
    L0, L1, L2, L3 = sh[b, p, 0], sh[b, p, 1], sh[b, p, 2], sh[b, p, 3]
    L4, L5, L6, L7, L8 = sh[b, p, 4], sh[b, p, 5], sh[b, p, 6], sh[b, p, 7], sh[b, p, 8]
    return (
        _C1 * L8 * (x * x - y * y)
        + _C3 * L6 * z * z
        + _C4 * L0
        - _C5 * L6
        + 2.0 * _C1 * (L4 * x * y + L7 * x * z + L5 * y * z)
        + 2.0 * _C2 * (L3 * x + L1 * y + L2 * z)
    )


@wp.func
def pixel_flow(
    keys: wp.array3d(dtype=wp.int64),
    verts: wp.array3d(dtype=wp.float32),
    faces: wp.array2d(dtype=wp.int32),
    K: wp.array3d(dtype=wp.float32),
    b: int,
    row: int,
    col: int,
    f: wp.int64,
    b0: float,
    b1: float,
    b2: float,
    other: wp.int64,
    tolerance: float,
    plane: wp.int64,
    zero_invalid: int,
    flow: wp.array4d(dtype=wp.float32),
    valid: wp.array3d(dtype=wp.bool),
):
    """Optical flow of covered pixel (row, col) of frame b (face f, perspective-correct barycentrics b0..b2)
    to frame ``other`` (-1: none), with the occlusion test against that frame's z-buffer, as
    ``gt.optical_flow``: where it is valid, or (unless ``zero_invalid``) wherever ``other`` exists, the flow
    is written (``flow``, ``valid`` hold zeros already). The depth seen at the landing pixel is computed from
    its key, as the shading computes it there (so no frame waits for another's layers), and only when the
    test needs it (another face lands there, and not both faces among the ground's, from face ``plane`` on:
    one plane never hides itself)."""
    h, w = keys.shape[1], keys.shape[2]
    if other < wp.int64(0):
        return
    o = int(other)
    i0, i1, i2 = wp.int64(faces[f, 0]), wp.int64(faces[f, 1]), wp.int64(faces[f, 2])
    x = verts[o, i0, 0] * b0 + verts[o, i1, 0] * b1 + verts[o, i2, 0] * b2
    y = verts[o, i0, 1] * b0 + verts[o, i1, 1] * b1 + verts[o, i2, 1] * b2
    z = verts[o, i0, 2] * b0 + verts[o, i1, 2] * b1 + verts[o, i2, 2] * b2
    u = K[o, 0, 0] * (x / z) + K[o, 0, 1] * (y / z) + K[o, 0, 2]
    v = K[o, 1, 1] * (y / z) + K[o, 1, 2]
    cu, cv = wp.rint(u), wp.rint(v)
    ok = z > 0.0 and cu >= 0.0 and cu <= float(w - 1) and cv >= 0.0 and cv <= float(h - 1)
    if ok:
        r, c = int(cv), int(cu)
        key_there = keys[o, r, c]
        if key_there != _EMPTY:
            f_there = key_there & _FACE_MASK
            if f_there != f and (f < plane or f_there < plane):
                j0, j1, j2 = (
                    wp.int64(faces[f_there, 0]),
                    wp.int64(faces[f_there, 1]),
                    wp.int64(faces[f_there, 2]),
                )
                _c0, _c1, _c2, z_there, _area = perspective_bary(verts, K, o, j0, j1, j2, float(c), float(r))
                ok = z <= z_there + tolerance
    if ok or zero_invalid == 0:
        flow[b, row, col, 0] = u - float(col)
        flow[b, row, col, 1] = v - float(row)
    if ok:
        valid[b, row, col] = True


@wp.kernel
def shade_pixels(
    keys: wp.array3d(dtype=wp.int64),
    verts: wp.array3d(dtype=wp.float32),
    faces: wp.array2d(dtype=wp.int32),
    K: wp.array3d(dtype=wp.float32),
    R: wp.array3d(dtype=wp.float32),
    normals: wp.array3d(dtype=wp.float32),
    uv: wp.array2d(dtype=wp.float32),
    uv_faces: wp.array2d(dtype=wp.int32),
    face_labels: wp.array(dtype=wp.int32),
    face_instance: wp.array(dtype=wp.int32),
    texels: wp.array2d(dtype=wp.float32),
    tex_offsets: wp.array(dtype=wp.int64),
    tex_heights: wp.array(dtype=wp.int64),
    tex_widths: wp.array(dtype=wp.int64),
    texel_area: float,
    texture_index: wp.array2d(dtype=wp.int64),
    sh: wp.array3d(dtype=wp.float32),
    next_frame: wp.array(dtype=wp.int64),
    prev_frame: wp.array(dtype=wp.int64),
    backward: int,
    tolerance: float,
    plane: wp.int64,
    clamp: int,
    window: wp.array2d(dtype=wp.int32),
    frame0: int,
    span: int,
    rgb: wp.array4d(dtype=wp.float32),
    depth: wp.array3d(dtype=wp.float32),
    normals_cam: wp.array4d(dtype=wp.float32),
    segm: wp.array3d(dtype=wp.uint8),
    instance: wp.array3d(dtype=wp.uint8),
    flow: wp.array4d(dtype=wp.float32),
    valid: wp.array3d(dtype=wp.bool),
    flow_back: wp.array4d(dtype=wp.float32),
    valid_back: wp.array3d(dtype=wp.bool),
):
    """Every per-pixel layer of the covered pixels among [s * span, (s + 1) * span) of row ``row`` of frame
    frame0 + i, from their z-buffer keys (the outputs hold the background and zeros already; a thread per
    pixel on CUDA, per row on CPU, where a thread costs more than an empty pixel): colour, depth, normals,
    labels, and the optical flow to frame ``next_frame[b]`` (:func:`pixel_flow`, zero where not valid) and,
    when ``backward``, to frame ``prev_frame[b]`` (kept wherever that frame exists; ``flow_back`` and
    ``valid_back`` are not touched otherwise); colours clamped to [0, 1] when ``clamp``. ``normals``
    (B, V, 3) holds the unit world normals of the vertices of every face seen (``mark_seen_vertices``, then
    ``vertex_normals``)."""
    i, row, s = wp.tid()
    b = frame0 + i
    start, stop = window_columns(window, b, row, s, span)
    for col in range(start, stop):
        key = keys[b, row, col]
        if key == _EMPTY:
            continue
        f = key & _FACE_MASK
        i0, i1, i2 = wp.int64(faces[f, 0]), wp.int64(faces[f, 1]), wp.int64(faces[f, 2])
        b0, b1, b2, z, screen_area = perspective_bary(verts, K, b, i0, i1, i2, float(col), float(row))
        # texture coordinates and mip level (ratio of the face's texel area to its pixel area)
        t0, t1, t2 = uv_faces[f, 0], uv_faces[f, 1], uv_faces[f, 2]
        u = uv[t0, 0] * b0 + uv[t1, 0] * b1 + uv[t2, 0] * b2
        v = uv[t0, 1] * b0 + uv[t1, 1] * b1 + uv[t2, 1] * b2
        du1, dv1 = uv[t1, 0] - uv[t0, 0], uv[t1, 1] - uv[t0, 1]
        du2, dv2 = uv[t2, 0] - uv[t0, 0], uv[t2, 1] - uv[t0, 1]
        uv_area = wp.abs(du1 * dv2 - dv1 * du2)
        px_area = wp.max(screen_area, 1.0e-12)
        lod = wp.max(0.5 * wp.log2(wp.max(uv_area * texel_area / px_area, 1.0e-12)), 0.0)
        lod = wp.clamp(lod, 0.0, float(tex_offsets.shape[0] - 1))
        l0 = int(wp.floor(lod))
        l1 = wp.min(l0 + 1, tex_offsets.shape[0] - 1)
        frac = lod - float(l0)
        p = int(face_instance[f]) - 1
        tex = texture_index[b, p]
        a0 = bilinear(texels, tex_offsets, tex_heights, tex_widths, l0, tex, u, v)
        a1 = bilinear(texels, tex_offsets, tex_heights, tex_widths, l1, tex, u, v)
        # world normal (where the light is), then in camera axes: n_cam = R n_world
        nx = normals[b, i0, 0] * b0 + normals[b, i1, 0] * b1 + normals[b, i2, 0] * b2
        ny = normals[b, i0, 1] * b0 + normals[b, i1, 1] * b1 + normals[b, i2, 1] * b2
        nz = normals[b, i0, 2] * b0 + normals[b, i1, 2] * b1 + normals[b, i2, 2] * b2
        length = wp.max(wp.sqrt(nx * nx + ny * ny + nz * nz), 1.0e-12)
        nx, ny, nz = nx / length, ny / length, nz / length
        light = wp.max(irradiance(nx, ny, nz, sh, b, p), 0.0)
        for c in range(3):
            value = (a0[c] * (1.0 - frac) + a1[c] * frac) * light
            if clamp != 0:
                value = clamp01(value)
            rgb[b, row, col, c] = value
        for c in range(3):
            normals_cam[b, row, col, c] = R[b, c, 0] * nx + R[b, c, 1] * ny + R[b, c, 2] * nz
        depth[b, row, col] = z
        segm[b, row, col] = wp.uint8(face_labels[f])
        instance[b, row, col] = wp.uint8(face_instance[f])
        nxt = next_frame[b]
        pixel_flow(keys, verts, faces, K, b, row, col, f, b0, b1, b2, nxt, tolerance, plane, 1, flow, valid)
        if backward != 0:
            prv = prev_frame[b]
            back, back_ok = flow_back, valid_back
            pixel_flow(
                keys, verts, faces, K, b, row, col, f, b0, b1, b2, prv, tolerance, plane, 0, back, back_ok
            )


@wp.kernel
def project_joints(
    joints: wp.array3d(dtype=wp.float32),
    R: wp.array3d(dtype=wp.float32),
    t: wp.array2d(dtype=wp.float32),
    K: wp.array3d(dtype=wp.float32),
    depth: wp.array3d(dtype=wp.float32),
    tolerance: wp.float32,
    joints_cam: wp.array3d(dtype=wp.float32),
    joints2d: wp.array3d(dtype=wp.float32),
    visible: wp.array2d(dtype=wp.bool),
):
    """Joint j of frame b: world (B, J, 3) into the camera (``render.cameras.world_to_camera``'s sums),
    projected (``render.cameras.project``), visible where in front, inside the image at its rounded pixel,
    and no surface there nearer than its depth minus ``tolerance`` (``depth`` (B, H, W), 0 where empty),
    as ``gt.project_joints``."""
    b, j = wp.tid()
    h, w = depth.shape[1], depth.shape[2]
    cx, cy, cz = to_camera(R, t, b, joints[b, j, 0], joints[b, j, 1], joints[b, j, 2])
    joints_cam[b, j, 0] = cx
    joints_cam[b, j, 1] = cy
    joints_cam[b, j, 2] = cz
    u, v = to_pixels(K, b, cx, cy, cz)
    joints2d[b, j, 0] = u
    joints2d[b, j, 1] = v
    col, row = wp.rint(u), wp.rint(v)
    seen = cz > 0.0 and col >= 0.0 and col <= float(w - 1) and row >= 0.0 and row <= float(h - 1)
    if seen:
        surface = depth[b, int(row), int(col)]
        seen = surface <= 0.0 or surface >= cz - tolerance
    visible[b, j] = seen
