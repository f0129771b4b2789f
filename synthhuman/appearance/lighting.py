"""Spherical-harmonics lights sampled as SURREAL samples them (``docs/conventions.md``), ranges configurable.

SURREAL: ``c_i = 0.7 (2U - 1)`` for the 9 coefficients, then ``c_0 = 0.5 + 0.9U`` (ambient) and
``c_1 = -0.7U`` (light from above in SURREAL's -Y-up world; ``synthhuman.render.shading`` evaluates the
coefficients in those axes).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from synthhuman.appearance._util import check_range
from synthhuman.config import require


@dataclass(frozen=True)
class LightConfig:
    """Uniform ranges (lo, hi) of the SH-9 coefficients: ``ambient`` for c_0, ``vertical`` for c_1, and
    ``spread`` for the other seven, drawn in [-spread, spread]."""

    ambient: tuple[float, float] = (0.5, 1.4)
    vertical: tuple[float, float] = (-0.7, 0.0)
    spread: float = 0.7

    def __post_init__(self) -> None:
        check_range("ambient", self.ambient, low=0.0)
        check_range("vertical", self.vertical, low=-float("inf"))
        require(self.spread >= 0, "spread", ">= 0", self.spread)


def sample_light(cfg: LightConfig, n: int, gen: torch.Generator) -> Tensor:
    """(n, 9) float32 SH coefficients (order of ``synthhuman.render.shading``), drawn on CPU from ``gen``."""
    require(n >= 0, "n", ">= 0", n)
    coeffs = cfg.spread * (2 * torch.rand(n, 9, generator=gen) - 1)
    lo, hi = cfg.ambient
    coeffs[:, 0] = lo + (hi - lo) * torch.rand(n, generator=gen)
    lo, hi = cfg.vertical
    coeffs[:, 1] = hi + (lo - hi) * torch.rand(n, generator=gen)
    return coeffs
