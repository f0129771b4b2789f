"""Tests of the OpenCV camera helpers and of the pytorch3d conversion (DESIGN.md section 3).

pytorch3d is not needed: its projection math (``pytorch3d/renderer/cameras.py``: world-to-view
``X @ R + T``, the NDC ``PerspectiveCameras`` matrix, ``get_ndc_to_screen_transform``; and the
rasterizer's pixel centres ``PixToNonSquareNdc`` in ``csrc/rasterize_points/rasterization_utils.h``) is
written out below in plain torch, which pins the conversion convention.
"""

from __future__ import annotations

import math

import pytest
import torch

from synthhuman.render.cameras import (
    Cameras,
    camera_center,
    camera_to_world,
    from_pytorch3d,
    intrinsics,
    intrinsics_from_fov,
    look_at,
    project,
    to_pytorch3d,
    unproject,
    world_to_camera,
)
from tests.conftest import tolerance


def _rotations(n: int, g: torch.Generator, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """(n, 3, 3) random proper rotations."""
    q, r = torch.linalg.qr(torch.randn(n, 3, 3, generator=g, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))[:, None, :]
    q[:, :, 0] *= torch.sign(torch.linalg.det(q))[:, None]
    return q.to(device, dtype)


def _camera_and_points(g: torch.Generator, dtype: torch.dtype, device: torch.device, image_size=(240, 320)):
    """Two random cameras (K with fx != fy, off-centre principal point), world points in front of them.

    Returns K (2, 3, 3), R (2, 3, 3), t (2, 3), world points (2, 50, 3).
    """
    h, w = image_size
    K = torch.stack(
        [
            intrinsics((300.0, 280.0), (w / 2 - 7.3, h / 2 + 4.1), dtype=dtype, device=device)[0],
            intrinsics((150.0, 160.0), (w / 3 + 0.25, h / 2 - 11.0), dtype=dtype, device=device)[0],
        ]
    )
    R = _rotations(2, g, dtype, device)
    cam = torch.randn(2, 50, 3, generator=g, dtype=torch.float64).to(device, dtype)
    cam[..., 2] = cam[..., 2].abs() + 2.0
    t = torch.randn(2, 3, generator=g, dtype=torch.float64).to(device, dtype)
    return K, R, t, camera_to_world(cam, R, t)


def test_project_unproject_round_trip(device, dtype, gen):
    K, R, t, world = _camera_and_points(gen, dtype, device)
    cam = world_to_camera(world, R, t)
    back = unproject(project(cam, K), cam[..., 2], K)
    torch.testing.assert_close(back, cam, atol=tolerance(dtype) * 10, rtol=0)


def test_project_matches_K_matrix(device, dtype, gen):
    """``project`` is the homogeneous division of ``K @ X``, skew included."""
    K, R, t, world = _camera_and_points(gen, dtype, device)
    K[:, 0, 1] = 0.7
    cam = world_to_camera(world, R, t)
    hom = cam @ K.transpose(-1, -2)
    torch.testing.assert_close(
        project(cam, K), hom[..., :2] / hom[..., 2:], atol=tolerance(dtype) * 100, rtol=0
    )


def test_world_camera_inverse(device, dtype, gen):
    K, R, t, world = _camera_and_points(gen, dtype, device)
    tol = tolerance(dtype) * 10
    cam = world_to_camera(world, R, t)
    torch.testing.assert_close(cam, world @ R.transpose(-1, -2) + t[:, None], atol=tol, rtol=0)
    torch.testing.assert_close(camera_to_world(cam, R, t), world, atol=tol, rtol=0)
    cams = Cameras(K, R, t, (240, 320))
    torch.testing.assert_close(cams.to_camera(world), cam)
    torch.testing.assert_close(cams.project(cam), project(cam, K))


def test_camera_center(device, dtype, gen):
    _, R, t, _ = _camera_and_points(gen, dtype, device)
    centre = camera_center(R, t)
    # The centre maps to the camera origin.
    torch.testing.assert_close(
        world_to_camera(centre[:, None], R, t)[:, 0], torch.zeros_like(t), atol=tolerance(dtype) * 10, rtol=0
    )
    eye = torch.tensor([[1.0, 2.0, 3.0], [-4.0, 0.5, -2.0]], dtype=dtype, device=device)
    R2, t2 = look_at(eye, torch.zeros_like(eye))
    torch.testing.assert_close(camera_center(R2, t2), eye, atol=tolerance(dtype) * 10, rtol=0)


def test_look_at(device, dtype):
    eye = torch.tensor([[0.3, 1.7, 4.0], [-3.0, 0.2, -1.0], [2.0, -1.0, 0.5]], dtype=dtype, device=device)
    target = torch.tensor([[0.0, 1.0, 0.0], [0.5, 0.8, 0.2], [0.0, 0.0, 0.0]], dtype=dtype, device=device)
    R, t = look_at(eye, target)
    tol = tolerance(dtype) * 10
    eye3 = torch.eye(3, dtype=dtype, device=device).expand(3, 3, 3)
    torch.testing.assert_close(R @ R.transpose(-1, -2), eye3, atol=tol, rtol=0)
    torch.testing.assert_close(
        torch.linalg.det(R), torch.ones(3, dtype=dtype, device=device), atol=tol, rtol=0
    )

    K = intrinsics((500.0, 480.0), (311.5, 243.25), batch_size=3, dtype=dtype, device=device)
    pix = project(world_to_camera(target[:, None], R, t), K)[:, 0]
    torch.testing.assert_close(pix, K[:, :2, 2], atol=tol * 100, rtol=0)
    assert (world_to_camera(target[:, None], R, t)[:, 0, 2] > 0).all(), "the target is in front"
    # World up (+Y) appears upward in the image: smaller v.
    above = project(
        world_to_camera(target[:, None] + torch.tensor([0.0, 0.1, 0.0], dtype=dtype, device=device), R, t), K
    )
    assert (above[:, 0, 1] < pix[:, 1]).all()


def test_body_left_appears_on_image_right(device, dtype):
    """The body faces +Z and +X is its left: a camera on +Z looking at it sees its left on the image right."""
    eye = torch.tensor([[0.0, 0.0, 3.0]], dtype=dtype, device=device)
    R, t = look_at(eye, torch.zeros_like(eye))
    K = intrinsics(500.0, (319.5, 239.5), dtype=dtype, device=device)
    pts = torch.tensor([[[0.0, 0.0, 0.0], [0.3, 0.0, 0.0], [0.0, 0.3, 0.0]]], dtype=dtype, device=device)
    uv = project(world_to_camera(pts, R, t), K)[0]
    assert uv[1, 0] > uv[0, 0] and abs(uv[1, 1] - uv[0, 1]) < 1e-3  # left hand -> image right
    assert uv[2, 1] < uv[0, 1] and abs(uv[2, 0] - uv[0, 0]) < 1e-3  # head (up) -> image top


def test_intrinsics(device, dtype):
    K = intrinsics((100.0, 90.0), (10.5, 20.25), batch_size=2, dtype=dtype, device=device)
    expected = torch.tensor(
        [[100.0, 0.0, 10.5], [0.0, 90.0, 20.25], [0.0, 0.0, 1.0]], dtype=dtype, device=device
    )
    assert K.shape == (2, 3, 3) and K.dtype == dtype and K.device.type == device.type
    assert torch.equal(K, expected.expand(2, 3, 3))
    K[0, 0, 0] = 1.0
    assert K[1, 0, 0] == 100.0, "batch elements are independent copies"


def test_intrinsics_from_fov(device, dtype):
    h, w = 240, 320
    fov = math.radians(60.0)
    K = intrinsics_from_fov(fov, (h, w), batch_size=2, dtype=dtype).to(device)
    assert K.shape == (2, 3, 3) and K.dtype == dtype
    assert K[0, 0, 0] == K[0, 1, 1]
    torch.testing.assert_close(
        K[0, :2, 2], torch.tensor([(w - 1) / 2, (h - 1) / 2], dtype=dtype, device=device)
    )
    # Rays through the outer edges of the image (u = -0.5 and u = w - 0.5) are fov apart.
    edges = torch.tensor([[[-0.5, (h - 1) / 2], [w - 0.5, (h - 1) / 2]]], dtype=dtype, device=device)
    rays = unproject(edges, torch.ones(1, 2, dtype=dtype, device=device), K[:1])[0]
    angle = torch.acos((rays[0] @ rays[1]) / rays.norm(dim=-1).prod())
    assert abs(angle.item() - fov) < tolerance(dtype) * 10


# --- pytorch3d -------------------------------------------------------------------------------------


def _pytorch3d_ndc(world, R3, T3, focal, pp):
    """pytorch3d's NDC ``PerspectiveCameras`` (in_ndc=True), written out: (B, N, 3) world -> (B, N, 2) NDC.

    World to view is ``X @ R + T`` (row vectors); the projection matrix has rows
    ``[fx, 0, px, 0], [0, fy, py, 0], [0, 0, 0, 1], [0, 0, 1, 0]``, so ``x = fx X / Z + px``.
    """
    view = world @ R3 + T3[:, None]
    xy = view[..., :2] / view[..., 2:]
    return focal[:, None] * xy + pp[:, None]


def _pytorch3d_ndc_to_screen(ndc, image_size):
    """``get_ndc_to_screen_transform(with_xyflip=True)``: ``screen = -(s * ndc - (W/2, H/2))``, s = min/2.

    Screen coordinates have the top-left image corner at 0, so pixel centres at half integers.
    """
    h, w = image_size
    s = min(h, w) / 2.0
    return torch.stack([w / 2.0 - s * ndc[..., 0], h / 2.0 - s * ndc[..., 1]], -1)


def _pytorch3d_pixel_centre_ndc(i, s1, s2):
    """``PixToNonSquareNdc(i, S1, S2)``: NDC of pixel index i along a side of S1 pixels (other side S2).

    The rasterizer indexes from the +X (left) / +Y (top) end: image column j is ``i = W - 1 - j``.
    """
    ndc_range = 2.0 * s1 / s2 if s1 > s2 else 2.0
    offset = ndc_range / 2.0
    return -offset + (ndc_range * i + offset) / s1


@pytest.mark.parametrize("image_size", [(240, 320), (320, 240), (64, 64)])
def test_to_pytorch3d_matches_pytorch3d_projection(device, dtype, gen, image_size):
    h, w = image_size
    K, R, t, world = _camera_and_points(gen, dtype, device, image_size)
    p3d = to_pytorch3d(K, R, t, image_size)
    assert p3d["R"].shape == (2, 3, 3) and p3d["T"].shape == (2, 3)
    assert p3d["focal_length"].shape == (2, 2) and p3d["principal_point"].shape == (2, 2)
    ours = project(world_to_camera(world, R, t), K)
    ndc = _pytorch3d_ndc(world, p3d["R"], p3d["T"], p3d["focal_length"], p3d["principal_point"])

    tol = 1e-5 if dtype == torch.float64 else 1e-3
    # Through pytorch3d's screen transform: our integer pixel centres sit at half integers there.
    torch.testing.assert_close(_pytorch3d_ndc_to_screen(ndc, image_size) - 0.5, ours, atol=tol, rtol=0)
    # Through the rasterizer's pixel centres (affine in the index, so fractional pixels are fine).
    expected = torch.stack(
        [
            _pytorch3d_pixel_centre_ndc(w - 1 - ours[..., 0], w, h),
            _pytorch3d_pixel_centre_ndc(h - 1 - ours[..., 1], h, w),
        ],
        -1,
    )
    torch.testing.assert_close(ndc, expected, atol=tol / min(h, w), rtol=0)


def test_pytorch3d_view_axes(device, dtype):
    """pytorch3d's view space is ours with x and y negated (+X left, +Y up), z unchanged."""
    eye = torch.tensor([[0.2, 1.0, 3.0]], dtype=dtype, device=device)
    R, t = look_at(eye, torch.zeros_like(eye))
    K = intrinsics(100.0, (31.5, 23.5), dtype=dtype, device=device)
    p3d = to_pytorch3d(K, R, t, (48, 64))
    world = torch.randn(1, 10, 3, dtype=dtype, device=device)
    view = world @ p3d["R"] + p3d["T"][:, None]
    cam = world_to_camera(world, R, t)
    torch.testing.assert_close(view, cam * torch.tensor([-1.0, -1.0, 1.0], dtype=dtype, device=device))


@pytest.mark.parametrize("image_size", [(240, 320), (320, 240)])
def test_pytorch3d_round_trip(device, dtype, gen, image_size):
    K, R, t, _ = _camera_and_points(gen, dtype, device, image_size)
    p3d = to_pytorch3d(K, R, t, image_size)
    K2, R2, t2 = from_pytorch3d(p3d["R"], p3d["T"], p3d["focal_length"], p3d["principal_point"], image_size)
    assert torch.equal(R2, R) and torch.equal(t2, t), "axis flips and transposes are exact"
    torch.testing.assert_close(K2, K, atol=0, rtol=tolerance(dtype))


def test_from_pytorch3d_broadcasts_shared_intrinsics(dtype):
    """A (1, 2) focal length and principal point, as pytorch3d allows, apply to every camera."""
    R3 = _rotations(3, torch.Generator().manual_seed(3), dtype, torch.device("cpu"))
    T3 = torch.zeros(3, 3, dtype=dtype)
    K, _, _ = from_pytorch3d(
        R3, T3, torch.tensor([[2.0, 2.0]], dtype=dtype), torch.tensor([[0.0, 0.0]], dtype=dtype), (48, 64)
    )
    expected = intrinsics(48.0, (31.5, 23.5), batch_size=3, dtype=dtype)
    assert torch.equal(K, expected)


def test_to_pytorch3d_rejects_skew():
    K = intrinsics(100.0, (31.5, 23.5))
    K[0, 0, 1] = 0.5
    with pytest.raises(ValueError, match="skew"):
        to_pytorch3d(K, torch.eye(3)[None], torch.zeros(1, 3), (48, 64))
