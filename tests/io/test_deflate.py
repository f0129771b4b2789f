"""Label files deflated by ISA-L: the same arrays back through ``np.load``, valid CRCs, and zlib where
ISA-L is not used."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from synthhuman.io import deflate
from synthhuman.io.canonical import write_npz


def _arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    depth = np.zeros((5, 40, 60), np.float32)
    depth[:, 10:30, 20:40] = rng.uniform(2, 9, (5, 20, 20)).astype(np.float32)
    return {
        "depth": depth,
        "normals": rng.normal(size=(5, 40, 60, 3)).astype(np.float16),
        "segm": rng.integers(0, 25, (5, 40, 60), dtype=np.uint8),
        "flow_valid": depth > 0,
        "gender": np.array(["male"]),
        "empty": np.zeros((0, 3), np.float32),
    }


@pytest.mark.parametrize("level", [0, 1, 2, 3, 6, 9])
def test_npz_reads_back_the_same_arrays_at_every_level(tmp_path, level):
    arrays = _arrays()
    path = tmp_path / "labels.npz"
    write_npz(path, arrays, level)
    with np.load(path) as back:
        assert sorted(back.files) == sorted(arrays)
        for name, a in arrays.items():
            assert back[name].dtype == a.dtype and np.array_equal(back[name], a), name
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # every member's CRC matches its data
        kinds = {i.compress_type for i in zf.infolist()}
    assert kinds == ({zipfile.ZIP_STORED} if level == 0 else {zipfile.ZIP_DEFLATED})


@pytest.mark.skipif(not deflate.fast_deflate_available(), reason="isal does not import here")
def test_levels_1_to_3_use_isal_and_higher_ones_zlib(tmp_path):
    arrays = _arrays()
    for level in (1, 6):
        with zipfile.ZipFile(tmp_path / f"{level}.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
            with zf.open("a.npy", "w") as member:
                assert deflate.use_fast_deflate(member, level) == (level == 1)
                member.write(arrays["depth"].tobytes())
    # ISA-L's stream differs from zlib's at level 1; both inflate to the same bytes
    zlib_path = tmp_path / "zlib.zip"
    with zipfile.ZipFile(zlib_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("a.npy", arrays["depth"].tobytes())
    with zipfile.ZipFile(tmp_path / "1.zip") as fast, zipfile.ZipFile(zlib_path) as slow:
        assert fast.read("a.npy") == slow.read("a.npy") == arrays["depth"].tobytes()
        assert fast.infolist()[0].compress_size != slow.infolist()[0].compress_size


def test_without_isal_zlib_is_used(tmp_path, monkeypatch):
    monkeypatch.setattr(deflate, "fast_deflate_available", lambda: False)
    arrays = _arrays()
    write_npz(tmp_path / "labels.npz", arrays, 1)
    with np.load(tmp_path / "labels.npz") as back:
        assert np.array_equal(back["normals"], arrays["normals"])
    with zipfile.ZipFile(tmp_path / "x.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("a", "w") as member:
            assert not deflate.use_fast_deflate(member, 1)


def test_zipfiles_crc32_from_isal_gives_zlibs_checksums():
    import zipfile
    import zlib

    from synthhuman.io.deflate import fast_crc32_for_zipfile

    if not fast_crc32_for_zipfile():
        pytest.skip("isal does not import here")
    rng = np.random.default_rng(0)
    for size in (0, 1, 7, 4096, 1_000_003):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        for start in (0, 1, 0xFFFFFFFF, 123456789):
            assert zipfile.crc32(data, start) == zlib.crc32(data, start)
        assert zipfile.crc32(memoryview(data)) == zlib.crc32(data)
