"""The canonical dataset format, written and read here: ``<out>/<split>/<clip_id>/`` holding ``rgb.mp4``,
``labels.npz``, ``info.json`` (and ``frames/%04d.png`` with ``png``); conventions in ``docs/conventions.md``.

A clip is written into a hidden temporary folder beside its final one and renamed when every file is
complete, so a clip folder holding ``info.json`` whose name does not start with '.' is a finished clip
(:func:`is_finished_clip`, the one rule that ``--resume``, the readers and ``preview``/``info`` use) and a
killed run leaves only a hidden temporary folder, removed by the next run.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import torch

from synthhuman.atomic import atomic_write
from synthhuman.conventions import NUM_JOINTS, SPLITS
from synthhuman.io.deflate import fast_crc32_for_zipfile, use_fast_deflate
from synthhuman.io.record import (
    ClipInfo,
    ClipRecord,
    ClipRef,
    DiskClip,
    FrameLabels,
    check_shape,
    read_clip_video,
)
from synthhuman.io.video import DEFAULT_CRF, read_mp4, write_mp4
from synthhuman.io.writer import DatasetWriter
from synthhuman.timing import StageTimer

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
"""The arrays of ``labels.npz`` and their stored dtypes (flow is stored as float16)."""


def clip_dir(root: str | os.PathLike, split: str, clip_id: str) -> Path:
    """The folder of clip ``clip_id`` of ``split``: ``<root>/<split>/<clip_id>``."""
    return Path(root) / split / clip_id


def is_finished_clip(folder: Path) -> bool:
    """A finished clip folder: it holds ``info.json`` (written last, then the folder is renamed into
    place) and its name does not start with '.' (a temporary folder of a running or killed run)."""
    return not folder.name.startswith(".") and (folder / "info.json").is_file()


def finished_clips(root: str | os.PathLike, splits: tuple[str, ...] = SPLITS) -> list[Path]:
    """The finished clip folders of ``splits`` under ``root``, split by split, each sorted by clip id."""
    root = Path(root)
    return [
        p.parent for s in splits for p in sorted((root / s).glob("*/info.json")) if is_finished_clip(p.parent)
    ]


def write_npz(path: Path, arrays: dict[str, np.ndarray], compress_level: int) -> None:
    """An ``.npz`` (readable by ``np.load``) with deflate at ``compress_level`` (0: stored, 1: fastest,
    9: smallest; levels 1-3 by ISA-L where it imports, :mod:`synthhuman.io.deflate`), written array by
    array; numpy's own ``savez_compressed`` is fixed at zlib's level 6."""
    compression = zipfile.ZIP_STORED if compress_level == 0 else zipfile.ZIP_DEFLATED
    fast_crc32_for_zipfile()
    with atomic_write(path) as f:
        level = None if compress_level == 0 else compress_level
        with zipfile.ZipFile(f, "w", compression=compression, compresslevel=level) as zf:
            for name, a in arrays.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                    if level is not None:
                        use_fast_deflate(member, level)
                    write_npy(member, np.ascontiguousarray(a))


_NPY_BLOCK = 16 * 2**20
"""Bytes per write of an array's data: numpy's ``write_array`` writes 16 MiB at a time to a zip member."""


def write_npy(f, a: np.ndarray) -> None:
    """Write ``a`` to the file object ``f`` as ``np.lib.format.write_array(f, a, allow_pickle=False)`` does,
    the same bytes in the same 16 MiB writes, but straight from the array's memory (numpy copies every
    block to a bytes object first: a tenth of a clip's label writing)."""
    fmt = np.lib.format
    plain = a.flags.c_contiguous and a.size and a.itemsize and not a.dtype.hasobject
    if plain:
        try:
            header = io.BytesIO()
            fmt.write_array_header_1_0(header, fmt.header_data_from_array_1_0(a))
        except ValueError:  # a header too long for format 1.0: numpy picks the version
            plain = False
    if not plain:
        fmt.write_array(f, a, allow_pickle=False)
        return
    f.write(header.getvalue())
    data = memoryview(a.reshape(-1)).cast("B")
    step = (_NPY_BLOCK // a.itemsize) * a.itemsize
    for start in range(0, len(data), step):
        f.write(data[start : start + step])


def labels_arrays(record: ClipRecord) -> dict[str, np.ndarray]:
    """The ``labels.npz`` arrays of a record, in their stored dtypes."""
    out = {}
    for name, dtype in LABEL_DTYPES.items():
        a = getattr(record, name)
        if dtype is None:
            out[name] = a.astype(str)
        elif a.dtype == np.float32 and dtype == np.float16:
            out[name] = to_half(a)
        else:
            out[name] = a.astype(dtype, copy=False)  # the record's own array when it has the dtype
    return out


def to_half(a: np.ndarray) -> np.ndarray:
    """``a.astype(np.float16)`` for a float32 array, the same bits (IEEE round to nearest even, as numpy's
    cast) by torch's vectorised conversion, about three times faster."""
    return torch.from_numpy(np.ascontiguousarray(a)).to(torch.float16).numpy()


def write_canonical_clip(
    record: ClipRecord,
    root: str | os.PathLike,
    *,
    png: bool = False,
    crf: int = DEFAULT_CRF,
    compress_level: int = 1,
    timer: StageTimer | None = None,
) -> Path:
    """Write one clip; returns its folder. Replaces nothing: an existing clip folder is an error.
    ``timer``: if given, the time of each step is added to it ('encode video', 'write labels')."""
    timer = timer or StageTimer()
    rgb = record.require_rgb()
    info = record.info
    final = clip_dir(root, info.split, info.clip_id)
    if final.exists():
        raise FileExistsError(f"{final}: clip folder already exists")
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with timer("encode video"):
            crf = info.extra.get("degrade", {}).get("crf", crf)  # the h264 degradation's quality
            write_mp4(tmp / "rgb.mp4", rgb, fps=info.fps, crf=crf)
        with timer("write labels"):
            write_npz(tmp / "labels.npz", labels_arrays(record), compress_level)
        if png:
            from synthhuman.viz import write_png

            for k, frame in enumerate(rgb):
                write_png(tmp / "frames" / f"{k:04d}.png", frame)
        with atomic_write(tmp / "info.json") as f:
            f.write(json.dumps(asdict(info), indent=1).encode())
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


class CanonicalWriter(DatasetWriter):
    """Canonical clip folders under ``root`` (:func:`write_canonical_clip` with these settings)."""

    def __init__(
        self, root: str | os.PathLike, *, png: bool = False, crf: int = DEFAULT_CRF, compress_level: int = 1
    ) -> None:
        super().__init__(root)
        self.png, self.crf, self.compress_level = png, crf, compress_level

    def done(self, ref: ClipRef) -> bool:
        return is_finished_clip(clip_dir(self.root, ref.split, ref.clip_id))

    def write(self, record: ClipRecord) -> None:
        write_canonical_clip(
            record,
            self.root,
            png=self.png,
            crf=self.crf,
            compress_level=self.compress_level,
            timer=self.timer,
        )


# --- reading --------------------------------------------------------------------------------------------


def _check_finished(folder: Path, video: bool) -> None:
    for name in ("labels.npz", "info.json") + (("rgb.mp4",) if video else ()):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder}: missing {name} (not a finished canonical clip)")


