"""SURREAL's geometry, shared by its writer and reader (:mod:`synthhuman.io.surreal`, whose docstring
derives it): its cameras, its world (ours rotated by ``Q``), its pose and light conventions, its intrinsics
and Euclidean depth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from synthhuman.io.record import ClipRecord
from synthhuman.render import sh_irradiance

SURREAL_R = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
"""SURREAL's world-to-camera rotation (det -1)."""
SURREAL_R_PROPER = np.diag([-1.0, 1.0, 1.0]) @ SURREAL_R
"""The proper rotation whose image is SURREAL's image mirrored left-right."""
R90 = Rotation.from_euler("x", 90, degrees=True).as_matrix()
"""SURREAL's ``R90 = Rx(+90 deg)`` in ``R_world = R90 Rz(zrot) rot(pose[0:3])``."""

SURREAL_SIZE = (240, 320)
"""(H, W) of SURREAL's images, for which its intrinsics are written."""
SURREAL_FOCAL = 600.0
"""SURREAL's focal length in pixels at 320x240; its principal point (160, 120) is the image centre in its
pixel-corner convention (pixel j covers [j, j + 1)), i.e. (159.5, 119.5) with pixel centres at integers."""


def rot_z(angle: float) -> np.ndarray:
    """(3, 3) ``Rz = [[c, -s, 0], [s, c, 0], [0, 0, 1]]``."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class SurrealGeometry:
    """How one clip maps into SURREAL's world and cameras (float64).

    Q (3, 3): our world -> SURREAL's world (from the first frame's camera). cam_loc (3,): SURREAL's
    ``camLoc`` (the first frame's). K (3, 3): SURREAL's intrinsics for joints2D (pixel centres at j + 0.5,
    mirrored principal point), the first frame's. zrot: radians. Per frame: cam_locs (T, 3) centres,
    cam_rs (T, 3, 3) SURREAL world-to-camera rotations (det -1; all ``SURREAL_R`` for a static camera),
    Ks (T, 3, 3) intrinsics. moving: whether the camera's K, R or t change over the clip.
    """

    Q: np.ndarray
    cam_loc: np.ndarray
    K: np.ndarray
    zrot: float
    cam_locs: np.ndarray
    cam_rs: np.ndarray
    Ks: np.ndarray
    moving: bool


def surreal_geometry(record: ClipRecord) -> SurrealGeometry:
    """The clip's :class:`SurrealGeometry`; ValueError for a skewed K."""
    R = record.R.astype(np.float64)
    K = record.K.astype(np.float64)
    if bool((K[:, 0, 1] != 0).any()):
        raise ValueError(f"{record.info.clip_id}: K: expected no skew (K[0, 1] = 0), got {K[:, 0, 1].max()}")
    Q = SURREAL_R_PROPER.T @ R[0]
    centres = np.stack([-r.T @ t for r, t in zip(R, record.t.astype(np.float64), strict=True)])
    w = record.image_size[1]
    Ks = np.zeros_like(K)
    Ks[:, 0, 0], Ks[:, 0, 2] = K[:, 0, 0], w - 0.5 - K[:, 0, 2]
    Ks[:, 1, 1], Ks[:, 1, 2] = K[:, 1, 1], K[:, 1, 2] + 0.5
    Ks[:, 2, 2] = 1.0
    cam_rs = np.diag([-1.0, 1.0, 1.0]) @ R @ Q.T
    zrot = float(np.mod(record.info.headings[0], 2 * np.pi))
    cam_locs = np.stack([Q @ c for c in centres])
    if record.static_camera:
        cam_rs[:] = SURREAL_R
    return SurrealGeometry(Q, cam_locs[0], Ks[0], zrot, cam_locs, cam_rs, Ks, not record.static_camera)


def surreal_project(
    points: np.ndarray, cam_loc: np.ndarray, K: np.ndarray, R_s: np.ndarray = SURREAL_R
) -> np.ndarray:
    """(..., 3) SURREAL world points -> (..., 2) SURREAL pixels ``K R_s (X - camLoc)`` (not rounded);
    ``cam_loc`` (..., 3), ``K`` and ``R_s`` (..., 3, 3) broadcast against the points' leading axes."""
    cam = np.einsum("...ij,...j->...i", R_s, points - cam_loc)
    return cam[..., :2] / cam[..., 2:] * np.stack([K[..., 0, 0], K[..., 1, 1]], -1) + K[..., :2, 2]


def surreal_pose(pose: np.ndarray, Q: np.ndarray, zrot: float) -> np.ndarray:
    """(T, 72) SMPL pose in our world -> SURREAL's: ``pose[0:3] = rotvec(Rz(zrot)^T R90^T Q G)``, the
    body pose unchanged (joint rotations are relative to their parents)."""
    G = Rotation.from_rotvec(pose[:, :3].astype(np.float64)).as_matrix()
    out = pose.astype(np.float64)
    out[:, :3] = Rotation.from_matrix(rot_z(zrot).T @ R90.T @ Q @ G).as_rotvec()
    return out


def light_in_surreal_world(coeffs: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """(9,) SH coefficients as our renderer uses them -> the coefficients giving the same irradiance in
    SURREAL's world. Our shading evaluates ``E(Rx(pi) n)`` at our world normal n; Blender evaluates
    ``E'(Q n)``. Solved by least squares on sphere samples (the 9 basis functions are independent),
    through :func:`sh_irradiance` itself, so it follows its convention whatever it is."""
    n = torch.as_tensor(_sphere_points(64))
    rx_pi = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64))
    m = n @ torch.as_tensor(Q).T @ rx_pi  # Rx(pi) Q n, what sh_irradiance must see for E'(Q n)
    basis = sh_irradiance(m[:, None, :], torch.eye(9, dtype=torch.float64)[None])  # (N, 9)
    target = sh_irradiance(n, torch.as_tensor(coeffs, dtype=torch.float64).expand(n.shape[0], 9))
    return torch.linalg.lstsq(basis, target[:, None]).solution[:, 0].numpy()


