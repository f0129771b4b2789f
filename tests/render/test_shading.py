"""Spherical-harmonics irradiance and SURREAL's light direction."""

from __future__ import annotations

import math

import torch

from synthhuman.appearance.lighting import LightConfig, sample_light
from synthhuman.render.shading import sh_irradiance


def _sh_basis(d: torch.Tensor) -> torch.Tensor:
    """Real SH basis Y_lm (N, 9) in R-H order at unit directions (N, 3), in SURREAL's axes."""
    x, y, z = d.unbind(-1)
    return torch.stack(
        [
            torch.full_like(x, 0.282095),
            0.488603 * y,
            0.488603 * z,
            0.488603 * x,
            1.092548 * x * y,
            1.092548 * y * z,
            0.315392 * (3 * z * z - 1),
            1.092548 * x * z,
            0.546274 * (x * x - y * y),
        ],
        -1,
    )


def test_sh_irradiance_equals_clamped_cosine_integral_of_radiance():
    """E(n) = integral of L(w) max(0, n.w) dw, with L(w) = sum L_lm Y_lm(w), by quadrature."""
    coeffs = sample_light(LightConfig(), 3, torch.Generator().manual_seed(3)).double()
    nt, npf = 400, 800
    theta = (torch.arange(nt, dtype=torch.float64) + 0.5) * math.pi / nt
    phi = (torch.arange(npf, dtype=torch.float64) + 0.5) * 2 * math.pi / npf
    th, ph = torch.meshgrid(theta, phi, indexing="ij")
    w = torch.stack([th.sin() * ph.cos(), th.sin() * ph.sin(), th.cos()], -1).reshape(-1, 3)
    dw = (th.sin() * (math.pi / nt) * (2 * math.pi / npf)).reshape(-1)
    normals = torch.nn.functional.normalize(
        torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4)), dim=-1
    )
    surreal = normals * torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64)  # n_surreal = Rx(pi) n
    radiance = _sh_basis(w) @ coeffs.T  # (M, 3)
    cos = (surreal @ w.T).clamp_min(0)  # (5, M)
    expected = (cos * dw) @ radiance  # (5, 3)
    got = sh_irradiance(normals[:, None], coeffs[None])  # (5, 3)
    # R-H's 9-term formula is the band-limited (l <= 2) convolution: exact up to its 5-digit constants
    torch.testing.assert_close(got, expected, atol=2e-3, rtol=0)


def test_surreal_light_comes_from_above():
    """SURREAL's c_1 = -0.7U (its world has up = -Y) lights upward-facing normals in our +Y-up world."""
    coeffs = torch.zeros(9, dtype=torch.float64)
    coeffs[1] = -0.5
    up, down = (
        torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64),
        torch.tensor([0.0, -1.0, 0.0], dtype=torch.float64),
    )
    assert float(sh_irradiance(up, coeffs)) > 0 > float(sh_irradiance(down, coeffs))
    ambient = torch.zeros(9, dtype=torch.float64)
    ambient[0] = 1.0
    assert math.isclose(float(sh_irradiance(up, ambient)), 0.886227)
