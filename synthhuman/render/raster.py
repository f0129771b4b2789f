"""Batched triangle rasterization in plain PyTorch (the contract: ``docs/conventions.md``).

Design: faces are culled (back faces, near plane, boxes holding no pixel centre) on whole corner planes
before any per-face gather; every surviving face enumerates the pixel centres of its screen bounding box,
with faces bucketed by box size (powers of two in x and y) so work stays proportional to the covered
area; a z-buffer keeps, per pixel, the minimum of an int64 key packing ``float32 depth bits << 32 | face
id`` (positive floats order like their bit patterns), so ties break towards the lower face id,
deterministically. The z-buffer spans each frame's window (the box of its surviving faces), not the whole
frame: a body seen from afar covers a small part of the image. Only then are perspective-correct
barycentrics and depth recomputed, differentiably, for the winning face of each covered pixel.

Coverage uses a consistent fill rule: each edge function is evaluated with the edge's endpoints in a
canonical (lexicographic) order, so two faces sharing an edge see bit-identical values, and a pixel
centre exactly on a shared edge belongs to the face lying on the edge's positive side. A mesh that tiles
the screen covers every pixel exactly once.

Near plane: faces with any vertex at ``z <= znear`` are culled (not clipped); a mesh wholly behind the
camera renders empty.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import Tensor

from synthhuman.conventions import DEFAULT_ZNEAR
from synthhuman.render.checks import check_rasterizer_inputs
from synthhuman.render.corners import corner_sum
from synthhuman.render.gather import take_batched, take_rows
from synthhuman.render.kernels import covered_pixels, warp_available, zbuffer

BACKENDS = ("auto", "warp", "torch")
"""Rasterizer backends: the Warp kernel ("warp"), the PyTorch reference ("torch"), or "auto": Warp where it
imports and the tensors are on cpu or cuda. Both give identical fragments."""

_EMPTY_KEY = torch.iinfo(torch.int64).max
_FACE_MASK = 0xFFFFFFFF
_MAX_CANDIDATES = 1 << 22  # candidate pixels processed per chunk; bounds peak memory


@dataclass(frozen=True)
class Fragments:
    """What the rasterizer saw at each pixel.

    Dense layers (the contract in ``docs/conventions.md``):
      pix_to_face: (B, H, W) int64, index into ``faces`` of the visible face, -1 where empty.
      bary: (B, H, W, 3) perspective-correct barycentrics of the visible face, 0 where empty.
      depth: (B, H, W) camera-space z of the visible surface, 0 where empty.
    The same data for covered pixels only (what shading and ground truth use):
      pixel_index: (N,) int64 flat index into B*H*W, ascending.
      face: (N,) int64. bary_fg: (N, 3). depth_fg: (N,).
    """

    pix_to_face: Tensor
    depth: Tensor
    pixel_index: Tensor
    face: Tensor
    bary_fg: Tensor
    depth_fg: Tensor

    @functools.cached_property
    def bary(self) -> Tensor:
        """(B, H, W, 3) dense barycentrics (made on first use: the pipeline itself works on ``bary_fg``)."""
        return self.to_dense(self.bary_fg)

    @property
    def image_size(self) -> tuple[int, int]:
        return (self.pix_to_face.shape[1], self.pix_to_face.shape[2])

    @property
    def batch_size(self) -> int:
        return self.pix_to_face.shape[0]

    @property
    def batch_index(self) -> Tensor:
        """(N,) batch element of each covered pixel."""
        h, w = self.image_size
        return torch.div(self.pixel_index, h * w, rounding_mode="floor")

    def pixel_xy(self) -> Tensor:
        """(N, 2) pixel coordinates (u=col, v=row) of covered pixels, in the depth's dtype."""
        h, w = self.image_size
        p = self.pixel_index % (h * w)
        return torch.stack([p % w, torch.div(p, w, rounding_mode="floor")], -1).to(self.depth_fg.dtype)

    def to_dense(self, values: Tensor, fill: float = 0.0) -> Tensor:
        """(N, ...) values at covered pixels -> (B, H, W, ...) image with ``fill`` elsewhere."""
        b, (h, w) = self.batch_size, self.image_size
        out = values.new_full((b * h * w, *values.shape[1:]), fill)
        return out.index_put_((self.pixel_index,), values).view(b, h, w, *values.shape[1:])


