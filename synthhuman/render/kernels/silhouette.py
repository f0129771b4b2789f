"""Silhouette anti-aliasing on Warp kernels: the search for silhouette edges between neighbouring pixels
(for the differentiable blend of :mod:`synthhuman.render.antialiasing`), and the whole blend for the
no-grad forward pass.

    hit_face, hit_edge = silhouette_search(pix_to_face, depth, screen, faces, adjacency, K)
    image = antialias_forward(color, pix_to_face, depth, screen, faces, adjacency, K)

Both read the faces seen from ``pix_to_face`` (-1 where empty) or, equally, from the z-buffer's keys
(:func:`synthhuman.render.kernels.zbuffer`, whose low 32 bits name the face), and give what the PyTorch
reference gives: the same pairs and the same edges; the blended colours differ from it only by the order
in which the (up to four) changes into one pixel are summed. On CUDA one thread per pixel; on CPU, where a
Warp thread costs about as much as a cheap pixel, one per frame (skipping the columns far from any covered
pixel), the frames split over worker threads. Each thread writes only its own pixels: no atomics, no host
synchronisation, the same bytes whatever the split. Warp is imported on first use only.
"""

from __future__ import annotations

import torch
from torch import Tensor

from synthhuman.render.kernels.runtime import (
    Relaunch,
    as_int32,
    copy_frames,
    device_name,
    empty,
    launch_by_frames,
    scalar,
    view,
)

__all__ = [
    "CONTINUOUS_SURFACE_FOOTPRINTS",
    "MAX_WALK",
    "antialias_forward",
    "antialias_in_place",
    "silhouette_codes",
    "silhouette_search",
]

CONTINUOUS_SURFACE_FOOTPRINTS = 1.5
"""Default depth gap, in pixel footprints, below which covered neighbours are one surface (the reference's
``_CONTINUOUS_SURFACE_FOOTPRINTS``, which it passes explicitly)."""
MAX_WALK = 64
"""Default number of faces followed along a pair's segment (the reference's ``_MAX_WALK``)."""

_FLOATS = (torch.float32, torch.float64)


def _check(
    pix_to_face: Tensor, depth: Tensor, screen: Tensor, faces: Tensor, adjacency: Tensor, K: Tensor
) -> None:
    b, h, w = pix_to_face.shape if pix_to_face.ndim == 3 else (None, None, None)
    if b is None or pix_to_face.dtype != torch.int64:
        raise ValueError(
            f"pix_to_face: expected (B, H, W) int64, got {tuple(pix_to_face.shape)} {pix_to_face.dtype}"
        )
    if tuple(depth.shape) != (b, h, w):
        raise ValueError(f"depth: expected shape {(b, h, w)}, got {tuple(depth.shape)}")
    if screen.ndim != 3 or screen.shape[0] != b or screen.shape[2] != 2:
        raise ValueError(f"screen: expected ({b}, V, 2), got {tuple(screen.shape)}")
    if K.ndim != 3 or tuple(K.shape) != (b, 3, 3):
        raise ValueError(f"K: expected ({b}, 3, 3), got {tuple(K.shape)}")
    for name, t in (("faces", faces), ("adjacency", adjacency)):
        if t.ndim != 2 or t.shape[1] != 3 or t.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"{name}: expected (F, 3) int64 (or int32), got {tuple(t.shape)} {t.dtype}")
    if faces.shape[0] != adjacency.shape[0]:
        raise ValueError(f"adjacency: expected {faces.shape[0]} rows (one per face), got {adjacency.shape}")
    if faces.shape[0] >= 2**31 or screen.shape[1] >= 2**31:
        raise ValueError(f"faces: at most 2**31 - 1 faces and vertices (int32 ids), got {faces.shape[0]}")
    if screen.dtype not in _FLOATS or depth.dtype != screen.dtype or K.dtype != screen.dtype:
        raise ValueError(
            "depth, screen and K: expected one dtype, float32 or float64, got "
            f"{depth.dtype}, {screen.dtype}, {K.dtype}"
        )
    if b * h * w >= 2**31:
        raise ValueError(
            f"pix_to_face: at most 2**31 - 1 pixels per call (Warp's index range), got {b * h * w}"
        )
    devices = {t.device for t in (pix_to_face, depth, screen, faces, adjacency, K)}
    if len(devices) > 1:
        raise ValueError(f"tensors on different devices: {sorted(map(str, devices))}")


def _check_color(
    color: Tensor,
    pix_to_face: Tensor,
    depth: Tensor,
    screen: Tensor,
    faces: Tensor,
    adjacency: Tensor,
    K: Tensor,
) -> tuple[int, int, int]:
    """:func:`_check`, and ``color`` (B, H, W, C) float32/float64 on pix_to_face's device. Returns B, H, W."""
    _check(pix_to_face, depth, screen, faces, adjacency, K)
    b, h, w = pix_to_face.shape
    if color.ndim != 4 or tuple(color.shape[:3]) != (b, h, w) or color.dtype not in _FLOATS:
        raise ValueError(
            f"color: expected ({b}, {h}, {w}, C) float32/float64, got {tuple(color.shape)} {color.dtype}"
        )
    if color.device != pix_to_face.device:
        raise ValueError(f"color: expected device {pix_to_face.device}, got {color.device}")
    return b, h, w


