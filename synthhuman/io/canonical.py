"""The canonical dataset format: ``<out>/<split>/<clip_id>/`` holding ``rgb.mp4``, ``labels.npz``,
``info.json`` (and ``frames/%04d.png`` with ``png``); DESIGN.md section 3's conventions.

A clip is written into a temporary folder beside its final one and renamed when every file is complete, so
a clip folder that exists is a finished clip (what ``--resume`` relies on) and a killed run leaves only a
hidden temporary folder, removed by the next run.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from synthhuman.io.atomic import atomic_write
from synthhuman.io.record import ClipRecord
from synthhuman.io.video import DEFAULT_CRF, write_mp4

LABEL_DTYPES = {
    "depth": np.float32,
    "normals": np.float16,
    "segm": np.uint8,
    "instance": np.uint8,
    "flow": np.float16,
    "flow_valid": np.bool_,
    "joints2d": np.float32,
    "joints3d": np.float32,
    "joints_visible": np.bool_,
    "pose": np.float32,
    "betas": np.float32,
    "trans": np.float32,
    "gender": None,  # str
    "K": np.float32,
    "R": np.float32,
    "t": np.float32,
    "light": np.float32,
}
"""The arrays of ``labels.npz`` and their stored dtypes (the issue's table; flow is stored as float16)."""


def clip_dir(root: str | os.PathLike, split: str, clip_id: str) -> Path:
    return Path(root) / split / clip_id


def write_npz(path: Path, arrays: dict[str, np.ndarray], compress_level: int) -> None:
    """An ``.npz`` (readable by ``np.load``) with deflate at ``compress_level`` (0: stored, 1: fastest,
    9: smallest), written array by array; numpy's own ``savez_compressed`` is fixed at level 6."""
    compression = zipfile.ZIP_STORED if compress_level == 0 else zipfile.ZIP_DEFLATED
    with atomic_write(path) as f:
        level = None if compress_level == 0 else compress_level
        with zipfile.ZipFile(f, "w", compression=compression, compresslevel=level) as zf:
            for name, a in arrays.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(a), allow_pickle=False)


def labels_arrays(record: ClipRecord) -> dict[str, np.ndarray]:
    """The ``labels.npz`` arrays of a record, in their stored dtypes."""
    out = {}
    for name, dtype in LABEL_DTYPES.items():
        a = getattr(record, name)
        out[name] = a.astype(dtype) if dtype is not None else a.astype(str)
    return out


def write_canonical_clip(
    record: ClipRecord,
    root: str | os.PathLike,
    *,
    png: bool = False,
    crf: int = DEFAULT_CRF,
    compress_level: int = 1,
    seconds: dict[str, float] | None = None,
) -> Path:
    """Write one clip; returns its folder. Replaces nothing: an existing clip folder is an error.
    ``seconds``: if given, time spent per step is added to it ('encode video', 'write labels')."""
    seconds = {} if seconds is None else seconds

    def timed(name: str, start: float) -> None:
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start

    info = record.info
    final = clip_dir(root, info.split, info.clip_id)
    if final.exists():
        raise FileExistsError(f"{final}: clip folder already exists")
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        start = time.perf_counter()
        write_mp4(tmp / "rgb.mp4", record.rgb, fps=info.fps, crf=crf)
        timed("encode video", start)
        start = time.perf_counter()
        write_npz(tmp / "labels.npz", labels_arrays(record), compress_level)
        timed("write labels", start)
        if png:
            from synthhuman.viz import write_png

            for k, frame in enumerate(record.rgb):
                write_png(tmp / "frames" / f"{k:04d}.png", frame)
        with atomic_write(tmp / "info.json") as f:
            f.write(json.dumps(asdict(info), indent=1).encode())
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def read_canonical_clip(folder: str | os.PathLike, video: bool = True) -> dict:
    """The arrays of a clip folder (``labels.npz``), ``info`` (dict) and, with ``video``, ``rgb``
    (T, H, W, 3) uint8 decoded from ``rgb.mp4``."""
    from synthhuman.io.video import read_mp4

    folder = Path(folder)
    for name in ("labels.npz", "info.json") + (("rgb.mp4",) if video else ()):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder}: missing {name} (not a finished canonical clip)")
    with np.load(folder / "labels.npz", allow_pickle=False) as data:
        out = {k: data[k] for k in data.files}
    out["info"] = json.loads((folder / "info.json").read_text())
    if video:
        out["rgb"] = read_mp4(folder / "rgb.mp4")
    return out
