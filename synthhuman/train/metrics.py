"""SURREAL's evaluation: part-segmentation IoU and accuracy, depth RMSE and st-RMSE, accumulated over a set.

Segmentation (SURREAL's ``eval.lua``/``test.lua``): one confusion matrix summed over every pixel of the
set; per foreground class c, IoU = TP / (TP + FP + FN) and accuracy = TP / #GT (the class's recall);
reported: the unweighted mean of each over the 14 foreground classes (background excluded). A class with
a zero denominator over the whole set is left out of the mean (SURREAL would give NaN).

Depth, from predicted and ground-truth classes (``targets.depth_classes``), both read as their bin
centres (45 mm bins relative to the pelvis), on ground-truth foreground pixels:
- rmse: per image, the RMSE over its foreground pixels; then the mean over images (SURREAL's
  ``depthRMSE``, which averages per-image RMSEs). A background prediction on the body counts as the bin
  below the lowest one, as in SURREAL's class-index difference.
- st_rmse: per image, the RMSE left after the least-squares fit ``a * pred + b`` of the prediction to the
  ground truth over its foreground pixels (a = 0 when the prediction is constant); mean over images.
- pose_rmse: per image, the RMSE over the 2D joints whose nearest label-map pixel is inside the map and
  on the ground-truth body (a joint hidden behind another body part still counts: its pixel is body,
  scored at the surface seen there); mean over images with at least one such joint.
Images without foreground (or, for pose_rmse, without such joints) are skipped, not counted as 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from synthhuman.train.targets import DEPTH_STEP, NUM_SEGM_CLASSES, depth_class_centres


@dataclass(frozen=True)
class MetricsResult:
    """Set-level scores; NaN for a task that received no data.

    iou, accuracy: fractions, means over the foreground classes; per-class values (NaN where undefined)
    in ``iou_per_class`` / ``accuracy_per_class``, classes 1..14 in order.
    rmse_mm, st_rmse_mm, pose_rmse_mm: millimetres, means over images.
    """

    iou: float
    accuracy: float
    rmse_mm: float
    st_rmse_mm: float
    pose_rmse_mm: float
    iou_per_class: tuple[float, ...]
    accuracy_per_class: tuple[float, ...]


@dataclass(frozen=True)
class DepthErrors:
    """Per-image errors in metres, (B,) float64 each; NaN where the image has nothing to score."""

    rmse: Tensor
    st_rmse: Tensor
    pose_rmse: Tensor


def _require_pair(pred: Tensor, target: Tensor) -> None:
    if pred.ndim != 3 or pred.shape != target.shape:
        raise ValueError(
            f"pred, target: expected equal (B, H, W) shapes, got {tuple(pred.shape)}, {tuple(target.shape)}"
        )
    if pred.dtype.is_floating_point or target.dtype.is_floating_point:
        raise ValueError(f"pred, target: expected integer classes, got {pred.dtype} and {target.dtype}")


def confusion_matrix(pred: Tensor, target: Tensor, num_classes: int) -> Tensor:
    """(C, C) int64 pixel counts, rows = ground-truth class, columns = predicted class.

    pred, target: (B, H, W) integer classes in 0..C-1 (``pred``: argmax of the last stack's logits).
    """
    _require_pair(pred, target)
    for name, x in (("pred", pred), ("target", target)):
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= num_classes):
            raise ValueError(
                f"{name}: expected classes in 0..{num_classes - 1}, got {int(x.min())}..{int(x.max())}"
            )
    flat = target.reshape(-1).long() * num_classes + pred.reshape(-1).long()
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def segmentation_scores(confusion: Tensor) -> tuple[Tensor, Tensor]:
    """(C-1,) IoU and (C-1,) accuracy (float64, NaN where the denominator is 0) of classes 1..C-1."""
    cm = confusion.double()
    tp = cm.diagonal()
    gt, predicted = cm.sum(1), cm.sum(0)
    iou = tp / (gt + predicted - tp)
    accuracy = tp / gt
    return iou[1:], accuracy[1:]


def depth_errors(
    pred: Tensor, target: Tensor, joints: Tensor | None = None, step: float = DEPTH_STEP
) -> DepthErrors:
    """Per-image depth errors of (B, H, W) predicted classes against (B, H, W) ground-truth classes.

    joints: (B, J, 2) float label-map pixels (``CropBatch.joints``) for ``pose_rmse``; NaN without them.
    """
    _require_pair(pred, target)
    b, h, w = target.shape
    fg = (target > 0).double()
    p, g = depth_class_centres(pred, step) * fg, depth_class_centres(target, step) * fg
    n = fg.sum((1, 2))
    rmse = (((p - g) ** 2).sum((1, 2)) / n).sqrt()

    mp, mg = p.sum((1, 2)) / n, g.sum((1, 2)) / n
    dp, dg = (p - mp[:, None, None]) * fg, (g - mg[:, None, None]) * fg
    var_p, cov = (dp * dp).sum((1, 2)), (dp * dg).sum((1, 2))
    a = torch.where(var_p > 0, cov / var_p.clamp_min(1e-30), torch.zeros_like(var_p))
    st_rmse = (((dg - a[:, None, None] * dp) ** 2).sum((1, 2)) / n).sqrt()

    pose_rmse = torch.full_like(rmse, math.nan)
    if joints is not None:
        if joints.ndim != 3 or joints.shape[0] != b or joints.shape[2] != 2:
            raise ValueError(f"joints: expected shape ({b}, J, 2), got {tuple(joints.shape)}")
        col, row = joints[..., 0].round().long(), joints[..., 1].round().long()
        inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        idx = (row.clamp(0, h - 1) * w + col.clamp(0, w - 1)).to(target.device)
        on_body = inside.to(target.device) & (fg.flatten(1).gather(1, idx) > 0)
        err = (p.flatten(1).gather(1, idx) - g.flatten(1).gather(1, idx)) * on_body
        pose_rmse = ((err**2).sum(1) / on_body.sum(1)).sqrt()
    return DepthErrors(rmse, st_rmse, pose_rmse)


class MetricsAccumulator:
    """Sums over a whole set: a confusion matrix for segmentation, per-image depth errors for depth.

    Kept on the CPU in int64/float64; each ``add_*`` moves the batch's counts there.
    """

    def __init__(self, num_segm_classes: int = NUM_SEGM_CLASSES) -> None:
        self.num_segm_classes = num_segm_classes
        self.confusion = torch.zeros(num_segm_classes, num_segm_classes, dtype=torch.int64)
        self.depth_sums = torch.zeros(3, dtype=torch.float64)  # rmse, st_rmse, pose_rmse (metres)
        self.depth_counts = torch.zeros(3, dtype=torch.int64)

    def add_segmentation(self, pred: Tensor, target: Tensor) -> None:
        """Add (B, H, W) predicted and ground-truth 15-class maps."""
        self.confusion += confusion_matrix(pred, target, self.num_segm_classes).cpu()

    def add_depth(self, pred: Tensor, target: Tensor, joints: Tensor | None = None) -> None:
        """Add (B, H, W) predicted and ground-truth depth classes, and optionally (B, J, 2) joints."""
        errors = depth_errors(pred, target, joints)
        per_image = torch.stack([errors.rmse, errors.st_rmse, errors.pose_rmse]).cpu()
        valid = ~per_image.isnan()
        self.depth_sums += torch.where(valid, per_image, 0.0).sum(1)
        self.depth_counts += valid.sum(1)

    def result(self) -> MetricsResult:
        iou, accuracy = segmentation_scores(self.confusion)
        depth_mm = (1000 * self.depth_sums / self.depth_counts).tolist()  # 0/0 -> NaN
        return MetricsResult(
            iou=float(iou.nanmean()),  # all NaN -> NaN
            accuracy=float(accuracy.nanmean()),
            rmse_mm=depth_mm[0],
            st_rmse_mm=depth_mm[1],
            pose_rmse_mm=depth_mm[2],
            iou_per_class=tuple(iou.tolist()),
            accuracy_per_class=tuple(accuracy.tolist()),
        )
