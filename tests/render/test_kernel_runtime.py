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
    expected = [(0, batch)] if threads == 1 and batch else runtime.frame_runs(batch, threads)
    assert sorted(calls) == (expected if batch != 1 else [(0, 1)]) and all(a < b for a, b in calls)


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
@pytest.mark.parametrize("batch", [0, 1, 2, 5, 7, 32, 33, 100])
def test_frame_runs_cover_the_batch_in_order_shrinking_towards_its_end(workers, batch):
    runs = runtime.frame_runs(batch, workers)
    assert [i for a, b in runs for i in range(a, b)] == list(range(batch))
    sizes = [b - a for a, b in runs]
    cap = -(-batch // (runtime.RUNS_PER_WORKER * workers)) if batch else 0
    assert all(1 <= s <= cap for s in sizes) and sizes == sorted(sizes, reverse=True)
    if batch >= 2 * workers:
        assert sizes[-1] == 1  # the last worker to finish waits for one frame


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
    assert sorted(calls) == runtime.frame_runs(32, 3)
    with pytest.raises(ValueError, match="n >= 1, got 0"):
        with runtime.kernel_threads(0):
            pass


def test_buffer_pool_hands_buffers_out_again_after_reuse_only():
    pool = runtime.BufferPool()
    with runtime.buffers_from(pool):
        a = runtime.empty((4, 5), torch.float32, torch.device("cpu"))
        b = runtime.empty((4, 5), torch.float32, torch.device("cpu"))
        c = runtime.empty((4, 5), torch.int64, torch.device("cpu"))
        assert a.data_ptr() != b.data_ptr()  # both lent: distinct
        pool.reuse()
        again = {runtime.empty((4, 5), torch.float32, torch.device("cpu")).data_ptr() for _ in range(2)}
        assert again == {a.data_ptr(), b.data_ptr()}
        assert runtime.empty((4, 5), torch.int64, torch.device("cpu")).data_ptr() == c.data_ptr()
        assert runtime.empty((5, 4), torch.float32, torch.device("cpu")).shape == (5, 4)  # a new one
    outside = runtime.empty((4, 5), torch.float32, torch.device("cpu"))  # no pool: always new
    assert outside.data_ptr() not in again


def test_rendered_batches_from_one_pool_equal_fresh_ones():
    from synthhuman.render import intrinsics
    from synthhuman.render.kernels import warp_available, zbuffer

    if not warp_available():
        pytest.skip("warp-lang does not import here")
    from tests.meshes import uv_sphere

    verts, faces = uv_sphere(0.5, n_lat=12, n_lon=16, dtype=torch.float32)
    K = intrinsics(40.0, (15.5, 11.5)).expand(3, 3, 3)
    shifted = [verts + torch.tensor([0.1 * i, 0.0, 3.0]) for i in range(3)]
    batch_a, batch_b = torch.stack(shifted), torch.stack(shifted[::-1])
    fresh_a, fresh_b = (zbuffer(v, faces, K, (24, 32)).keys.clone() for v in (batch_a, batch_b))
    pool = runtime.BufferPool()
    with runtime.buffers_from(pool):
        first = zbuffer(batch_a, faces, K, (24, 32)).keys
        assert torch.equal(first, fresh_a)
        pool.reuse()
        second = zbuffer(batch_b, faces, K, (24, 32)).keys
    assert second.data_ptr() == first.data_ptr() and torch.equal(second, fresh_b)


@pytest.mark.skipif(not runtime.warp_available(), reason="warp-lang does not import here")
@pytest.mark.parametrize("threads", [1, 2])
def test_relaunch_equals_a_launch_per_run(threads):
    """A recorded launch re-run with each run's first frame and dim (runs of 4, 4, ..., 1 frames; one
    recording per worker thread) writes what a full launch per run writes, every frame once."""
    from synthhuman.render.kernels import _raster

    gen = torch.Generator().manual_seed(3)
    b, v, chunk = 11, 37, 8
    verts = torch.randn(b, v, 3, generator=gen) + torch.tensor([0.0, 0.0, 4.0])
    K = torch.tensor([[[50.0, 0.5, 16.0], [0.0, 48.0, 12.0], [0.0, 0.0, 1.0]]]).repeat(b, 1, 1)
    near = runtime.scalar(0.1, torch.float32)
    outs = [torch.full((b, v), float("nan")) for _ in range(4)]
    views = [runtime.view(t) for t in (verts, K, *outs)]
    for start in range(b):  # the reference: one full launch per frame
        args = [*views[:2], near, start, chunk, *views[2:4]]
        runtime.launch(_raster.project_vertices, (1, -(-v // chunk)), args, "cpu")
    kernel = runtime.Relaunch(_raster.project_vertices, "cpu", [*views[:2], near], [chunk, *views[4:]])
    with runtime.kernel_threads(threads):
        runtime.launch_by_frames(b, "cpu", lambda start, stop: kernel((stop - start, -(-v // chunk)), start))
    assert not torch.isnan(outs[0]).any()
    assert torch.equal(outs[2], outs[0]) and torch.equal(outs[3], outs[1])
