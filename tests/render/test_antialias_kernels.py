"""Anti-aliasing on Warp kernels against the PyTorch walk: the same pairs and silhouette edges, the same
colours (up to summation order) and gradients; gradcheck with the kernel search; empty frames, 1x1 and
odd image sizes."""

from __future__ import annotations

import functools
import math

import pytest
import torch

from synthhuman.render import antialiasing
from synthhuman.render.antialiasing import antialias, silhouette_hits
from synthhuman.render.cameras import intrinsics, project
from synthhuman.render.kernels import EMPTY_KEY, silhouette
from synthhuman.render.kernels.runtime import warp_available
from synthhuman.render.mesh import face_adjacency, join_meshes
from synthhuman.render.raster import rasterize
from tests.meshes import uv_sphere

pytestmark = pytest.mark.skipif(not warp_available(), reason="warp-lang does not import here")


def _as_keys(pix_to_face, depth):
    """pix_to_face in the z-buffer's encoding: float32 depth bits << 32 | face, EMPTY_KEY where empty."""
    bits = depth.detach().float().view(torch.int32).long() << 32
    return torch.where(pix_to_face >= 0, bits | pix_to_face, torch.full_like(pix_to_face, EMPTY_KEY))


def _hits_both(frags, verts, faces, K, adjacency):
    screen = project(verts, K).detach()
    kernel = silhouette.silhouette_search(
        frags.pix_to_face, frags.depth.detach(), screen, faces, adjacency, K
    )
    keyed = silhouette.silhouette_search(
        _as_keys(frags.pix_to_face, frags.depth), frags.depth.detach(), screen, faces, adjacency, K
    )
    assert all(torch.equal(a, b) for a, b in zip(kernel, keyed, strict=True))  # either encoding
    reference = silhouette_hits(frags, screen, faces, adjacency, K)
    return kernel, reference


def _assert_same_hits(frags, verts, faces, K, adjacency) -> int:
    (kf, ke), (rf, re) = _hits_both(frags, verts, faces, K, adjacency)
    b, (h, w) = frags.batch_size, frags.image_size
    assert kf.shape == ke.shape == (2, b, h, w) and kf.dtype == ke.dtype == torch.int64
    assert torch.equal(kf, rf), f"{int((kf != rf).sum())} pairs differ in face"
    assert torch.equal(ke, re), f"{int((ke != re).sum())} pairs differ in edge"
    assert torch.equal(kf < 0, ke < 0)
    return int((kf >= 0).sum())


def _assert_same_colours(color, frags, verts, faces, K, adjacency, atol: float) -> None:
    ref = antialias(color, frags, verts, faces, K, adjacency, backend="torch")
    blended = antialias(color, frags, verts, faces, K, adjacency, backend="warp")
    torch.testing.assert_close(blended, ref, rtol=0, atol=atol)
    screen = project(verts, K).detach()
    args = (frags.pix_to_face, frags.depth.detach(), screen, faces, adjacency, K.detach())
    fused = silhouette.antialias_forward(color.float(), *args, clamp=False)
    assert fused.dtype == torch.float32 and fused.shape == color.shape
    torch.testing.assert_close(fused, ref.float(), rtol=0, atol=1e-5)
    clamped = silhouette.antialias_forward(color.float(), *args)
    torch.testing.assert_close(clamped, ref.float().clamp(0, 1), rtol=0, atol=1e-5)
    exact = silhouette.antialias_forward(color, *args, clamp=False)
    assert exact.dtype == color.dtype
    torch.testing.assert_close(exact, ref, rtol=0, atol=atol)
    keys = _as_keys(frags.pix_to_face, frags.depth)
    keyed = silhouette.antialias_forward(color, keys, *args[1:], clamp=False)
    assert torch.equal(keyed, exact)  # the faces read from z-buffer keys: the same bytes
    _assert_in_place_same_bytes(color, args)
    _assert_in_place_same_bytes(color, (keys, *args[1:]))


