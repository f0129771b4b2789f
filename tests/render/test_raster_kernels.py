"""The Warp z-buffer against the PyTorch one: identical fragments on every kind of scene, any thread split.

(``test_raster.py`` runs its contract tests on both backends; here the two are compared directly.)
"""

from __future__ import annotations

import pytest
import torch

from synthhuman.render import intrinsics, rasterize
from synthhuman.render.kernels import EMPTY_KEY, covered_pixels, frame_chunks, warp_available, zbuffer
from tests.meshes import uv_sphere
from tests.render.test_raster import H, W, _random_scene, _tiling_mesh

pytestmark = pytest.mark.skipif(not warp_available(), reason="warp-lang does not import here")

NAMES = ("pix_to_face", "depth", "pixel_index", "face", "bary_fg", "depth_fg")


def assert_same_fragments(verts, faces, K, size, **kw) -> None:
    warp = rasterize(verts, faces, K, size, backend="warp", **kw)
    ref = rasterize(verts, faces, K, size, backend="torch", **kw)
    for name in NAMES:
        assert torch.equal(getattr(warp, name), getattr(ref, name)), name


def _big_and_degenerate(device, dtype):
    """Triangles far larger than the image (one behind another), a zero-area sliver, a repeated vertex."""
    K = intrinsics(20.0, ((W - 1) / 2, (H - 1) / 2), dtype=dtype, device=device)
    verts = torch.tensor(
        [
            [-50, -50, 2], [50, -50, 2], [0, 60, 2],  # covers the whole image
            [-40, -40, 3], [40, -40, 3], [0, 45, 3],  # behind it
            [0, 0, 1], [0.5, 0.5, 1], [1, 1, 1],  # collinear: zero area
            [0.1, 0.1, 1.5], [0.1, 0.1, 1.5], [0.3, 0.2, 1.5],  # repeated vertex
        ],
        dtype=dtype,
        device=device,
    )[None]  # fmt: skip
    faces = torch.arange(12, device=device).view(4, 3)
    return verts, faces, K


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("cull", [False, True])
def test_random_scenes_identical(device, dtype, seed, cull):
    verts, faces, K = _random_scene(seed, dtype, device)
    assert_same_fragments(verts, faces, K, (H, W), cull_backfaces=cull)


def test_tiling_mesh_and_heavy_ties_identical(device, dtype):
    verts, faces, K = _tiling_mesh(device, dtype)
    assert_same_fragments(verts, faces, K, (H, W))
    dup = torch.cat([faces, faces.flip(0), faces])  # exact depth ties between copies
    assert_same_fragments(verts, dup, K, (H, W))


def test_big_degenerate_and_back_faces_identical(device, dtype):
    verts, faces, K = _big_and_degenerate(device, dtype)
    for cull in (False, True):
        assert_same_fragments(verts, faces, K, (H, W), cull_backfaces=cull)
        assert_same_fragments(verts, faces.flip(1), K, (H, W), cull_backfaces=cull)


@pytest.mark.parametrize("size", [(1, 1), (1, 7), (5, 1), (17, 13), (31, 47)])
def test_odd_sizes_and_frames_that_differ(device, dtype, size):
    """Spheres at different places per frame, one behind the camera (an empty frame), one crossing the
    near plane, at odd image sizes."""
    h, w = size
    sphere, faces = uv_sphere(0.3, n_lat=9, n_lon=14, dtype=dtype)
    K = intrinsics(0.8 * max(h, w), ((w - 1) / 2, (h - 1) / 2), dtype=dtype).expand(5, 3, 3).to(device)
    centres = torch.tensor(
        [[0.0, 0.0, 2.0], [0.4, -0.3, 2.5], [0.0, 0.0, -3.0], [0.0, 0.1, 0.2], [-0.2, 0.0, 1.0]], dtype=dtype
    )
    verts = (sphere[None] + centres[:, None]).to(device)
    assert_same_fragments(verts, faces.to(device), K, size, cull_backfaces=True)
    keys = zbuffer(verts, faces.to(device), K, size, cull_backfaces=True).keys
    assert bool((keys[2] == EMPTY_KEY).all())


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_same_keys_whatever_the_thread_split(threads):
    verts, faces, K = _random_scene(0, torch.float32, torch.device("cpu"))
    verts = torch.cat([verts, verts * 1.1, verts * 0.9, verts])
    K = K.expand(4, 3, 3).contiguous()
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = zbuffer(verts, faces, K, (H, W)).keys
        torch.set_num_threads(threads)
        many = zbuffer(verts, faces, K, (H, W)).keys
    finally:
        torch.set_num_threads(before)
    assert torch.equal(one, many)
    pixel_index, face = covered_pixels(many)
    assert (pixel_index.diff() > 0).all() and torch.equal(face, many.view(-1)[pixel_index] & 0xFFFFFFFF)


def test_frame_chunks_cover_the_batch():
    for batch in range(0, 9):
        for workers in range(1, 5):
            chunks = frame_chunks(batch, workers)
            flat = [i for a, b in chunks for i in range(a, b)]
            assert flat == list(range(batch)) and len(chunks) <= workers


def test_gradcheck_with_the_warp_search():
    """Gradients of bary and depth through fragments found by the Warp z-buffer (float64)."""
    verts, faces, K = _random_scene(3, torch.float64, torch.device("cpu"))
    verts = verts.clone().requires_grad_(True)
    frags = rasterize(verts, faces, K, (H, W), backend="warp")
    assert frags.face.numel() > 20
    faces_used = faces[frags.face[:20]]
    sub = verts[:, faces_used.unique()].detach()

    def fn(v):
        full = verts.detach().clone()
        full[:, faces_used.unique()] = v
        f = rasterize(full, faces, K, (H, W), backend="warp")
        return f.bary_fg[:20], f.depth_fg[:20]

    assert torch.autograd.gradcheck(fn, (sub.requires_grad_(True),), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_world_zbuffer_gives_the_cameras_points_and_pixels_bit_for_bit(device, dtype):
    """zbuffer_world's vertices in camera space and on screen equal render.cameras' world_to_camera and
    project (the same sums in the same order), and its keys those of the z-buffer of those vertices."""
    from synthhuman.render.cameras import look_at, project, world_to_camera
    from synthhuman.render.kernels import zbuffer_world

    verts, faces = uv_sphere(n_lat=12, n_lon=16)
    gen = torch.Generator().manual_seed(2)
    world = (verts[None] + 0.3 * torch.randn(3, 1, 3, generator=gen)).to(dtype)
    eye = torch.tensor([[0.3, 0.5, 3.0], [2.0, -0.4, 1.5], [-1.0, 1.0, -2.5]], dtype=dtype)
    R, t = look_at(eye, torch.zeros(3, 3, dtype=dtype))
    K = intrinsics(30.0, ((W - 1) / 2, (H - 1) / 2), batch_size=3, dtype=dtype)
    args = [x.to(device) for x in (world, R, t, K)]
    keys, cam = zbuffer_world(*args[:3], args[3], faces.to(device), (H, W), cull_backfaces=True)
    cam_ref = world_to_camera(*args[:3])
    assert torch.equal(cam.verts, cam_ref)
    assert torch.equal(cam.screen, project(cam_ref, args[3]))
    ref = zbuffer(cam_ref, faces.to(device), args[3], (H, W), cull_backfaces=True)
    assert torch.equal(keys.keys, ref.keys) and bool((keys.keys != EMPTY_KEY).any())
