"""Compiled render kernels (NVIDIA Warp): one source for CPU and CUDA.

The kernels do what PyTorch does slowly, as chains of ops at memory speed: the discrete searches (which
face covers each pixel; which pixel pairs straddle a silhouette and through which edge) and, when no input
needs a gradient, the whole forward pass (shading and every ground-truth layer). The PyTorch modules of
:mod:`synthhuman.render` stay the readable reference the kernels are tested against, and the gradient
path. Warp is imported on first use only (``warp_available()`` says whether it can be).

    keys = zbuffer(verts_cam, faces, K, (H, W)).keys     # (B, H, W) int64 packed (depth, face) keys
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from synthhuman.conventions import DEFAULT_ZNEAR
from synthhuman.render.kernels.runtime import (
    BufferPool,
    Relaunch,
    buffers_from,
    cpu_workers,
    device_name,
    empty,
    fill_frames,
    frame_chunks,
    kernel_threads,
    launch,
    launch_by_frames,
    scalar,
    view,
    warp_available,
    work_chunk,
)

__all__ = [
    "BufferPool",
    "CameraVertices",
    "buffers_from",
    "apply_blended_transforms",
    "DepthKeys",
    "EMPTY_KEY",
    "FACE_MASK",
    "cpu_workers",
    "covered_pixels",
    "front_leaves",
    "frame_chunks",
    "kernel_threads",
    "warp_available",
    "zbuffer",
    "zbuffer_world",
]

EMPTY_KEY = torch.iinfo(torch.int64).max
"""Key of a pixel no face covers."""
FACE_MASK = 0xFFFFFFFF
"""``key & FACE_MASK`` is the face id of a covered pixel's key."""


@dataclass(frozen=True)
class DepthKeys:
    """The z-buffer: keys (B, H, W) int64, ``float32 depth bits << 32 | face`` of the nearest covering face
    (:data:`EMPTY_KEY` where none), and window (B, 4) int32, each frame's box (x0, y0, x1, y1), inclusive,
    holding every covered pixel (x0 > x1 for an empty frame)."""

    keys: Tensor
    window: Tensor


def zbuffer(
    verts: Tensor,
    faces: Tensor,
    K: Tensor,
    image_size: tuple[int, int],
    *,
    cull_backfaces: bool = False,
    znear: float = DEFAULT_ZNEAR,
) -> DepthKeys:
    """The z-buffer of :func:`synthhuman.render.rasterize` as Warp kernels: identical keys.

    verts: (B, V, 3) float32/float64 camera space; faces (F, 3) int64; K (B, 3, 3) (checked by the
    caller)."""
    from synthhuman.render.kernels import _raster

    b, v = verts.shape[:2]
    verts, K = verts.detach(), K.detach()
    sx, sy = verts.new_empty(b, v), verts.new_empty(b, v)
    near = scalar(znear, verts.dtype)
    dev = device_name(verts)
    views = [view(t) for t in (verts, K, sx, sy)]
    project = Relaunch(_raster.project_vertices, dev, [*views[:2], near], [work_chunk(dev), *views[2:]])
    return _zbuffer(verts, faces, image_size, cull_backfaces, near, sx, sy, project)


@dataclass(frozen=True)
class CameraVertices:
    """What :func:`zbuffer_world` computes per vertex: verts (B, V, 3) camera space and screen (B, V, 2)
    pixel positions, both as :mod:`synthhuman.render.cameras` computes them (bit for bit)."""

    verts: Tensor
    screen: Tensor


def zbuffer_world(
    verts: Tensor,
    R: Tensor,
    t: Tensor,
    K: Tensor,
    faces: Tensor,
    image_size: tuple[int, int],
    *,
    cull_backfaces: bool = False,
    znear: float = DEFAULT_ZNEAR,
) -> tuple[DepthKeys, CameraVertices]:
    """:func:`zbuffer` of world-space vertices (B, V, 3) seen by cameras R (B, 3, 3), t (B, 3), K (B, 3, 3):
    the vertices are moved into each camera and projected in the same kernel pass."""
    from synthhuman.render.kernels import _raster

    b, v = verts.shape[:2]
    dt, dev_t = verts.dtype, verts.device
    verts_cam, screen = empty((b, v, 3), dt, dev_t), empty((b, v, 2), dt, dev_t)
    sx, sy = empty((b, v), dt, dev_t), empty((b, v), dt, dev_t)
    near = scalar(znear, verts.dtype)
    dev = device_name(verts)
    inputs = [view(x.detach()) for x in (verts, R, t, K)]
    outputs = [view(x) for x in (verts_cam, screen, sx, sy)]
    project = Relaunch(_raster.camera_vertices, dev, [*inputs, near], [work_chunk(dev), *outputs])
    keys = _zbuffer(verts_cam, faces, image_size, cull_backfaces, near, sx, sy, project)
    return keys, CameraVertices(verts_cam, screen)


