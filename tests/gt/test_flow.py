"""Forward optical flow against analytic rigid motions, occlusion and out-of-frame cases, and warping."""

from __future__ import annotations

import math

import pytest
import torch

from synthhuman.gt.flow import optical_flow
from synthhuman.render.cameras import intrinsics, project, unproject
from synthhuman.render.raster import rasterize
from tests.meshes import uv_sphere

H, W = 48, 64


def _plane(z: float, half: float, dtype, device, n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """Fronto-parallel square grid at depth z, (V, 3) verts and (F, 3) faces facing the camera."""
    s = torch.linspace(-half, half, n + 1, dtype=dtype)
    y, x = torch.meshgrid(s, s, indexing="ij")
    v = torch.stack([x, y, torch.full_like(x, z)], -1).reshape(-1, 3)
    i = torch.arange(n * (n + 1)).reshape(n, n + 1)[:, :n].flatten()
    f = torch.cat([torch.stack([i, i + n + 1, i + 1], -1), torch.stack([i + 1, i + n + 1, i + n + 2], -1)])
    return v.to(device), f.to(device)


def _rot_y(angle: float, dtype) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=dtype)


def _flow_pair(v0, v1, faces, K):
    """Rasterize frames t and t+1 (B = 1 each) and return the flow of t -> t+1 and frame t's fragments."""
    f0 = rasterize(v0[None], faces, K, (H, W))
    f1 = rasterize(v1[None], faces, K, (H, W))
    has_next = torch.ones(1, dtype=torch.bool, device=v0.device)
    return optical_flow(f0, faces, v1[None], K, f1.pix_to_face, f1.depth, has_next), f0


def test_rigid_motion_matches_analytic_flow(device):
    """A sphere rotated and translated: flow at each valid pixel = projection of the moved point - pixel."""
    dtype = torch.float64
    v, faces = uv_sphere(0.5, (0.0, 0.0, 3.0), dtype=dtype)
    v, faces = v.to(device), faces.to(device)
    K = intrinsics(60.0, ((W - 1) / 2, (H - 1) / 2), dtype=dtype, device=device)
    rot = _rot_y(0.1, dtype).to(device)
    shift = torch.tensor([0.05, -0.03, 0.1], dtype=dtype, device=device)
    center = torch.tensor([0.0, 0.0, 3.0], dtype=dtype, device=device)
    v1 = (v - center) @ rot.T + center + shift
    flow, f0 = _flow_pair(v, v1, faces, K)
    valid = flow.valid[0]
    assert valid.sum() > 200
    rows, cols = valid.nonzero().unbind(1)
    pix = torch.stack([cols, rows], -1).to(dtype)
    points = unproject(pix[None], f0.depth[0][valid][None], K)[0]
    moved = (points - center) @ rot.T + center + shift
    expected = project(moved[None], K)[0] - pix
    torch.testing.assert_close(flow.flow[0][valid], expected, atol=1e-8, rtol=0)


def test_zero_motion_gives_zero_flow_valid_everywhere_covered(device, dtype):
    v, faces = uv_sphere(0.5, (0.1, 0.0, 3.0), dtype=dtype)
    v, faces = v.to(device), faces.to(device)
    K = intrinsics(60.0, ((W - 1) / 2, (H - 1) / 2), dtype=dtype, device=device)
    flow, f0 = _flow_pair(v, v, faces, K)
    covered = f0.pix_to_face[0] >= 0
    assert torch.equal(flow.valid[0], covered)
    assert float(flow.flow.abs().max()) < (1e-9 if dtype == torch.float64 else 1e-4)


def test_last_frame_has_no_valid_flow(device):
    v, faces = uv_sphere(0.5, (0.0, 0.0, 3.0))
    v, faces = v.to(device), faces.to(device)
    K = intrinsics(60.0, ((W - 1) / 2, (H - 1) / 2), dtype=torch.float64, device=device)
    frags = rasterize(v[None], faces, K, (H, W))
    no_next = torch.zeros(1, dtype=torch.bool, device=device)
    flow = optical_flow(frags, faces, v[None], K, frags.pix_to_face, frags.depth, no_next)
    assert not bool(flow.valid.any()) and not bool(flow.flow.any())


