"""Vertex normals against a per-face loop, and their gradients."""

import pytest
import torch

from synthhuman.render.mesh import vertex_normals
from tests.meshes import uv_sphere


def _brute_force_normals(verts: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    out = torch.zeros_like(verts)
    for b in range(verts.shape[0]):
        for a, c, d in faces.tolist():
            n = torch.linalg.cross(verts[b, c] - verts[b, a], verts[b, d] - verts[b, a])
            for v in (a, c, d):
                out[b, v] += n
    return out / out.norm(dim=-1, keepdim=True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_vertex_normals_match_a_per_face_sum(device, dtype):
    verts, faces = uv_sphere(n_lat=4, n_lon=6)
    gen = torch.Generator().manual_seed(0)
    batch = torch.stack([verts, verts * 2 + 0.3 * torch.rand(verts.shape, generator=gen)]).to(dtype)
    expected = _brute_force_normals(batch.double(), faces).to(dtype)
    got = vertex_normals(batch.to(device), faces.to(device)).cpu()
    assert got.shape == batch.shape
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(got, expected, atol=tol, rtol=0)


def test_sphere_normals_point_outwards():
    verts, faces = uv_sphere(n_lat=8, n_lon=16)
    normals = vertex_normals(verts[None], faces)[0]
    assert (normals * verts).sum(-1).min() > 0.99


def test_vertex_normals_gradcheck():
    verts, faces = uv_sphere(n_lat=3, n_lon=4)
    gen = torch.Generator().manual_seed(1)
    verts = (verts + 0.1 * torch.rand(verts.shape, generator=gen)).double()[None].requires_grad_()
    assert torch.autograd.gradcheck(lambda v: vertex_normals(v, faces), (verts,))