def _sphere_points(n: int) -> np.ndarray:
    """(n, 3) float64 unit vectors spread over the sphere (Fibonacci lattice)."""
    k = np.arange(n) + 0.5
    z = 1 - 2 * k / n
    phi = np.pi * (1 + 5**0.5) * k
    r = np.sqrt(1 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], -1)


def ray_lengths(height: int, width: int, K: np.ndarray) -> np.ndarray:
    """(H, W) float64 ``|K^-1 [u, v, 1]|`` at our pixel centres (u, v integers): Euclidean distance over
    planar depth at each pixel."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    rays = np.stack([u, v, np.ones_like(u)], -1) @ np.linalg.inv(K.astype(np.float64)).T
    return np.linalg.norm(rays, axis=-1)


def euclidean_depth(depth: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(T, H, W) planar depth -> float32 distance from the camera centre: ``z |K^-1 [u, v, 1]|``; K (3, 3)
    for every frame, or (T, 3, 3) per frame."""
    if K.ndim == 2 or bool((K == K[:1]).all()):
        return depth.astype(np.float32) * ray_lengths(*depth.shape[1:], K.reshape(-1, 3, 3)[0]).astype(
            np.float32
        )
    return np.stack([euclidean_depth(d[None], k)[0] for d, k in zip(depth, K, strict=True)])


def default_intrinsics(record: ClipRecord) -> bool:
    """Whether every frame's K is SURREAL's (:func:`surreal_intrinsics` at the record's size), as float32."""
    default = surreal_intrinsics(*record.image_size).astype(np.float32)
    return bool((record.K == default).all())


def surreal_intrinsics(height: int, width: int) -> np.ndarray:
    """(3, 3) float64 intrinsics of a SURREAL clip of ``height`` x ``width`` in our convention (pixel
    centres at integers). At 320x240, SURREAL's K with its pixel corners moved to our centres: focal 600,
    principal point (159.5, 119.5). SURREAL stores no K: other sizes (only our generator writes them) keep
    the principal point at the image centre and scale the focal with the width, as the generator's
    ``CameraConfig.focal`` does (exact for its default focal only)."""
    f = SURREAL_FOCAL * width / SURREAL_SIZE[1]
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])