def test_occluded_and_out_of_frame_points_are_invalid(device):
    """A static back plane, a front square sliding right by 8 px, the back plane leaving on the right."""
    dtype = torch.float64
    K = intrinsics(64.0, (W / 2, H / 2), dtype=dtype, device=device)
    back, fb = _plane(4.0, 3.0, dtype, device)
    front, ff = _plane(2.0, 0.25, dtype, device)
    faces = torch.cat([fb, ff + back.shape[0]])
    v0 = torch.cat([back, front])
    step = 8 * 2.0 / 64.0  # 8 px at depth 2
    back_step = 3 * 4.0 / 64.0  # 3 px at depth 4
    v1 = torch.cat(
        [
            back + torch.tensor([back_step, 0, 0], dtype=dtype, device=device),
            front + torch.tensor([step, 0, 0], dtype=dtype, device=device),
        ]
    )
    flow, f0 = _flow_pair(v0, v1, faces, K)
    f1 = rasterize(v1[None], faces, K, (H, W))
    is_back = (f0.pix_to_face[0] >= 0) & (f0.pix_to_face[0] < fb.shape[0])
    is_front = f0.pix_to_face[0] >= fb.shape[0]
    rows, cols = torch.meshgrid(torch.arange(H, device=device), torch.arange(W, device=device), indexing="ij")
    # back-plane pixels: valid exactly where the moved point stays in frame and the front square is not there
    target_col = cols + 3
    in_frame = target_col <= W - 1
    covered_next = f1.pix_to_face[0, rows, target_col.clamp(max=W - 1)] >= fb.shape[0]
    expected_back = is_back & in_frame & ~covered_next
    assert torch.equal(flow.valid[0] & is_back, expected_back)
    assert bool((is_back & ~in_frame).any()) and bool((is_back & covered_next).any())
    assert bool(flow.valid[0][is_front].all())
    torch.testing.assert_close(
        flow.flow[0][is_front][:, 0], torch.full_like(flow.flow[0][is_front][:, 0], 8.0)
    )


def test_warping_next_frame_by_flow_reproduces_frame(device):
    """Colour of frame t = colour of frame t+1 sampled at pixel + flow, on valid pixels (smooth texture)."""
    dtype = torch.float64
    v, faces = uv_sphere(0.8, (0.0, 0.0, 3.0), n_lat=32, n_lon=64, dtype=dtype)
    v, faces = v.to(device), faces.to(device)
    K = intrinsics(60.0, ((W - 1) / 2, (H - 1) / 2), dtype=dtype, device=device)
    center = torch.tensor([0.0, 0.0, 3.0], dtype=dtype, device=device)
    v1 = (v - center) @ _rot_y(0.08, dtype).to(device).T + center
    color = torch.stack([torch.sin(2 * v[:, 0]), torch.cos(3 * v[:, 1]), v[:, 2] - 3], -1) * 0.5 + 0.5

    def image(verts):
        fr = rasterize(verts[None], faces, K, (H, W))
        return (color[faces[fr.pix_to_face[0].clamp_min(0)]] * fr.bary[0][..., None]).sum(-2)

    img0, img1 = image(v), image(v1)
    flow, _ = _flow_pair(v, v1, faces, K)
    valid = flow.valid[0]
    rows, cols = valid.nonzero().unbind(1)
    target = torch.stack([cols, rows], -1).to(dtype) + flow.flow[0][valid]
    grid = (target / torch.tensor([W - 1, H - 1], dtype=dtype, device=device)) * 2 - 1
    warped = torch.nn.functional.grid_sample(
        img1.permute(2, 0, 1)[None], grid[None, None], align_corners=True
    )[0, :, 0].T
    inner = valid.clone()
    inner[[0, -1]] = False
    err = (warped - img0[valid]).abs().max(-1).values
    zero_flow_err = (img1[valid] - img0[valid]).abs().max(-1).values
    # keep pixels whose bilinear footprint at t+1 lies on the sphere (away from its rim)
    f1 = rasterize(v1[None], faces, K, (H, W))
    tl = target.floor().long()
    on = torch.ones_like(err, dtype=torch.bool)
    for dy in (0, 1):
        for dx in (0, 1):
            r = (tl[:, 1] + dy).clamp(0, H - 1)
            c = (tl[:, 0] + dx).clamp(0, W - 1)
            on &= f1.pix_to_face[0, r, c] >= 0
    assert on.sum() > 300
    assert float(err[on].mean()) < 2e-3
    assert float(zero_flow_err[on].mean()) > 10 * float(err[on].mean())


