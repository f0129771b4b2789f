"""SURREAL-style texture folders: list files, clothing filter, fallback scan, errors naming files."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from synthhuman.appearance.texture_folder import TextureFolder


def _image(path: Path, value: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, np.full((8, 8, 3), value, np.uint8))
    return path.as_posix()


@pytest.fixture
def smpl_data(tmp_path: Path) -> Path:
    root = tmp_path / "smpl_data"
    lists = {}
    for gender in ("female", "male"):
        names = [
            f"textures/{gender}/{kind}_{gender}_{i:04d}.png" for kind in ("nongrey", "grey") for i in range(3)
        ]
        for k, name in enumerate(names):
            _image(root / name, 10 * k + (100 if gender == "male" else 0))
        lists[f"{gender}_train"] = names[:2] + names[3:5]
        lists[f"{gender}_test"] = [names[2], names[5]]
        lists[f"{gender}_all"] = names
    for key, names in lists.items():
        (root / "textures" / f"{key}.txt").write_text("\n".join(names) + "\n")
    return root


def test_surreal_layout(smpl_data: Path):
    folder = TextureFolder(smpl_data)
    train = folder.paths("female", "train")
    assert len(train) == 4 and all(p.is_file() and "female" in p.name for p in train)
    assert set(folder.paths("female", "test")).isdisjoint(train)
    assert len(folder.paths("neutral", "all")) == 12
    assert all("nongrey" in p.name for p in TextureFolder(smpl_data, clothing="nongrey").paths("male", "all"))
    assert all(
        "nongrey" not in p.name for p in TextureFolder(smpl_data, clothing="grey").paths("male", "all")
    )
    # The textures folder itself works too (lines resolve against its parent).
    assert TextureFolder(smpl_data / "textures").paths("male", "test") == folder.paths("male", "test")


def test_sample_is_deterministic_and_in_range(smpl_data: Path):
    folder = TextureFolder(smpl_data)
    a = folder.sample(torch.Generator().manual_seed(0), "male", "train")
    assert a.shape == (8, 8, 3) and a.dtype == torch.float32 and float(a.max()) <= 1
    assert torch.equal(a, folder.sample(torch.Generator().manual_seed(0), "male", "train"))
    assert float(a.mean()) >= 100 / 255 - 1e-6  # male textures were written brighter


def test_fallback_scan_splits_by_hash_and_gender_tokens(tmp_path: Path):
    for i in range(20):
        _image(tmp_path / "maps" / f"female_{i}.png", i)
        _image(tmp_path / "maps" / f"male_{i}.jpg", i)
    _image(tmp_path / "maps" / "unisex.png", 0)
    folder = TextureFolder(tmp_path)
    female_train, female_test = folder.paths("female", "train"), folder.paths("female", "test")
    assert set(female_train).isdisjoint(female_test) and len(female_train) + len(female_test) == 21
    assert all("male_" not in p.name or "female" in p.name for p in female_train + female_test)
    assert female_train == TextureFolder(tmp_path).paths("female", "train")


def test_errors_name_the_folder_and_file(tmp_path: Path, smpl_data: Path):
    with pytest.raises(ValueError, match="nowhere"):
        TextureFolder(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="gender"):
        TextureFolder(smpl_data).paths("other", "train")
    (smpl_data / "textures" / "female_test.txt").unlink()
    with pytest.raises(ValueError, match="female_test.txt"):
        TextureFolder(smpl_data).paths("female", "test")
    bad = smpl_data / "textures" / "female" / "nongrey_female_0000.png"
    bad.write_bytes(b"corrupt")
    with pytest.raises(ValueError, match="nongrey_female_0000.png"):
        for seed in range(20):
            TextureFolder(smpl_data).sample(torch.Generator().manual_seed(seed), "female", "train")
