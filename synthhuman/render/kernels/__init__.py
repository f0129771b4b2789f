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
    cpu_workers,
    device_name,
    frame_chunks,
    launch,
    launch_by_frames,
    view,
    warp,
    warp_available,
    work_chunk,
)

__all__ = [
    "DepthKeys",
    "EMPTY_KEY",
    "FACE_MASK",
    "cpu_workers",
    "covered_pixels",
    "frame_chunks",
    "warp_available",
    "zbuffer",
]

EMPTY_KEY = torch.iinfo(torch.int64).max
"""Key of a pixel no face covers."""
FACE_MASK = 0xFFFFFFFF
"""``key & FACE_MASK`` is the face id of a covered pixel's key."""


def _scalar(value: float, dtype: torch.dtype):
    wp = warp()
    return wp.float64(value) if dtype == torch.float64 else wp.float32(value)


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

    h, w = image_size
    b, v = verts.shape[:2]
    f = faces.shape[0]
    dev = device_name(verts)
    verts, K, faces = verts.detach().contiguous(), K.detach().contiguous(), faces.contiguous()
    keys = torch.full((b, h, w), EMPTY_KEY, dtype=torch.int64, device=verts.device)
    window = torch.tensor([w, h, -1, -1], dtype=torch.int32, device=verts.device).repeat(b, 1)
    sx, sy = verts.new_empty(b, v), verts.new_empty(b, v)
    near = _scalar(znear, verts.dtype)
    args = [view(t) for t in (verts, K)]
    out = [view(t) for t in (sx, sy)]
    face_view, key_view, window_view = view(faces), view(keys), view(window)
    per_thread = work_chunk(dev)
    cull = int(cull_backfaces)

    def run(start: int, stop: int) -> None:
        vdim = (stop - start, -(-v // per_thread))
        launch(_raster.project_vertices, vdim, [*args, near, start, per_thread, *out], dev)
        scan = [*out, args[0], face_view, near, cull, start, per_thread, key_view, window_view]
        launch(_raster.zbuffer_faces, (stop - start, -(-f // per_thread)), scan, dev)

    if b > 0 and f > 0:
        launch_by_frames(b, dev, run)
    return DepthKeys(keys, window)


def covered_pixels(keys: Tensor) -> tuple[Tensor, Tensor]:
    """Covered pixels (N,) (flat into B*H*W, ascending) and their faces (N,) from (B, H, W) keys."""
    flat = keys.view(-1)
    covered = (flat != EMPTY_KEY).nonzero().squeeze(1)
    return covered, flat.index_select(0, covered) & FACE_MASK
