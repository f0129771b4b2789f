"""Deflate for the label files: ISA-L (the ``isal`` package) where it imports, else zlib.

The streams are standard raw deflate, so ``np.load`` and every zip reader read them; only the bytes of the
compressed file differ from zlib's. On this project's 2-core benchmark machine ISA-L's level 1 compressed a
clip's labels (131 MB of arrays) 4.6x faster than zlib's level 1, into 3 % fewer bytes
(``docs/benchmarks.md``). ISA-L has levels 0-3: levels 1-3 use it, higher levels use zlib.
"""

from __future__ import annotations

import functools
import zipfile
import zlib

__all__ = [
    "FAST_LEVELS",
    "fast_crc32_for_zipfile",
    "fast_deflate_available",
    "gzip_bytes",
    "raw_deflate",
    "use_fast_deflate",
    "zlib_bytes",
]

FAST_LEVELS = (1, 2, 3)
"""The compress levels that ISA-L serves (its own levels 1-3)."""


def fast_deflate_available() -> bool:
    """Whether ISA-L's deflate (``pip install isal``) imports here."""
    try:
        from isal import isal_zlib  # noqa: F401
    except ImportError:
        return False
    return True


def raw_deflate(level: int):
    """A raw-deflate (no header, as zip stores it) compressor object at ``level`` (1-9): ISA-L for levels
    1-3 where available, else zlib."""
    if level in FAST_LEVELS and fast_deflate_available():
        from isal import isal_zlib

        return isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15)
    return zlib.compressobj(level, zlib.DEFLATED, -15)


def use_fast_deflate(member, level: int) -> bool:
    """Give a zip member opened for writing (``ZipFile.open(name, "w")`` with ZIP_DEFLATED, nothing written
    yet) ISA-L's compressor at ``level``; False (zlib stays) where ISA-L does not import, the level is not
    one of its levels, or this Python's zipfile keeps its compressor elsewhere."""
    if level not in FAST_LEVELS or not fast_deflate_available():
        return False
    if getattr(member, "_compress_size", None) != 0 or not hasattr(member, "_compressor"):
        return False
    if member._zinfo.compress_type != zipfile.ZIP_DEFLATED:
        return False
    member._compressor = raw_deflate(level)
    return True


@functools.cache
def fast_crc32_for_zipfile() -> bool:
    """Give :mod:`zipfile` ISA-L's CRC-32 (where it imports): the same checksums as zlib's, four times
    faster (zipfile checksums every byte it writes: 0.6 ms of a 320x240 frame's labels with zlib's). The
    function zipfile looks up is replaced for the whole process; its results do not change. True where
    ISA-L's is in place (done once per process)."""
    if not fast_deflate_available():
        return False
    from isal import isal_zlib

    zipfile.crc32 = isal_zlib.crc32
    return True


def gzip_bytes(data: bytes, level: int) -> bytes:
    """``gzip.compress(data, level, mtime=0)``'s format: ISA-L's igzip for levels 1-3 (where it imports;
    other bytes than zlib's, the same data back, five times faster), else the standard library's."""
    if level in FAST_LEVELS and fast_deflate_available():
        from isal import igzip

        return igzip.compress(data, compresslevel=level, mtime=0)
    import gzip

    return gzip.compress(data, compresslevel=level, mtime=0)


def zlib_bytes(data, level: int) -> bytes:
    """``zlib.compress(data, level)``'s format (a zlib stream): ISA-L for levels 1-3 where it imports (other
    bytes than zlib's, the same data back), else zlib."""
    if level in FAST_LEVELS and fast_deflate_available():
        from isal import isal_zlib

        return isal_zlib.compress(data, level)
    return zlib.compress(data, level)
