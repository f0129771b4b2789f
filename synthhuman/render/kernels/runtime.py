"""Warp runtime for the render kernels: lazy initialisation, torch <-> warp views, and launches on the
stream torch uses (CUDA) or split by frame over CPU threads.

Warp compiles each kernel module on first use, for the device it runs on, and caches the result under
``warp.config.kernel_cache_dir`` (``~/.cache/warp/<version>`` unless ``WARP_CACHE_PATH`` says otherwise):
a few seconds once per machine and Warp version, then a load of some milliseconds per process. Nothing is
downloaded: the CPU compiler ships inside the ``warp-lang`` wheel.

CPU: one Warp launch runs on one thread, so a batch is split into contiguous runs of frames
(:func:`frame_runs`), which worker threads take in turn and launch from their own Python thread; the
runs write disjoint frames, so the result does not depend on the split.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch
from torch import Tensor

_lock = threading.Lock()
_state: dict[str, object] = {}


def warp_available() -> bool:
    """Whether ``warp`` (the ``warp-lang`` package) imports here."""
    if "available" not in _state:
        try:
            import warp  # noqa: F401

            _state["available"] = True
        except Exception:  # a broken install is as good as none: the PyTorch path still works
            _state["available"] = False
    return bool(_state["available"])


def warp():
    """The initialised ``warp`` module (imported and initialised once, quietly)."""
    with _lock:
        if "warp" not in _state:
            if not warp_available():
                raise RuntimeError(
                    "the warp render backend needs warp-lang, which does not import here: "
                    "pip install warp-lang, or use backend='torch'"
                )
            import warp as wp

            wp.config.log_level = wp.LOG_WARNING
            with _quiet_stderr(not torch.cuda.is_available()):
                wp.init()
            _state["warp"] = wp
    return _state["warp"]


@contextlib.contextmanager
def _quiet_stderr(enabled: bool):
    """Silence the C library's stderr (Warp's native "no CUDA driver" notice on CPU-only machines)."""
    if not enabled:
        yield
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def scalar(value: float, dtype: torch.dtype):
    """A Warp scalar of a kernel's float type for ``dtype`` (float64, else float32)."""
    wp = warp()
    return wp.float64(value) if dtype == torch.float64 else wp.float32(value)


def device_name(t: Tensor) -> str:
    """Warp's name for the device of ``t``: "cpu" or "cuda:N"."""
    if t.device.type == "cuda":
        return f"cuda:{t.device.index if t.device.index is not None else torch.cuda.current_device()}"
    if t.device.type != "cpu":
        raise ValueError(f"the warp render backend runs on cpu and cuda tensors, got device {t.device}")
    return "cpu"


def view(t: Tensor):
    """A zero-copy Warp array over a tensor: same shape, dtype and strides (an expanded input, such as one
    background for every frame, is read in place, not copied)."""
    return warp().from_torch(t)


def as_int32(t: Tensor) -> Tensor:
    """``t`` as a contiguous int32 tensor (itself when it is one): ids the kernels read (faces, adjacency,
    labels) take half the cache lines of int64 ones. The caller checks that the values fit."""
    return t if t.dtype == torch.int32 and t.is_contiguous() else t.to(torch.int32).contiguous()


def fill_frames(t: Tensor, start: int, stop: int, value: float | int | bool) -> None:
    """Set frames [start, stop) of ``t`` (B, ...) to ``value``. On CPU by numpy, which leaves the GIL and
    uses the calling thread only: worker threads fill the frames of their own runs while the other workers'
    kernels run, instead of a bulk fill of the whole batch before them all."""
    part = t[start:stop]
    if part.device.type != "cpu":
        part.fill_(value)
    elif value == 0 and part.is_contiguous() and part.numel():
        # all-zero bytes are zero in every dtype: libc's memset (non-temporal stores for large blocks,
        # the GIL left by ctypes) writes cold memory about a third faster than numpy's fill loop
        ctypes.memset(part.data_ptr(), 0, part.numel() * part.element_size())
    else:
        part.numpy().fill(value)


def copy_frames(dst: Tensor, src: Tensor, start: int, stop: int, clamp: bool = False) -> None:
    """Frames [start, stop) of ``src`` (B or 1 frames, broadcast) into those of ``dst`` (B, ...), clamped
    to [0, 1] when ``clamp`` (NaN stays NaN, as torch.clamp); on CPU by numpy, as :func:`fill_frames`."""
    part = dst[start:stop]
    source = src[start:stop] if src.shape[0] > 1 else src
    if part.device.type == "cpu":
        if clamp:
            np.clip(source.numpy(), 0, 1, out=part.numpy())
        else:
            np.copyto(part.numpy(), source.numpy())
    elif clamp:
        part.copy_(source).clamp_(0, 1)
    else:
        part.copy_(source)


