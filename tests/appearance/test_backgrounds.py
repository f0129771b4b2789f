"""Backgrounds: user image folders (scan, split, unreadable files, crops) and procedural ones."""

from __future__ import annotations

import warnings
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from synthhuman.appearance.backgrounds import (
    BACKGROUND_KINDS,
    BackgroundConfig,
    ImageFolderBackgrounds,
    procedural_background,
    random_background,
    skimage_backgrounds,
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _image(path: Path, h: int = 20, w: int = 30, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    iio.imwrite(path, rgb)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for i in range(30):
        sub = ("a", "a/deep", "b")[i % 3]
        _image(tmp_path / sub / f"img{i:02d}.{'png' if i % 2 else 'jpg'}", seed=i)
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def test_recursive_scan_and_deterministic_disjoint_split(folder: Path):
    everything = ImageFolderBackgrounds(folder, test_fraction=0.0)
    assert len(everything) == 30
    train = ImageFolderBackgrounds(folder, "train")
    test = ImageFolderBackgrounds(folder, "test")
    assert {p.name for p in train.paths}.isdisjoint({p.name for p in test.paths})
    assert len(train) + len(test) == 30 and len(test) > 0
    assert train.paths == ImageFolderBackgrounds(folder, "train").paths
    _image(folder / "c" / "new.png")  # a new file never moves the others between splits
    assert set(train.paths) <= set(ImageFolderBackgrounds(folder, "train").paths)


def test_crop_shape_range_and_determinism(folder: Path):
    bg = ImageFolderBackgrounds(folder, test_fraction=0.0)
    for size in ((240, 320), (8, 50), (64, 16)):
        out = bg.sample(*size, _gen(1))
        assert out.shape == (*size, 3) and out.dtype == torch.float32
        assert float(out.min()) >= 0 and float(out.max()) <= 1
    assert torch.equal(bg.sample(40, 60, _gen(5)), bg.sample(40, 60, _gen(5)))


def test_surreal_list_file_is_used(folder: Path):
    (folder / "train_img.txt").write_text("a/img00.jpg\nb/img02.jpg\n")
    bg = ImageFolderBackgrounds(folder, "train")
    assert [p.relative_to(folder).as_posix() for p in bg.paths] == ["a/img00.jpg", "b/img02.jpg"]


def test_unreadable_file_is_skipped_with_a_warning_naming_it(tmp_path: Path):
    _image(tmp_path / "good.png")
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg at all")
    bg = ImageFolderBackgrounds(tmp_path, test_fraction=0.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outs = [bg.sample(10, 10, _gen(seed)) for seed in range(12)]
    assert all(o.shape == (10, 10, 3) for o in outs)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 1 and "broken.jpg" in messages[0]


def test_folder_without_readable_images_is_an_error_naming_it(tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match="empty"):
        ImageFolderBackgrounds(empty)
    with pytest.raises(ValueError, match="missing"):
        ImageFolderBackgrounds(tmp_path / "missing")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.png").write_bytes(b"garbage")
    bg = ImageFolderBackgrounds(broken, test_fraction=0.0)
    with pytest.warns(UserWarning, match="x.png"), pytest.raises(ValueError, match="broken"):
        bg.sample(4, 4, _gen(0))


@pytest.mark.parametrize("kind", range(len(BACKGROUND_KINDS)))
def test_procedural_backgrounds_deterministic_and_in_range(kind: int):
    probs = tuple(1.0 if k == kind else 0.0 for k in range(len(BACKGROUND_KINDS)))
    cfg = BackgroundConfig(kind_probs=probs)
    a = random_background(48, 64, _gen(2), cfg)
    assert a.shape == (48, 64, 3) and a.dtype == torch.float32
    assert torch.equal(a, random_background(48, 64, _gen(2), cfg))
    assert not torch.equal(a, random_background(48, 64, _gen(3), cfg))
    assert float(a.min()) >= 0 and float(a.max()) <= 1 and float(a.std()) > 0.005


def test_procedural_background_kept():
    a = procedural_background(30, 40, _gen(0))
    assert a.shape == (30, 40, 3) and torch.equal(a, procedural_background(30, 40, _gen(0)))


def test_skimage_photos_when_installed():
    pytest.importorskip("skimage")
    bg = skimage_backgrounds()
    assert bg is not None and len(bg) >= 1
    out = bg.sample(24, 32, _gen(0))
    assert out.shape == (24, 32, 3) and torch.equal(out, bg.sample(24, 32, _gen(0)))


def test_bad_config_names_the_field():
    with pytest.raises(ValueError, match="kind_probs"):
        BackgroundConfig(kind_probs=(0, 0, 0, 0))
    with pytest.raises(ValueError, match="max_zoom"):
        BackgroundConfig(max_zoom=0.5)
