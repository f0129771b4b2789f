"""H.264 video files through imageio-ffmpeg's bundled ffmpeg (no system ffmpeg needed), written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

DEFAULT_CRF = 23  # SURREAL's setting


def _start_ffmpeg_by_vfork() -> None:
    """imageio-ffmpeg starts ffmpeg in its own process group through a preexec_fn (so that Ctrl-C does not
    reach it), which makes Python fork() instead of vfork(): each clip then marks the whole parent (GBs
    while generating or training) copy-on-write, and every page it writes afterwards faults (``generate
    --format surreal``: half its page faults, a quarter of its system time). Without it ffmpeg is started
    by vfork; Ctrl-C also stops ffmpeg, whose unfinished file is never moved into place. A value the user
    set is kept."""
    os.environ.setdefault("IMAGEIO_FFMPEG_NO_PREVENT_SIGINT", "1")


def write_mp4(
    path: str | os.PathLike,
    frames: np.ndarray,
    fps: float = 30.0,
    crf: int = DEFAULT_CRF,
    mirror: bool = False,
) -> Path:
    """Write ``frames`` (T, H, W, 3) uint8 as H.264 yuv420p at ``fps`` with quality ``crf``; ``mirror``:
    each frame flipped left to right (by ffmpeg, before the conversion to yuv420p: the file of the flipped
    frames).

    H and W must be even (yuv420p). The file appears under ``path`` only when complete."""
    import imageio_ffmpeg

    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"{path}: frames: expected (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    t, h, w, _ = frames.shape
    if t == 0 or h % 2 or w % 2:
        raise ValueError(f"{path}: frames: expected T >= 1 and even H and W for yuv420p, got {frames.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _start_ffmpeg_by_vfork()
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        writer = imageio_ffmpeg.write_frames(
            str(tmp),
            (w, h),
            fps=fps,
            codec="libx264",
            pix_fmt_out="yuv420p",
            macro_block_size=1,
            output_params=["-crf", str(crf), "-preset", "veryfast", "-threads", "1"]
            + (["-vf", "hflip"] if mirror else []),
            ffmpeg_log_level="error",
        )
        writer.send(None)
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
        writer.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_mp4(path: str | os.PathLike) -> np.ndarray:
    """(T, H, W, 3) uint8 frames of a video file."""
    import imageio_ffmpeg

    _start_ffmpeg_by_vfork()
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    w, h = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]
    return np.stack(frames) if frames else np.zeros((0, h, w, 3), np.uint8)