def _assert_in_place_same_bytes(color, args, seed: int = 2) -> None:
    """The in-place pass (CPU) gives antialias_forward's clamped bytes for the image that is the shading at
    covered pixels and the background elsewhere, both partly outside [0, 1]; one background per frame and
    one expanded over the batch."""
    if color.device.type != "cpu":
        return
    faces_seen = args[0] & 0xFFFFFFFF
    covered = (faces_seen != 0xFFFFFFFF)[..., None] & (args[0] >= 0)[..., None]
    gen = torch.Generator().manual_seed(seed)
    shading = color * 1.5 - 0.25
    per_frame = (torch.rand(color.shape, generator=gen, dtype=torch.float64) * 1.6 - 0.3).to(color.dtype)
    expanded = per_frame[:1].expand_as(per_frame)
    for background in (per_frame, expanded):
        expected = silhouette.antialias_forward(torch.where(covered, shading, background), *args)
        image = torch.where(covered, shading, background.clamp(0, 1)).contiguous()
        assert silhouette.antialias_in_place(image, background, *args) is image
        assert torch.equal(image, expected)


def _atol(dtype: torch.dtype) -> float:
    return 1e-12 if dtype == torch.float64 else 1e-6


# -- scenes ---------------------------------------------------------------------------------------------


def _square(edge: float, dtype, device, size=(12, 16)):
    """The white square of test_antialiasing: from off-image left to a vertical edge at column ``edge``."""
    z, f = 2.0, 8.0
    x1 = edge * z / f
    verts = torch.tensor(
        [[-10, -10, z], [x1, -10, z], [x1, 10, z], [-10, 10, z]], dtype=dtype, device=device
    )[None]
    faces = torch.tensor([[0, 2, 1], [0, 3, 2]], device=device)
    return verts, faces, intrinsics(f, (0.0, 0.0), dtype=dtype, device=device)


def _crumpled(batch: int, size: tuple[int, int], dtype, device, seed: int = 0, n: int = 14):
    """Per frame, a bumpy, tilted sheet (self-occluding folds, back faces, grazing faces) in front of a
    second, slightly tilted sheet (depth gaps large and small), vertices off the pixel lattice."""
    gen = torch.Generator().manual_seed(seed)
    u = torch.linspace(-1, 1, n, dtype=torch.float64)
    gy, gx = torch.meshgrid(u, u, indexing="ij")
    idx = torch.arange(n * n).view(n, n)
    a, b, c, d = (
        idx[:-1, :-1].flatten(),
        idx[:-1, 1:].flatten(),
        idx[1:, :-1].flatten(),
        idx[1:, 1:].flatten(),
    )
    faces = torch.cat([torch.stack([a, c, d], 1), torch.stack([a, d, b], 1)])
    frames_front, frames_back = [], []
    for i in range(batch):
        bump = 0.45 * torch.sin(3.1 * gx + i) * torch.cos(2.3 * gy - 0.5 * i)
        sheet = torch.stack([gx, gy, bump], -1).view(-1, 3)
        sheet = sheet + 0.02 * torch.randn(sheet.shape, generator=gen, dtype=torch.float64)
        angle = 1.05 + 0.1 * i  # tilted close to edge-on: folds hide each other
        c_, s_ = math.cos(angle), math.sin(angle)
        rot = torch.tensor([[1.0, 0.0, 0.0], [0.0, c_, -s_], [0.0, s_, c_]], dtype=torch.float64)
        frames_front.append(sheet @ rot.T + torch.tensor([0.1 * i, 0.05, 4.0], dtype=torch.float64))
        back = torch.stack([1.6 * gx, 1.6 * gy + 0.3 * gx, 0.2 * gx], -1).view(-1, 3)
        frames_back.append(back + torch.tensor([0.0, 0.0, 4.3 + 0.2 * i], dtype=torch.float64))
    verts, faces, _ = join_meshes([torch.stack(frames_front), torch.stack(frames_back)], [faces, faces])
    h, w = size
    f = 0.45 * max(h, w)
    K = intrinsics((f, f * 1.1), ((w - 1) / 2 + 0.137, (h - 1) / 2 - 0.211), batch, dtype=dtype)
    return verts.to(device, dtype), faces.to(device), K.to(device)


