"""Small analytic meshes for tests."""

from __future__ import annotations

import math

import torch


def uv_sphere(
    radius: float = 1.0,
    center: tuple[float, float, float] = (0.0, 0.0, 0.0),
    n_lat: int = 24,
    n_lon: int = 48,
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(V, 3) verts and (F, 3) int64 faces of a closed sphere, counter-clockwise seen from outside."""
    verts = [[0.0, radius, 0.0]]
    for i in range(1, n_lat):
        theta = math.pi * i / n_lat
        for j in range(n_lon):
            phi = 2 * math.pi * j / n_lon
            verts.append(
                [
                    radius * math.sin(theta) * math.sin(phi),
                    radius * math.cos(theta),
                    radius * math.sin(theta) * math.cos(phi),
                ]
            )
    verts.append([0.0, -radius, 0.0])
    faces = []
    ring = lambda i, j: 1 + (i - 1) * n_lon + (j % n_lon)  # noqa: E731
    for j in range(n_lon):
        faces.append([0, ring(1, j), ring(1, j + 1)])
    for i in range(1, n_lat - 1):
        for j in range(n_lon):
            a, b, c, d = ring(i, j), ring(i, j + 1), ring(i + 1, j), ring(i + 1, j + 1)
            faces += [[a, c, d], [a, d, b]]
    south = len(verts) - 1
    for j in range(n_lon):
        faces.append([south, ring(n_lat - 1, j + 1), ring(n_lat - 1, j)])
    v = torch.tensor(verts, dtype=dtype) + torch.tensor(center, dtype=dtype)
    return v, torch.tensor(faces, dtype=torch.int64)
