"""Shape sampling: the default body by age, N(0, sigma), SURREAL's shapes with its 80/20 split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthhuman.body.default_body import load_default_body
from synthhuman.body.shapes import DefaultBodyShapes, SurrealShapes, sample_normal_betas


def test_default_body_loads_with_uvs_and_labels():
    body = load_default_body("female")
    assert body.num_betas == 10 and body.uv is not None and body.uv_faces.shape == body.faces.shape
    assert set(body.part_labels.unique().tolist()) == set(range(1, 25))
    out = body(torch.zeros(1, 10), torch.zeros(1, 72))
    assert out.joints.shape == (1, 24, 3)


def test_default_shapes_respect_age_range_and_seed():
    shapes = DefaultBodyShapes("neutral", age_range=(5, 12))
    a = shapes.sample(64, torch.Generator().manual_seed(1))
    b = shapes.sample(64, torch.Generator().manual_seed(1))
    assert torch.equal(a.betas, b.betas) and a.betas.shape == (64, 10)
    assert float(a.age_years.min()) >= 5 and float(a.age_years.max()) <= 12
    body = load_default_body("neutral")
    children = body(a.betas, torch.zeros(64, 72)).vertices[..., 1]
    adults = DefaultBodyShapes("neutral", age_range=(25, 60)).sample(64, torch.Generator().manual_seed(2))
    grown = body(adults.betas, torch.zeros(64, 72)).vertices[..., 1]
    child_height = (children.amax(1) - children.amin(1)).mean()
    adult_height = (grown.amax(1) - grown.amin(1)).mean()
    assert float(adult_height) > float(child_height) + 0.3


def test_default_shapes_bad_input():
    with pytest.raises(ValueError, match="gender"):
        DefaultBodyShapes("other")
    with pytest.raises(ValueError, match="age_years"):
        DefaultBodyShapes("male", age_range=(150, 200))
    with pytest.raises(ValueError, match="age_range"):
        DefaultBodyShapes("male", age_range=(40, 20))


def test_normal_betas():
    s = sample_normal_betas(4000, 10, torch.Generator().manual_seed(0), sigma=2.0)
    assert s.betas.shape == (4000, 10) and abs(float(s.betas.std()) - 2.0) < 0.05


def _smpl_data(path, n=50):
    rng = np.random.default_rng(0)
    np.savez(path, maleshapes=rng.normal(size=(n, 10)), femaleshapes=rng.normal(size=(n, 10)))


def test_surreal_shapes_split_80_20(tmp_path):
    path = tmp_path / "smpl_data.npz"
    _smpl_data(path)
    train = SurrealShapes(path, "female", "train")
    test = SurrealShapes(path, "female", "test")
    assert len(train.rows) == 40 and len(test.rows) == 10
    assert set(train.rows.tolist()).isdisjoint(test.rows.tolist())
    s = test.sample(100, torch.Generator().manual_seed(0))
    assert set(s.row.tolist()) <= set(range(40, 50))
    raw = np.load(path)["femaleshapes"]
    np.testing.assert_allclose(s.betas.numpy(), raw[s.row.numpy()], rtol=1e-6)


def test_surreal_shapes_bad_input(tmp_path):
    path = tmp_path / "smpl_data.npz"
    np.savez(path, maleshapes=np.zeros((10, 10)))
    with pytest.raises(ValueError, match="femaleshapes"):
        SurrealShapes(path, "female", "train")
    with pytest.raises(ValueError, match="male and female"):
        SurrealShapes(path, "neutral", "train")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        SurrealShapes(tmp_path / "missing.npz", "male", "train")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.npz"):
        SurrealShapes(tmp_path / "bad.npz", "male", "train")