def _lattice(dtype, device, size=(30, 36)):
    """Two sheets with holes and some faces turned away, whose vertices project exactly onto pixel centres
    (a 3 px grid, cells split along alternating diagonals): segments through vertices (ties between
    edges), edges through pixel centres, edges at exactly 45 degrees. Frame 1 is frame 0 shifted by half a
    pixel."""
    gen = torch.Generator().manual_seed(11)
    n = 9
    idx = torch.arange(n * n).view(n, n)
    tris = []
    for j in range(n - 1):
        for i in range(n - 1):
            a, b, c, d = idx[j, i], idx[j, i + 1], idx[j + 1, i], idx[j + 1, i + 1]
            for tri in [[a, c, d], [a, d, b]] if (i + j) % 2 else [[a, c, b], [b, c, d]]:
                luck = float(torch.rand((), generator=gen))
                if luck > 0.15:  # else a hole
                    tris.append(tri if luck > 0.25 else tri[::-1])  # some faces turned away
    faces = torch.tensor(tris)
    j, i = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    u, v = (3 * i + 4).flatten().double(), (3 * j + 3).flatten().double()
    cx, cy = 16.0, 14.0
    sheets = []
    for shift in (0.0, 0.5):
        front = torch.stack([u + shift - cx, v - cy, torch.full_like(u, 2.0)], -1)  # f = 2, z = 2: exact
        back = torch.stack([(u + 1 + shift - cx) * 1.5, (v + 1 - cy) * 1.5, torch.full_like(u, 3.0)], -1)
        sheets.append((front, back))
    verts, faces, _ = join_meshes(
        [torch.stack([s[0] for s in sheets]), torch.stack([s[1] for s in sheets])], [faces, faces]
    )
    K = intrinsics(2.0, (cx, cy), 2, dtype=dtype)
    return verts.to(device, dtype), faces.to(device), K.to(device)


def _spikes(dtype, device, size=(24, 28)):
    """Isolated thin triangles pointing along +-x and +-y with their tips on the midpoint between two pixel
    centres, so the segment between them leaves through the tip: two edges at the same alpha (a tie, the
    first edge wins). Some are wound the other way (back faces); some have a degenerate (zero-area) face
    glued to one side. Every vertex projects exactly (f = 2, z = 2)."""
    verts, faces = [], []
    k = 0
    for n, (cx, cy) in enumerate([(5, 5), (14, 4), (21, 6), (6, 14), (15, 16), (22, 19), (8, 20)]):
        dx, dy = [(1, 0), (-1, 0), (0, 1), (0, -1)][n % 4]
        px, py = -dy, dx
        tip = (cx + 0.5 * dx, cy + 0.5 * dy)
        left = (cx - 2.0 * dx + 3.0 * px, cy - 2.0 * dy + 3.0 * py)
        right = (cx - 2.0 * dx - 3.0 * px, cy - 2.0 * dy - 3.0 * py)
        flat = (2 * left[0] - tip[0], 2 * left[1] - tip[1])  # on the line tip -> left: zero area
        verts += [tip, left, right, flat]
        tri = [k, k + 1, k + 2] if n not in (2, 5) else [k, k + 2, k + 1]
        faces.append(tri[n % 3 :] + tri[: n % 3])  # the tip at each corner in turn
        if n % 2:
            faces.append([k + 1, k, k + 3])
        k += 4
    uv = torch.tensor(verts, dtype=torch.float64)
    cx, cy = 13.0, 11.0
    cam = torch.stack([uv[:, 0] - cx, uv[:, 1] - cy, torch.full_like(uv[:, 0], 2.0)], -1)
    K = intrinsics(2.0, (cx, cy), 1, dtype=dtype)
    return cam[None].to(device, dtype), torch.tensor(faces, device=device), K.to(device)


@functools.cache
def _demo(num_frames: int, dtype: torch.dtype):
    from synthhuman.demo_scene import demo_clip

    batch, topo = demo_clip(num_frames, (240, 320), dtype=dtype)
    verts = batch.cameras.to_camera(batch.verts)
    return verts, topo.faces, batch.cameras.K, topo.adjacency


def _random_colour(frags, dtype, device, channels=3, seed=1):
    b, (h, w) = frags.batch_size, frags.image_size
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(b, h, w, channels, generator=gen, dtype=torch.float64).to(device, dtype)


# -- the search ------------------------------------------------------------------------------------------


def test_defaults_are_the_reference_constants():
    assert silhouette.CONTINUOUS_SURFACE_FOOTPRINTS == antialiasing._CONTINUOUS_SURFACE_FOOTPRINTS
    assert silhouette.MAX_WALK == antialiasing._MAX_WALK


