"""WebDataset tar shards for streaming training: one sample per frame, written with the stdlib ``tarfile``
(reading them needs the ``webdataset`` package or any tar reader; writing needs nothing).

Sample ``<clip_id>_<frame:04d>`` holds (our conventions, ``docs/conventions.md``; one frame):
``rgb.png`` (or ``rgb.jpg``) (H, W, 3) uint8; ``segm.png``, ``instance.png`` (H, W) uint8 (8-bit grey);
``depth.npy.gz`` (H, W) float32 or float16 planar metres, 0 background; ``normals.npy.gz`` (H, W, 3) float16
camera axes; ``flow.npy.gz`` (H, W, 2) float32 forward flow; ``flow_valid.npy.gz`` (H, W) bool; ``json``: the
frame's joints (``joints2d`` (P, 24, 2), ``joints3d`` and ``joints3d_world`` (P, 24, 3), ``joints_visible``
(P, 24)), ``pose`` (P, 72), ``betas`` (P, n), ``trans`` (P, 3), the frame's camera ``K`` (3, 3), ``R``
(3, 3), ``t`` (3,), ``light`` (P, 9),
``gender`` (P,), ``frame``, ``num_frames`` and ``clip`` (the :class:`ClipInfo` fields).

The arrays are gzipped (``.npy.gz``, plain ``.npy`` with ``gzip_level=0``): mostly background, they
shrink about 20x (1.4 MB to 60 kB a frame at 320x240) for about 2 ms a frame, and webdataset's decoder
unzips ``.gz`` members by itself (the sample keeps the ``.gz`` name).

Reading: ``wds.WebDataset(urls).decode(label_png_decoder, "rgb8")``: webdataset applies one image spec to
every PNG ("rgb8" would turn the label maps into 3 channels), so :func:`label_png_decoder` decodes
``segm.png`` and ``instance.png`` first, as (H, W) uint8.

Shards and resume. A shard holds whole clips: a clip that would take it past ``max_samples`` opens the next
one (a clip longer than ``max_samples`` gets a shard of its own). A shard is written as a hidden temporary
file and renamed to ``<prefix>-%06d.tar`` when closed, so a killed run never leaves a partial tar under a
final name, and a clip is on disk exactly when it is in a finished shard. Each generator worker (one slice
of the clip indices) owns one prefix, e.g. ``train-w003``; two processes must never share a prefix. To
resume, the worker skips the clips :func:`completed_clips` finds for its prefix, and a new
:class:`ShardWriter` for that prefix deletes the prefix's stale temporaries and numbers its shards after the
highest finished one.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import re
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from synthhuman.config import require
from synthhuman.conventions import SPLITS
from synthhuman.io.deflate import gzip_bytes
from synthhuman.io.png import encode_png
from synthhuman.io.record import ClipRecord, ClipRef, DiskClip, FrameLabels
from synthhuman.io.writer import DatasetWriter

IMAGE_FORMATS = ("png", "jpg")
DEPTH_DTYPES = ("float32", "float16")


@dataclass(frozen=True)
class ShardConfig:
    """max_samples: samples (frames) per shard, counted in whole clips. image_format: 'png' (lossless) or
    'jpg' for ``rgb``; jpeg_quality: 1..95. png_compression: deflate level 0..9 of every PNG (1 is about
    as small as 6 for rendered frames and much faster; :mod:`synthhuman.io.png`). gzip_level: 0..9 for the
    ``.npy`` arrays (1-3 by ISA-L), 0 = stored uncompressed as ``.npy``. depth_dtype: 'float32' or
    'float16' (about 4 mm steps at 7 m)."""

    max_samples: int = 1000
    image_format: str = "png"
    jpeg_quality: int = 95
    png_compression: int = 1
    gzip_level: int = 1
    depth_dtype: str = "float32"

    def __post_init__(self) -> None:
        require(self.max_samples >= 1, "max_samples", ">= 1", self.max_samples)
        require(
            self.image_format in IMAGE_FORMATS, "image_format", f"one of {IMAGE_FORMATS}", self.image_format
        )
        require(1 <= self.jpeg_quality <= 95, "jpeg_quality", "1..95", self.jpeg_quality)
        require(0 <= self.png_compression <= 9, "png_compression", "0..9", self.png_compression)
        require(0 <= self.gzip_level <= 9, "gzip_level", "0..9", self.gzip_level)
        require(self.depth_dtype in DEPTH_DTYPES, "depth_dtype", f"one of {DEPTH_DTYPES}", self.depth_dtype)


def shard_name(prefix: str, index: int) -> str:
    return f"{prefix}-{index:06d}.tar"


def _shard_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(re.escape(prefix) + r"-(\d{6})\.tar")


def finished_shards(directory: str | os.PathLike, prefix: str) -> list[Path]:
    """The finished shards of ``prefix`` in ``directory``, in index order."""
    pattern = _shard_pattern(prefix)
    found = [p for p in Path(directory).glob(f"{prefix}-*.tar") if pattern.fullmatch(p.name)]
    return sorted(found)


def completed_clips(directory: str | os.PathLike, prefix: str) -> set[str]:
    """Clip ids held by the finished shards of ``prefix`` (each shard holds whole clips)."""
    clips = set()
    for shard in finished_shards(directory, prefix):
        with tarfile.open(shard) as tar:
            for name in tar.getnames():
                clips.add(name.split(".", 1)[0].rsplit("_", 1)[0])
    return clips


class ShardWriter:
    """Appends clips to ``<directory>/<prefix>-%06d.tar`` shards, one sample per frame (module docstring).

    Use as a context manager or call :meth:`close`; when the ``with`` block raises, the open shard is
    discarded (its clips count as not written, as after a kill). Thread-safe: several threads may call
    :meth:`write_clip`; each encodes its frames in parallel and appends them under a lock (the order of
    clips in the shards is then the order in which they finish; with one thread the bytes are the same
    run after run)."""

    def __init__(self, directory: str | os.PathLike, prefix: str = "shard", cfg: ShardConfig = ShardConfig()):
        if not prefix or "/" in prefix or prefix.startswith("."):
            raise ValueError(
                f"prefix: expected a plain file-name prefix such as 'train-w000', got {prefix!r}"
            )
        self.directory, self.prefix, self.cfg = Path(directory), prefix, cfg
        self.directory.mkdir(parents=True, exist_ok=True)
        for stale in self.directory.glob(f".{prefix}-*.tmp"):
            if _shard_pattern(prefix).fullmatch(stale.name[1:].rsplit(".", 2)[0]):
                stale.unlink()
        done = finished_shards(self.directory, prefix)
        self._next_index = int(_shard_pattern(prefix).fullmatch(done[-1].name)[1]) + 1 if done else 0
        self._tar: tarfile.TarFile | None = None
        self._tmp: Path | None = None
        self._final: Path | None = None
        self._count = 0
        self._lock = threading.Lock()
        self.written: list[Path] = []
        """Shards this writer finished, in order."""

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()

    def write_clip(self, record: ClipRecord) -> None:
        """Append every frame of ``record`` as one sample each."""
        record.require_rgb()
        clip_id = record.info.clip_id
        if not clip_id or any(c in clip_id for c in "./\\"):
            raise ValueError(
                f"clip_id: expected no '.', '/' or '\\' (it starts a WebDataset key), got {clip_id!r}"
            )
        clip = _jsonable(dataclasses.asdict(record.info), "info")
        n = record.num_frames
        members = [
            (f"{clip_id}_{k:04d}.{member}", data)
            for k in range(n)
            for member, data in self._encode_frame(record, k, clip).items()
        ]
        with self._lock:
            if self._tar is not None and self._count + n > self.cfg.max_samples:
                self._close_shard()
            if self._tar is None:
                self._open_shard()
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(data), 0o644
                self._tar.addfile(info, io.BytesIO(data))
            self._count += n

    def close(self) -> list[Path]:
        """Finish the open shard; returns every shard this writer finished."""
        with self._lock:
            if self._tar is not None:
                self._close_shard()
            return self.written

    def discard(self) -> None:
        """Drop the open shard without finishing it."""
        with self._lock:
            if self._tar is not None:
                self._tar.close()
                self._tmp.unlink(missing_ok=True)
                self._tar = None

    def _open_shard(self) -> None:
        name = shard_name(self.prefix, self._next_index)
        self._next_index += 1
        self._final = self.directory / name
        self._tmp = self.directory / f".{name}.{os.getpid()}.tmp"
        self._tar = tarfile.open(self._tmp, "w")
        self._count = 0

    def _close_shard(self) -> None:
        self._tar.close()
        self._tar = None
        os.replace(self._tmp, self._final)
        self.written.append(self._final)

    def _encode_frame(self, r: ClipRecord, k: int, clip: dict) -> dict[str, bytes]:
        cfg = self.cfg
        if cfg.image_format == "png":
            rgb_name, rgb = "rgb.png", _png(r.rgb[k], cfg.png_compression)
        else:
            rgb_name, rgb = "rgb.jpg", _jpeg(r.rgb[k], cfg.jpeg_quality)
        meta = {
            "frame": k,
            "num_frames": r.num_frames,
            "joints2d": r.joints2d[k].tolist(),
            "joints3d": r.joints3d[k].tolist(),
            "joints3d_world": r.joints3d_world[k].tolist(),
            "joints_visible": r.joints_visible[k].tolist(),
            "pose": r.pose[k].tolist(),
            "betas": r.betas.tolist(),
            "trans": r.trans[k].tolist(),
            "K": r.K[k].tolist(),
            "R": r.R[k].tolist(),
            "t": r.t[k].tolist(),
            "light": r.light.tolist(),
            "gender": [str(g) for g in r.gender],
            "clip": clip,
        }
        arrays = {
            "depth": r.depth[k].astype(cfg.depth_dtype),
            "normals": r.normals[k],
            "flow": r.flow[k],
            "flow_valid": r.flow_valid[k],
        }
        return {
            rgb_name: rgb,
            "segm.png": _png(r.segm[k], cfg.png_compression),
            "instance.png": _png(r.instance[k], cfg.png_compression),
            **{_npy_name(name, cfg.gzip_level): _npy(a, cfg.gzip_level) for name, a in arrays.items()},
            "json": json.dumps(meta, separators=(",", ":")).encode(),
        }


class WebDatasetWriter(DatasetWriter):
    """Tar shards under ``<root>/<split>/``, one sample per frame. Each writer's shards are named after the
    first clip it writes (``<split>-c<clip_id>-%06d.tar``), so shards, Ray tasks and resumed runs never
    share a name; a clip is done when a finished shard holds it."""

    def __init__(self, root: str | os.PathLike) -> None:
        super().__init__(root)
        self._writers: dict[str, ShardWriter] = {}
        self._lock = threading.Lock()
        self._done = {
            (split, clip)
            for split in SPLITS
            for prefix in {p.name.rsplit("-", 1)[0] for p in (self.root / split).glob("*.tar")}
            for clip in completed_clips(self.root / split, prefix)
        }

    def done(self, ref: ClipRef) -> bool:
        return (ref.split, ref.clip_id) in self._done

    def write(self, record: ClipRecord) -> None:
        split = record.info.split
        with self.timer("shards"):
            with self._lock:
                if split not in self._writers:
                    self._writers[split] = ShardWriter(self.root / split, f"{split}-c{record.info.clip_id}")
            self._writers[split].write_clip(record)

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()


def label_png_decoder(key: str, data: bytes) -> np.ndarray | None:
    """A webdataset decoder handler: ``segm.png`` and ``instance.png`` as (H, W) uint8 label maps; None
    (not mine) for every other member."""
    if not key.endswith(("segm.png", "instance.png")):
        return None
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def _jsonable(value: dict, name: str) -> dict:
    try:
        json.dumps(value)
    except TypeError as e:
        raise ValueError(f"ClipRecord.{name}: expected JSON-serializable values, got {e}") from e
    return value


def _png(image: np.ndarray, level: int) -> bytes:
    """RGB with the Up filter, label maps with none (:mod:`synthhuman.io.png`: smaller than PIL's and eight
    times faster on rendered frames)."""
    return encode_png(image, level, "up" if image.ndim == 3 else "none")


def _jpeg(image: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _npy_name(name: str, gzip_level: int) -> str:
    return f"{name}.npy.gz" if gzip_level else f"{name}.npy"


def _npy(array: np.ndarray, gzip_level: int) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    data = buf.getvalue()
    return gzip_bytes(data, gzip_level) if gzip_level else data


# --- reading frames back (training from disk) -------------------------------------------------------------


def webdataset_clips(root: str | os.PathLike, split: str) -> list[DiskClip]:
    """The clips of ``split`` in the finished shards under ``root/<split>/``: each a :class:`DiskClip`
    whose ``folder`` is its shard (a tar file) and ``name`` its clip id; T counted from its samples, P
    from its first frame's joints."""
    clips = []
    for shard in sorted((Path(root) / split).glob("*.tar")):
        if shard.name.startswith("."):
            continue  # a temporary of an unfinished shard
        try:
            with tarfile.open(shard) as tar:
                frames: dict[str, int] = {}
                first: dict[str, tarfile.TarInfo] = {}
                for member in tar.getmembers():
                    key, _, ext = member.name.partition(".")
                    clip, _, frame = key.rpartition("_")
                    if ext == "json":
                        frames[clip] = frames.get(clip, 0) + 1
                        if frame == "0000":
                            first[clip] = member
                for clip, count in frames.items():
                    if clip not in first:
                        raise ValueError(f"clip {clip}: no frame 0000")
                    meta = json.loads(tar.extractfile(first[clip]).read())
                    people = len(meta["joints2d"])
                    clips.append(DiskClip("webdataset", f"{split}/{clip}", shard, clip, count, people))
        except (tarfile.TarError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{shard}: not a readable shard of synthhuman generate ({exc})") from None
    return clips


def _member(tar: tarfile.TarFile, shard: Path, key: str, *names: str) -> tuple[str, bytes]:
    for name in names:
        try:
            return name, tar.extractfile(f"{key}.{name}").read()
        except KeyError:
            continue
    raise ValueError(f"{shard}: sample {key}: no {' or '.join(names)}")


def read_webdataset_frames(clip: DiskClip, frames: np.ndarray, people: np.ndarray) -> FrameLabels:
    """Frames ``frames`` (N,) of a clip in a shard, each with the joints of person ``people`` (N,)."""
    shard = clip.folder
    images, depths, segms, j2, j3 = [], [], [], [], []
    try:
        with tarfile.open(shard) as tar:
            for k, p in zip(np.asarray(frames).tolist(), np.asarray(people).tolist(), strict=True):
                key = f"{clip.name}_{k:04d}"
                _, rgb = _member(tar, shard, key, "rgb.png", "rgb.jpg")
                images.append(np.asarray(Image.open(io.BytesIO(rgb)).convert("RGB")))
                segms.append(np.asarray(Image.open(io.BytesIO(_member(tar, shard, key, "segm.png")[1]))))
                name, depth = _member(tar, shard, key, "depth.npy.gz", "depth.npy")
                depth = gzip.decompress(depth) if name.endswith(".gz") else depth
                depths.append(np.load(io.BytesIO(depth), allow_pickle=False).astype(np.float32))
                meta = json.loads(_member(tar, shard, key, "json")[1])
                j2.append(np.asarray(meta["joints2d"], np.float32)[p])
                j3.append(np.asarray(meta["joints3d"], np.float32)[p])
    except (tarfile.TarError, OSError, KeyError, IndexError, TypeError, EOFError) as exc:
        raise ValueError(
            f"{shard}: clip {clip.name}: unreadable sample ({type(exc).__name__}: {exc})"
        ) from None
    return FrameLabels(
        image=np.stack(images), depth=np.stack(depths), segm=np.stack(segms), joints2d=np.stack(j2),
        joints3d=np.stack(j3),
    )  # fmt: skip