def read_clip_info(folder: str | os.PathLike) -> ClipInfo:
    """The :class:`ClipInfo` of a clip folder, from its ``info.json``."""
    path = Path(folder) / "info.json"
    data = json.loads(path.read_text())
    known = {f.name for f in fields(ClipInfo)}
    missing = sorted(known - set(data))
    if missing:
        raise ValueError(f"{path}: field(s) {missing} missing")
    return ClipInfo(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known})


def read_canonical_clip(folder: str | os.PathLike, video: bool = True) -> ClipRecord:
    """A clip folder read back as the :class:`ClipRecord` it was written from: the arrays of
    ``labels.npz`` (flow widened back to float32), its ``info.json`` and, with ``video``, ``rgb`` decoded
    from ``rgb.mp4`` (H.264: close to, not equal to, the frames written; ``rgb`` is None without
    ``video``). ``joints3d_world`` is not stored: it is recomputed from ``joints3d`` and each frame's
    camera. Files of format version 1 hold one camera per clip (``K``, ``R`` (3, 3), ``t`` (3,)): it is
    repeated for every frame, so records always hold per-frame cameras."""
    folder = Path(folder)
    _check_finished(folder, video)
    with np.load(folder / "labels.npz", allow_pickle=False) as data:
        a = {k: data[k] for k in data.files}
    T = a["depth"].shape[0]
    for name, shape in (("K", (3, 3)), ("R", (3, 3)), ("t", (3,))):
        if a[name].shape == shape:  # format version 1: one static camera per clip
            a[name] = np.ascontiguousarray(np.broadcast_to(a[name], (T, *shape)))
    R, t = a["R"].astype(np.float64), a["t"].astype(np.float64)
    world = ((a["joints3d"].astype(np.float64) - t[:, None, None]) @ R[:, None]).astype(
        np.float32
    )  # R^T (X - t)
    return ClipRecord(
        info=read_clip_info(folder),
        rgb=read_mp4(folder / "rgb.mp4") if video else None,
        flow=a.pop("flow").astype(np.float32),
        joints3d_world=world,
        **{k: v for k, v in a.items() if k in LABEL_DTYPES},
    )