@pytest.mark.parametrize("edge", [7.3, 7.7, 7.5, 30.0])
def test_square_hits_and_colours(device, dtype, edge):
    verts, faces, K = _square(edge, dtype, device)
    adjacency = face_adjacency(faces)
    frags = rasterize(verts, faces, K, (12, 16))
    found = _assert_same_hits(frags, verts, faces, K, adjacency)
    assert found == (12 if edge < 16 else 0)
    _assert_same_colours(
        _random_colour(frags, dtype, device), frags, verts, faces, K, adjacency, _atol(dtype)
    )


def test_nothing_in_view(device, dtype):
    verts, faces, K = _square(7.3, dtype, device)
    behind = verts * torch.tensor([1.0, 1.0, -1.0], dtype=dtype, device=device)
    frags = rasterize(behind, faces, K, (12, 16))
    assert _assert_same_hits(frags, behind, faces, K, face_adjacency(faces)) == 0
    color = _random_colour(frags, dtype, device)
    assert torch.equal(
        antialias(color, frags, behind, faces, K, face_adjacency(faces), backend="warp"), color
    )
    screen = project(behind, K)
    args = (frags.pix_to_face, frags.depth, screen, faces, face_adjacency(faces), K)
    assert torch.equal(silhouette.antialias_forward(color, *args, clamp=False), color)


def test_sphere_rim_hits_and_colours(device, dtype):
    """The sphere of test_antialiasing: a rim of grazing, sub-pixel faces, found by walking neighbours."""
    v, faces = uv_sphere(0.5, (0.0, 0.0, 3.0), n_lat=96, n_lon=192, dtype=dtype)
    verts, faces = v[None].to(device), faces.to(device)
    K = intrinsics(80.0, (63.5, 63.5), dtype=dtype, device=device)
    adjacency = face_adjacency(faces)
    frags = rasterize(verts, faces, K, (128, 128), cull_backfaces=True)
    assert _assert_same_hits(frags, verts, faces, K, adjacency) > 50
    _assert_same_colours(
        _random_colour(frags, dtype, device), frags, verts, faces, K, adjacency, _atol(dtype)
    )


@pytest.mark.parametrize("cull", [True, False])
def test_crumpled_sheets_hits_and_colours(device, dtype, cull):
    verts, faces, K = _crumpled(3, (40, 56), dtype, device)
    adjacency = face_adjacency(faces)
    frags = rasterize(verts, faces, K, (40, 56), cull_backfaces=cull)
    assert _assert_same_hits(frags, verts, faces, K, adjacency) > 50
    _assert_same_colours(
        _random_colour(frags, dtype, device), frags, verts, faces, K, adjacency, _atol(dtype)
    )


@pytest.mark.parametrize("cull", [True, False])
def test_lattice_ties_hits_and_colours(device, dtype, cull):
    verts, faces, K = _lattice(dtype, device)
    adjacency = face_adjacency(faces)
    frags = rasterize(verts, faces, K, (30, 36), cull_backfaces=cull)
    assert _assert_same_hits(frags, verts, faces, K, adjacency) > 50
    _assert_same_colours(
        _random_colour(frags, dtype, device), frags, verts, faces, K, adjacency, _atol(dtype)
    )


@pytest.mark.parametrize("cull", [True, False])
def test_spike_tips_ties_hits_and_colours(device, dtype, cull):
    verts, faces, K = _spikes(dtype, device)
    adjacency = face_adjacency(faces)
    frags = rasterize(verts, faces, K, (24, 28), cull_backfaces=cull)
    assert _assert_same_hits(frags, verts, faces, K, adjacency) > 8
    _assert_same_colours(
        _random_colour(frags, dtype, device), frags, verts, faces, K, adjacency, _atol(dtype)
    )


@pytest.mark.parametrize("size", [(1, 1), (1, 9), (9, 1), (2, 2), (7, 5), (13, 11), (31, 17)])
def test_small_and_odd_image_sizes(device, dtype, size):
    verts, faces, K = _crumpled(2, size, dtype, device, seed=3)
    adjacency = face_adjacency(faces)
    frags = rasterize(verts, faces, K, size, cull_backfaces=True)
    _assert_same_hits(frags, verts, faces, K, adjacency)
    _assert_same_colours(
        _random_colour(frags, dtype, device), frags, verts, faces, K, adjacency, _atol(dtype)
    )