class Pool:
    """Large buffers kept for reuse instead of freed: fresh memory costs its page faults and the kernel's
    zeroing of every page (a fifth of ``generate``'s CPU time on this project's machine). :meth:`take`
    hands out a free buffer of a key (a shape, a dtype) or makes one; :meth:`release` and
    :meth:`release_all` make lent buffers free again, for a caller that no longer reads or writes them.
    The pool holds what it lends (no other object can take a lent one's id). Thread-safe."""

    def __init__(self) -> None:
        self._free: dict[Hashable, list[Any]] = {}
        self._lent: dict[int, tuple[Hashable, Any]] = {}
        self._lock = threading.Lock()

    def take(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self._lock:
            free = self._free.get(key)
            obj = free.pop() if free else make()
            self._lent[id(obj)] = (key, obj)
        return obj

    def release(self, obj: Any) -> None:
        """``obj`` is free again if this pool lent it (anything else is ignored)."""
        with self._lock:
            entry = self._lent.get(id(obj))
            if entry is not None and entry[1] is obj:
                del self._lent[id(obj)]
                self._free.setdefault(entry[0], []).append(obj)

    def release_all(self) -> None:
        """Everything lent is free again."""
        with self._lock:
            for key, obj in self._lent.values():
                self._free.setdefault(key, []).append(obj)
            self._lent.clear()


class BufferPool(Pool):
    """Buffers for the kernels' outputs and scratch, kept from one batch to the next (a batch of 100 frames
    at 320x240 allocates some 700 MB of layers). Inside ``with buffers_from(pool):`` the kernels take their
    buffers from ``pool`` (:func:`empty`); :meth:`reuse` makes every buffer handed out so far available
    again, for a caller that is done with everything the last batch returned (its values are overwritten
    by the next batch's)."""

    def reuse(self) -> None:
        """Every buffer handed out is free again (nothing may still read or write them)."""
        self.release_all()


_local = threading.local()


def empty(shape: Sequence[int], dtype: torch.dtype, device: torch.device) -> Tensor:
    """An uninitialised tensor, from the pool :func:`buffers_from` made active on this thread (else new)."""
    pool = getattr(_local, "pool", None)
    shape = tuple(shape)
    if pool is None:
        return torch.empty(shape, dtype=dtype, device=device)
    return pool.take(
        (shape, dtype, torch.device(device)), lambda: torch.empty(shape, dtype=dtype, device=device)
    )


@contextlib.contextmanager
def buffers_from(pool: BufferPool | None) -> Iterator[None]:
    """The kernels called on this thread inside the block take their buffers from ``pool`` (None: new
    ones)."""
    before = getattr(_local, "pool", None)
    _local.pool = pool
    try:
        yield
    finally:
        _local.pool = before


_kernel_threads: int | None = None


def cpu_workers() -> int:
    """Threads used for CPU launches: torch's intra-op thread count, unless :func:`kernel_threads` says."""
    return _kernel_threads or max(1, torch.get_num_threads())


@contextlib.contextmanager
def kernel_threads(n: int) -> Iterator[None]:
    """CPU launches on ``n`` threads inside the block, whatever torch's own thread count (a process-wide
    setting, as torch's is: ``generate`` runs torch's ops on one thread and the kernels on every core)."""
    global _kernel_threads
    if n < 1:
        raise ValueError(f"kernel_threads: expected n >= 1, got {n}")
    before, _kernel_threads = _kernel_threads, n
    try:
        yield
    finally:
        _kernel_threads = before


_pool: ThreadPoolExecutor | None = None


def _forget_threads_after_fork() -> None:
    """A forked child has none of its parent's threads: give it a new pool and new locks."""
    global _pool, _lock, _load_lock
    _pool, _lock, _load_lock = None, threading.Lock(), threading.Lock()


os.register_at_fork(after_in_child=_forget_threads_after_fork)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="synthhuman-warp")
    return _pool


