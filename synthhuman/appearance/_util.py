"""Helpers shared by the appearance modules: config checks, image loading, hash splits, crops."""

from __future__ import annotations

import hashlib
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from synthhuman.config import require

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
"""File suffixes (lower case) scanned as images."""


def check_probabilities(name: str, probs: tuple[float, ...], size: int) -> None:
    require(
        len(probs) == size and all(p >= 0 for p in probs) and sum(probs) > 0,
        name,
        f"{size} non-negative weights with a positive sum",
        probs,
    )


def check_range(name: str, lo_hi: tuple[float, float], low: float = 0.0, high: float = float("inf")) -> None:
    require(
        len(lo_hi) == 2 and low <= lo_hi[0] <= lo_hi[1] <= high,
        name,
        f"(lo, hi) within [{low}, {high}]",
        lo_hi,
    )


def load_image(path: str | Path) -> Tensor:
    """(H, W, 3) float32 in [0, 1] from an image file (grey is replicated, alpha dropped).

    Raises ValueError naming the file when it cannot be read or is not an image.
    """
    path = Path(path)
    try:  # read the bytes first: imageio leaves files open when decoding fails
        array = np.asarray(iio.imread(path.read_bytes(), index=0, extension=path.suffix.lower() or None))
    except Exception as exc:  # imageio raises many types for corrupt or unknown files
        raise ValueError(f"{path}: cannot read image ({type(exc).__name__}: {exc})") from exc
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4) or min(array.shape[:2]) < 1:
        raise ValueError(f"{path}: expected an (H, W[, C]) image, got array of shape {array.shape}")
    if array.shape[-1] in (2, 4):  # drop alpha
        array = array[..., :-1]
    if array.dtype == np.uint8:
        image = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        image = array.astype(np.float32) / 65535.0
    elif array.dtype == np.bool_:
        image = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.floating):
        image = np.clip(array.astype(np.float32), 0.0, 1.0)
    else:
        raise ValueError(f"{path}: unsupported pixel type {array.dtype}")
    image = np.broadcast_to(image, (*image.shape[:2], 3)) if image.shape[-1] == 1 else image
    return torch.from_numpy(np.ascontiguousarray(image))


def hash_split(relative_path: str, test_fraction: float) -> str:
    """ "train" or "test" from a stable hash of a relative path (POSIX separators), independent of order,
    platform and process: the same file always lands in the same split."""
    digest = hashlib.sha256(relative_path.encode("utf-8")).digest()
    return "test" if int.from_bytes(digest[:8], "big") / 2.0**64 < test_fraction else "train"


def scan_images(root: Path) -> list[str]:
    """Sorted relative POSIX paths of every image file under ``root`` (recursive, hidden entries skipped)."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            found.append(rel.as_posix())
    return sorted(found)


def random_crop(
    image: Tensor, size: tuple[int, int], gen: torch.Generator, max_zoom: float, flip: bool
) -> Tensor:
    """Random crop of (h, w, 3) ``image`` scaled to ``size`` (H, W): the crop has the output's aspect ratio,
    covers between 1/max_zoom and all of the largest such window, and is placed uniformly; mirrored left-right
    with probability 1/2 when ``flip``. Returns (H, W, 3) float32 in [0, 1]."""
    out_h, out_w = size
    h, w = image.shape[:2]
    fit = min(h / out_h, w / out_w)  # source pixels per output pixel of the largest window
    zoom = 1.0 + (max_zoom - 1.0) * float(torch.rand((), generator=gen))
    ch = min(h, max(1, round(out_h * fit / zoom)))
    cw = min(w, max(1, round(out_w * fit / zoom)))
    y0 = int(torch.randint(h - ch + 1, (), generator=gen))
    x0 = int(torch.randint(w - cw + 1, (), generator=gen))
    mirror = bool(torch.rand((), generator=gen) < 0.5) and flip
    crop = image[y0 : y0 + ch, x0 : x0 + cw].permute(2, 0, 1)[None].float()
    out = F.interpolate(
        crop, size, mode="bilinear", align_corners=False, antialias=(ch > out_h or cw > out_w)
    )
    out = out[0].permute(1, 2, 0)
    return (out.flip(1) if mirror else out).clamp(0, 1).contiguous()
