"""Spherical-harmonics irradiance shading, as SURREAL (``docs/conventions.md``).

Colour = albedo x E(n): E is the Ramamoorthi-Hanrahan irradiance of 9 SH coefficients, ordered
``L00, L1-1, L10, L11, L2-2, L2-1, L20, L21, L22`` (SURREAL's ``sh.osl`` order), evaluated at the world
normal expressed in SURREAL's world axes, whose up is -Y: ``n_surreal = Rx(pi) n`` = (x, -y, -z). So
coefficients sampled as SURREAL samples them light the body from above, as in SURREAL.
"""

from __future__ import annotations

from torch import Tensor

_C1, _C2, _C3, _C4, _C5 = 0.429043, 0.511664, 0.743125, 0.886227, 0.247708


def sh_irradiance(normals: Tensor, coeffs: Tensor) -> Tensor:
    """Irradiance at unit world normals (..., 3) (SMPL world, +Y up) for coefficients (..., 9) -> (...)."""
    if normals.shape[-1] != 3 or coeffs.shape[-1] != 9:
        raise ValueError(
            f"sh_irradiance: expected normals (..., 3) and coeffs (..., 9), got {tuple(normals.shape)} "
            f"and {tuple(coeffs.shape)}"
        )
    x, y, z = normals[..., 0], -normals[..., 1], -normals[..., 2]
    L = coeffs.unbind(-1)
    return (
        _C1 * L[8] * (x * x - y * y)
        + _C3 * L[6] * z * z
        + _C4 * L[0]
        - _C5 * L[6]
        + 2 * _C1 * (L[4] * x * y + L[7] * x * z + L[5] * y * z)
        + 2 * _C2 * (L[3] * x + L[1] * y + L[2] * z)
    )


def shade(albedo: Tensor, world_normals: Tensor, coeffs: Tensor) -> Tensor:
    """(N, C) albedo x irradiance at (N, 3) world normals with (N, 9) coefficients; irradiance >= 0."""
    return albedo * sh_irradiance(world_normals, coeffs).clamp_min(0)[:, None]


def sphere_occlusion(points: Tensor, normal: Tensor, spheres: Tensor) -> Tensor:
    """(N,) ambient occlusion in [0, 1] at ``points`` (N, 3) on a surface of unit ``normal`` (3,) by
    spheres (N, S, 5) (centre, radius, weight; one set per point): the sum over spheres of
    ``weight * (r / D)^2 * max(cos, 0)`` (D: distance to the centre; cos: between the normal and the
    direction to the centre; the solid-angle occlusion of a sphere), clamped to 1. Soft contact shadows."""
    d = spheres[..., :3] - points[:, None]
    dist2 = d.square().sum(-1).clamp_min(1e-12)
    cos = (d * normal).sum(-1) / dist2.sqrt()
    occ = spheres[..., 4] * spheres[..., 3].square() / dist2 * cos.clamp_min(0)
    return occ.sum(-1).clamp(0, 1)
