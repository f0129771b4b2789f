"""Metrics on hand-made cases: overlapping squares, per-class accuracy, depth RMSE and st-RMSE."""

from __future__ import annotations

import math

import pytest
import torch

from synthhuman.train.metrics import MetricsAccumulator, confusion_matrix, depth_errors
from synthhuman.train.targets import DEPTH_STEP

MM = 1000 * DEPTH_STEP  # one bin in millimetres


def squares(shift: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ground truth: a 10x10 square of class 1; prediction: the same square shifted right by ``shift``."""
    target = torch.zeros(1, 32, 32, dtype=torch.int64)
    pred = torch.zeros_like(target)
    target[0, 5:15, 5:15] = 1
    pred[0, 5:15, 5 + shift : 15 + shift] = 1
    return pred, target


def test_iou_and_accuracy_of_two_overlapping_squares():
    pred, target = squares(4)  # overlap 10x6 = 60, union 140
    acc = MetricsAccumulator(num_segm_classes=3)
    acc.add_segmentation(pred, target)
    r = acc.result()
    assert r.iou_per_class[0] == pytest.approx(60 / 140)
    assert r.accuracy_per_class[0] == pytest.approx(60 / 100)
    assert math.isnan(r.iou_per_class[1]) and math.isnan(r.accuracy_per_class[1])  # class 2 absent
    assert r.iou == pytest.approx(60 / 140) and r.accuracy == pytest.approx(0.6)  # mean over defined ones
    assert math.isnan(r.rmse_mm)  # no depth data


def test_segmentation_accumulates_over_the_set_not_per_batch():
    # batch 1: perfect class-1 square (100 px); batch 2: class 1 wholly missed on 10 px
    acc = MetricsAccumulator(num_segm_classes=2)
    pred, target = squares(0)
    acc.add_segmentation(pred, target)
    t2 = torch.zeros(1, 32, 32, dtype=torch.int64)
    t2[0, :1, :10] = 1
    acc.add_segmentation(torch.zeros_like(t2), t2)
    r = acc.result()
    assert r.iou == pytest.approx(100 / 110)  # a mean of per-batch IoUs would give 0.5
    assert r.accuracy == pytest.approx(100 / 110)
    assert acc.confusion.tolist() == [[1024 - 100 + 1024 - 10, 0], [10, 100]]


def test_background_is_not_in_the_mean():
    pred, target = squares(4)
    r = MetricsAccumulator(num_segm_classes=2)
    r.add_segmentation(pred, target)
    assert len(r.result().iou_per_class) == 1  # background IoU (high) is not reported


def test_confusion_rejects_out_of_range_classes():
    pred, target = squares(0)
    with pytest.raises(ValueError, match=r"pred: expected classes in 0\.\.0, got 0\.\.1"):
        confusion_matrix(pred, target, 1)


def depth_case() -> tuple[torch.Tensor, torch.Tensor]:
    """Ground truth: classes varying over a foreground square; background around it."""
    gen = torch.Generator().manual_seed(0)
    target = torch.zeros(2, 16, 16, dtype=torch.int64)
    target[:, 3:13, 4:12] = torch.randint(4, 17, (2, 10, 8), generator=gen)
    return target, target > 0


def test_rmse_of_a_constant_offset_and_st_rmse_removes_it():
    target, fg = depth_case()
    pred = torch.where(fg, target + 2, torch.full_like(target, 7))  # off-body predictions do not count
    e = depth_errors(pred, target)
    torch.testing.assert_close(e.rmse, torch.full((2,), 2 * DEPTH_STEP, dtype=torch.float64))
    assert e.st_rmse.abs().max() < 1e-12
    acc = MetricsAccumulator()
    acc.add_depth(pred, target)
    assert acc.result().rmse_mm == pytest.approx(2 * MM)


def test_st_rmse_invariant_to_scale_and_shift_of_the_prediction():
    target, fg = depth_case()
    gen = torch.Generator().manual_seed(1)
    noisy = torch.where(fg, (target + torch.randint(-2, 3, target.shape, generator=gen)).clamp(6, 14), 0)
    base = depth_errors(noisy, target)
    assert (base.st_rmse > 0).all() and (base.st_rmse < base.rmse).all()
    # class -> depth is affine, (c - 10.5) step: affine maps of the classes scale and shift the depths
    for a, b in ((1, 3), (-1, 20), (2, -10)):  # classes stay in 1..19
        moved = torch.where(fg, a * noisy + b, 0)
        other = depth_errors(moved, target)
        torch.testing.assert_close(other.st_rmse, base.st_rmse)
        assert not torch.allclose(other.rmse, base.rmse)


def test_st_rmse_of_a_constant_prediction_is_the_ground_truth_spread():
    target, fg = depth_case()
    pred = torch.where(fg, 10, 0)
    e = depth_errors(pred, target)
    g = (target.double() - 10.5) * DEPTH_STEP
    for i in range(2):
        torch.testing.assert_close(e.st_rmse[i], g[i][fg[i]].std(unbiased=False))


def test_background_prediction_on_the_body_counts_as_the_bin_below_the_lowest():
    target = torch.full((1, 4, 4), 3)
    e = depth_errors(torch.zeros_like(target), target)
    assert e.rmse.item() == pytest.approx(3 * DEPTH_STEP)


def test_pose_rmse_at_joint_pixels_on_the_body():
    target, fg = depth_case()
    pred = target.clone()
    pred[0, 5, 6] += 3  # error under joint 0 of image 0
    joints = torch.tensor(
        [
            [[6.2, 4.8], [8.0, 8.0], [0.0, 0.0], [40.0, 5.0]],  # on body, on body, background, outside
            [[0.0, 0.0], [15.0, 15.0], [-3.0, 2.0], [1.0, 1.0]],  # nothing on the body
        ]
    )
    e = depth_errors(pred, target, joints)
    assert e.pose_rmse[0].item() == pytest.approx(3 * DEPTH_STEP / math.sqrt(2))
    assert math.isnan(e.pose_rmse[1].item())
    acc = MetricsAccumulator()
    acc.add_depth(pred, target, joints)
    r = acc.result()
    assert r.pose_rmse_mm == pytest.approx(3 * MM / math.sqrt(2))  # image 1 skipped, not counted as 0
    assert r.rmse_mm == pytest.approx(3 * MM / math.sqrt(80) / 2)  # one error in 80 px, mean of 2 images


def test_images_without_foreground_are_skipped():
    target, _ = depth_case()
    target[1] = 0
    acc = MetricsAccumulator()
    acc.add_depth(target + (target > 0), target)
    assert acc.depth_counts.tolist() == [1, 1, 0]
    assert acc.result().rmse_mm == pytest.approx(MM)
    assert math.isnan(acc.result().iou)
