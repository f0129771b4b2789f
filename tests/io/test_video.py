"""H.264 files: what is written reads back close to it, mirroring by ffmpeg gives the file of the flipped
frames, ffmpeg is started without forking the parent, and bad frames are named."""

from __future__ import annotations

import os

import numpy as np
import pytest

from synthhuman.io.video import read_mp4, write_mp4


def _frames(t: int = 6, h: int = 48, w: int = 64) -> np.ndarray:
    """Smooth moving colour ramps (H.264 keeps them within a few levels)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    out = [np.stack([x / w, y / h, (x + y + 4 * k) / (w + h + 4 * t)], -1) for k in range(t)]
    return (np.stack(out) * 255).astype(np.uint8)


def test_round_trip_and_mirror(tmp_path):
    frames = _frames()
    plain = write_mp4(tmp_path / "plain.mp4", frames)
    back = read_mp4(plain)
    assert back.shape == frames.shape and back.dtype == np.uint8
    assert float(np.abs(back.astype(int) - frames).mean()) < 3
    flipped = write_mp4(tmp_path / "flipped.mp4", np.ascontiguousarray(frames[:, :, ::-1]))
    mirrored = write_mp4(tmp_path / "mirrored.mp4", frames, mirror=True)
    assert mirrored.read_bytes() == flipped.read_bytes()  # flipped before the conversion to yuv420p
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temporary file left


def test_ffmpeg_is_started_by_vfork_unless_the_user_says(tmp_path, monkeypatch):
    monkeypatch.delenv("IMAGEIO_FFMPEG_NO_PREVENT_SIGINT", raising=False)
    write_mp4(tmp_path / "a.mp4", _frames(2))
    assert os.environ["IMAGEIO_FFMPEG_NO_PREVENT_SIGINT"] == "1"  # no preexec_fn: Python vforks
    monkeypatch.setenv("IMAGEIO_FFMPEG_NO_PREVENT_SIGINT", "0")
    write_mp4(tmp_path / "b.mp4", _frames(2))
    assert os.environ["IMAGEIO_FFMPEG_NO_PREVENT_SIGINT"] == "0"


@pytest.mark.parametrize(
    "frames, what",
    [
        (np.zeros((2, 48, 64), np.uint8), "expected \\(T, H, W, 3\\) uint8"),
        (np.zeros((2, 48, 64, 3), np.float32), "expected \\(T, H, W, 3\\) uint8"),
        (np.zeros((2, 47, 64, 3), np.uint8), "even H and W"),
        (np.zeros((0, 48, 64, 3), np.uint8), "T >= 1"),
    ],
)
def test_bad_frames_are_named(tmp_path, frames, what):
    with pytest.raises(ValueError, match=what):
        write_mp4(tmp_path / "x.mp4", frames)
    assert list(tmp_path.iterdir()) == []
