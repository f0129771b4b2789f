"""The canonical format written and read back: the reader returns the record the writer took."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from synthhuman.io.canonical import (
    CanonicalWriter,
    finished_clips,
    is_finished_clip,
    labels_arrays,
    read_canonical_clip,
    write_canonical_clip,
    write_npz,
)
from synthhuman.io.record import ClipRef
from synthhuman.timing import StageTimer
from tests.io.conftest import render_record


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


def test_moving_camera_reads_back_per_frame(tmp_path):
    """Per-frame K, R, t (an orbiting camera) are stored and read back as (T, 3, 3), (T, 3, 3), (T, 3);
    the world joints are recomputed with each frame's own camera."""
    rec = render_record(orbit=0.1, focal=450.0)
    assert rec.K.shape == (len(rec.depth), 3, 3) and not rec.static_camera
    back = read_canonical_clip(write_canonical_clip(rec, tmp_path), video=False)
    for name in ("K", "R", "t"):
        np.testing.assert_array_equal(getattr(back, name), getattr(rec, name), err_msg=name)
    np.testing.assert_allclose(back.joints3d_world, rec.joints3d_world, atol=2e-5)


def test_format_version_1_labels_hold_one_camera_and_still_read(tmp_path, clip_record):
    """Files written before per-frame cameras stored K, R (3, 3) and t (3,): read back per frame."""
    folder = write_canonical_clip(clip_record, tmp_path)
    old = labels_arrays(clip_record)
    old.update(K=old["K"][0], R=old["R"][0], t=old["t"][0])
    write_npz(folder / "labels.npz", old, 1)
    back = read_canonical_clip(folder, video=False)
    T = clip_record.num_frames
    assert back.K.shape == (T, 3, 3) and back.R.shape == (T, 3, 3) and back.t.shape == (T, 3)
    for name in ("K", "R", "t"):
        np.testing.assert_array_equal(getattr(back, name), getattr(clip_record, name), err_msg=name)
    np.testing.assert_allclose(back.joints3d_world, clip_record.joints3d_world, atol=2e-5)
