"""WebDataset shards: readable by the ``webdataset`` package, arrays round-trip, whole clips per shard,
atomic shards and resume."""

from __future__ import annotations

import dataclasses
import tarfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from synthhuman.io.webdataset import (
    ShardConfig,
    ShardWriter,
    completed_clips,
    finished_shards,
    label_png_decoder,
)
from tests.io.conftest import NUM_FRAMES

wds = pytest.importorskip("webdataset")


def _clip(record, clip_id: str):
    return dataclasses.replace(record, info=dataclasses.replace(record.info, clip_id=clip_id))


def _read(paths) -> list[dict]:
    dataset = wds.WebDataset([str(p) for p in paths], shardshuffle=False).decode(label_png_decoder, "rgb8")
    return list(dataset)


def test_samples_round_trip_through_webdataset(clip_record, tmp_path):
    with ShardWriter(tmp_path, "train-w000", ShardConfig(max_samples=100)) as writer:
        writer.write_clip(_clip(clip_record, "clip-a"))
        writer.write_clip(_clip(clip_record, "clip-b"))
    assert writer.written == [tmp_path / "train-w000-000000.tar"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train-w000-000000.tar"]
    samples = _read(writer.written)
    keys = [f"clip-{c}_{k:04d}" for c in "ab" for k in range(NUM_FRAMES)]
    assert [s["__key__"] for s in samples] == keys
    r = clip_record
    for s in samples:
        k = int(s["__key__"][-4:])
        assert set(s) - {"__key__", "__url__", "__local_path__"} == {
            "rgb.png", "segm.png", "instance.png", "depth.npy.gz", "normals.npy.gz", "flow.npy.gz",
            "flow_valid.npy.gz", "json",
        }  # fmt: skip
        np.testing.assert_array_equal(s["rgb.png"], r.rgb[k])
        np.testing.assert_array_equal(s["segm.png"], r.segm[k])
        np.testing.assert_array_equal(s["instance.png"], r.instance[k])
        for name, want in [
            ("depth", r.depth),
            ("normals", r.normals),
            ("flow", r.flow),
            ("flow_valid", r.flow_valid),
        ]:
            got = s[f"{name}.npy.gz"]
            assert got.dtype == want.dtype and got.shape == want.shape[1:], name
            np.testing.assert_array_equal(got, want[k])
        meta = s["json"]
        assert meta["frame"] == k and meta["num_frames"] == NUM_FRAMES
        for name in ("joints2d", "joints3d", "joints3d_world", "pose", "trans"):
            np.testing.assert_array_equal(np.float32(meta[name]), getattr(r, name)[k], err_msg=name)
        np.testing.assert_array_equal(np.array(meta["joints_visible"]), r.joints_visible[k])
        for name in ("betas", "light"):
            np.testing.assert_array_equal(np.float32(meta[name]), getattr(r, name), err_msg=name)
        for name in ("K", "R", "t"):  # the frame's camera
            np.testing.assert_array_equal(np.float32(meta[name]), getattr(r, name)[k], err_msg=name)
        assert meta["gender"] == list(r.gender)
        assert meta["clip"]["clip_id"] == s["__key__"][:-5]
        assert meta["clip"]["headings"] == list(r.info.headings)


def test_shards_roll_over_between_whole_clips(clip_record, tmp_path):
    n = NUM_FRAMES
    with ShardWriter(tmp_path, "s", ShardConfig(max_samples=2 * n + 1)) as writer:
        for i in range(5):
            writer.write_clip(_clip(clip_record, f"c{i}"))
    assert [p.name for p in writer.written] == ["s-000000.tar", "s-000001.tar", "s-000002.tar"]
    per_shard = [len(_read([p])) for p in writer.written]
    assert per_shard == [2 * n, 2 * n, n]
    with ShardWriter(tmp_path / "long", "s", ShardConfig(max_samples=n - 1)) as writer:
        writer.write_clip(_clip(clip_record, "c0"))
        writer.write_clip(_clip(clip_record, "c1"))
    assert [len(_read([p])) for p in writer.written] == [n, n]  # a longer clip gets a shard of its own


def test_a_failed_run_keeps_finished_shards_and_resumes_after_them(clip_record, tmp_path):
    with pytest.raises(RuntimeError, match="killed"):
        with ShardWriter(tmp_path, "w1", ShardConfig(max_samples=NUM_FRAMES)) as writer:
            writer.write_clip(_clip(clip_record, "c0"))
            writer.write_clip(_clip(clip_record, "c1"))  # closes w1-000000 with c0
            raise RuntimeError("killed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w1-000000.tar"]
    assert completed_clips(tmp_path, "w1") == {"c0"}
    (tmp_path / ".w1-000001.tar.99999.tmp").write_bytes(b"half a tar from a killed process")
    (tmp_path / "w10-000000.tar").write_bytes(b"")  # another prefix: not ours
    with ShardWriter(tmp_path, "w1", ShardConfig(max_samples=NUM_FRAMES)) as writer:
        assert not (tmp_path / ".w1-000001.tar.99999.tmp").exists()
        writer.write_clip(_clip(clip_record, "c1"))
    assert writer.written == [tmp_path / "w1-000001.tar"]
    assert finished_shards(tmp_path, "w1") == [tmp_path / "w1-000000.tar", tmp_path / "w1-000001.tar"]
    assert completed_clips(tmp_path, "w1") == {"c0", "c1"}


def test_jpeg_float16_and_uncompressed_options(clip_record, tmp_path):
    cfg = ShardConfig(image_format="jpg", depth_dtype="float16", gzip_level=0)
    with ShardWriter(tmp_path, "j", cfg) as writer:
        writer.write_clip(clip_record)
    s = _read(writer.written)[0]
    assert "rgb.jpg" in s and "rgb.png" not in s
    assert np.abs(s["rgb.jpg"].astype(float) - clip_record.rgb[0]).mean() < 3
    assert s["depth.npy"].dtype == np.float16 and "flow.npy" in s
    np.testing.assert_allclose(s["depth.npy"], clip_record.depth[0], atol=8e-3)


def test_members_are_deterministic_and_bad_input_is_refused(clip_record, tmp_path):
    for d in ("a", "b"):
        with ShardWriter(tmp_path / d, "x") as writer:
            writer.write_clip(clip_record)
    assert (tmp_path / "a/x-000000.tar").read_bytes() == (tmp_path / "b/x-000000.tar").read_bytes()
    with tarfile.open(tmp_path / "a/x-000000.tar") as tar:
        assert tar.getnames()[:2] == ["clip0_0000.rgb.png", "clip0_0000.segm.png"]
    with pytest.raises(ValueError, match="clip_id"):
        ShardWriter(tmp_path / "c", "x").write_clip(_clip(clip_record, "a.b"))
    with pytest.raises(ValueError, match="max_samples"):
        ShardConfig(max_samples=0)
    with pytest.raises(ValueError, match="prefix"):
        ShardWriter(tmp_path, "a/b")


def test_threads_write_whole_clips(clip_record, tmp_path):
    with ShardWriter(tmp_path, "t", ShardConfig(max_samples=3 * NUM_FRAMES)) as writer:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(writer.write_clip, [_clip(clip_record, f"c{i}") for i in range(7)]))
    assert [len(_read([p])) for p in writer.written] == [3 * NUM_FRAMES, 3 * NUM_FRAMES, NUM_FRAMES]
    with tarfile.open(writer.written[0]) as tar:
        names = tar.getnames()
    clips = [n.split("_")[0] for n in names]
    runs = [c for i, c in enumerate(clips) if i == 0 or c != clips[i - 1]]
    assert len(runs) == len(set(runs)) == 3  # each clip's members contiguous
    assert completed_clips(tmp_path, "t") == {f"c{i}" for i in range(7)}
