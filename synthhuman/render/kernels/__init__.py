"""Compiled render kernels (NVIDIA Warp): one source for CPU and CUDA.

The kernels do what PyTorch does slowly, as chains of ops at memory speed: the discrete searches (which
face covers each pixel; which pixel pairs straddle a silhouette and through which edge) and, when no input
needs a gradient, the whole forward pass (shading and every ground-truth layer). The PyTorch modules of
:mod:`synthhuman.render` stay the readable reference the kernels are tested against, and the gradient
path. Warp is imported on first use only (``warp_available()`` says whether it can be).

    keys = zbuffer(verts_cam, faces, K, (H, W))     # (B, H, W) int64 packed (depth, face) keys
"""

from __future__ import annotations

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
)

__all__ = [
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


def zbuffer(
    verts: Tensor,
    faces: Tensor,
    K: Tensor,
    image_size: tuple[int, int],
    *,
    cull_backfaces: bool = False,
    znear: float = DEFAULT_ZNEAR,
) -> Tensor:
    """The z-buffer of :func:`synthhuman.render.rasterize` as a Warp kernel.

    verts: (B, V, 3) float32/float64 camera space; faces (F, 3) int64; K (B, 3, 3) (checked by the
    caller). Returns keys (B, H, W) int64: ``float32 depth bits << 32 | face`` of the nearest covering face,
    :data:`EMPTY_KEY` where none; identical to the PyTorch path's keys.
    """
    from synthhuman.render.kernels import _raster

    h, w = image_size
    b, v = verts.shape[:2]
    dev = device_name(verts)
    verts, K, faces = verts.detach().contiguous(), K.detach().contiguous(), faces.contiguous()
    keys = torch.full((b, h, w), EMPTY_KEY, dtype=torch.int64, device=verts.device)
    sx, sy = verts.new_empty(b, v), verts.new_empty(b, v)
    near = _scalar(znear, verts.dtype)
    args = [view(t) for t in (verts, K)]
    out = [view(t) for t in (sx, sy)]
    face_view, key_view = view(faces), view(keys)
    f = faces.shape[0]

    def run(start: int, stop: int) -> None:
        launch(_raster.project_vertices, (stop - start, v), [*args, near, start, *out], dev)
        cull = int(cull_backfaces)
        scan = [*out, args[0], face_view, near, cull, start, key_view]
        launch(_raster.zbuffer_faces, (stop - start, f), scan, dev)

    if b > 0 and f > 0:
        launch_by_frames(b, dev, run)
    return keys


def covered_pixels(keys: Tensor) -> tuple[Tensor, Tensor]:
    """Covered pixels (N,) (flat into B*H*W, ascending) and their faces (N,) from (B, H, W) keys."""
    flat = keys.view(-1)
    covered = (flat != EMPTY_KEY).nonzero().squeeze(1)
    return covered, flat.index_select(0, covered) & FACE_MASK
