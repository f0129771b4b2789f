"""Pictures of layers for people: depth, normals, labels, flow (colour wheel), joints, contact sheets.

Every function takes one frame's layer (no batch) and returns (H, W, 3) uint8.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch
from torch import Tensor

from synthhuman.atomic import atomic_write
from synthhuman.conventions import SMPL_PARENTS


def _to_uint8(img: Tensor) -> Tensor:
    return (img.clamp(0, 1) * 255 + 0.5).to(torch.uint8)


def rgb_image(rgb: Tensor) -> Tensor:
    """(H, W, 3) float in [0, 1] -> uint8."""
    return _to_uint8(rgb.float())


def depth_image(depth: Tensor) -> Tensor:
    """(H, W) metres, 0 background -> near bright, far dark, background black; graded by inverse depth
    (disparity), so a ground running to the horizon does not flatten the people in front of it."""
    fg = depth > 0
    img = torch.zeros_like(depth, dtype=torch.float32)
    if bool(fg.any()):
        inv = 1 / depth[fg].float()
        lo, hi = inv.min(), inv.max()
        img[fg] = 0.2 + 0.8 * (inv - lo) / (hi - lo).clamp_min(1e-9)
    return _to_uint8(img[..., None].expand(*img.shape, 3))


def normals_image(normals: Tensor) -> Tensor:
    """(H, W, 3) unit camera-axes normals -> (n + 1) / 2, y and z flipped to face the viewer; 0 -> black."""
    fg = normals.abs().sum(-1, keepdim=True) > 0
    n = normals.float() * torch.tensor([1.0, -1.0, -1.0], device=normals.device)
    return _to_uint8(torch.where(fg, (n + 1) / 2, torch.zeros_like(n)))


def label_palette(n: int = 256) -> Tensor:
    """(n, 3) uint8: black for 0, then well separated hues (golden-ratio steps) for labels 1..n-1."""
    hue = (torch.arange(n, dtype=torch.float64) * 0.618033988749895) % 1.0
    sat = torch.where(torch.arange(n) % 2 == 0, 0.65, 0.95).double()
    val = torch.where(torch.arange(n) % 3 == 0, 0.75, 0.95).double()
    rgb = hsv_to_rgb(hue, sat, val)
    rgb[0] = 0
    return _to_uint8(rgb.float())


def labels_image(labels: Tensor) -> Tensor:
    """(H, W) integer labels (0 background) -> palette colours."""
    return label_palette()[labels.long().cpu()].to(labels.device)


def flow_image(flow: Tensor, valid: Tensor | None = None, max_magnitude: float | None = None) -> Tensor:
    """(H, W, 2) flow -> colour wheel: hue is direction, saturation is magnitude (relative to the largest
    valid magnitude, or ``max_magnitude``); invalid pixels black."""
    f = flow.float()
    mag = f.norm(dim=-1)
    if valid is None:
        valid = mag > 0
    top = max_magnitude or (float(mag[valid].max()) if bool(valid.any()) else 1.0)
    hue = (torch.atan2(-f[..., 1], -f[..., 0]) / (2 * torch.pi) + 0.5) % 1.0
    sat = (mag / max(top, 1e-6)).clamp(0, 1)
    rgb = hsv_to_rgb(hue, sat, torch.ones_like(hue))
    return _to_uint8(torch.where(valid[..., None], rgb, torch.zeros_like(rgb)))


def joints_image(rgb: Tensor, joints2d: Tensor, visible: Tensor, parents=SMPL_PARENTS) -> Tensor:
    """Draw (J, 2) joints (J a multiple of 24: people in order) on (H, W, 3) uint8: bones as lines,
    visible joints green, hidden ones red."""
    img = rgb.cpu().numpy().copy()
    pts = joints2d.detach().float().cpu().numpy()
    vis = visible.cpu().numpy()
    n = len(parents)
    for start in range(0, len(pts), n):
        for j, p in enumerate(parents):
            if p >= 0:
                _line(img, pts[start + p], pts[start + j], (255, 255, 255))
        for j in range(n):
            _dot(img, pts[start + j], (40, 220, 40) if vis[start + j] else (230, 40, 40))
    return torch.from_numpy(img)


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write an (H, W, 3) uint8 image as PNG, atomically."""
    with atomic_write(path) as f:
        iio.imwrite(f, image, extension=".png")
    return Path(path)


LAYER_PANELS = ("rgb", "depth", "normals", "segmentation", "flow", "joints")
"""The panels of one frame in a contact sheet, in order (``preview`` shows them as rows, one frame per
column; ``render-test`` as columns, one frame per row)."""


def layer_panels(
    rgb: Tensor,
    depth: Tensor,
    normals: Tensor,
    segm: Tensor,
    flow: Tensor,
    flow_valid: Tensor,
    joints2d: Tensor,
    joints_visible: Tensor,
) -> list[Tensor]:
    """The :data:`LAYER_PANELS` pictures of one frame, each (H, W, 3) uint8: rgb (H, W, 3) in [0, 1];
    depth (H, W) metres; normals (H, W, 3); segm (H, W) labels; flow (H, W, 2) pixels with flow_valid
    (H, W) bool (colour wheel); joints2d (J, 2) pixels with joints_visible (J,) bool (green visible, red
    hidden) drawn over the RGB."""
    rgb_img = rgb_image(rgb)
    return [
        rgb_img,
        depth_image(depth),
        normals_image(normals),
        labels_image(segm),
        flow_image(flow, flow_valid),
        joints_image(rgb_img, joints2d, joints_visible),
    ]


def contact_sheet(rows: list[list[Tensor]], gap: int = 2) -> np.ndarray:
    """Tile a grid of equally sized (H, W, 3) uint8 images with ``gap`` white pixels between them."""
    h, w = rows[0][0].shape[:2]
    cols = max(len(r) for r in rows)
    sheet = np.full((len(rows) * (h + gap) - gap, cols * (w + gap) - gap, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            sheet[i * (h + gap) : i * (h + gap) + h, j * (w + gap) : j * (w + gap) + w] = img.cpu().numpy()
    return sheet


def hsv_to_rgb(h: Tensor, s: Tensor, v: Tensor) -> Tensor:
    """HSV in [0, 1] (same shapes) -> (..., 3) RGB in [0, 1]."""
    k = torch.stack([(5 + h * 6) % 6, (3 + h * 6) % 6, (1 + h * 6) % 6], -1)
    return v[..., None] - v[..., None] * s[..., None] * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def _dot(img: np.ndarray, p: np.ndarray, color: tuple[int, int, int], r: int = 2) -> None:
    h, w = img.shape[:2]
    x, y = int(round(p[0])), int(round(p[1]))
    img[max(0, y - r) : max(0, min(h, y + r + 1)), max(0, x - r) : max(0, min(w, x + r + 1))] = color


def _line(img: np.ndarray, a: np.ndarray, b: np.ndarray, color: tuple[int, int, int]) -> None:
    h, w = img.shape[:2]
    steps = int(max(abs(b[0] - a[0]), abs(b[1] - a[1]))) + 1
    t = np.linspace(0, 1, steps)
    xs = np.round(a[0] + t * (b[0] - a[0])).astype(int)
    ys = np.round(a[1] + t * (b[1] - a[1])).astype(int)
    ok = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    img[ys[ok], xs[ok]] = color
