"""Atomic writes: the old file survives a failed write, no temporary is left behind."""

from __future__ import annotations

import pytest

from synthhuman.atomic import atomic_write


def test_success_replaces_and_failure_keeps_the_old_file(tmp_path):
    path = tmp_path / "sub" / "data.bin"
    with atomic_write(path) as f:
        f.write(b"first")
    assert path.read_bytes() == b"first"
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write(b"half of the sec")
            raise RuntimeError("killed")
    assert path.read_bytes() == b"first"
    assert [p.name for p in path.parent.iterdir()] == ["data.bin"]
