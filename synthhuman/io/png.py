"""PNG encoding of 8-bit frames, fast: one filter type for every row (vectorised by numpy) and ISA-L's
deflate (:mod:`synthhuman.io.deflate`), instead of PIL's per-row filter choice and zlib.

Measured on this project's 2-core machine, 320x240 rendered frames at compression level 1: RGB 1.2-1.3 ms
per frame with the Up filter against PIL's 10.5 ms, 112-131 kB against 118-124 kB; label maps (segm,
instance) 0.05 ms with no filter against 0.5 ms, 1.0-1.3 kB against 1.4-1.7 kB. Every PNG decoder reads
them (standard chunks: IHDR, one IDAT, IEND).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from synthhuman.io.deflate import zlib_bytes

__all__ = ["FILTERS", "encode_png"]

FILTERS = {"none": 0, "sub": 1, "up": 2}
"""PNG filter types by name (applied to every row; 'up' suits images, 'none' label maps)."""

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def encode_png(image: np.ndarray, level: int = 1, filter: str = "up") -> bytes:
    """The PNG file of ``image``: (H, W) uint8 (8-bit grey) or (H, W, 3) uint8 (RGB); ``level``: deflate
    level 0-9; ``filter``: one of :data:`FILTERS`, used on every row."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"image: expected (H, W) or (H, W, 3) uint8, got {image.shape} {image.dtype}")
    if not 0 <= level <= 9:
        raise ValueError(f"level: expected 0..9, got {level}")
    if filter not in FILTERS:
        raise ValueError(f"filter: expected one of {tuple(FILTERS)}, got {filter!r}")
    h, w = image.shape[:2]
    if h == 0 or w == 0:
        raise ValueError(f"image: expected at least one pixel, got {image.shape}")
    c = 1 if image.ndim == 2 else 3
    rows = np.ascontiguousarray(image).reshape(h, w * c)
    raw = np.empty((h, w * c + 1), np.uint8)
    raw[:, 0] = FILTERS[filter]
    if filter == "none":
        raw[:, 1:] = rows
    elif filter == "sub":  # each byte minus the same channel of the pixel to its left (mod 256)
        raw[:, 1 : 1 + c] = rows[:, :c]
        np.subtract(rows[:, c:], rows[:, :-c], out=raw[:, 1 + c :])
    else:  # up: each byte minus the one above it (the first row as it is)
        raw[0, 1:] = rows[0]
        np.subtract(rows[1:], rows[:-1], out=raw[1:, 1:])
    header = struct.pack(">IIBBBBB", w, h, 8, 0 if c == 1 else 2, 0, 0, 0)
    return b"".join(
        [
            _SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib_bytes(raw.tobytes(), level)),
            _chunk(b"IEND", b""),
        ]
    )
