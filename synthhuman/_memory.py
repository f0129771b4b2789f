"""Keep freed memory in the process, so each batch does not page-fault its buffers in anew.

A batch of frames allocates and frees a few hundred MB of dense layers. glibc serves blocks that large with
``mmap`` and returns them to the kernel on ``free``, so every batch pays for page faults on fresh memory
(measured: about 45,000 minor faults per batch of 32 frames at 320x240, some 20-30 ms of a 180 ms batch).
Raising glibc's mmap and trim thresholds keeps that memory for reuse. Elsewhere (macOS, musl) this is a
no-op.

Torch can also allocate its tensors of 2 MB and more 2 MB-aligned and ask for transparent huge pages
(``THP_MEM_ALLOC_ENABLE=1``). The commands used to turn that on; they no longer do. Measured on this
project's AMD machine, alternated runs (2026-12-07): with it, glibc reuses the freed aligned blocks
poorly, so a loop of ``render_frames`` calls keeps faulting fresh 2 MB pages in (0.3-0.4 s of system
time per 12 batches of 32 frames at 320x240): ``synthhuman bench --backend warp`` 1.46 -> 1.34 ms/frame
and ``benchmarks/blender_compare.py``'s loop 2.13 -> 1.88 ms/frame (320x240) and 5.91 -> 4.48 ms/frame
(640x480) without it, while ``synthhuman generate --clips 12`` (which reuses its buffers) takes the same
time either way (8.6 and 8.4 s wall, 12.5 CPU seconds). A user who measures otherwise on their machine
sets ``THP_MEM_ALLOC_ENABLE=1`` before starting Python (:func:`huge_pages_for_torch` does it in-process).
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
    unless the environment sets it). Opt-in (see the module's note): torch reads the variable at its first
    allocation of 2 MB or more, so this acts only when called before that."""
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")


def tune_memory() -> None:
    """What ``synthhuman``'s commands and Ray tasks do first: :func:`retain_freed_memory`, and the objects
    made so far (the imported modules: torch's are many) moved out of the garbage collector's sight with
    ``gc.freeze()``: its full collections then scan only what the run makes (``generate --clips 16``:
    0.7 -> 0.4 s in the collector). Torch's huge pages stay as the environment says (off unless
    ``THP_MEM_ALLOC_ENABLE=1``: see the module's note)."""
    retain_freed_memory()
    gc.freeze()
