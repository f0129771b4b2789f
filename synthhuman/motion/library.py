"""A user's motion collection: every supported file under a folder (or one file), as PoseSequences."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

from synthhuman.motion.readers import _open_npz, read_motion_file, read_surreal_smpl_data
from synthhuman.motion.sequence import PoseSequence

MOTION_SUFFIXES = (".npz", ".bvh")


def read_motion_folder(path: str | Path) -> list[PoseSequence]:
    """Sequences of ``path``: a SURREAL ``smpl_data.npz`` (all its sequences), an AMASS or our ``.npz``, a
    ``.bvh``, or a folder searched recursively for them (sorted by path; a file that is none of these is
    skipped with a warning naming it). Errors when nothing usable is found."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: motion file or folder not found")
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.rglob("*") if p.suffix.lower() in MOTION_SUFFIXES)
    )
    seqs: list[PoseSequence] = []
    for f in files:
        try:
            if f.suffix.lower() == ".npz":
                with _open_npz(f) as data:
                    surreal = any(k.startswith("pose_") for k in data.files)
                if surreal:
                    seqs.extend(read_surreal_smpl_data(f))
                    continue
            seqs.append(read_motion_file(f))
        except ValueError as exc:
            if path.is_file():
                raise
            warnings.warn(f"skipping motion file {f}: {exc}", stacklevel=2)
    if not seqs:
        raise ValueError(f"{path}: no readable motion (looked for {', '.join(MOTION_SUFFIXES)} files)")
    names = [s.name for s in seqs]
    if len(set(names)) != len(names):
        seqs = [replace(s, name=f"{i:05d}_{s.name}") for i, s in enumerate(seqs)]
    return seqs