def npz_shape(path: Path, name: str) -> tuple[int, ...]:
    """The shape of array ``name`` of an ``.npz``, from its header only (nothing else is decompressed)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (not a finished canonical clip)")
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    with zipfile.ZipFile(path) as zf:
        if f"{name}.npy" not in zf.namelist():
            raise ValueError(f"{path}: {name}: array missing")
        with zf.open(f"{name}.npy") as member:
            version = np.lib.format.read_magic(member)
            if version not in readers:
                raise ValueError(f"{path}: {name}: unsupported .npy format version {version}")
            shape, _, _ = readers[version](member)
    return shape


def canonical_clips(root: Path, split: str) -> list[DiskClip]:
    """The finished clips of ``split``; T from the shape of ``labels.npz``'s segm, P from its joints2d
    (only their headers are read)."""
    clips = []
    for folder in finished_clips(root, (split,)):
        labels = folder / "labels.npz"
        T = npz_shape(labels, "segm")[0]
        P = npz_shape(labels, "joints2d")[1]
        clips.append(DiskClip("canonical", f"{split}/{folder.name}", folder, folder.name, T, P))
    return clips


def read_canonical_frames(clip: DiskClip, frames: np.ndarray, people: np.ndarray) -> FrameLabels:
    """Frames ``frames`` (N,) of a canonical clip, each with the joints of person ``people`` (N,); the
    video is decoded whole (clips are short) and every array's shape is checked."""
    rgb = read_clip_video(clip)
    path = clip.path("labels")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (clip {clip.clip_id})")
    T, P, size = clip.num_frames, clip.num_people, rgb.shape[1:3]
    expected = {
        "depth": (T, *size),
        "segm": (T, *size),
        "joints2d": (T, P, NUM_JOINTS, 2),
        "joints3d": (T, P, NUM_JOINTS, 3),
    }
    out = {}
    with np.load(path, allow_pickle=False) as labels:
        for name, shape in expected.items():
            if name not in labels.files:
                raise ValueError(f"{path}: {name}: array missing")
            a = labels[name]
            check_shape(path, name, a, shape)
            out[name] = a[frames] if a.ndim == 3 else a[frames, people]
    return FrameLabels(image=rgb[frames], **out)