def test_empty_frames_between_full_ones(device, dtype):
    """Frames that see nothing (mesh behind the camera), and frames that differ, in one batch."""
    verts, faces, K = _crumpled(4, (24, 30), dtype, device, seed=5)
    verts = verts.clone()
    verts[1, :, 2] *= -1
    verts[3, :, 2] *= -1
    adjacency = face_adjacency(faces)
    frags = rasterize(verts, faces, K, (24, 30), cull_backfaces=True)
    assert not bool((frags.pix_to_face[1] >= 0).any()) and bool((frags.pix_to_face[2] >= 0).any())
    (kf, _), _ = _hits_both(frags, verts, faces, K, adjacency)
    assert not bool((kf[:, 1] >= 0).any()) and not bool((kf[:, 3] >= 0).any())
    _assert_same_hits(frags, verts, faces, K, adjacency)
    _assert_same_colours(
        _random_colour(frags, dtype, device), frags, verts, faces, K, adjacency, _atol(dtype)
    )


def test_empty_batch(device):
    verts, faces, K = _crumpled(1, (6, 8), torch.float32, device)
    frags = rasterize(verts[:0], faces, K[:0], (6, 8))
    hf, he = silhouette.silhouette_search(
        frags.pix_to_face, frags.depth, project(verts[:0], K[:0]), faces, face_adjacency(faces), K[:0]
    )
    assert hf.shape == he.shape == (2, 0, 6, 8)


def test_demo_clip_hits_and_colours(device, dtype):
    """The benchmark scene (8 frames at 320x240): identical hits; colours within 1e-5."""
    verts, faces, K, adjacency = (t.to(device) for t in _demo(8, dtype))
    frags = rasterize(verts, faces, K, (240, 320), cull_backfaces=True)
    assert _assert_same_hits(frags, verts, faces, K, adjacency) > 2000
    _assert_same_colours(
        _random_colour(frags, dtype, device), frags, verts, faces, K, adjacency, _atol(dtype)
    )


@pytest.mark.gpu
def test_cuda_kernels_equal_the_torch_path_on_cpu(dtype):
    verts, faces, K = _crumpled(3, (40, 56), dtype, "cpu")
    adjacency = face_adjacency(faces)
    frags = rasterize(verts, faces, K, (40, 56), cull_backfaces=True, backend="torch")
    color = _random_colour(frags, dtype, "cpu")
    screen = project(verts, K)
    ref_hits = silhouette_hits(frags, screen, faces, adjacency, K)
    ref = antialias(color, frags, verts, faces, K, adjacency, backend="torch")
    cuda = [t.cuda() for t in (frags.pix_to_face, frags.depth, screen, faces, adjacency, K)]
    hits = silhouette.silhouette_search(*cuda)
    assert all(torch.equal(a.cpu(), b) for a, b in zip(hits, ref_hits, strict=True))
    fused = silhouette.antialias_forward(color.cuda(), *cuda, clamp=False)
    torch.testing.assert_close(fused.cpu(), ref, rtol=0, atol=_atol(dtype))


def test_same_bytes_whatever_the_thread_split_and_tiling(monkeypatch):
    """CPU thread counts, and the tilings of pixels over kernel threads (CUDA's one pixel per thread, run
    here on CPU, and odd tiles whose pairs straddle tile borders), all give the same bytes."""
    verts, faces, K = _crumpled(5, (40, 56), torch.float32, "cpu")
    adjacency = face_adjacency(faces)
    frags = rasterize(verts, faces, K, (40, 56), cull_backfaces=True)
    color = _random_colour(frags, torch.float32, "cpu")
    args = (frags.pix_to_face, frags.depth, project(verts, K), faces, adjacency, K)
    tiling = silhouette._tiling
    threads = torch.get_num_threads()
    runs = []
    try:
        for n, tiles in (
            (2, None),
            (1, None),
            (3, None),
            (2, (1, 1)),
            (2, (3, 5)),
            (1, (40, 7)),
            (2, (6, 56)),
            (1, (1, 56)),
            (2, (7, 56)),
        ):
            torch.set_num_threads(n)
            monkeypatch.setattr(silhouette, "_tiling", tiling if tiles is None else lambda *_, t=tiles: t)
            runs.append((*silhouette.silhouette_search(*args), silhouette.antialias_forward(color, *args)))
    finally:
        torch.set_num_threads(threads)
    assert int((runs[0][0] >= 0).sum()) > 50
    for run in runs[1:]:
        assert all(torch.equal(a, b) for a, b in zip(run, runs[0], strict=True))


