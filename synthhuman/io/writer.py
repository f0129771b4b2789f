"""What every dataset writer does: write finished clips, say which clips are done (for ``--resume``),
total its own time, and clean what a killed run left. One subclass per format, beside that format's
reader: :class:`synthhuman.io.canonical.CanonicalWriter`, :class:`synthhuman.io.surreal.SurrealWriter`,
:class:`synthhuman.io.webdataset.WebDatasetWriter`; :func:`synthhuman.io.formats.make_writer` picks one."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from synthhuman.io.record import ClipRecord, ClipRef
from synthhuman.timing import StageTimer


class DatasetWriter:
    """Writes clips under ``root``. :meth:`write` may be called from several threads at once; each writing
    step (encoding, compression) is timed into :attr:`timer`, which is thread-safe."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.timer = StageTimer()

    def done(self, ref: ClipRef) -> bool:
        """Whether clip ``ref`` is finished on disk (a resumed run skips it)."""
        raise NotImplementedError

    def write(self, record: ClipRecord) -> None:
        """Write one finished clip."""
        raise NotImplementedError

    def close(self) -> None:
        """Finish what is buffered (WebDataset shards)."""

    def clean_temporaries(self) -> None:
        """Remove what a killed run left under temporary names. Only safe when no other process writes
        into the folder (the caller skips it for sharded and Ray runs)."""
        for p in self.root.rglob(".*.tmp*"):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