def rasterize(
    verts: Tensor,
    faces: Tensor,
    K: Tensor,
    image_size: tuple[int, int],
    *,
    cull_backfaces: bool = False,
    znear: float = DEFAULT_ZNEAR,
    backend: str = "auto",
) -> Fragments:
    """Rasterize B meshes sharing one topology.

    Args:
      verts: (B, V, 3) float, camera space (OpenCV axes). Several meshes per image are joined into one
        (see :func:`synthhuman.render.mesh.join_meshes`).
      faces: (F, 3) int64 vertex indices.
      K: (B, 3, 3) intrinsics, same dtype and device as ``verts``.
      image_size: (H, W).
      cull_backfaces: drop faces whose front side (counter-clockwise as seen from outside, i.e. the
        right-hand normal) points away from the camera.
      znear: faces with any vertex at z <= znear are culled.
      backend: who finds the visible face of each pixel (:data:`BACKENDS`): the same answer either way.

    Returns:
      :class:`Fragments`. Gradients flow from ``bary``/``depth`` to ``verts`` and ``K``.
    """
    h, w = check_rasterizer_inputs(verts, faces, K, image_size)
    if resolve_backend(backend, verts) == "warp":
        keys = zbuffer(verts, faces, K, (h, w), cull_backfaces=cull_backfaces, znear=znear).keys
        pixel_index, face = covered_pixels(keys)
    else:
        with torch.no_grad():
            pixel_index, face = _zbuffer(verts.detach(), faces, K.detach(), h, w, cull_backfaces, znear)
    return fragments_from_winners(verts, faces, K, pixel_index, face, (h, w))


def resolve_backend(backend: str, like: Tensor) -> str:
    """ "warp" or "torch" for a requested backend (:data:`BACKENDS`) and tensors on ``like``'s device."""
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        return "warp" if like.device.type in ("cpu", "cuda") and warp_available() else "torch"
    if backend == "warp" and not warp_available():
        raise ValueError(
            "backend 'warp': warp-lang does not import here; pip install warp-lang, or use 'torch'"
        )
    return backend


def fragments_from_winners(
    verts: Tensor, faces: Tensor, K: Tensor, pixel_index: Tensor, face: Tensor, image_size: tuple[int, int]
) -> Fragments:
    """Fragments from the visible face (N,) of each covered pixel (N,) (flat, ascending), with
    differentiable barycentrics and depth. Shared by every rasterizer backend."""
    b, (h, w) = verts.shape[0], image_size
    bary_fg, depth_fg = barycentrics(verts, faces, K, pixel_index, face, (h, w))
    pix_to_face = torch.full((b * h * w,), -1, dtype=torch.int64, device=verts.device)
    pix_to_face[pixel_index] = face
    depth = verts.new_zeros(b * h * w).index_put_((pixel_index,), depth_fg).view(b, h, w)
    return Fragments(pix_to_face.view(b, h, w), depth, pixel_index, face, bary_fg, depth_fg)


def barycentrics(
    verts: Tensor, faces: Tensor, K: Tensor, pixel_index: Tensor, face: Tensor, image_size: tuple[int, int]
) -> tuple[Tensor, Tensor]:
    """Differentiable perspective-correct barycentrics and depth of ``face`` at pixel centres.

    verts (B, V, 3), faces (F, 3), K (B, 3, 3); pixel_index (N,) flat into B*H*W; face (N,).
    Returns bary (N, 3) and planar depth (N,).
    """
    h, w = image_size
    b = torch.div(pixel_index, h * w, rounding_mode="floor")
    p = pixel_index % (h * w)
    px = (p % w).to(verts.dtype)
    py = torch.div(p, w, rounding_mode="floor").to(verts.dtype)
    tri = take_batched(verts, b, take_rows(faces, face))  # (N, 3, 3)
    Kb = take_rows(K, b)
    z = tri[..., 2]
    x = Kb[:, None, 0, 0] * tri[..., 0] / z + Kb[:, None, 0, 1] * tri[..., 1] / z + Kb[:, None, 0, 2]
    y = Kb[:, None, 1, 1] * tri[..., 1] / z + Kb[:, None, 1, 2]
    # e_k: twice the signed area of (v_{k+1}, v_{k+2}, p); sums to twice the triangle's signed area.
    x1, y1 = x.roll(-1, 1), y.roll(-1, 1)
    x2, y2 = x.roll(-2, 1), y.roll(-2, 1)
    e = (x2 - x1) * (py[:, None] - y1) - (y2 - y1) * (px[:, None] - x1)
    wz = e / z
    inv_depth = corner_sum(wz)
    return wz / inv_depth[:, None], corner_sum(e) / inv_depth