# -- gradients -------------------------------------------------------------------------------------------


def test_gradcheck_with_warp_search():
    """Colours are differentiable w.r.t. vertices, K and the image with the kernel search, in float64."""
    verts, faces, K = _crumpled(1, (10, 12), torch.float64, "cpu", seed=7, n=7)
    adjacency = face_adjacency(faces)
    frags0 = rasterize(verts, faces, K, (10, 12), cull_backfaces=True)
    color = _random_colour(frags0, torch.float64, "cpu")
    assert int((silhouette_hits(frags0, project(verts, K), faces, adjacency, K)[0] >= 0).sum()) > 5

    def run(v, k, c):
        frags = rasterize(v, faces, k, (10, 12), cull_backfaces=True)
        assert torch.equal(frags.pix_to_face, frags0.pix_to_face)  # coverage constant under the nudges
        return antialias(c, frags, v, faces, k, adjacency, backend="warp")

    inputs = tuple(t.clone().requires_grad_() for t in (verts, K, color))
    assert torch.autograd.gradcheck(run, inputs, eps=1e-7, atol=1e-6)


@pytest.mark.parametrize("scene", ["demo", "crumpled", "sphere"])
def test_gradients_equal_the_torch_path(device, dtype, scene):
    if scene == "demo":
        verts, faces, K, adjacency = (t.to(device) for t in _demo(4, dtype))
        size = (240, 320)
    elif scene == "crumpled":
        verts, faces, K = _crumpled(3, (40, 56), dtype, device)
        adjacency, size = face_adjacency(faces), (40, 56)
    else:
        v, faces = uv_sphere(0.5, (0.0, 0.0, 3.0), n_lat=48, n_lon=96, dtype=dtype)
        verts, faces = v[None].to(device), faces.to(device)
        K = intrinsics(80.0, (31.5, 31.5), dtype=dtype, device=device)
        adjacency, size = face_adjacency(faces), (64, 64)
    frags_static = rasterize(verts, faces, K, size, cull_backfaces=True)
    color = _random_colour(frags_static, dtype, device)
    weights = _random_colour(frags_static, dtype, device, seed=2)
    grads = {}
    for backend in ("torch", "warp"):
        v, k, c = (t.detach().clone().requires_grad_() for t in (verts, K, color))
        frags = rasterize(v, faces, k, size, cull_backfaces=True)
        (antialias(c, frags, v, faces, k, adjacency, backend=backend) * weights).sum().backward()
        grads[backend] = (v.grad, k.grad, c.grad)
    tol = dict(rtol=1e-9, atol=1e-9) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-4)
    for ours, ref in zip(grads["warp"], grads["torch"], strict=True):
        assert bool(ref.abs().sum() > 0)
        torch.testing.assert_close(ours, ref, **tol)


def test_backend_argument():
    verts, faces, K = _square(7.3, torch.float64, "cpu")
    frags = rasterize(verts, faces, K, (12, 16))
    color = _random_colour(frags, torch.float64, "cpu")
    with pytest.raises(ValueError, match="backend"):
        antialias(color, frags, verts, faces, K, face_adjacency(faces), backend="cuda")
    with pytest.raises(ValueError, match="one dtype"):
        antialias(color, frags, verts, faces, K.float(), face_adjacency(faces), backend="warp")
    assert antialiasing.resolve_backend("auto", frags, verts, K) == "warp"
    assert antialiasing.resolve_backend("auto", frags, verts, K.float()) == "torch"
    with pytest.raises(ValueError, match="dtype"):
        silhouette.silhouette_search(
            frags.pix_to_face, frags.depth.float(), project(verts, K), faces, face_adjacency(faces), K
        )