def frame_chunks(batch: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous [start, stop) frame runs, at most ``workers`` of them, sizes differing by at most one."""
    n = max(1, min(workers, batch))
    return [(batch * i // n, batch * (i + 1) // n) for i in range(n) if batch * (i + 1) // n > batch * i // n]


def work_chunk(device: str) -> int:
    """Items (faces, vertices) per thread in per-item kernels: one on CUDA; 256 on CPU, where a Warp
    thread costs more than a culled face."""
    return 1 if device != "cpu" else 256


def row_span(width: int, device: str) -> int:
    """Pixels per thread in per-pixel kernels: one on CUDA; a whole row on CPU, where a Warp thread's
    own cost exceeds that of an empty pixel."""
    return 1 if device != "cpu" else max(1, width)


_loaded: set[tuple] = set()
_load_lock = threading.Lock()


def launch(kernel, dim: int | Sequence[int], args: Sequence[object], device: str, record: bool = False):
    """Launch ``kernel`` over ``dim`` threads on ``device``, on torch's current stream when on CUDA; with
    ``record``, return the launch recorded instead (Warp's ``Launch``: ``launch()`` runs it).

    The first launch of each kernel overload on each device runs under a lock: Warp builds and loads
    modules on first use, which is not safe from two threads at once."""
    wp = warp()
    kwargs = {"dim": dim, "inputs": list(args), "device": device, "record_cmd": record}
    if device != "cpu":
        kwargs["stream"] = wp.stream_from_torch(torch.cuda.current_stream(torch.device(device)))
    signature = (kernel.key, device, *(getattr(a, "dtype", type(a)) for a in args))
    if signature in _loaded:
        return wp.launch(kernel, **kwargs)
    with _load_lock:
        done = wp.launch(kernel, **kwargs)
        _loaded.add(signature)
    return done


class Relaunch:
    """A kernel launched run after run of one stage, with the same arguments but the first frame of the run
    (``frame0``, the argument between ``before`` and ``after``) and the launch's dim.

    ``wp.launch`` packs every argument each time (and resolves a generic kernel's overload): tens of
    microseconds per launch, holding the GIL the other workers need for theirs. On CPU each worker thread
    records the launch once and then sets only the frame and the dim when they change (a few
    microseconds): CPU time per frame about 3 % lower on the benchmark scene at two threads. On CUDA (one
    launch per batch), :func:`launch`."""

    def __init__(self, kernel, device: str, before: Sequence[object], after: Sequence[object] = ()):
        self.kernel, self.device = kernel, device
        self.before, self.after = list(before), list(after)
        self._mine = threading.local()  # this thread's recorded launch, its dim and frame

    def __call__(self, dim: int | tuple[int, ...], frame0: int) -> None:
        if self.device != "cpu":
            launch(self.kernel, dim, [*self.before, frame0, *self.after], self.device)
            return
        mine = self._mine
        cmd = getattr(mine, "cmd", None)
        if cmd is None:
            cmd = launch(self.kernel, dim, [*self.before, frame0, *self.after], "cpu", record=True)
            if cmd is None:  # no threads: Warp records nothing
                return
            mine.cmd, mine.dim, mine.frame0 = cmd, dim, frame0
        else:
            if dim != mine.dim:
                cmd.set_dim(dim)
                mine.dim = dim
            if frame0 != mine.frame0:
                cmd.set_param_at_index(len(self.before), frame0)
                mine.frame0 = frame0
        cmd.launch()


RUNS_PER_WORKER = 4
"""CPU: no run of frames is longer than ``batch / (RUNS_PER_WORKER * workers)`` (rounded up), so that a
worker the operating system holds back (another process on the core) delays a short run, not half the
batch."""


def frame_runs(batch: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous [start, stop) frame runs covering the batch in order, for ``workers`` threads that take
    them in turn: each run is the frames left over twice the workers (rounded up), at most
    ``RUNS_PER_WORKER``'s share and at least one frame, so runs shrink towards the end of the batch and
    the last worker to finish waits for a short run only (the other one idles at each stage's end for at
    most that long). Batch 32 on 2 workers: 4, 4, 4, 4, 4, 3, 3, 2, 1, 1, 1, 1."""
    workers = max(1, workers)
    cap = -(-batch // (RUNS_PER_WORKER * workers)) if batch > 0 else 1
    runs, start = [], 0
    while start < batch:
        size = max(1, min(cap, -(-(batch - start) // (2 * workers))))
        runs.append((start, start + size))
        start += size
    return runs


def launch_by_frames(batch: int, device: str, run: Callable[[int, int], None]) -> None:
    """Call ``run(start, stop)`` for runs of frames: one call on CUDA; on CPU the runs of
    :func:`frame_runs`, taken in turn by the worker threads, in parallel (each launch writes only its own
    frames, so the result does not depend on who runs what)."""
    if batch <= 0:
        return
    workers = cpu_workers()
    if device != "cpu" or workers == 1 or batch == 1:
        run(0, batch)
        return
    runs = iter(frame_runs(batch, workers))
    take = threading.Lock()

    def work() -> None:
        while True:
            with take:
                frames = next(runs, None)
            if frames is None:
                return
            run(*frames)

    futures = [_executor().submit(work) for _ in range(min(workers, batch) - 1)]
    try:
        work()
    finally:
        for f in futures:
            f.result()
