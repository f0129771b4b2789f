"""Keep freed memory in the process, so each batch does not page-fault its buffers in anew.

A batch of frames allocates and frees a few hundred MB of dense layers. glibc serves blocks that large with
``mmap`` and returns them to the kernel on ``free``, so every batch pays for page faults on fresh memory
(measured: about 45,000 minor faults per batch of 32 frames at 320x240, some 20-30 ms of a 180 ms batch).
Raising glibc's mmap and trim thresholds keeps that memory for reuse. Elsewhere (macOS, musl) this is a
no-op.

That is not enough for torch's large tensors: torch allocates them 64-byte aligned (``posix_memalign``),
and glibc rarely fits a new aligned block of a freed block's size back into it, so the heap grows past the
freed one and every page of the new block faults (measured: each 100 MB ``torch.empty`` + fill faulted all
its 24,400 pages, 80-100 ms, with the thresholds raised). ``THP_MEM_ALLOC_ENABLE=1`` makes torch align
blocks of 2 MB and more to 2 MB and ask for transparent huge pages: blocks are reused and a fault maps 2 MB
(``synthhuman generate --clips 16``: 3.1 million page faults -> 0.9 million, 9.9 -> 7.0 s of system time).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import os

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


@functools.cache
def retain_freed_memory(threshold: int = 1 << 30) -> bool:
    """Ask glibc to keep freed blocks below ``threshold`` bytes; True where it agreed."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, threshold))


def huge_pages_for_torch() -> None:
    """Ask torch for 2 MB-aligned, huge-page blocks for tensors of 2 MB and more (``THP_MEM_ALLOC_ENABLE=1``,
    unless the environment sets it: ``THP_MEM_ALLOC_ENABLE=0`` opts out). Torch reads the variable at its
    first allocation of 2 MB or more, so this acts only when called before that (the CLI's first step)."""
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")


def tune_memory() -> None:
    """What ``synthhuman``'s commands and Ray tasks do first: :func:`huge_pages_for_torch`,
    :func:`retain_freed_memory`, and the objects made so far (the imported modules: torch's are many)
    moved out of the garbage collector's sight with ``gc.freeze()``: its full collections then scan only
    what the run makes (``generate --clips 16``: 0.7 -> 0.4 s in the collector)."""
    huge_pages_for_torch()
    retain_freed_memory()
    gc.freeze()
