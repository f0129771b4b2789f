"""OpenCV pinhole cameras: ``X_cam = R @ X_world + t``, +x right, +y down, +z forward (see
``docs/conventions.md``).

Functions take per-batch tensors: ``K (B, 3, 3)``, ``R (B, 3, 3)``, ``t (B, 3)``. ``Cameras`` bundles them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from synthhuman.render.checks import check_float, check_image_size, check_tensor


@dataclass(frozen=True)
class Cameras:
    """A batch of OpenCV cameras.

    K: (B, 3, 3) intrinsics in pixels. R: (B, 3, 3) world-to-camera rotation. t: (B, 3) translation.
    image_size: (H, W).
    """

    K: Tensor
    R: Tensor
    t: Tensor
    image_size: tuple[int, int]

    def __post_init__(self) -> None:
        check_tensor("K", self.K, 3, (3, 3))
        check_tensor("R", self.R, 3, (3, 3))
        check_tensor("t", self.t, 2, (3,))
        if not (self.K.shape[0] == self.R.shape[0] == self.t.shape[0]):
            raise ValueError(
                f"Cameras: batch sizes differ: K {tuple(self.K.shape)}, R {tuple(self.R.shape)}, "
                f"t {tuple(self.t.shape)}"
            )
        object.__setattr__(self, "image_size", check_image_size(self.image_size))

    @property
    def batch_size(self) -> int:
        return self.K.shape[0]

    def to_camera(self, points: Tensor) -> Tensor:
        """(B, N, 3) world points -> (B, N, 3) camera points."""
        return world_to_camera(points, self.R, self.t)

    def project(self, points_cam: Tensor) -> Tensor:
        """(B, N, 3) camera points -> (B, N, 2) pixel coordinates."""
        return project(points_cam, self.K)

    def center(self) -> Tensor:
        """(B, 3) camera centres in world coordinates: ``-R^T t``."""
        return camera_center(self.R, self.t)

    def index(self, idx: Tensor | slice | list[int]) -> Cameras:
        return Cameras(self.K[idx], self.R[idx], self.t[idx], self.image_size)


def intrinsics(
    focal: float | tuple[float, float],
    principal_point: tuple[float, float],
    batch_size: int = 1,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """(B, 3, 3) intrinsics from focal length(s) in pixels and principal point ``(cx, cy)`` in pixels."""
    fx, fy = (focal, focal) if isinstance(focal, (int, float)) else focal
    cx, cy = principal_point
    K = torch.tensor([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]], dtype=dtype, device=device)
    return K.expand(batch_size, 3, 3).clone()


def intrinsics_from_fov(
    fov_x: float, image_size: tuple[int, int], batch_size: int = 1, dtype: torch.dtype = torch.float32
) -> Tensor:
    """(B, 3, 3) square-pixel intrinsics with horizontal field of view ``fov_x`` (radians), centred image."""
    h, w = check_image_size(image_size)
    f = 0.5 * w / math.tan(0.5 * fov_x)
    return intrinsics(f, ((w - 1) / 2, (h - 1) / 2), batch_size, dtype)


def world_to_camera(points: Tensor, R: Tensor, t: Tensor) -> Tensor:
    """(B, N, 3) world points -> (B, N, 3) camera points, ``R @ X + t`` with R (B, 3, 3), t (B, 3).

    Written out elementwise (three products and three sums per coordinate, in a fixed order) rather than
    as a matrix product, whose rounding may follow the BLAS thread split: the same bytes on any machine."""
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    rows = [
        x * R[:, None, i, 0] + y * R[:, None, i, 1] + z * R[:, None, i, 2] + t[:, None, i] for i in range(3)
    ]
    return torch.stack(rows, -1)


def camera_to_world(points: Tensor, R: Tensor, t: Tensor) -> Tensor:
    """Inverse of :func:`world_to_camera`: ``R^T (X - t)``."""
    return (points - t[:, None, :]) @ R


def camera_center(R: Tensor, t: Tensor) -> Tensor:
    """(B, 3) camera centres in world coordinates."""
    return -(R.transpose(-1, -2) @ t[..., None])[..., 0]


def project(points_cam: Tensor, K: Tensor) -> Tensor:
    """(B, N, 3) camera-space points -> (B, N, 2) pixels ``(u, v)``; K (B, 3, 3). Needs z > 0."""
    z = points_cam[..., 2:3]
    xy = points_cam[..., :2] / z
    fx, fy = K[:, None, 0, 0], K[:, None, 1, 1]
    cx, cy = K[:, None, 0, 2], K[:, None, 1, 2]
    skew = K[:, None, 0, 1]
    u = fx * xy[..., 0] + skew * xy[..., 1] + cx
    v = fy * xy[..., 1] + cy
    return torch.stack([u, v], dim=-1)


def unproject(pixels: Tensor, depth: Tensor, K: Tensor) -> Tensor:
    """(B, N, 2) pixels and (B, N) planar depth -> (B, N, 3) camera-space points; K (B, 3, 3)."""
    ones = torch.ones_like(pixels[..., :1])
    rays = torch.cat([pixels, ones], -1) @ torch.linalg.inv(K).transpose(-1, -2)
    return rays * depth[..., None]


def look_at(eye: Tensor, target: Tensor, up: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """OpenCV extrinsics of cameras at ``eye`` (B, 3) looking at ``target`` (B, 3).

    ``up`` (B, 3) is the world direction that appears up in the image (default +Y, SMPL's up).
    Returns R (B, 3, 3), t (B, 3).
    """
    check_tensor("eye", eye, 2, (3,))
    check_tensor("target", target, 2, (3,))
    check_float("eye", eye)
    if up is None:
        up = torch.tensor([0.0, 1.0, 0.0], dtype=eye.dtype, device=eye.device).expand_as(eye)
    z = torch.nn.functional.normalize(target - eye, dim=-1)
    x = torch.nn.functional.normalize(torch.linalg.cross(z, up.expand_as(z)), dim=-1)
    y = torch.linalg.cross(z, x)  # points down in the image when up is up
    R = torch.stack([x, y, z], dim=-2)
    t = -(R @ eye[..., None])[..., 0]
    return R, t


# --- pytorch3d's convention -------------------------------------------------------------------------
# pytorch3d: row vectors, X_view = X_world @ R3 + T3, view axes +X left, +Y up, +Z forward; NDC spans
# [-1, 1] along the shorter image side with +X left and +Y up, pixel edges at the image border (pixel i
# centre at i + 0.5 in screen units). Ours: integer pixel centres, so cx_screen(pytorch3d) = cx + 0.5.

_FLIP_XY = (-1.0, -1.0, 1.0)


def to_pytorch3d(K: Tensor, R: Tensor, t: Tensor, image_size: tuple[int, int]) -> dict[str, Tensor]:
    """Our OpenCV camera -> arguments of ``pytorch3d.renderer.PerspectiveCameras`` (NDC, ``in_ndc=True``).

    Returns ``R`` (B, 3, 3), ``T`` (B, 3), ``focal_length`` (B, 2), ``principal_point`` (B, 2).
    Raises ValueError for a skewed K, which those arguments cannot express.
    """
    h, w = check_image_size(image_size)
    if bool((K[:, 0, 1] != 0).any()):
        raise ValueError(f"K: pytorch3d's PerspectiveCameras has no skew, got {K[:, 0, 1].tolist()}")
    flip = torch.tensor(_FLIP_XY, dtype=R.dtype, device=R.device)
    R3 = (flip[:, None] * R).transpose(-1, -2)
    T3 = flip * t
    scale = min(h, w) / 2.0
    focal = torch.stack([K[:, 0, 0], K[:, 1, 1]], -1) / scale
    centre = torch.tensor([w / 2.0, h / 2.0], dtype=K.dtype, device=K.device)
    pp = -(K[:, :2, 2] + 0.5 - centre) / scale
    return {"R": R3, "T": T3, "focal_length": focal, "principal_point": pp}


def from_pytorch3d(
    R3: Tensor, T3: Tensor, focal_length: Tensor, principal_point: Tensor, image_size: tuple[int, int]
) -> tuple[Tensor, Tensor, Tensor]:
    """Inverse of :func:`to_pytorch3d` for NDC ``PerspectiveCameras``: returns K, R, t (OpenCV)."""
    h, w = check_image_size(image_size)
    flip = torch.tensor(_FLIP_XY, dtype=R3.dtype, device=R3.device)
    R = flip[:, None] * R3.transpose(-1, -2)
    t = flip * T3
    scale = min(h, w) / 2.0
    focal_length = focal_length.expand(R3.shape[0], 2) if focal_length.ndim == 2 else focal_length
    centre = torch.tensor([w / 2.0, h / 2.0], dtype=R3.dtype, device=R3.device)
    c = centre - principal_point * scale - 0.5
    K = torch.zeros(R3.shape[0], 3, 3, dtype=R3.dtype, device=R3.device)
    K[:, 0, 0] = focal_length[:, 0] * scale
    K[:, 1, 1] = focal_length[:, 1] * scale
    K[:, :2, 2] = c
    K[:, 2, 2] = 1.0
    return K, R, t