def _window(window: Tensor | None, b: int, h: int, w: int, like: Tensor):
    """A Warp view of (B, 4) int32 boxes (x0, y0, x1, y1) holding every covered pixel: ``window`` (as the
    z-buffer gives it), or the whole frame."""
    if window is None:
        window = torch.tensor([0, 0, w - 1, h - 1], dtype=torch.int32, device=like.device).repeat(b, 1)
    elif tuple(window.shape) != (b, 4) or window.dtype != torch.int32:
        raise ValueError(f"window: expected ({b}, 4) int32, got {tuple(window.shape)} {window.dtype}")
    return view(window.contiguous())


def _tiling(device: str, height: int, width: int) -> tuple[int, int]:
    """Pixels per thread, (rows, columns): a whole frame on CPU (a Warp CPU thread costs about as much as a
    cheap pixel, and a thread that owns whole rows skips the columns far from any covered pixel), one pixel
    on CUDA. Any tiling gives the same bytes (the tests try several)."""
    return (height, width) if device == "cpu" else (1, 1)


def _views(pix_to_face: Tensor, depth: Tensor, screen: Tensor, faces: Tensor, adjacency: Tensor, K: Tensor):
    """Kernel arguments: pix_to_face (B, H, W) and flat (B*H*W,), then the others; faces and adjacency as
    int32 (half the cache lines per step of a walk: the anti-aliasing pass 6 % faster)."""
    pix_to_face = pix_to_face.contiguous()
    tensors = (depth, screen, as_int32(faces), as_int32(adjacency), K)
    return [view(pix_to_face), view(pix_to_face.view(-1))] + [view(t.detach().contiguous()) for t in tensors]


def silhouette_search(
    pix_to_face: Tensor,
    depth: Tensor,
    screen: Tensor,
    faces: Tensor,
    adjacency: Tensor,
    K: Tensor,
    *,
    continuous_footprints: float = CONTINUOUS_SURFACE_FOOTPRINTS,
    max_walk: int = MAX_WALK,
) -> tuple[Tensor, Tensor]:
    """The silhouette edge of every neighbour pixel pair, found as the PyTorch walk finds it.

    pix_to_face: (B, H, W) int64, -1 where empty (or the z-buffer's keys: the same pairs). depth: (B, H, W)
    float32/float64, 0 where empty.
    screen: (B, V, 2) projected vertices (pixels), depth's dtype. faces: (F, 3) int64. adjacency: (F, 3)
    int64, the face across edge k (corner k+1 -> k+2), -1 on a boundary. K: (B, 3, 3), depth's dtype.
    All on one device (cpu or cuda); nothing here is differentiated.

    Returns (hit_face, hit_edge), each (2, B, H, W) int64: for the pair of pixel (y, x) with its right
    neighbour ([0]) and with the one below ([1]), the face and the edge index (0..2) of the silhouette edge
    the segment between the pixel centres crosses; -1 where the pair is no candidate or none is found.
    """
    codes = silhouette_codes(
        pix_to_face,
        depth,
        screen,
        faces,
        adjacency,
        K,
        continuous_footprints=continuous_footprints,
        max_walk=max_walk,
    )
    found = codes >= 0
    return torch.where(found, codes >> 2, -1).long(), torch.where(found, codes & 3, -1).long()


