"""The kernels' CPU launch plan: every frame run exactly once, whatever the thread count, and a worker's
error reaches the caller."""

from __future__ import annotations

import threading

import pytest
import torch

from synthhuman.render.kernels import runtime


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("batch", [0, 1, 2, 7, 32])
def test_launch_by_frames_runs_each_frame_once(threads, batch):
    before = torch.get_num_threads()
    seen: list[int] = []
    calls: list[tuple[int, int]] = []
    lock = threading.Lock()

    def run(start: int, stop: int) -> None:
        with lock:
            seen.extend(range(start, stop))
            calls.append((start, stop))

    try:
        torch.set_num_threads(threads)
        runtime.launch_by_frames(batch, "cpu", run)
    finally:
        torch.set_num_threads(before)
    assert sorted(seen) == list(range(batch))
    runs = min(batch, 1 if threads == 1 else runtime.RUNS_PER_WORKER * threads)
    assert len(calls) == runs and all(a < b for a, b in calls)


def test_a_workers_error_reaches_the_caller():
    before = torch.get_num_threads()

    def run(start: int, stop: int) -> None:
        if start > 0:
            raise ValueError(f"frames {start}..{stop}")

    try:
        torch.set_num_threads(2)
        with pytest.raises(ValueError, match="frames"):
            runtime.launch_by_frames(16, "cpu", run)
    finally:
        torch.set_num_threads(before)


def test_kernel_threads_override_torchs_count_inside_the_block_only():
    before = torch.get_num_threads()
    calls: list[tuple[int, int]] = []
    lock = threading.Lock()

    def run(start: int, stop: int) -> None:
        with lock:
            calls.append((start, stop))

    try:
        torch.set_num_threads(1)
        with runtime.kernel_threads(3):
            assert runtime.cpu_workers() == 3
            runtime.launch_by_frames(32, "cpu", run)
        assert runtime.cpu_workers() == 1  # restored
    finally:
        torch.set_num_threads(before)
    assert len(calls) == runtime.RUNS_PER_WORKER * 3
    with pytest.raises(ValueError, match="n >= 1, got 0"):
        with runtime.kernel_threads(0):
            pass
