"""How good a fit is, when the truth is known: 3D joint errors (MPJPE, PA-MPJPE) and the overlap of the
fitted body's rendered part map and silhouette with the true ones."""

from __future__ import annotations

import torch
from torch import Tensor

from synthhuman.fit.targets import NUM_PARTS


def mpjpe(pred: Tensor, true: Tensor) -> Tensor:
    """(N, J, 3), (N, J, 3) -> (N,) mean per-joint position error after moving the prediction's pelvis
    (joint 0) onto the true one (metres)."""
    return ((pred - pred[:, :1]) - (true - true[:, :1])).norm(dim=-1).mean(-1)


def procrustes(pred: Tensor, true: Tensor) -> Tensor:
    """(N, J, 3) ``pred`` aligned to ``true`` by the similarity (scale, rotation, translation) that
    minimizes the squared distance (Umeyama), per frame."""
    mp, mt = pred.mean(1, keepdim=True), true.mean(1, keepdim=True)
    p, t = pred - mp, true - mt
    u, s, vh = torch.linalg.svd(p.transpose(1, 2) @ t)  # (N, 3, 3)
    d = torch.sign(torch.linalg.det(u @ vh))
    fix = torch.ones_like(s)
    fix[:, -1] = d
    rot = (u * fix[:, None]) @ vh  # p @ rot ~ t
    scale = (s * fix).sum(-1) / (p * p).sum((1, 2))
    return scale[:, None, None] * p @ rot + mt


def pa_mpjpe(pred: Tensor, true: Tensor) -> Tensor:
    """(N,) mean per-joint error after Procrustes alignment (metres)."""
    return (procrustes(pred, true) - true).norm(dim=-1).mean(-1)


def part_iou(pred: Tensor, true: Tensor) -> Tensor:
    """(N, H, W) int part maps (0 background, 1..14) -> (N,) mean IoU over the parts present in either."""
    out = []
    for p, t in zip(pred, true, strict=True):
        ious = []
        for k in range(1, NUM_PARTS + 1):
            a, b = p == k, t == k
            union = int((a | b).sum())
            if union:
                ious.append(int((a & b).sum()) / union)
        out.append(sum(ious) / len(ious) if ious else 1.0)
    return torch.tensor(out, dtype=torch.float64)


def silhouette_iou(pred: Tensor, true: Tensor) -> Tensor:
    """(N, H, W) bool masks -> (N,) IoU."""
    inter = (pred & true).flatten(1).sum(1).double()
    union = (pred | true).flatten(1).sum(1).double()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union))
