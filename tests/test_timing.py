"""StageTimer: the one way stage times are totalled, from any thread."""

from __future__ import annotations

import threading
import time

import pytest

from synthhuman.timing import StageTimer


def test_blocks_add_up_and_merge():
    timer = StageTimer("cpu")
    with timer("a"):
        time.sleep(0.01)
    with timer("a"):
        pass
    timer.add("b", 1.5)
    timer.merge({"b": 0.5, "c": 2.0})
    s = timer.seconds
    assert list(s) == ["a", "b", "c"] and s["a"] >= 0.01 and s["b"] == 2.0 and s["c"] == 2.0
    s["a"] = -1.0  # a copy: the timer's totals do not change
    assert timer.seconds["a"] >= 0.01


def test_a_failing_block_is_still_timed():
    timer = StageTimer()
    with pytest.raises(RuntimeError), timer("x"):
        raise RuntimeError("boom")
    assert "x" in timer.seconds


def test_threads_lose_no_update():
    timer = StageTimer()

    def work() -> None:
        for _ in range(2000):
            timer.add("n", 1.0)
            timer.merge({"m": 1.0})

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert timer.seconds == {"n": 16000.0, "m": 16000.0}
