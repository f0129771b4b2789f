"""Wall time per named stage, totalled safely from any thread: the one way the project adds up times
(the render stages on the main thread, the writers' encoding and compression on their threads)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import torch


class StageTimer:
    """Accumulates seconds per stage name. ``with timer("rasterize"): ...`` times a block (synchronizing
    ``device`` first and last when it is a CUDA device, so the times are real); :meth:`add` and
    :meth:`merge` add measured seconds. Every update holds a lock, so writer threads share one timer."""

    def __init__(self, device: torch.device | str | None = None) -> None:
        self.device = torch.device(device) if device is not None else None
        self._seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self._sync()
        start = time.perf_counter()
        try:
            yield
        finally:
            self._sync()
            self.add(name, time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        """Add ``seconds`` to stage ``name``."""
        with self._lock:
            self._seconds[name] = self._seconds.get(name, 0.0) + seconds

    def merge(self, seconds: Mapping[str, float]) -> None:
        """Add every stage of ``seconds`` (e.g. another timer's :attr:`seconds`, or a Ray task's)."""
        with self._lock:
            for name, sec in seconds.items():
                self._seconds[name] = self._seconds.get(name, 0.0) + sec

    @property
    def seconds(self) -> dict[str, float]:
        """A copy of the totals so far, by stage name, in the order the stages first ran."""
        with self._lock:
            return dict(self._seconds)

    def _sync(self) -> None:
        if self.device is not None and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


@contextmanager
def untimed(name: str) -> Iterator[None]:
    """A stand-in for a :class:`StageTimer` call that times nothing."""
    yield
