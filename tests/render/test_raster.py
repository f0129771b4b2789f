"""Tests of the z-buffer rasterizer against its contract (DESIGN.md section 3) and a brute-force reference."""

from __future__ import annotations

import pytest
import torch

from synthhuman.render.cameras import intrinsics, project
from synthhuman.render.kernels import warp_available
from synthhuman.render.raster import rasterize
from tests.conftest import tolerance
from tests.meshes import uv_sphere
from tests.render.reference import edge_distance, rasterize_reference, ray_hits

H, W = 24, 32
ZNEAR = 1e-2


@pytest.fixture(
    autouse=True,
    params=["torch", pytest.param("warp", marks=pytest.mark.skipif(not warp_available(), reason="no warp"))],
)
def backend(request, monkeypatch) -> str:
    """Every test here runs on both z-buffers: the PyTorch reference and the Warp kernel."""
    monkeypatch.setitem(rasterize.__kwdefaults__, "backend", request.param)
    return request.param


def _faces(rows: list[list[int]], device: torch.device) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.int64, device=device)


def _on_screen(pixels: torch.Tensor, z: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """(N, 2) pixels and (N,) depths -> (1, N, 3) float64 CPU camera-space points seen there; K (1, 3, 3)."""
    pixels = pixels.double()
    rays = torch.cat([pixels, torch.ones_like(pixels[:, :1])], -1) @ torch.linalg.inv(K[0].cpu().double()).T
    return (rays * z.double()[:, None])[None]


def _grid_faces(rows: int, cols: int, first: int = 0) -> list[list[int]]:
    """Two triangles per cell of a row-major rows x cols vertex grid from ``first``; diagonals alternate."""
    faces = []
    for j in range(rows - 1):
        for i in range(cols - 1):
            a = first + j * cols + i
            b, c, d = a + 1, a + cols, a + cols + 1
            faces += [[a, b, d], [a, d, c]] if (i + j) % 2 == 0 else [[a, b, c], [b, d, c]]
    return faces


# --- 1. fill rule -----------------------------------------------------------------------------------


def _tiling_mesh(device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A non-planar 8x6-cell grid whose projection tiles (and overhangs) the image, all ties exact.

    Vertices project to integer pixel centres (cells 5 px square, alternating diagonals, some faces wound
    the other way); depths are powers of two and the focal length 16, so projection is exact.
    """
    g = torch.Generator().manual_seed(1)
    K = intrinsics(16.0, (16.0, 12.0), dtype=dtype, device=device)
    cols, rows = 9, 7
    v, u = torch.meshgrid(torch.arange(rows) * 5.0 - 3, torch.arange(cols) * 5.0 - 4, indexing="ij")
    z = 2.0 ** torch.randint(0, 3, (rows * cols,), generator=g).double()
    pixels = torch.stack([u.flatten(), v.flatten()], -1).double()
    verts = _on_screen(pixels, z, K).to(device, dtype)
    faces = [f[::-1] if k % 3 == 0 else f for k, f in enumerate(_grid_faces(rows, cols))]
    return verts, _faces(faces, device), K


def test_tiling_mesh_covers_every_pixel_exactly_once(device, dtype):
    """Faces rasterized one at a time cover each pixel once, shared edges and vertices included."""
    verts, faces, K = _tiling_mesh(device, dtype)
    assert torch.equal(project(verts, K), project(verts, K).round()), "vertices must sit on pixel centres"
    coverage = torch.stack(
        [rasterize(verts, faces[i : i + 1], K, (H, W)).pix_to_face >= 0 for i in range(len(faces))]
    )
    assert torch.equal(coverage.sum(0), torch.ones(1, H, W, dtype=torch.int64, device=device))

    frags = rasterize(verts, faces, K, (H, W))
    owner = coverage.long().argmax(0)
    assert torch.equal(frags.pix_to_face, owner)
    assert (frags.depth > 0).all()


# --- 2. occlusion -----------------------------------------------------------------------------------


def test_overlapping_faces_resolve_by_depth(device, dtype):
    """Where faces overlap the nearer one wins, whatever the order of the faces."""
    K = intrinsics(20.0, (15.5, 11.5), dtype=dtype, device=device)
    # A fronto-parallel face at z = 2 and a tilted one crossing it (z from 1.2 to 3.3): each wins somewhere.
    pixels = torch.tensor([[2.3, 1.7], [28.9, 4.1], [9.6, 22.4], [5.2, 20.8], [30.7, 18.3], [18.1, 0.6]])
    z = torch.tensor([2.0, 2.0, 2.0, 1.2, 3.3, 2.6])
    verts = _on_screen(pixels, z, K).to(device, dtype)
    faces = _faces([[0, 1, 2], [3, 4, 5]], device)

    solo = [rasterize(verts, faces[i : i + 1], K, (H, W)) for i in range(2)]
    depths = torch.stack([torch.where(s.pix_to_face >= 0, s.depth, torch.inf) for s in solo])
    nearest, winner = depths.min(0)
    expected = torch.where(torch.isfinite(nearest), winner, -1)
    frags = rasterize(verts, faces, K, (H, W))
    assert torch.equal(frags.pix_to_face, expected)
    assert ((expected == 0).sum() > 20) and ((expected == 1).sum() > 20) and ((expected == -1).sum() > 20)
    both = torch.isfinite(depths).all(0)
    assert (depths[0][both] < depths[1][both]).any() and (depths[1][both] < depths[0][both]).any()
    assert torch.equal(frags.depth, torch.where(expected >= 0, nearest, 0.0))

    swapped = rasterize(verts, faces.flip(0), K, (H, W))
    assert torch.equal(swapped.pix_to_face, torch.where(expected >= 0, 1 - expected, -1))
    assert torch.equal(swapped.depth, frags.depth)


# --- 3. perspective correctness ---------------------------------------------------------------------


def test_tilted_plane_is_perspective_correct(device, dtype):
    """Depth and UVs interpolated with ``bary`` match the analytic ray-plane intersection."""
    f, cx, cy = 20.0, 15.5, 11.5
    K = intrinsics(f, (cx, cy), dtype=dtype, device=device)
    # The quad |x| <= 1, |y| <= 1 on the plane z = 4 + 2y, with UV = ((x + 1) / 2, (y + 1) / 2).
    verts = torch.tensor([[[-1.0, -1, 2], [1, -1, 2], [1, 1, 6], [-1, 1, 6]]], dtype=dtype, device=device)
    uv = torch.tensor([[0.0, 0], [1, 0], [1, 1], [0, 1]], dtype=dtype, device=device)
    faces = _faces([[0, 1, 2], [0, 2, 3]], device)
    frags = rasterize(verts, faces, K, (H, W))

    v, u = torch.meshgrid(torch.arange(H, dtype=dtype), torch.arange(W, dtype=dtype), indexing="ij")
    dx, dy = (u.to(device) - cx) / f, (v.to(device) - cy) / f
    t = 4 / (1 - 2 * dy)
    x, y = t * dx, t * dy
    inside = (x.abs() < 1 - 1e-3) & (y.abs() < 1 - 1e-3)
    outside = (x.abs() > 1 + 1e-3) | (y.abs() > 1 + 1e-3)
    covered = frags.pix_to_face[0] >= 0
    assert covered[inside].all() and not covered[outside].any() and inside.sum() > 100

    tol = 10 * tolerance(dtype)
    face_uv = uv[faces[frags.pix_to_face[0][covered]]]  # (N, 3, 2)
    uv_persp = (frags.bary[0][covered][..., None] * face_uv).sum(1)
    uv_true = torch.stack([(x + 1) / 2, (y + 1) / 2], -1)[covered]
    torch.testing.assert_close(uv_persp, uv_true, atol=tol, rtol=0)
    torch.testing.assert_close(frags.depth[0][covered], t[covered], atol=tol, rtol=tol)

    # Affine (screen-space) barycentrics would be far off: the test can tell the two apart.
    screen = project(verts, K)[0][faces[frags.pix_to_face[0][covered]]]  # (N, 3, 2)
    p = torch.stack([u, v], -1).to(device)[covered][:, None, :]
    a, b = screen.roll(-1, 1) - p, screen.roll(-2, 1) - p
    area = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    uv_affine = ((area / area.sum(1, keepdim=True))[..., None] * face_uv).sum(1)
    assert (uv_affine - uv_true).abs().max() > 100 * tol


# --- 4. brute-force reference -----------------------------------------------------------------------


def _random_scene(seed: int, dtype: torch.dtype, device: torch.device):
    """Random camera; ~100 independent triangles plus a jittered grid patch with shared edges.

    Triangles overlap, interpenetrate, leave the image, and about one in eight crosses the near plane.
    """
    g = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g, dtype=torch.float64)

    fx = 15 + 30 * rand(1).item()
    fy = fx * (0.8 + 0.4 * rand(1).item())
    cx, cy = W / 2 + 6 * (rand(1).item() - 0.5), H / 2 + 6 * (rand(1).item() - 0.5)
    K = torch.tensor([[fx, 2 * (rand(1).item() - 0.5) * (seed % 2), cx], [0, fy, cy], [0, 0, 1]])[None]

    n = 100
    pixels = torch.stack([-8 + (W + 16) * rand(n), -8 + (H + 16) * rand(n)], -1)
    centres = _on_screen(pixels, 1 + 4 * rand(n), K)[0]
    offsets = (0.05 + 0.3 * rand(n, 1, 1) ** 2) * torch.randn(n, 3, 3, generator=g, dtype=torch.float64)
    tris = centres[:, None, :] + offsets * centres[:, None, 2:]
    crossing = rand(n) < 0.125  # these get a vertex at z in [-1, 0.02], at or behind the near plane
    tris[crossing, 0, 2] = -1 + 1.02 * rand(int(crossing.sum()))

    gv, gu = torch.meshgrid(torch.linspace(2, H - 3, 4), torch.linspace(3, W - 4, 5), indexing="ij")
    grid_pixels = torch.stack([gu.flatten(), gv.flatten()], -1) + 2 * (rand(20, 2) - 0.5)
    grid = _on_screen(grid_pixels, 2 + rand(20), K)[0]

    verts = torch.cat([tris.reshape(-1, 3), grid])[None].to(device, dtype)
    faces = torch.cat([torch.arange(3 * n).view(n, 3), torch.tensor(_grid_faces(4, 5, first=3 * n))])
    return verts, faces.to(device), K.to(device, dtype)


def _assert_same_faces_except_ties(face, other, verts, faces, K, dtype) -> None:
    """(H, W) face ids from two rasterizations agree except at depth ties or pixels on a face's edge."""
    # The z-buffer keys on float32 depth, so even float64 inputs tie within float32 resolution.
    tie, near_edge = (1e-5, 1e-6) if dtype == torch.float64 else (1e-4, 1e-3)
    hit_depth, _ = ray_hits(verts[0], faces, K[0], (H, W), znear=ZNEAR)  # (H*W, F), inf on a miss
    dist = edge_distance(verts[0], faces, K[0], (H, W))  # (H*W, F) pixels
    face, other = face.flatten().cpu(), other.flatten().cpu()
    for pix in (face != other).nonzero().flatten().tolist():
        a, b = face[pix].item(), other[pix].item()
        ids = [i for i in (a, b) if i >= 0]
        at_edge = min(dist[pix, i].item() for i in ids) <= near_edge
        tied = len(ids) == 2 and abs(hit_depth[pix, a] - hit_depth[pix, b]).item() <= tie * hit_depth[pix, a]
        assert at_edge or tied, f"pixel (v, u) = {divmod(pix, W)}: face {a} vs {b}"
    assert (face != other).float().mean() < 0.01


@pytest.mark.parametrize("seed", range(4))
def test_matches_brute_force_reference(device, dtype, seed):
    """Random triangles and cameras: face ids, barycentrics and depth equal a ray-casting reference."""
    verts, faces, K = _random_scene(seed, dtype, device)
    frags = rasterize(verts, faces, K, (H, W), znear=ZNEAR)
    ref = rasterize_reference(verts[0], faces, K[0], (H, W), znear=ZNEAR)
    assert 0.5 < (ref.pix_to_face >= 0).float().mean() < 0.99, "the scene should be partly covered"
    assert len(ref.pix_to_face.unique()) > 30
    _assert_same_faces_except_ties(frags.pix_to_face[0], ref.pix_to_face, verts, faces, K, dtype)

    tol = tolerance(dtype)  # observed: ~1e-14 in float64, ~1e-5 (bary) and ~1e-6 (relative depth) in float32
    same = (frags.pix_to_face[0].cpu() == ref.pix_to_face) & (ref.pix_to_face >= 0)
    torch.testing.assert_close(frags.bary[0].cpu().double()[same], ref.bary[same], atol=tol, rtol=0)
    torch.testing.assert_close(frags.depth[0].cpu().double()[same], ref.depth[same], atol=0, rtol=tol)
    empty = frags.pix_to_face[0] < 0
    assert not frags.depth[0][empty].any() and not frags.bary[0][empty].any()


# --- 5. gradients -----------------------------------------------------------------------------------


def test_gradcheck_bary_and_depth(device):
    """Analytic gradients of ``bary_fg`` and ``depth_fg`` w.r.t. verts and K match finite differences."""
    size = (5, 6)
    K = torch.tensor([[[4.0, 0.3, 2.6], [0, 3.5, 2.1], [0, 0, 1]]], dtype=torch.float64)
    pixels = torch.tensor([[-0.7, -0.6], [6.3, -0.4], [5.8, 4.6], [-0.4, 4.3]], dtype=torch.float64)
    verts = _on_screen(pixels, torch.tensor([2.0, 2.5, 3.0, 2.2]), K).to(device)
    faces = _faces([[0, 1, 2], [0, 2, 3]], device)
    K = K.to(device)
    # Every pixel centre is well away from every edge, so finite differences do not change coverage.
    assert edge_distance(verts[0], faces, K[0], size).min() > 0.02
    frags = rasterize(verts, faces, K, size)
    assert set(frags.face.tolist()) == {0, 1} and len(frags.face) > 20

    def render(v: torch.Tensor, k: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = rasterize(v, faces, k, size)
        return out.bary_fg, out.depth_fg

    assert torch.autograd.gradcheck(render, (verts.requires_grad_(), K.requires_grad_()), eps=1e-6, atol=1e-7)


# --- 6. determinism ---------------------------------------------------------------------------------


def test_deterministic_with_heavy_ties(device, dtype):
    """Coincident duplicates (shared or copied vertices, shuffled): the lowest face id wins, bit-exactly."""
    verts, faces, K = _tiling_mesh(device, dtype)
    num_verts, num_faces = verts.shape[1], len(faces)
    copies = [faces, faces, faces + num_verts, faces + 2 * num_verts]
    perm = torch.randperm(len(copies) * num_faces, generator=torch.Generator().manual_seed(2)).to(device)
    dup_faces = torch.cat(copies)[perm]
    dup_verts = torch.cat([verts] * 3, 1)
    new_id = perm.argsort()  # where each face of torch.cat(copies) ends up in dup_faces
    lowest = new_id.view(len(copies), num_faces).amin(0)
    single = rasterize(verts, faces, K, (H, W))
    first, second = (rasterize(dup_verts, dup_faces, K, (H, W)) for _ in range(2))
    assert torch.equal(first.pix_to_face, lowest[single.pix_to_face])
    assert torch.equal(first.bary, single.bary) and torch.equal(first.depth, single.depth)
    for name in ("pix_to_face", "bary", "depth", "pixel_index", "face", "bary_fg", "depth_fg"):
        assert torch.equal(getattr(first, name), getattr(second, name)), name


# --- 7. back faces and the near plane ---------------------------------------------------------------


def test_backface_culling_single_triangle(device):
    """A face is culled exactly when its right-hand normal points away from the camera."""
    K = intrinsics(16.0, (4.0, 4.0), device=device)
    # Right-hand normal (v1 - v0) x (v2 - v0) = +z: it points away from the camera at the origin.
    verts = torch.tensor([[[-0.2, -0.2, 1.0], [0.3, -0.2, 1.0], [-0.2, 0.3, 1.0]]], device=device)
    away, toward = _faces([[0, 1, 2]], device), _faces([[0, 2, 1]], device)
    size = (8, 8)
    assert (rasterize(verts, away, K, size).pix_to_face == 0).sum() > 10
    assert (rasterize(verts, away, K, size, cull_backfaces=True).pix_to_face == -1).all()
    kept = rasterize(verts, toward, K, size, cull_backfaces=True)
    assert torch.equal(kept.pix_to_face, rasterize(verts, toward, K, size).pix_to_face)


@pytest.mark.parametrize("seed", range(2))
def test_backface_culling_drops_exactly_the_back_faces(device, dtype, seed):
    """Culling equals rendering only the front faces (ids mapped back), and nothing else changes."""
    verts, faces, K = _random_scene(seed, dtype, device)
    tri = verts[0][faces]
    # In front of the camera, a face whose right-hand normal points away appears clockwise on the screen
    # seen by the viewer, i.e. with positive signed area in pixel coordinates (+y down).
    screen = project(verts, K)[0][faces]
    e1, e2 = screen[:, 1] - screen[:, 0], screen[:, 2] - screen[:, 0]
    front = (e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0] < 0) & (tri[..., 2] > ZNEAR).all(-1)
    assert front.sum() > 20 and (~front).sum() > 20
    front_ids = front.nonzero().flatten()

    culled = rasterize(verts, faces, K, (H, W), cull_backfaces=True, znear=ZNEAR)
    expected = rasterize(verts, faces[front], K, (H, W), znear=ZNEAR)
    kept = torch.where(expected.pix_to_face >= 0, front_ids[expected.pix_to_face], -1)
    assert torch.equal(culled.pix_to_face, kept)
    assert torch.equal(culled.bary, expected.bary) and torch.equal(culled.depth, expected.depth)
    assert not torch.equal(culled.pix_to_face, rasterize(verts, faces, K, (H, W), znear=ZNEAR).pix_to_face)


def _assert_finite(frags) -> None:
    for name in ("bary", "depth", "bary_fg", "depth_fg"):
        assert torch.isfinite(getattr(frags, name)).all(), name


@pytest.mark.parametrize("z_sign", [-1.0, 0.0], ids=["behind", "on_camera_plane"])
def test_mesh_behind_camera_renders_empty(device, dtype, z_sign):
    """A mesh behind the camera (or in its plane, z = 0) renders empty, with no NaN or inf."""
    verts, faces, K = _random_scene(0, dtype, device)
    behind = verts.clone()
    behind[..., 2] = z_sign * behind[..., 2].abs()
    frags = rasterize(behind, faces, K, (H, W))
    assert (frags.pix_to_face == -1).all() and len(frags.pixel_index) == 0
    assert not frags.depth.any() and not frags.bary.any()
    _assert_finite(frags)


def test_faces_at_or_crossing_the_near_plane_are_culled(device, dtype):
    """Faces with a vertex at z <= znear are culled; outputs and gradients stay finite."""
    znear = 0.25  # exact in both dtypes, so "on the near plane" is exact
    K = intrinsics(20.0, (15.5, 11.5), dtype=dtype, device=device)
    big = [[-50.0, -50.0], [80.0, -50.0], [-50.0, 80.0]]  # would cover the whole image
    pixels = torch.tensor(big * 4 + [[4.2, 3.1], [25.7, 6.4], [12.3, 20.6]])
    # Faces 0-3: one vertex behind the camera, on the camera plane, on the near plane; all on the near plane.
    z = torch.tensor([-1.0, 2, 2] + [0.0, 2, 2] + [znear, 2, 2] + [znear] * 3 + [3.0, 3.5, 4])
    verts = _on_screen(pixels, z.abs().clamp_min(znear), K)
    verts[0, :, 2] = z.double()
    verts = verts.to(device, dtype).requires_grad_()
    faces = _faces([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11], [12, 13, 14]], device)

    frags = rasterize(verts, faces, K, (H, W), znear=znear)
    alone = rasterize(verts, faces[4:], K, (H, W), znear=znear)
    assert torch.equal(frags.pix_to_face, torch.where(alone.pix_to_face >= 0, 4, -1))
    assert (frags.pix_to_face == 4).sum() > 20
    _assert_finite(frags)
    (frags.bary.sum() + frags.depth.sum()).backward()
    assert torch.isfinite(verts.grad).all() and not verts.grad[0, :12].any()


def test_pixel_index_exact_beyond_float32_integers(device):
    """Over 2**24 pixels, a float32 ``row * W + col`` would land on the neighbouring pixel."""
    h = w = 4097
    u, v = w - 2, h - 1  # the flat index v * w + u is odd and above 2**24: not a float32
    K = intrinsics(100.0, (0.0, 0.0), device=device)
    pixels = torch.tensor([[u - 0.4, v - 0.4], [u + 0.4, v - 0.3], [u - 0.3, v + 0.4]])
    verts = _on_screen(pixels, torch.ones(3), K).to(device, torch.float32)
    frags = rasterize(verts, _faces([[0, 1, 2]], device), K, (h, w))
    assert frags.pixel_index.tolist() == [v * w + u] and frags.pix_to_face[0, v, u] == 0


# --- 8. input validation ----------------------------------------------------------------------------


def _valid_inputs(device: torch.device) -> dict:
    verts = torch.tensor([[[-0.2, -0.2, 1.0], [0.3, -0.2, 1.0], [-0.2, 0.3, 1.0]]], device=device)
    return {
        "verts": verts,
        "faces": _faces([[0, 1, 2]], device),
        "K": intrinsics(16.0, (4.0, 4.0), device=device),
        "image_size": (8, 8),
    }


def _with_nonfinite(value: float):
    def edit(verts: torch.Tensor) -> torch.Tensor:
        verts = verts.clone()
        verts[0, 1, 0] = value
        return verts

    return edit


BAD_INPUTS = {
    "verts_2d": ("verts", lambda v: v[0]),
    "verts_last_dim_2": ("verts", lambda v: v[..., :2]),
    "verts_int": ("verts", lambda v: v.long()),
    "verts_nan": ("verts", _with_nonfinite(float("nan"))),
    "verts_inf": ("verts", _with_nonfinite(float("inf"))),
    "verts_minus_inf": ("verts", _with_nonfinite(float("-inf"))),
    "verts_nan_expanded": ("verts", lambda v: _with_nonfinite(float("nan"))(v)[:1].expand(3, -1, -1)),
    "verts_inf_one_vertex": ("verts", lambda v: v.new_tensor([[[0.1, float("inf"), 1.0]]]).expand(1, 3, 3)),
    "verts_empty": ("verts", lambda v: v[:, :0]),
    "faces_out_of_range": ("faces", lambda f: f + 1),
    "faces_negative": ("faces", lambda f: f - 1),
    "faces_int32": ("faces", lambda f: f.int()),
    "faces_empty": ("faces", lambda f: f[:0]),
    "faces_1d": ("faces", lambda f: f[0]),
    "K_2d": ("K", lambda k: k[0]),
    "K_3x4": ("K", lambda k: torch.cat([k, k[..., :1]], -1)),
    "K_batch": ("K", lambda k: k.expand(2, 3, 3)),
    "K_float64": ("K", lambda k: k.double()),
    "K_nan": ("K", lambda k: k * float("nan")),
    "image_size_zero": ("image_size", lambda s: (0, 10)),
    "image_size_negative": ("image_size", lambda s: (-1, 5)),
    "image_size_3d": ("image_size", lambda s: (4, 5, 6)),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_raises_value_error_naming_the_argument(device, case):
    """The valid inputs render; each bad one raises ValueError whose message starts with its name."""
    name, edit = BAD_INPUTS[case]
    inputs = _valid_inputs(device)
    rasterize(**inputs)
    inputs[name] = edit(inputs[name])
    with pytest.raises(ValueError, match=f"^{name}: "):
        rasterize(**inputs)


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["faces", "K"])
def test_mismatched_devices_raise_value_error(name):
    """verts on CUDA with ``name`` on the CPU is refused, naming the arguments."""
    inputs = _valid_inputs(torch.device("cuda"))
    inputs[name] = inputs[name].cpu()
    with pytest.raises(ValueError, match=name):
        rasterize(**inputs)


# --- 9. CPU and CUDA agree --------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.parametrize("seed", range(4))
def test_cpu_and_cuda_agree(dtype, seed):
    """Same face ids except at ties; barycentrics and depth equal to the dtype's tolerance."""
    verts, faces, K = _random_scene(seed, dtype, torch.device("cpu"))
    cpu = rasterize(verts, faces, K, (H, W))
    cuda = rasterize(verts.cuda(), faces.cuda(), K.cuda(), (H, W))
    _assert_same_faces_except_ties(cuda.pix_to_face[0], cpu.pix_to_face[0], verts, faces, K, dtype)
    same = cuda.pix_to_face.cpu() == cpu.pix_to_face
    tol = tolerance(dtype)
    torch.testing.assert_close(cuda.bary.cpu()[same], cpu.bary[same], atol=tol, rtol=0)
    torch.testing.assert_close(cuda.depth.cpu()[same], cpu.depth[same], atol=0, rtol=tol)


# --- 10. batches ------------------------------------------------------------------------------------


def test_batch_equals_separate_calls(device, dtype):
    """Three meshes (one topology) and three cameras in one call equal three single calls."""
    scenes = [_random_scene(seed, dtype, device) for seed in range(3)]
    faces = scenes[0][1]
    assert all(torch.equal(s[1], faces) for s in scenes)
    verts, K = torch.cat([s[0] for s in scenes]), torch.cat([s[2] for s in scenes])
    batch = rasterize(verts, faces, K, (H, W))
    singles = [rasterize(v, faces, k, (H, W)) for v, _, k in scenes]

    for name in ("pix_to_face", "bary", "depth"):
        assert torch.equal(getattr(batch, name), torch.cat([getattr(s, name) for s in singles])), name
    offsets = [b * H * W + s.pixel_index for b, s in enumerate(singles)]
    assert torch.equal(batch.pixel_index, torch.cat(offsets))
    for name in ("face", "bary_fg", "depth_fg"):
        assert torch.equal(getattr(batch, name), torch.cat([getattr(s, name) for s in singles])), name
    # The compact layers are the dense ones at the covered pixels, in ascending pixel order.
    assert (batch.pixel_index.diff() > 0).all()
    assert torch.equal(batch.pix_to_face.flatten()[batch.pixel_index], batch.face)
    assert (batch.pix_to_face >= 0).sum() == len(batch.face)
    assert torch.equal(batch.depth.flatten()[batch.pixel_index], batch.depth_fg)


def test_small_meshes_in_different_places_and_an_empty_frame(device, dtype):
    """The z-buffer covers each frame's window of candidate faces only: frames whose meshes lie in
    different corners, one frame with nothing in view and a mesh crossing the image border give the
    same fragments as one call per frame, and the faces a brute-force reference sees."""
    sphere, faces = uv_sphere(0.25, n_lat=8, n_lon=12, dtype=dtype)
    K = intrinsics(30.0, ((W - 1) / 2, (H - 1) / 2), dtype=dtype).expand(5, 3, 3).to(device)
    centres = torch.tensor(
        [[-0.9, -0.6, 3.0], [1.0, 0.7, 3.0], [0.0, 0.0, -3.0], [0.0, 0.0, 1.2], [1.6, 0.0, 3.0]], dtype=dtype
    )
    verts = (sphere[None] + centres[:, None]).to(device)
    faces = faces.to(device)
    batch = rasterize(verts, faces, K, (H, W), cull_backfaces=True)
    singles = [rasterize(verts[i : i + 1], faces, K[:1], (H, W), cull_backfaces=True) for i in range(5)]
    for name in ("pix_to_face", "depth"):
        assert torch.equal(getattr(batch, name), torch.cat([getattr(s, name) for s in singles])), name
    covered = (batch.pix_to_face >= 0).flatten(1).sum(1).tolist()
    assert covered[2] == 0 and all(n > 0 for i, n in enumerate(covered) if i != 2), covered
    assert torch.equal(batch.pix_to_face.flatten()[batch.pixel_index], batch.face)
    for i in (0, 1, 3, 4):
        ref = rasterize_reference(verts[i], faces, K[i], (H, W))
        _assert_same_faces_except_ties(
            batch.pix_to_face[i], ref.pix_to_face, verts[i : i + 1], faces, K, dtype
        )
