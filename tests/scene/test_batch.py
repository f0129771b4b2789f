"""Batch packing: segments tile a clip and carry flow's neighbour frames."""

from __future__ import annotations

from synthhuman.scene import build_clip, sample_clip, segments


def test_segments_tile_the_clip_with_flow_neighbours(assets):
    clip = build_clip(assets, sample_clip(assets, 0, "train", 0))
    for backward in (False, True):
        for size in (3, 4, 8, 100):
            segs = segments(clip, size, backward)
            kept = [k for s in segs for k in range(s.keep_start, s.keep_stop)]
            assert kept == list(range(8))
            for s in segs:
                assert s.stop - s.start <= size
                assert s.stop == 8 or s.stop > s.keep_stop  # a next frame for forward flow
                if backward:
                    assert s.start == 0 or s.start < s.keep_start  # a previous frame for backward flow