def test_next_frame_index_equals_gathered_layers(device):
    """A batch of consecutive frames passing its own layers with ``next_frame`` gets the flow it would get
    from the layers gathered per frame."""
    v, faces = uv_sphere(0.5, (0.0, 0.0, 3.0))
    v, faces = v.to(device), faces.to(device)
    shifts = torch.tensor(
        [[0.0, 0.0, 0.0], [0.04, 0.0, 0.0], [0.04, 0.05, 0.1]], dtype=v.dtype, device=device
    )
    verts = v[None] + shifts[:, None]
    K = intrinsics(60.0, ((W - 1) / 2, (H - 1) / 2), dtype=v.dtype, device=device).expand(3, 3, 3)
    frags = rasterize(verts, faces, K, (H, W))
    nxt = torch.tensor([1, 2, 0], device=device)
    has_next = torch.tensor([True, True, False], device=device)
    by_index = optical_flow(
        frags, faces, verts[nxt], K, frags.pix_to_face, frags.depth, has_next, next_frame=nxt
    )
    gathered = optical_flow(frags, faces, verts[nxt], K, frags.pix_to_face[nxt], frags.depth[nxt], has_next)
    assert by_index.valid[:2].sum() > 200
    assert torch.equal(by_index.valid, gathered.valid) and torch.equal(by_index.flow, gathered.flow)
    with pytest.raises(ValueError, match=r"next_frame: expected shape \(3,\)"):
        optical_flow(frags, faces, verts, K, frags.pix_to_face, frags.depth, has_next, next_frame=nxt[:2])


def _floor(height: float, dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    """A floor ``height`` metres below the camera (camera y points down), x in [-40, 40] and z in [2, 122]
    metres in 2 x 1 m cells: (V, 3) verts and (F, 3) faces."""
    xs = torch.linspace(-40, 40, 41, dtype=dtype)
    zs = torch.linspace(2, 122, 121, dtype=dtype)
    gx, gz = torch.meshgrid(xs, zs, indexing="ij")
    v = torch.stack([gx, torch.full_like(gx, height), gz], -1).reshape(-1, 3)
    n = len(zs)
    i, j = torch.meshgrid(torch.arange(len(xs) - 1), torch.arange(n - 1), indexing="ij")
    a = (i * n + j).flatten()
    f = torch.cat([torch.stack([a, a + 1, a + n], 1), torch.stack([a + n, a + 1, a + n + 1], 1)])
    return v.to(device), f.to(device)


def test_a_plane_never_hides_itself(device):
    """A floor seen at a grazing angle by a camera stepping forward and aside: every floor point that lands
    inside the next frame is visible there. The z-buffer's depth at the centre of the landing pixel differs
    from the point's by up to half a pixel's depth gradient (here up to 0.35 m, beyond the 0.03 m
    tolerance), so without ``ground_faces`` the next face of the same floor hides some of them."""
    dtype, height, focal = torch.float64, 1.5, 60.0
    v0, faces = _floor(height, dtype, device)
    K = intrinsics(focal, ((W - 1) / 2, (H - 1) / 2), dtype=dtype, device=device)
    move = torch.tensor([0.15, 0.0, 0.4], dtype=dtype, device=device)  # the camera's step (the floor's: -)
    v1 = v0 - move
    f0 = rasterize(v0[None], faces, K, (H, W))
    f1 = rasterize(v1[None], faces, K, (H, W))
    # where each pixel's floor point lands, by hand: its view ray meets y = height
    rows, cols = torch.meshgrid(
        torch.arange(H, dtype=dtype, device=device),
        torch.arange(W, dtype=dtype, device=device),
        indexing="ij",
    )
    ray = torch.stack([(cols - (W - 1) / 2) / focal, (rows - (H - 1) / 2) / focal, torch.ones_like(rows)], -1)
    point = ray * (height / ray[..., 1:2].clamp_min(1e-9)) - move
    uv = (project(point.reshape(1, -1, 3), K)[0]).reshape(H, W, 2).round()
    inside = ((uv >= 0) & (uv <= torch.tensor([W - 1, H - 1], dtype=dtype, device=device))).all(-1)
    lands = (f0.pix_to_face[0] >= 0) & inside & (point[..., 2] > 0)
    has_next = torch.ones(1, dtype=torch.bool, device=device)
    args = (f0, faces, v1[None], K, f1.pix_to_face, f1.depth, has_next)
    flow = optical_flow(*args, ground_faces=faces.shape[0])
    assert int(lands.sum()) > 1000 and torch.equal(flow.valid[0], lands)
    plain = optical_flow(*args)  # the depth test alone
    hidden = lands & ~plain.valid[0]
    assert int(hidden.sum()) > 20 and not bool((plain.valid[0] & ~lands).any())
    col, row = uv[hidden].long().unbind(-1)
    gap = point[..., 2][hidden] - f1.depth[0, row, col]
    assert float(gap.min()) > 0.03 and float(gap.max()) > 0.3
