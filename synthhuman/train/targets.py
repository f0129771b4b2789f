"""Training targets of SURREAL's experiments: 14 body parts + background, and quantized depth.

Both are class maps the network learns with a cross-entropy, made at full image resolution before the
crop (as SURREAL did, so the crop samples classes with NEAREST and never mixes two of them).
"""

from __future__ import annotations

import torch
from torch import Tensor

from synthhuman.conventions import BACKGROUND, SEGM_24_TO_14

NUM_SEGM_CLASSES = 15
"""Background + SURREAL's 14 merged body parts."""

DEPTH_STEP = 0.045
"""Metres: width of one depth bin."""

DEPTH_HALF_BINS = 9
"""Bins on each side of the pelvis bin: 19 body bins, offsets -9..9 bins."""

NUM_DEPTH_CLASSES = 2 * DEPTH_HALF_BINS + 2
"""Background + 19 body bins = 20."""

PELVIS_JOINT = 0
"""SMPL joint whose depth is the zero of the depth targets (SURREAL's ``joints3D[7]`` after its reindex)."""


def _require_label_map(name: str, labels: Tensor) -> None:
    if labels.ndim != 3 or labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(
            f"{name}: expected a (B, H, W) integer tensor, got shape {tuple(labels.shape)} {labels.dtype}"
        )


def segm_classes(segm: Tensor) -> Tensor:
    """(B, H, W) int64 classes 0..14 from (B, H, W) integer 24-part labels 0..24 (SURREAL's map)."""
    _require_label_map("segm", segm)
    if segm.numel() and (int(segm.min()) < 0 or int(segm.max()) > len(SEGM_24_TO_14)):
        raise ValueError(f"segm: expected labels in 0..24, got {int(segm.min())}..{int(segm.max())}")
    table = torch.tensor((BACKGROUND, *SEGM_24_TO_14), dtype=torch.int64, device=segm.device)
    return table[segm.long()]


def depth_classes(depth: Tensor, pelvis_depth: Tensor, step: float = DEPTH_STEP) -> Tensor:
    """(B, H, W) int64 depth classes: 0 off the body, ``clamp(ceil((d - d_pelvis) / step), -9, 9) + 10``.

    depth: (B, H, W) float planar depth in metres, 0 for background (our convention).
    pelvis_depth: (B,) float, the pelvis joint's camera-space z in metres.
    """
    if depth.ndim != 3 or not depth.dtype.is_floating_point:
        raise ValueError(f"depth: expected a (B, H, W) float tensor, got {tuple(depth.shape)} {depth.dtype}")
    if pelvis_depth.shape != depth.shape[:1]:
        raise ValueError(f"pelvis_depth: expected shape ({depth.shape[0]},), got {tuple(pelvis_depth.shape)}")
    offset = torch.ceil((depth - pelvis_depth.to(depth)[:, None, None]) / step)
    bins = offset.clamp(-DEPTH_HALF_BINS, DEPTH_HALF_BINS).long() + DEPTH_HALF_BINS + 1
    return torch.where(depth > 0, bins, torch.zeros_like(bins))


def depth_class_centres(classes: Tensor, step: float = DEPTH_STEP) -> Tensor:
    """float64 metres relative to the pelvis at the centre of each class's bin, shaped as ``classes``.

    Class c covers offsets in ((c - 11) step, (c - 10) step], centre (c - 10.5) step. Background (0)
    maps one bin below the nearest one, (-10.5) step: a background prediction on the body then counts
    as SURREAL's RMSE counted it (a difference of class indices). The clamped end bins also get this
    formula, though they hold everything beyond them.
    """
    if classes.dtype.is_floating_point:
        raise ValueError(f"classes: expected an integer tensor, got {classes.dtype}")
    return (classes.double() - DEPTH_HALF_BINS - 1.5) * step
