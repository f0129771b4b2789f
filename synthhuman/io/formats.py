"""The dataset formats side by side: which writer writes a format, and how a dataset on disk is
recognised, listed and read back, whatever its format.

Writing: ``canonical``, ``surreal`` and ``webdataset`` (:func:`make_writer`). Reading frames back (for
training from disk): ``canonical`` and ``surreal`` (ours or SURREAL's own files).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from synthhuman.config import require
from synthhuman.conventions import SPLITS
from synthhuman.io.canonical import CanonicalWriter, canonical_clips, finished_clips, read_canonical_frames
from synthhuman.io.record import DiskClip, FrameLabels
from synthhuman.io.surreal import SurrealWriter, read_surreal_frames, surreal_clips
from synthhuman.io.video import DEFAULT_CRF
from synthhuman.io.webdataset import WebDatasetWriter, read_webdataset_frames, webdataset_clips
from synthhuman.io.writer import DatasetWriter

FORMATS = ("canonical", "surreal", "webdataset")
"""The formats ``synthhuman generate`` writes."""
READ_FORMATS = ("canonical", "surreal", "webdataset")
"""The formats read back as frames (:func:`list_clips`, :func:`read_frames`)."""


def make_writer(
    format: str,
    root: str | os.PathLike,
    *,
    png: bool = False,
    crf: int = DEFAULT_CRF,
    compress_level: int = 1,
) -> DatasetWriter:
    """The writer of ``format`` into ``root``; ``png``, ``crf`` and ``compress_level`` apply to the
    canonical format (SURREAL's files use SURREAL's own settings; shards their ``ShardConfig``)."""
    require(format in FORMATS, "format", f"one of {FORMATS}", format)
    if format == "canonical":
        return CanonicalWriter(root, png=png, crf=crf, compress_level=compress_level)
    if format == "surreal":
        return SurrealWriter(root)
    return WebDatasetWriter(root)


def detect_format(root: str | os.PathLike, format: str = "auto") -> str:
    """'canonical', 'surreal' or 'webdataset': ``format`` checked against ``manifest.json`` when there is
    one; for 'auto', the manifest's "format", else canonical when a finished canonical clip exists, else
    SURREAL when a ``*_info.mat`` lies anywhere under ``root``, else webdataset when ``<split>/*.tar``
    shards exist."""
    require(format in ("auto", *READ_FORMATS), "format", f"one of {('auto', *READ_FORMATS)}", format)
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: dataset folder not found")
    manifest = root / "manifest.json"
    if manifest.is_file():
        try:
            found = json.loads(manifest.read_text()).get("format")
        except ValueError as exc:
            raise ValueError(f"{manifest}: unreadable manifest ({exc})") from exc
        if found not in READ_FORMATS:
            raise ValueError(
                f"{manifest}: format: expected one of {READ_FORMATS} to read from disk, got {found!r}"
            )
        if format not in ("auto", found):
            raise ValueError(f"format: {manifest} says {found!r}, got {format!r}")
        return found
    if format != "auto":
        return format
    if finished_clips(root):
        return "canonical"
    if next(root.rglob("*_info.mat"), None) is not None:
        return "surreal"
    if any(next((root / s).glob("*.tar"), None) is not None for s in SPLITS):
        return "webdataset"
    raise ValueError(
        f"{root}: dataset format not recognised: looked for manifest.json, <split>/<clip>/info.json "
        "(canonical), *_info.mat files (SURREAL) and <split>/*.tar shards (webdataset)"
    )


def list_clips(root: str | os.PathLike, split: str, format: str = "auto") -> list[DiskClip]:
    """The finished clips of ``split`` under ``root``, sorted by clip id (the rules:
    :func:`synthhuman.io.canonical.canonical_clips`, :func:`synthhuman.io.surreal.surreal_clips`)."""
    require(split in SPLITS, "split", f"one of {SPLITS}", split)
    root = Path(root)
    format = detect_format(root, format)
    if format == "canonical":
        clips = canonical_clips(root, split)
        looked = f"{root / split}/<clip>/info.json"
    elif format == "surreal":
        clips = surreal_clips(root, split)
        looked = f"*_info.mat with its .mp4 under a folder named {split!r}"
    else:
        clips = webdataset_clips(root, split)
        looked = f"{root / split}/*.tar shards"
    if not clips:
        raise ValueError(f"{root}: no finished {format} clip of split {split!r} (looked for {looked})")
    return sorted(clips, key=lambda c: c.clip_id)


def read_frames(clip: DiskClip, frames: np.ndarray, people: np.ndarray) -> FrameLabels:
    """Frames ``frames`` (N,) int of ``clip``, each with the joints of person ``people`` (N,) int, in our
    conventions (SURREAL's in its own mirrored image: :func:`synthhuman.io.surreal.read_surreal_frames`)."""
    read = {"canonical": read_canonical_frames, "surreal": read_surreal_frames}
    return read.get(clip.format, read_webdataset_frames)(clip, frames, people)
