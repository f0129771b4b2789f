"""Body shapes (betas), sampled as SURREAL does from a model's own shape distribution.

- The default body: rows of its table of training shapes (anny phenotypes drawn from anny's
  WHO-calibrated distribution, with their age in years and betas), optionally within an age range.
- Any SMPL-family model: ``N(0, sigma)`` betas.
- SURREAL's ``smpl_data.npz`` (user-supplied, licensed): ``maleshapes`` / ``femaleshapes`` (CAESAR fits),
  the first 80 % for training and the last 20 % for testing, as SURREAL's ``main_part1.py`` splits them.

Randomness comes only from the generator passed in (drawn on CPU).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from synthhuman.body.default_body import default_body_path
from synthhuman.body.smpl_export import DEFAULT_BODY_DIR, load_default_body_npz
from synthhuman.conventions import SPLITS
from synthhuman.userfiles import npz_array

SURREAL_TRAIN_FRACTION = 0.8


@dataclass(frozen=True)
class ShapeSample:
    """betas (n, K) float32; row (n,) int64 index into the source's table (-1 for normal draws);
    age_years (n,) float32 for the default body, None otherwise."""

    betas: Tensor
    row: Tensor
    age_years: Tensor | None = None


def _draw_rows(count: int, n: int, gen: torch.Generator) -> Tensor:
    return torch.randint(0, count, (n,), generator=gen)


class DefaultBodyShapes:
    """The default body's training shapes for one gender, optionally restricted to ``age_range`` (years).

    split: None (every row), or 'train' / 'test': the table's first 80 % / last 20 % of rows, as SURREAL
    splits its shapes (the rows are independent draws from anny's phenotype distribution)."""

    def __init__(
        self,
        gender: str,
        age_range: tuple[float, float] = (5.0, 90.0),
        body_dir: str | Path = DEFAULT_BODY_DIR,
        split: str | None = None,
    ) -> None:
        path = default_body_path(gender, body_dir)
        arrays = load_default_body_npz(path)
        for key in ("betas", "age_years"):
            if key not in arrays:
                raise ValueError(f"{path}: missing field {key!r} (the table of training shapes)")
        lo, hi = age_range
        if not lo <= hi:
            raise ValueError(f"age_range: expected (low, high) with low <= high, got {age_range}")
        if split is not None and split not in SPLITS:
            raise ValueError(f"split: expected None or one of {SPLITS}, got {split!r}")
        ages = arrays["age_years"]
        in_split = np.ones(len(ages), dtype=bool)
        if split is not None:
            cut = int(len(ages) * SURREAL_TRAIN_FRACTION)
            in_split[cut:] = split == "test"
            in_split[:cut] = split == "train"
        rows = np.flatnonzero((ages >= lo) & (ages <= hi) & in_split)
        if rows.size == 0:
            raise ValueError(
                f"{path}: no shape of split {split} has 'age_years' in {age_range} (range present: "
                f"{ages.min():.1f}-{ages.max():.1f})"
            )
        self.rows = torch.from_numpy(rows)
        self.betas = torch.from_numpy(arrays["betas"][rows].astype(np.float32))
        self.ages = torch.from_numpy(ages[rows].astype(np.float32))

    def sample(self, n: int, gen: torch.Generator) -> ShapeSample:
        pick = _draw_rows(len(self.rows), n, gen)
        return ShapeSample(self.betas[pick], self.rows[pick], self.ages[pick])


def sample_normal_betas(n: int, num_betas: int, gen: torch.Generator, sigma: float = 1.0) -> ShapeSample:
    """(n, num_betas) betas from N(0, sigma^2), for any SMPL-family model."""
    if sigma < 0:
        raise ValueError(f"sigma: expected >= 0, got {sigma}")
    betas = sigma * torch.randn(n, num_betas, generator=gen)
    return ShapeSample(betas, torch.full((n,), -1, dtype=torch.int64))


class SurrealShapes:
    """Shapes from SURREAL's ``smpl_data.npz`` for one gender ('male' or 'female') and split."""

    def __init__(self, path: str | Path, gender: str, split: str, num_betas: int = 10) -> None:
        path = Path(path)
        if gender not in ("male", "female"):
            raise ValueError(f"{path}: SURREAL has male and female shapes only, got gender {gender!r}")
        if split not in SPLITS:
            raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
        if not path.is_file():
            raise FileNotFoundError(f"SURREAL smpl_data file not found: {path}")
        key = f"{gender}shapes"
        try:
            data = np.load(path, allow_pickle=False)
        except Exception as exc:  # numpy and zipfile raise many types for files that are not archives
            raise ValueError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})") from None
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError(f"{path}: not an .npz archive (a single array)")
        with data:  # lazy: only the shape arrays are read
            present = data.files
            shapes = npz_array(path, data, key) if key in present else None
        if shapes is None:
            raise ValueError(f"{path}: missing field {key!r} ({len(present)} fields present)")
        if shapes.dtype.kind not in "biuf" or not np.isfinite(shapes).all():
            raise ValueError(f"{path}: field {key!r}: expected finite numbers, got dtype {shapes.dtype}")
        if shapes.ndim != 2 or shapes.shape[1] < num_betas or shapes.shape[0] < 2:
            raise ValueError(
                f"{path}: field {key!r} has shape {shapes.shape}, expected (N >= 2, >= {num_betas})"
            )
        cut = int(len(shapes) * SURREAL_TRAIN_FRACTION)
        rows = np.arange(cut) if split == "train" else np.arange(cut, len(shapes))
        self.rows = torch.from_numpy(rows)
        self.betas = torch.from_numpy(shapes[rows, :num_betas].astype(np.float32))

    def sample(self, n: int, gen: torch.Generator) -> ShapeSample:
        pick = _draw_rows(len(self.rows), n, gen)
        return ShapeSample(self.betas[pick], self.rows[pick])