def _zbuffer(
    verts: Tensor, faces: Tensor, K: Tensor, h: int, w: int, cull_backfaces: bool, znear: float
) -> tuple[Tensor, Tensor]:
    """Covered pixels (N,) (flat into B*H*W, ascending) and the nearest covering face (N,) of each."""
    b, f = verts.shape[0], faces.shape[0]
    z = verts[..., 2]
    zs = z.clamp_min(znear)
    x = (K[:, 0, 0, None] * verts[..., 0] + K[:, 0, 1, None] * verts[..., 1]) / zs + K[:, 0, 2, None]
    y = K[:, 1, 1, None] * verts[..., 1] / zs + K[:, 1, 2, None]
    # Corner planes (B, 3, F): corner k of every face of every frame, contiguous per corner.
    corners = faces.T.flatten()
    px, py = x.index_select(1, corners).view(b, 3, f), y.index_select(1, corners).view(b, 3, f)
    (x0, x1, x2), (y0, y1, y2) = px.unbind(1), py.unbind(1)
    area2 = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    # With every vertex in front of the camera, sign(area2) = sign(det[v0, v1, v2]) = sign(n . v0): the
    # face's front (right-hand normal) points at the camera exactly where area2 < 0 (y points down).
    valid = (area2 < 0) if cull_backfaces else (area2 != 0)
    if bool((z <= znear).any()):
        valid &= z.index_select(1, corners).view(b, 3, f).amin(1) > znear
    bx0 = torch.ceil(torch.minimum(torch.minimum(x0, x1), x2)).clamp_(0, w - 1)
    by0 = torch.ceil(torch.minimum(torch.minimum(y0, y1), y2)).clamp_(0, h - 1)
    bx1 = torch.floor(torch.maximum(torch.maximum(x0, x1), x2)).clamp_(-1, w - 1)
    by1 = torch.floor(torch.maximum(torch.maximum(y0, y1), y2)).clamp_(-1, h - 1)
    valid &= (bx0 <= bx1) & (by0 <= by1)
    sel = valid.flatten().nonzero().squeeze(1)  # b * F + f
    if sel.shape[0] == 0:
        return sel, sel
    # Faces bucketed by box size (powers of two in x and y), then every per-face value gathered once.
    levels = max(h, w).bit_length() + 1
    size_x = (bx1.flatten().index_select(0, sel) - bx0.flatten().index_select(0, sel)).long() + 1
    size_y = (by1.flatten().index_select(0, sel) - by0.flatten().index_select(0, sel)).long() + 1
    bucket = _ceil_log2(size_x) * levels + _ceil_log2(size_y)
    order = torch.argsort(bucket, stable=True)
    counts = torch.bincount(bucket, minlength=levels * levels).tolist()
    sel = sel.index_select(0, order)
    bbox = torch.stack([t.flatten().index_select(0, sel) for t in (bx0, by0, bx1, by1)], 1)
    area2 = area2.flatten().index_select(0, sel)
    batch, face = torch.div(sel, f, rounding_mode="floor"), sel % f
    vertex = (faces.index_select(0, face) + (batch * verts.shape[1])[:, None]).flatten()
    fx, fy, fz = (t.flatten().index_select(0, vertex).view(-1, 3) for t in (x, y, z))

    # Key buffer over each frame's window: the box of its candidate faces, placed at the same offset in a
    # (B, win_h, win_w) buffer sized for the largest window (a body far away covers a fraction of a frame).
    lowest = bbox.new_full((b, 2), float(max(h, w))).scatter_reduce(
        0, batch[:, None].expand(-1, 2), bbox[:, :2], reduce="amin"
    )
    highest = bbox.new_full((b, 2), -1.0).scatter_reduce(
        0, batch[:, None].expand(-1, 2), bbox[:, 2:], reduce="amax"
    )
    win_w, win_h = ((highest - lowest).amax(0) + 1).long().tolist()
    origin = lowest.long()  # (B, 2): x, y of each frame's window in the image
    # key index = window_base + py * win_w + px, for the candidate pixel (px, py) of a face of frame `batch`
    window_base = torch.arange(b, device=sel.device) * (win_h * win_w) - (origin[:, 1] * win_w + origin[:, 0])
    base = window_base.index_select(0, batch)

    data = (bbox, *_canonical_edges(fx, fy, fz, area2), area2, face, base)

    keys = torch.full((b * win_h * win_w,), _EMPTY_KEY, dtype=torch.int64, device=verts.device)
    start = 0
    for bucket_id, count in enumerate(counts):
        if count == 0:
            continue
        sx, sy = 1 << (bucket_id // levels), 1 << (bucket_id % levels)
        chunk = max(1, _MAX_CANDIDATES // (sx * sy))
        for c0 in range(start, start + count, chunk):
            c1 = min(c0 + chunk, start + count)
            _scatter_candidates(keys, [t[c0:c1] for t in data], sx, sy, win_w)
        start += count
    covered = (keys != _EMPTY_KEY).nonzero().squeeze(1)
    # back from window to image pixels: ascending order is kept (windows are placed in frame order)
    frame = torch.div(covered, win_h * win_w, rounding_mode="floor")
    in_window = covered % (win_h * win_w)
    row = torch.div(in_window, win_w, rounding_mode="floor") + origin[:, 1].index_select(0, frame)
    col = in_window % win_w + origin[:, 0].index_select(0, frame)
    return frame * (h * w) + row * w + col, keys.index_select(0, covered) & _FACE_MASK


def _canonical_edges(fx: Tensor, fy: Tensor, fz: Tensor, area2: Tensor) -> tuple[Tensor, ...]:
    """Per-face edge data (each (N, 3)) from screen corners ``fx``, ``fy`` and depths ``fz`` (N, 3) and
    twice the signed areas (N,): lo_x, lo_y, d_x, d_y, positive, weight.

    Canonical edges: edge k joins v_{k+1} -> v_{k+2} (opposite vertex k), endpoints in lexicographic order
    (lo, lo + d), so the two faces sharing an edge evaluate it with the same rounding."""
    xa, ya, xb, yb = fx.roll(-1, 1), fy.roll(-1, 1), fx.roll(-2, 1), fy.roll(-2, 1)
    swap = (xa > xb) | ((xa == xb) & (ya > yb))
    lo_x, lo_y = torch.where(swap, xb, xa), torch.where(swap, yb, ya)
    d_x, d_y = torch.where(swap, xa, xb) - lo_x, torch.where(swap, ya, yb) - lo_y
    edge_sign = 1.0 - 2.0 * swap.to(fx.dtype)  # canonical value * edge_sign = e_k
    # A pixel on edge k counts when the face lies on the canonical edge's positive side.
    positive = edge_sign * torch.sign(area2)[:, None] > 0
    weight = edge_sign / fz  # e_k / z_k = canonical value * weight
    return lo_x, lo_y, d_x, d_y, positive, weight


def _ceil_log2(n: Tensor) -> Tensor:
    """Elementwise ceil(log2(n)) for int64 n >= 1, exactly: the bit length of n - 1."""
    return torch.frexp((n - 1).double()).exponent.long()


def _scatter_candidates(keys: Tensor, data: list[Tensor], sx: int, sy: int, win_w: int) -> None:
    """Enumerate an (sy, sx) pixel grid from each face's box corner; z-buffer the covered centres."""
    bbox, lo_x, lo_y, d_x, d_y, positive, weight, area2, face, base = data
    dev = keys.device
    ox = torch.arange(sx, device=dev, dtype=bbox.dtype).repeat(sy)
    oy = torch.arange(sy, device=dev, dtype=bbox.dtype).repeat_interleave(sx)
    px = bbox[:, 0:1] + ox  # (n, S)
    py = bbox[:, 1:2] + oy
    inside = (px <= bbox[:, 2:3]) & (py <= bbox[:, 3:4])
    inv_depth = torch.zeros_like(px)
    for k in range(3):
        ec = d_x[:, k : k + 1] * (py - lo_y[:, k : k + 1]) - d_y[:, k : k + 1] * (px - lo_x[:, k : k + 1])
        inside &= (ec >= 0) == positive[:, k : k + 1]  # on the edge itself: only on its positive side
        inv_depth += ec * weight[:, k : k + 1]
    depth = area2[:, None] / inv_depth
    inside &= depth > 0
    # In integers: a float32 row * w + col is inexact beyond 2**24 pixels.
    pix = base[:, None] + py.long() * win_w + px.long()
    key = (depth.float().view(torch.int32).long() << 32) | face[:, None]
    keys.scatter_reduce_(
        0,
        torch.where(inside, pix, 0).flatten(),
        torch.where(inside, key, _EMPTY_KEY).flatten(),
        reduce="amin",
    )
