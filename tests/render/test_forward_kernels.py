"""Parts of the fused Warp forward on their own: the vertex normals (computed all at once, as on CUDA,
against the PyTorch path and a float64 reference) and the dense copy of expanded backgrounds. The fused
layers against the PyTorch pipeline are in ``tests/test_pipeline_backends.py``."""

from __future__ import annotations

import pytest
import torch

from synthhuman.body.default_body import load_default_body
from synthhuman.render.kernels import warp_available
from synthhuman.render.mesh import vertex_normals

pytestmark = pytest.mark.skipif(not warp_available(), reason="warp-lang does not import here")


def _bodies(device, frames: int = 3):
    body = load_default_body("neutral")
    gen = torch.Generator().manual_seed(4)
    pose = 0.3 * torch.randn(frames, 72, generator=gen)
    with torch.no_grad():
        verts = body(None, pose).vertices
    return verts.to(device), body.faces.to(device)


def test_vertex_normals_all_at_once_equal_the_pytorch_path(device):
    from synthhuman.render.kernels.forward import vertex_faces, vertex_normals_kernel

    verts, faces = _bodies(device)
    csr = vertex_faces(faces, verts.shape[1])
    normals = vertex_normals_kernel(verts, faces, csr)
    torch.testing.assert_close(normals, vertex_normals(verts, faces), rtol=0, atol=2e-6)
    exact = vertex_normals(verts.double(), faces)
    torch.testing.assert_close(normals.double(), exact, rtol=0, atol=2e-6)
    assert torch.equal(normals, vertex_normals_kernel(verts, faces, csr))  # the same bytes run to run


def test_vertex_normals_of_unused_vertices_are_zero(device):
    from synthhuman.render.kernels.forward import vertex_faces, vertex_normals_kernel

    verts = torch.tensor([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [5, 5, 5]]], device=device)
    faces = torch.tensor([[0, 1, 2]], device=device)
    normals = vertex_normals_kernel(verts, faces, vertex_faces(faces, 4))
    expected = torch.tensor([[[0.0, 0, 1], [0, 0, 1], [0, 0, 1], [0, 0, 0]]], device=device)
    assert torch.equal(normals, expected)


@pytest.mark.parametrize("frames", [4, 1])
@pytest.mark.parametrize("expanded", ["batch", "pixels", "none"])
def test_frame_by_frame_copies_of_backgrounds(device, expanded, frames):
    from synthhuman.render.kernels.forward import _frame_source
    from synthhuman.render.kernels.runtime import copy_frames, fill_frames

    image = torch.rand(frames, 5, 6, 3, device=device) * 1.4 - 0.2
    source = {
        "batch": image[:1].expand(frames, 5, 6, 3),
        "pixels": torch.rand(3, device=device).expand(frames, 5, 6, 3),
        "none": image,
    }[expanded]
    runs = ((0, 1), (1, 3), (3, 4)) if frames == 4 else ((0, 1),)
    copy = torch.empty_like(image)
    for start, stop in runs:
        copy_frames(copy, _frame_source(source), start, stop)
    assert torch.equal(copy, source)
    copy.add_(1)  # a copy, never a view of the source
    assert not torch.equal(copy, source)
    start, stop = runs[-1]
    copy_frames(copy, _frame_source(source), start, stop, clamp=True)
    assert torch.equal(copy[start:stop], source[start:stop].clamp(0, 1))
    assert torch.equal(copy[:start], source[:start] + 1)
    fill_frames(copy, start, stop, 0)
    assert int(copy[start:stop].count_nonzero()) == 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8, torch.bool, torch.int64])
def test_fill_frames_sets_only_its_frames(device, dtype):
    from synthhuman.render.kernels import EMPTY_KEY
    from synthhuman.render.kernels.runtime import fill_frames

    one = torch.ones((), dtype=dtype)
    dense = torch.full((5, 3, 4, 2), one.item(), dtype=dtype, device=device)
    strided = torch.full((5, 3, 4, 4), one.item(), dtype=dtype, device=device)[..., ::2]
    for t in (dense, strided):
        fill_frames(t, 1, 3, 0)  # zero bytes, by memset where the frames are one block
        assert int(t[1:3].count_nonzero()) == 0
        assert bool((t[:1] == one).all()) and bool((t[3:] == one).all())
    if dtype == torch.int64:
        fill_frames(dense, 4, 5, EMPTY_KEY)
        assert bool((dense[4] == EMPTY_KEY).all()) and bool((dense[3] == 1).all())


@pytest.mark.parametrize("expanded", [False, True])
def test_joints_in_one_launch_equal_project_joints(device, expanded):
    from synthhuman.gt import project_joints
    from synthhuman.render.cameras import look_at, world_to_camera
    from synthhuman.render.kernels.forward import project_joints_kernel

    gen = torch.Generator().manual_seed(5)
    b, j, h, w = 3, 40, 9, 13
    eye = torch.tensor([[0.0, 0.5, 3.0], [1.0, 0.0, 2.5], [-2.0, 1.0, 1.0]])
    R, t = look_at(eye, torch.zeros(b, 3))
    K = torch.tensor([[[8.0, 0.3, 6.0], [0.0, 7.5, 4.0], [0.0, 0.0, 1.0]]]).repeat(b, 1, 1)
    world = torch.randn(1 if expanded else b, j, 3, generator=gen) * 1.5  # some behind, some outside
    world = world.expand(b, j, 3) if expanded else world
    depth = torch.rand(b, h, w, generator=gen) * 4.0
    depth[depth < 1.0] = 0.0  # empty pixels
    cam = world_to_camera(world, R, t)
    ref = project_joints(cam, K, depth, 0.05)
    # joints exactly at the tolerance from the surface at their pixel: the comparison's edge
    col = ref.joints2d[..., 0].round().clamp(0, w - 1).long()
    row = ref.joints2d[..., 1].round().clamp(0, h - 1).long()
    frame = torch.arange(b)[:, None].expand(b, j)
    depth[frame[:, ::3], row[:, ::3], col[:, ::3]] = cam[:, ::3, 2] - 0.05
    ref = project_joints(cam, K, depth, 0.05)
    assert ref.visible.any() and not ref.visible.all()
    args = (world, R, t, K, depth)
    joints2d, joints3d, visible = project_joints_kernel(*(x.to(device) for x in args), 0.05)
    assert torch.equal(joints3d.cpu(), cam)
    assert torch.equal(joints2d.cpu(), ref.joints2d)
    assert torch.equal(visible.cpu(), ref.visible)
