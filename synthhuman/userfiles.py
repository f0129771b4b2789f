"""Reading arrays from user files with bounded memory: an ``.npz`` member's header is checked against the
bytes the archive holds before anything is allocated, so a file that claims a huge array fails at once
with a message naming the file and the field (ValueError), never with MemoryError or numpy's own errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

_HEADER_READERS = {(1, 0): "read_array_header_1_0", (2, 0): "read_array_header_2_0"}


def npz_header(path: str | Path, npz: np.lib.npyio.NpzFile, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) that member ``key`` of the open archive ``npz`` (from ``path``) claims; ValueError
    naming the file and field when the claim is unreadable, holds Python objects, or needs more bytes
    than the archive stores for it."""
    name = f"{key}.npy" if f"{key}.npy" in npz.zip.namelist() else key
    try:
        info = npz.zip.getinfo(name)
        with npz.zip.open(name) as f:
            version = np.lib.format.read_magic(f)
            reader = getattr(np.lib.format, _HEADER_READERS.get(version, "read_array_header_2_0"))
            shape, _, dtype = reader(f)
    except Exception as exc:  # zip, zlib and numpy raise many types for corrupt members
        raise ValueError(
            f"{path}: field {key!r}: unreadable array header ({type(exc).__name__}: {exc})"
        ) from None
    if dtype.hasobject:
        raise ValueError(f"{path}: field {key!r}: holds Python objects (dtype {dtype}), expected numbers")
    claimed = math.prod(shape) * dtype.itemsize
    if claimed > info.file_size:
        raise ValueError(
            f"{path}: field {key!r}: claims a {shape} {dtype} array ({claimed} bytes) but the file stores "
            f"{info.file_size} bytes for it (truncated or corrupt)"
        )
    return tuple(shape), dtype


def npz_array(path: str | Path, npz: np.lib.npyio.NpzFile, key: str) -> np.ndarray:
    """Member ``key`` of the open archive ``npz`` (from ``path``), its size checked first
    (:func:`npz_header`); any failure is a ValueError naming the file and the field."""
    npz_header(path, npz, key)
    try:
        return np.asarray(npz[key])
    except Exception as exc:  # zlib.error, EOFError, BadZipFile, ValueError, ...
        raise ValueError(f"{path}: field {key!r}: unreadable ({type(exc).__name__}: {exc})") from None
