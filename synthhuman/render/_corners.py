"""Sums over the three corners of faces, written out.

On CPU, torch reductions over a dimension of size 3 (``(N, 3).sum(1)``, ``(N, 3, C).sum(1)``, ``min(1)``)
are 4-8x slower than the two adds or compares they stand for; the written-out sums add in the same order
and give bit-identical results.
"""

from __future__ import annotations

import torch
from torch import Tensor


def corner_sum(values: Tensor) -> Tensor:
    """(N, 3, ...) -> (N, ...): values[:, 0] + values[:, 1] + values[:, 2]."""
    a, b, c = values.unbind(1)
    return a + b + c


def weighted_corner_sum(values: Tensor, weights: Tensor) -> Tensor:
    """(N, 3, C) values, (N, 3) weights -> (N, C): the weighted sum over the corners (interpolation)."""
    w = weights.to(values.dtype)
    return values[:, 0] * w[:, 0:1] + values[:, 1] * w[:, 1:2] + values[:, 2] * w[:, 2:3]


def corner_min(values: Tensor) -> tuple[Tensor, Tensor]:
    """(N, 3) -> minimum (N,) and its corner (N,) int64, the first one on ties (as ``min(1)``)."""
    a, b, c = values.unbind(1)
    b_less = b < a
    low = torch.where(b_less, b, a)
    c_less = c < low
    return torch.where(c_less, c, low), torch.where(c_less, 2, b_less.long())


def unit_vectors(v: Tensor, eps: float = 1e-12) -> Tensor:
    """(N, 3) -> (N, 3) divided by max(length, eps), as ``torch.nn.functional.normalize``."""
    x, y, z = v.unbind(1)
    return v / (x * x + y * y + z * z).sqrt().clamp_min(eps)[:, None]
