"""Varied and moving cameras (``CameraConfig.mode`` "varied" and "moving"): what is random about them
(:func:`sample_camera`, drawn from the clip's own camera generator, never from the clip's main one, so
SURREAL's mode draws exactly what it always drew) and the per-frame cameras of a built clip
(:func:`camera_path`), placed so that every frame of the clip stays in frame.

Geometry (``docs/conventions.md``, section 3). The camera aims at ``aim`` (the centre of the clip's x-z
bounding box, at the first frame's pelvis height) from the unit direction ``u(phi) = (sin phi cos theta,
sin theta, cos phi cos theta)`` (``phi`` azimuth, 0: on the +Z side, as SURREAL's; ``theta`` pitch, > 0:
above the aim, looking down), rolled by ``roll`` about its optical axis. Each frame's camera is a rotation
``R_t`` and an eye ``aim + d w_t``: ``X_cam = R_t (X - aim) - d R_t w_t`` is affine in the one distance
``d`` of the clip, so the smallest ``d`` keeping every vertex of frame t inside frame t's image (for all
t) is exact: a maximum of linear bounds, no search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from synthhuman.render import look_at
from synthhuman.scene.config import CameraConfig, SceneConfig

MAX_PITCH = math.radians(60.0)
"""Largest pitch (either way) a camera height may ask for; beyond it the camera keeps this pitch."""
SHAKE_WAVES = 3
"""Sinusoids summed per rotation axis of a handheld shake."""
SHAKE_HZ = (0.2, 1.5)
"""Frequencies (Hz) of the shake's sinusoids: slow, like a hand's drift and breathing."""
SHAKE_FOV_SHARE = 0.2
"""A shake's amplitude is at most this share of the smaller half field of view (long lenses shake less)."""


@dataclass(frozen=True)
class CameraParams:
    """What is random about a varied or moving camera (:func:`sample_camera`).

    focal: pixels at a width of 320. height: the eye's height above the ground (metres) asked for; the
    pitch follows from it. roll: radians about the optical axis. move: "static" (mode "varied") or one of
    ``CAMERA_MOVES``. amount: the move's size: dolly: the distance's final factor; orbit: radians about
    the vertical (signed); pan: signed fraction of the smaller half field of view; static and shake: 0.
    shake: (3, SHAKE_WAVES, 3) float64, per camera axis (x: pitch, y: yaw, z: roll) each sinusoid's
    (frequency Hz, phase radians, weight); weights of an axis sum to 1 in absolute value.
    """

    focal: float
    height: float
    roll: float
    move: str
    amount: float
    shake: Tensor


@dataclass(frozen=True)
class CameraPath:
    """Per-frame cameras of a clip. R (T, 3, 3), t (T, 3) float64 (OpenCV, world to camera); focal:
    pixels at the clip's width; distance: metres from the aim to the eye at the trajectory's start
    (``w_0`` is a unit vector); info: what ``info.json`` records about the camera (JSON values)."""

    R: Tensor
    t: Tensor
    focal: float
    distance: float
    info: dict


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen, dtype=torch.float64))


def sample_camera(cfg: CameraConfig, gen: torch.Generator) -> CameraParams:
    """Draw a varied (``cfg.mode`` "varied") or moving camera from ``gen``, in a fixed order: focal,
    height, roll; then (moving) the move, its amount and direction, and the shake's sinusoids."""
    focal = _uniform(gen, *cfg.focal_range)
    height = _uniform(gen, *cfg.height_range)
    roll = math.radians(_uniform(gen, *cfg.roll_range))
    move, amount = "static", 0.0
    shake = torch.zeros(3, SHAKE_WAVES, 3, dtype=torch.float64)
    if cfg.mode == "moving":
        move = cfg.moves[int(torch.randint(len(cfg.moves), (), generator=gen))]
        sign = 1.0 if bool(torch.rand((), generator=gen) < 0.5) else -1.0
        if move == "dolly":
            amount = _uniform(gen, *cfg.dolly_range)
        elif move == "orbit":
            amount = sign * math.radians(_uniform(gen, *cfg.orbit_range))
        elif move == "pan":
            amount = sign * _uniform(gen, *cfg.pan_range)
        u = torch.rand(3, SHAKE_WAVES, 3, generator=gen, dtype=torch.float64)
        weights = 2 * u[..., 2] - 1
        shake = torch.stack(
            [
                SHAKE_HZ[0] + (SHAKE_HZ[1] - SHAKE_HZ[0]) * u[..., 0],
                2 * math.pi * u[..., 1],
                weights / weights.abs().sum(-1, keepdim=True).clamp_min(1e-12),
            ],
            -1,
        )
    return CameraParams(focal, height, roll, move, amount, shake)