def silhouette_codes(
    pix_to_face: Tensor,
    depth: Tensor,
    screen: Tensor,
    faces: Tensor,
    adjacency: Tensor,
    K: Tensor,
    *,
    continuous_footprints: float = CONTINUOUS_SURFACE_FOOTPRINTS,
    max_walk: int = MAX_WALK,
    window: Tensor | None = None,
) -> Tensor:
    """:func:`silhouette_search` packed: (2, B, H, W) int32 ``face * 4 + edge``, -1 where no hit (a quarter
    of the memory: what the anti-aliasing itself uses). Needs F < 2**29 faces."""
    _check(pix_to_face, depth, screen, faces, adjacency, K)
    if faces.shape[0] >= 2**29:
        raise ValueError(f"faces: at most 2**29 - 1 faces, got {faces.shape[0]}")
    b, h, w = pix_to_face.shape
    codes = torch.full((2, b, h, w), -1, dtype=torch.int32, device=pix_to_face.device)
    if codes.numel() == 0:
        return codes
    from synthhuman.render.kernels import _antialias

    dev = device_name(pix_to_face)
    footprints = scalar(continuous_footprints, depth.dtype)
    args = [*_views(pix_to_face, depth, screen, faces, adjacency, K), footprints]
    outs = [view(codes[0].view(-1)), view(codes[1].view(-1))]
    rows, columns = _tiling(dev, h, w)
    window = _window(window, b, h, w, pix_to_face)

    kernel = Relaunch(
        _antialias.silhouette_search, dev, [*args, int(max_walk)], [rows, columns, window, *outs]
    )

    def run(start: int, stop: int) -> None:
        kernel((stop - start, -(-h // rows), -(-w // columns)), start)

    launch_by_frames(b, dev, run)
    return codes


def antialias_forward(
    color: Tensor,
    pix_to_face: Tensor,
    depth: Tensor,
    screen: Tensor,
    faces: Tensor,
    adjacency: Tensor,
    K: Tensor,
    clamp: bool = True,
    *,
    continuous_footprints: float = CONTINUOUS_SURFACE_FOOTPRINTS,
    max_walk: int = MAX_WALK,
    window: Tensor | None = None,
) -> Tensor:
    """Silhouette anti-aliasing without gradients: :func:`synthhuman.render.antialias` in one kernel.

    color: (B, H, W, C) float32 (or float64) image. The other arguments as in :func:`silhouette_search`.
    Returns a new (B, H, W, C) image of color's dtype: each pixel's colour plus every blend change that
    targets it (from its pairs with the left, right, upper and lower neighbour), clamped to [0, 1] when
    ``clamp``. Equal to the reference up to the order of summation (within 1e-5 in float32). ``window``
    (B, 4) int32, optional: each frame's box (x0, y0, x1, y1) holding every covered pixel (the z-buffer's),
    so that the scan skips the rest.
    """
    b, h, w = _check_color(color, pix_to_face, depth, screen, faces, adjacency, K)
    color = color.detach().contiguous()
    # every pixel first takes its own colour (a bulk copy of each run's frames, on CPU in the worker thread
    # beside the other workers' kernels); the kernel rewrites those pairs blend into
    out = empty(color.shape, color.dtype, color.device)
    if out.numel() == 0:
        return out
    from synthhuman.render.kernels import _antialias

    dev = device_name(color)
    rows, columns = _tiling(dev, h, w)
    carry = color.new_empty((b, w) if rows > 1 else (1, 1))
    window = _window(window, b, h, w, color)
    args = [
        view(color),
        *_views(pix_to_face, depth, screen, faces, adjacency, K),
        scalar(continuous_footprints, depth.dtype),
        int(max_walk),
        int(bool(clamp)),
    ]
    kernel = Relaunch(
        _antialias.antialias_forward, dev, args, [rows, columns, window, view(carry), view(out)]
    )

    def run(start: int, stop: int) -> None:
        copy_frames(out, color, start, stop, clamp=clamp)
        kernel((stop - start, -(-h // rows), -(-w // columns)), start)

    launch_by_frames(b, dev, run)
    return out


def antialias_in_place(
    color: Tensor,
    background: Tensor,
    pix_to_face: Tensor,
    depth: Tensor,
    screen: Tensor,
    faces: Tensor,
    adjacency: Tensor,
    K: Tensor,
    *,
    continuous_footprints: float = CONTINUOUS_SURFACE_FOOTPRINTS,
    max_walk: int = MAX_WALK,
    window: Tensor | None = None,
) -> Tensor:
    """:func:`antialias_forward` with ``clamp``, written over ``color`` (CPU): no output image to allocate,
    fill and read back, one frame per thread.

    color: (B, H, W, C) float32 (or float64), contiguous: the shading at covered pixels and ``background``
    clamped to [0, 1] at the others (as :func:`synthhuman.render.kernels.forward.shade_layers` writes it
    with ``clamp_background``). background: (B, H, W, C) of color's dtype (strides may be 0, as for one
    background expanded over the batch), unclamped. Afterwards ``color`` holds what
    :func:`antialias_forward` gives for the image that is the shading at covered pixels and ``background``
    elsewhere: every pair's change computed from that image's colours, summed in the same order, the result
    clamped to [0, 1] (the same bytes). The other arguments as in :func:`antialias_forward`. Returns
    ``color``."""
    b, h, w = _check_color(color, pix_to_face, depth, screen, faces, adjacency, K)
    if color.device.type != "cpu" or not color.is_contiguous():
        raise ValueError(f"color: expected a contiguous CPU tensor, got device {color.device}")
    if (
        background.shape != color.shape
        or background.dtype != color.dtype
        or background.device != color.device
    ):
        raise ValueError(
            f"background: expected {tuple(color.shape)} {color.dtype} on {color.device}, got "
            f"{tuple(background.shape)} {background.dtype} on {background.device}"
        )
    if color.numel() == 0:
        return color
    from synthhuman.render.kernels import _antialias_in_place

    carry = color.new_empty((b, w))
    saved = color.new_empty((b, w, color.shape[3]))
    args = [
        view(color),
        view(background.detach()),
        *_views(pix_to_face, depth, screen, faces, adjacency, K),
        scalar(continuous_footprints, depth.dtype),
        int(max_walk),
    ]
    window = _window(window, b, h, w, color)
    kernel = Relaunch(_antialias_in_place.antialias_in_place, "cpu", args, [window, view(carry), view(saved)])

    def run(start: int, stop: int) -> None:
        kernel(stop - start, start)

    launch_by_frames(b, "cpu", run)
    return color
