"""SURREAL's 24 -> 14 part map and depth quantization, value by value and at bin boundaries."""

from __future__ import annotations

import pytest
import torch

from synthhuman.train.targets import (
    DEPTH_STEP,
    NUM_DEPTH_CLASSES,
    depth_class_centres,
    depth_classes,
    segm_classes,
)


def test_segm_map_every_label():
    labels = torch.arange(25)[None, None]  # (1, 1, 25): background and the 24 parts
    expected = [0, 2, 12, 9, 2, 13, 10, 2, 14, 11, 2, 14, 11, 2, 2, 2, 1, 6, 3, 7, 4, 8, 5, 8, 5]
    assert segm_classes(labels.to(torch.uint8))[0, 0].tolist() == expected
    assert segm_classes(labels)[0, 0].unique().tolist() == list(range(15))


def test_segm_rejects_bad_labels():
    with pytest.raises(ValueError, match="0..24"):
        segm_classes(torch.tensor([[[25]]]))
    with pytest.raises(ValueError, match=r"\(B, H, W\)"):
        segm_classes(torch.zeros(2, 3))


def test_depth_bins_at_boundaries():
    pelvis = 7.0
    eps = 1e-4
    offsets = [0.0, eps, DEPTH_STEP - eps, DEPTH_STEP + eps, -eps, -DEPTH_STEP + eps, -DEPTH_STEP - eps]
    offsets += [8 * DEPTH_STEP + eps, 9 * DEPTH_STEP - eps, 9 * DEPTH_STEP + eps, 5.0]
    offsets += [-8 * DEPTH_STEP - eps, -9 * DEPTH_STEP + eps, -9 * DEPTH_STEP - eps, -5.0]
    depth = torch.tensor([[[pelvis + o for o in offsets] + [0.0]]], dtype=torch.float64)
    got = depth_classes(depth, torch.tensor([pelvis], dtype=torch.float64))[0, 0].tolist()
    # ceil: (k-1) step < offset <= k step -> bin k -> class k + 10, clamped to 1..19; background 0.
    # Unclamped bins span (-10 step, 9 step]: class 1 holds everything <= -9 step, 19 everything > 8 step
    assert got == [10, 11, 11, 12, 10, 10, 9, 19, 19, 19, 19, 2, 2, 1, 1, 0]


def test_depth_classes_per_sample_pelvis_and_range():
    gen = torch.Generator().manual_seed(1)
    depth = 5 + torch.rand(3, 8, 8, generator=gen)
    depth[:, :2] = 0
    pelvis = torch.tensor([5.2, 5.5, 5.9])
    c = depth_classes(depth, pelvis)
    assert c.dtype == torch.int64 and (c[:, :2] == 0).all()
    assert c[:, 2:].min() >= 1 and c.max() <= NUM_DEPTH_CLASSES - 1
    # each sample relative to its own pelvis
    assert (c[0] == depth_classes(depth[:1], pelvis[:1])[0]).all()
    assert (c[2] != depth_classes(depth[2:], pelvis[:1])[0]).any()
    with pytest.raises(ValueError, match=r"pelvis_depth: expected shape \(3,\)"):
        depth_classes(depth, pelvis[:2])


def test_class_centres_invert_the_quantization():
    pelvis = torch.tensor([3.0], dtype=torch.float64)
    offsets = torch.linspace(-10 * DEPTH_STEP + 1e-6, 9 * DEPTH_STEP, 200, dtype=torch.float64)
    c = depth_classes((3.0 + offsets)[None, None], pelvis)
    back = depth_class_centres(c)[0, 0]
    assert (back - offsets).abs().max() <= DEPTH_STEP / 2 + 1e-9
    assert depth_class_centres(torch.tensor([0, 10, 11])).tolist() == pytest.approx(
        [-10.5 * DEPTH_STEP, -0.5 * DEPTH_STEP, 0.5 * DEPTH_STEP]
    )
