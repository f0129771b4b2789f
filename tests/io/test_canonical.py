"""The canonical format written and read back: the reader returns the record the writer took."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest

from synthhuman.io.canonical import (
    LABEL_DTYPES,
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


def test_labels_arrays_equal_numpys_casts_bit_for_bit(clip_record):
    flow = clip_record.flow.copy()
    edges = [0.0, -0.0, 1e-8, 6e-8, -3e-5, 0.1, 65504.0, 65519.0, 65520.0, 1e6, -np.inf]
    flow.reshape(-1)[: len(edges)] = edges  # signed zeros, subnormals, ties, overflow to inf
    record = dataclasses.replace(clip_record, flow=flow)
    got = labels_arrays(record)
    for name, dtype in LABEL_DTYPES.items():
        with np.errstate(over="ignore"):  # 1e6 overflows to inf, on purpose
            want = getattr(record, name).astype(dtype or str)
        assert got[name].dtype == want.dtype, name
        assert got[name].tobytes() == want.tobytes(), name


def test_write_npy_writes_numpys_bytes_in_numpys_blocks(tmp_path, monkeypatch):
    import io

    from synthhuman.io import canonical

    class Recorder(io.BytesIO):
        def __init__(self) -> None:
            super().__init__()
            self.sizes: list[int] = []

        def write(self, b) -> int:
            self.sizes.append(memoryview(b).nbytes)
            return super().write(b)

    rng = np.random.default_rng(0)
    arrays = {
        "big": rng.integers(0, 255, (17, 1024, 1024), dtype=np.uint8),  # more than one 16 MiB block
        "odd": np.arange(2**21 + 3, dtype=np.float64).reshape(-1, 1),
        "half": rng.standard_normal((5, 7, 2)).astype(np.float16),
        "text": np.array(["male", "female"]),
        "scalar": np.array(3.5),
        "empty": np.zeros((0, 3), np.float32),
    }
    for name, a in arrays.items():
        ours, numpys = Recorder(), Recorder()
        canonical.write_npy(ours, a)
        np.lib.format.write_array(numpys, a, allow_pickle=False)
        assert ours.getvalue() == numpys.getvalue(), name
        blocks = len(numpys.sizes) - 1  # after numpy's header: the same data blocks
        assert ours.sizes[len(ours.sizes) - blocks :] == numpys.sizes[1:], name
    # and a whole labels file: the same bytes as written through numpy's own writer
    write_npz(tmp_path / "ours.npz", arrays, 1)
    numpys_writer = functools.partial(np.lib.format.write_array, allow_pickle=False)
    monkeypatch.setattr(canonical, "write_npy", numpys_writer)
    write_npz(tmp_path / "numpys.npz", arrays, 1)
    assert (tmp_path / "ours.npz").read_bytes() == (tmp_path / "numpys.npz").read_bytes()
