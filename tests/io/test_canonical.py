"""The canonical format written and read back: the reader returns the record the writer took."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from synthhuman.io.canonical import (
    CanonicalWriter,
    finished_clips,
    is_finished_clip,
    read_canonical_clip,
    write_canonical_clip,
)
from synthhuman.io.record import ClipRef
from synthhuman.timing import StageTimer


def test_read_back_is_the_written_record(tmp_path, clip_record):
    rec = dataclasses.replace(clip_record, info=dataclasses.replace(clip_record.info, split="train"))
    timer = StageTimer()
    folder = write_canonical_clip(rec, tmp_path, timer=timer)
    assert set(timer.seconds) == {"encode video", "write labels"}
    back = read_canonical_clip(folder)
    assert back.info == rec.info
    for f in dataclasses.fields(rec):
        a, b = getattr(rec, f.name), getattr(back, f.name)
        if f.name in ("info", "rgb", "flow_backward"):
            continue
        if f.name == "flow":  # stored as float16
            np.testing.assert_array_equal(b, a.astype(np.float16).astype(np.float32))
        elif f.name == "joints3d_world":  # recomputed from the camera joints: float32 rounding
            np.testing.assert_allclose(b, a, atol=2e-5)
        else:
            np.testing.assert_array_equal(b, a, err_msg=f.name)
            assert b.dtype == a.dtype or f.name == "gender", f.name
    assert back.rgb.shape == rec.rgb.shape
    assert np.abs(back.rgb.astype(float) - rec.rgb).mean() < 3  # H.264 at CRF 23
    assert read_canonical_clip(folder, video=False).rgb is None


def test_one_finished_rule(tmp_path, clip_record):
    rec = dataclasses.replace(clip_record, info=dataclasses.replace(clip_record.info, split="test"))
    writer = CanonicalWriter(tmp_path)
    ref = ClipRef("test", 0)
    rec = dataclasses.replace(rec, info=dataclasses.replace(rec.info, clip_id=ref.clip_id, index=0))
    assert not writer.done(ref)
    writer.write(rec)
    assert writer.done(ref) and finished_clips(tmp_path) == [tmp_path / "test" / "000000"]
    hidden = tmp_path / "test" / ".000001.123.tmp"
    hidden.mkdir()
    (hidden / "info.json").write_text("{}")
    empty = tmp_path / "test" / "000002"
    empty.mkdir()
    assert not is_finished_clip(hidden) and not is_finished_clip(empty)
    assert finished_clips(tmp_path) == [tmp_path / "test" / "000000"]
    assert not writer.done(ClipRef("test", 2))


def test_a_record_without_video_is_refused_by_writers(tmp_path, clip_record):
    rec = dataclasses.replace(clip_record, rgb=None)
    with pytest.raises(ValueError, match=r"ClipRecord.rgb: expected \(T, H, W, 3\) frames, got None"):
        write_canonical_clip(rec, tmp_path)
    assert not any(tmp_path.rglob("*"))