def _direction(phi: Tensor, theta: float) -> Tensor:
    """(T, 3) unit vectors from the aim to the eye at azimuths ``phi`` (T,) and pitch ``theta``."""
    c = math.cos(theta)
    return torch.stack([torch.sin(phi) * c, torch.full_like(phi, math.sin(theta)), torch.cos(phi) * c], -1)


def _axis_rotation(angle: Tensor, axis: int) -> Tensor:
    """(T, 3, 3) rotations by ``angle`` (T,) about coordinate axis ``axis`` (right-handed)."""
    c, s = torch.cos(angle), torch.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out = torch.eye(3, dtype=angle.dtype).repeat(angle.shape[0], 1, 1)
    out[:, i, i], out[:, i, j], out[:, j, i], out[:, j, j] = c, -s, s, c
    return out


def _looking(direction: Tensor, roll: float) -> Tensor:
    """(T, 3, 3) rotations of cameras looking along ``-direction`` (T, 3), world +Y up in the image,
    then rolled by ``roll`` about their optical axis."""
    R, _ = look_at(direction, torch.zeros_like(direction))
    return _axis_rotation(torch.full_like(direction[:, 0], roll), 2) @ R


def _smooth(T: int) -> Tensor:
    """(T,) float64 ease-in-out from 0 to 1 over the clip: ``(1 - cos(pi tau)) / 2``, tau = t / (T - 1)."""
    tau = torch.arange(T, dtype=torch.float64) / max(T - 1, 1)
    return (1 - torch.cos(math.pi * tau)) / 2


def shake_angles(shake: Tensor, T: int, fps: float, amplitude: float) -> Tensor:
    """(T, 3) float64 angles (radians; camera x, y, z) of a handheld shake: per axis the weighted sum of
    its sinusoids ``sum_k w_k sin(2 pi f_k t / fps + phase_k)`` times ``amplitude``; ``|angle| <=
    amplitude``. shake: (3, K, 3) as :class:`CameraParams` holds it."""
    time = torch.arange(T, dtype=torch.float64)[:, None, None] / fps
    freq, phase, weight = shake.unbind(-1)
    return amplitude * (weight * torch.sin(2 * math.pi * freq * time + phase)).sum(-1)


def _trajectory(params: CameraParams, theta: float, half_fov: float, T: int, fps: float, cam: CameraConfig):
    """(R (T, 3, 3), w (T, 3)) of the move; ``|w_0| = 1``. half_fov: radians, the smaller one."""
    ease = _smooth(T)
    zero = torch.zeros(T, dtype=torch.float64)
    w = _direction(zero, theta)
    R = _looking(w, params.roll)
    if params.move == "dolly":
        w = w * (1 + (params.amount - 1) * ease)[:, None]
    elif params.move == "orbit":
        w = _direction(params.amount * (ease - 0.5), theta)
        R = _looking(w, params.roll)
    elif params.move == "pan":  # the camera turns about the world vertical through its eye: R G^T
        R = R @ _axis_rotation(params.amount * half_fov * (ease - 0.5), 1).transpose(-1, -2)
        w = w[:1].expand(T, 3)
    elif params.move == "shake":
        amplitude = min(math.radians(cam.shake_deg), SHAKE_FOV_SHARE * half_fov)
        a = shake_angles(params.shake, T, fps, amplitude)
        R = _axis_rotation(a[:, 0], 0) @ _axis_rotation(a[:, 1], 1) @ _axis_rotation(a[:, 2], 2) @ R
    return R, w