def _zbuffer(verts_cam, faces, image_size, cull_backfaces, near, sx, sy, project: Relaunch) -> DepthKeys:
    """Per run of frames: the per-vertex kernel ``project`` (a thread per chunk of vertices; it fills
    ``sx``, ``sy`` (B, V) and whatever else it computes), then the per-face z-buffer; runs in parallel."""
    from synthhuman.render.kernels import _raster

    h, w = image_size
    (b, v), f = verts_cam.shape[:2], faces.shape[0]
    dev = device_name(verts_cam)
    keys = empty((b, h, w), torch.int64, verts_cam.device)  # filled run by run
    window = torch.tensor([w, h, -1, -1], dtype=torch.int32, device=verts_cam.device).repeat(b, 1)
    chunk = work_chunk(dev)
    cull = int(cull_backfaces)
    scan_args = [view(sx), view(sy), view(verts_cam), view(faces), near, cull]
    scan = Relaunch(_raster.zbuffer_faces, dev, scan_args, [chunk, view(keys), view(window)])

    def run(start: int, stop: int) -> None:
        fill_frames(keys, start, stop, EMPTY_KEY)
        project((stop - start, -(-v // chunk)), start)
        scan((stop - start, -(-f // chunk)), start)

    if b > 0 and f > 0:
        launch_by_frames(b, dev, run)
    else:
        keys.fill_(EMPTY_KEY)
    return DepthKeys(keys, window)


def apply_blended_transforms(blend: Tensor, rest: Tensor, out: Tensor | None = None) -> Tensor:
    """Linear blend skinning's per-vertex step as a Warp kernel: (B, V, 12) blended row-major 3x4 joint
    transforms applied to (B, V, 3) rest vertices (an expanded batch is read in place), into ``out``
    (B, V, 3) (new when None); the bits of :func:`synthhuman.body.model._apply_blend`.
    float32 or float64, all on one device, no gradient."""
    from synthhuman.render.kernels import _skin

    b, v = rest.shape[:2]
    out = rest.new_empty(b, v, 3) if out is None else out
    if b and v:
        dev = device_name(rest)
        chunk = work_chunk(dev)
        args = [view(blend.detach()), view(rest.detach()), chunk, view(out)]
        launch(_skin.apply_blended_transforms, (b, -(-v // chunk)), args, dev)
    return out


def front_leaves(box: Tensor, shape: Tensor, height: int, width: int) -> Tensor:
    """(H * W,) int64: at each pixel (row-major) the first leaf (front to back) covering it, ``n`` where
    none does, as a Warp kernel (:func:`synthhuman.appearance.natural.dead_leaves_background`'s occlusion;
    the same winners as its every-pair reference). box: (n, 4) int64 x0, x1, y0, y1 (half-open pixel
    ranges); shape: (n, 7) float32 centre x, y, cos, sin, 1 / half-length, 1 / half-width, rectangle flag.
    On CPU."""
    from synthhuman.render.kernels import _leaves

    n = box.shape[0]
    winner = torch.full((height * width,), n, dtype=torch.int64)
    if winner.numel() and n:
        args = [view(box.contiguous()), view(shape.contiguous()), width, view(winner)]
        launch(_leaves.front_leaf, n, args, "cpu")
    return winner


def covered_pixels(keys: Tensor) -> tuple[Tensor, Tensor]:
    """Covered pixels (N,) (flat into B*H*W, ascending) and their faces (N,) from (B, H, W) keys."""
    flat = keys.view(-1)
    covered = (flat != EMPTY_KEY).nonzero().squeeze(1)
    return covered, flat.index_select(0, covered) & FACE_MASK
