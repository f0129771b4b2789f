"""SMPL UV texture maps supplied by the user, in SURREAL's layout (its 929 clothing textures are licensed).

SURREAL's ``smpl_data`` folder holds ``textures/{gender}_{split}.txt`` for gender ``female``/``male`` and
split ``train``/``test``/``all``; each line is an image path relative to ``smpl_data`` (for example
``textures/female/nongrey_female_0001.jpg``); SURREAL filters paths by ``nongrey`` ("clothing option").
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch
from torch import Tensor

from synthhuman.appearance._util import hash_split, load_image, scan_images
from synthhuman.config import require
from synthhuman.conventions import GENDERS

"""``neutral`` draws from both genders' textures."""
TEXTURE_SPLITS = ("train", "test", "all")
CLOTHING = ("all", "grey", "nongrey")


class TextureFolder:
    """UV textures from ``root``: SURREAL's ``smpl_data`` folder, or its ``textures`` folder itself.

    With list files (``textures/{gender}_{split}.txt``, or ``{gender}_{split}.txt`` directly in ``root``)
    they decide genders and splits; ``all`` falls back to train + test when ``{gender}_all.txt`` is absent.
    Lines are resolved against the folder that holds ``textures`` (SURREAL's convention), else against
    the list's own folder. Without list files: every image under ``root`` (recursive); its gender is the
    path token ``female`` or ``male`` (an image with neither serves both), its split ``test`` when a hash
    of its relative path falls below ``test_fraction``. ``clothing``: SURREAL's filter on ``nongrey`` in
    the path (``grey`` keeps the others).
    """

    def __init__(self, root: str | Path, clothing: str = "all", test_fraction: float = 0.2) -> None:
        self.root = Path(root)
        require(clothing in CLOTHING, "clothing", f"one of {CLOTHING}", clothing)
        require(0 <= test_fraction <= 1, "test_fraction", "a fraction in [0, 1]", test_fraction)
        if not self.root.is_dir():
            raise ValueError(f"{self.root}: texture folder does not exist or is not a folder")
        self.clothing = clothing
        self.test_fraction = test_fraction
        self.list_dir = next(
            (d for d in (self.root / "textures", self.root) if any(d.glob("*male_*.txt"))), None
        )
        self._all = None if self.list_dir else scan_images(self.root)
        self._found: dict[tuple[str, str], list[Path]] = {}

    def paths(self, gender: str, split: str) -> list[Path]:
        """Texture files for ``gender`` (``GENDERS``) and ``split`` (``TEXTURE_SPLITS``), in list order.
        Without list files, a split that no file falls in (a folder of a few images) uses the gender's files
        of both splits, with one warning."""
        require(gender in GENDERS, "gender", f"one of {GENDERS}", gender)
        require(split in TEXTURE_SPLITS, "split", f"one of {TEXTURE_SPLITS}", split)
        key = (gender, split)
        if key not in self._found:
            found = self._find(gender, split)
            if not found and not self.list_dir and split != "all":
                found = self._find(gender, "all")
                if found:
                    warnings.warn(
                        f"{self.root}: none of its {len(found)} {gender} textures falls in the {split} split "
                        f"(test_fraction {self.test_fraction}); both splits share them; add textures to "
                        "keep the splits apart",
                        stacklevel=2,
                    )
            if not found:
                hint = (
                    f"add lines to {self.list_dir}/{{female,male}}_{split}.txt"
                    if self.list_dir
                    else "add images (a path token 'female' or 'male' picks a gender; neither: both)"
                )
                raise ValueError(
                    f"{self.root}: no {gender} textures in split {split!r} (clothing {self.clothing!r}); "
                    f"{hint}, or drop --textures for procedural ones"
                )
            self._found[key] = found
        return self._found[key]

    def _find(self, gender: str, split: str) -> list[Path]:
        genders = ("female", "male") if gender == "neutral" else (gender,)
        found = [
            p for g in genders for p in (self._listed(g, split) if self.list_dir else self._scanned(g, split))
        ]
        if self.clothing != "all":
            found = [p for p in found if ("nongrey" in p.as_posix()) == (self.clothing == "nongrey")]
        return found

    def check(self, gender: str, split: str) -> None:
        """Raise ValueError now (before any work) when ``gender`` has no texture in ``split`` or its first
        file cannot be read as an image."""
        load_image(self.paths(gender, split)[0])

    def name(self, path: Path) -> str:
        """A texture file as recorded in a clip's info: relative to the folder (POSIX), else its name."""
        for base in (self.root, self.list_dir.parent if self.list_dir else self.root):
            try:
                return path.relative_to(base).as_posix()
            except ValueError:
                continue
        return path.name

    def sample(self, gen: torch.Generator, gender: str = "neutral", split: str = "train") -> Tensor:
        """(H, W, 3) float32 in [0, 1]: a texture drawn uniformly with ``gen``. Errors name the file."""
        paths = self.paths(gender, split)
        return load_image(paths[int(torch.randint(len(paths), (), generator=gen))])

    def _listed(self, gender: str, split: str) -> list[Path]:
        assert self.list_dir is not None
        listing = self.list_dir / f"{gender}_{split}.txt"
        if not listing.is_file() and split == "all":
            return self._listed(gender, "train") + self._listed(gender, "test")
        if not listing.is_file():
            raise ValueError(
                f"{listing}: texture list file not found; write it (one image path per line, relative to "
                f"{self.list_dir.parent if self.list_dir.name == 'textures' else self.list_dir})"
            )
        base = self.list_dir.parent if self.list_dir.name == "textures" else self.list_dir
        lines = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
        return [base / line if (base / line).exists() else listing.parent / line for line in lines]

    def _scanned(self, gender: str, split: str) -> list[Path]:
        assert self._all is not None
        keep = []
        for rel in self._all:
            tokens = set(re.split(r"[^a-z]+", rel.lower()))
            owner = "female" if "female" in tokens else "male" if "male" in tokens else None
            if owner not in (None, gender):
                continue
            if split == "all" or hash_split(rel, self.test_fraction) == split:
                keep.append(self.root / rel)
        return keep