def fitted_distance(
    points: Tensor, aim: Tensor, R: Tensor, w: Tensor, distance: float, f: float, cfg: SceneConfig
) -> float:
    """The smallest distance >= ``distance`` at which every point of each frame, ``points`` (T, N, 3)
    world, projects inside that frame's image (``cfg.camera.margin`` from its border) and lies at least
    ``distance_min`` in front of the camera, for the cameras ``R`` (T, 3, 3), eyes ``aim + d w`` (w (T, 3)).
    Each condition is ``c d <= r`` (camera coordinates ``p + d q``): c < 0 bounds d below, c > 0 above.
    ValueError when the bounds leave no distance (a trajectory turning wider than the field of view)."""
    cam = cfg.camera
    p = torch.einsum("tij,tnj->tni", R, points - aim)  # (T, N, 3)
    q = -torch.einsum("tij,tj->ti", R, w)  # (T, 3)
    half = (cfg.width / 2 - cam.margin * cfg.width, cfg.height / 2 - cam.margin * cfg.height)
    cs, rs = [], []
    for axis in (0, 1):
        for sign in (1.0, -1.0):
            cs.append(sign * f * q[:, axis] - half[axis] * q[:, 2])
            rs.append((half[axis] * p[..., 2] - sign * f * p[..., axis]).amin(1))
    cs.append(-q[:, 2])
    rs.append((p[..., 2] - cam.distance_min).amin(1))
    c, r = torch.stack(cs), torch.stack(rs)  # (5, T)
    below = torch.where(c < 0, r / c.where(c < 0, -1.0), -math.inf).max()
    above = torch.where(c > 0, r / c.where(c > 0, 1.0), math.inf).min()
    never = bool(((c == 0) & (r < 0)).any())
    d = max(distance, float(below))
    if never or d > float(above):
        raise ValueError(
            f"camera: no distance keeps the clip in frame along this trajectory (needs >= {d:.3f} m and "
            f"<= {float(above):.3f} m); narrow camera.pan_range or camera.shake_deg"
        )
    return d


def camera_path(
    points: Tensor, aim: Tensor, distance: float, params: CameraParams, cfg: SceneConfig
) -> CameraPath:
    """Per-frame cameras of a varied or moving clip. points: (T, N, 3) float64 world, every vertex of each
    frame; aim: (3,) float64 (the x-z centre at the first frame's pelvis height); distance: the clip's
    sampled distance (SURREAL's N(8, 1) m draw), scaled by ``params.focal / cfg.camera.focal`` so a
    person keeps SURREAL's image size, at least ``distance_min``; then, with ``keep_in_frame``, increased as
    little as needed for every frame to stay in frame (:func:`fitted_distance`)."""
    cam = cfg.camera
    T = points.shape[0]
    f = params.focal * cfg.width / 320.0
    d0 = max(cam.distance_min, distance * params.focal / cam.focal)
    rise = (params.height - float(aim[1])) / d0
    theta = math.asin(max(-math.sin(MAX_PITCH), min(math.sin(MAX_PITCH), rise)))
    half_fov = math.atan(min(cfg.width, cfg.height) / 2 / f)
    R, w = _trajectory(params, theta, half_fov, T, cfg.fps, cam)
    d = fitted_distance(points, aim, R, w, d0, f, cfg) if cam.keep_in_frame else d0
    eye = aim + d * w
    t = -torch.einsum("tij,tj->ti", R, eye)
    info = {
        "mode": cam.mode,
        "move": params.move,
        "amount": params.amount,
        "focal": params.focal,
        "height": float(eye[0, 1]),
        "sampled_height": params.height,
        "pitch": theta,
        "roll": params.roll,
        "scaled_distance": d0,
    }
    return CameraPath(R, t, f, d, info)
