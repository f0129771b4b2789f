"""A rendered clip in memory, the one thing every dataset writer (canonical, SURREAL, WebDataset) takes.

Arrays are numpy, in the canonical conventions of DESIGN.md section 3 (our world: +Y up; OpenCV camera;
planar depth; forward flow). T frames, P people, H x W pixels, 24 SMPL joints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NUM_JOINTS = 24


@dataclass(frozen=True)
class ClipInfo:
    """What was sampled for a clip, by name (``info.json``): per person the motion, texture, gender and
    heading (radians about +Y), and the clip's background, light source, camera distance and seeds."""

    clip_id: str
    split: str
    index: int
    seed: int
    fps: float
    motions: tuple[str, ...]
    motion_starts: tuple[int, ...]
    textures: tuple[str, ...]
    genders: tuple[str, ...]
    headings: tuple[float, ...]
    background: str
    camera_distance: float
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ClipRecord:
    """One clip's frames, ground truth and parameters.

    rgb (T, H, W, 3) uint8. depth (T, H, W) float32 planar camera z in metres, 0 background.
    normals (T, H, W, 3) float16 unit, camera axes, 0 background. segm (T, H, W) uint8, 0 background,
    1..24 parts. instance (T, H, W) uint8, 0 background, 1..P. flow (T, H, W, 2) float32 forward flow in
    pixels (du, dv) from t to t+1; flow_valid (T, H, W) bool (false on the last frame).
    flow_backward (T, H, W, 2) float32 or None: for the point seen at frame t, its pixel motion from t-1 to
    t (SURREAL's flow before its sign change; 0 on frame 0 and off the body); only computed when a writer
    needs it.
    joints2d (T, P, 24, 2) float32 pixels; joints3d (T, P, 24, 3) float32 camera space; joints3d_world
    (T, P, 24, 3) float32 world; joints_visible (T, P, 24) bool.
    pose (T, P, 72) float32 SMPL axis-angle in our world (global orientation includes the heading);
    betas (P, n) float32; trans (T, P, 3) float32 (smplx ``transl``); gender (P,) str.
    K (3, 3), R (3, 3), t (3,) float32: the static camera. light (P, 9) float32 SH coefficients.
    """

    info: ClipInfo
    rgb: np.ndarray
    depth: np.ndarray
    normals: np.ndarray
    segm: np.ndarray
    instance: np.ndarray
    flow: np.ndarray
    flow_valid: np.ndarray
    joints2d: np.ndarray
    joints3d: np.ndarray
    joints3d_world: np.ndarray
    joints_visible: np.ndarray
    pose: np.ndarray
    betas: np.ndarray
    trans: np.ndarray
    gender: np.ndarray
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    light: np.ndarray
    flow_backward: np.ndarray | None = None

    def __post_init__(self) -> None:
        t, h, w, _ = _shape("rgb", self.rgb, np.uint8, 4)
        p = self.pose.shape[1] if self.pose.ndim == 3 else -1
        expected = {
            "depth": ((t, h, w), np.float32),
            "normals": ((t, h, w, 3), np.float16),
            "segm": ((t, h, w), np.uint8),
            "instance": ((t, h, w), np.uint8),
            "flow": ((t, h, w, 2), np.float32),
            "flow_valid": ((t, h, w), np.bool_),
            "joints2d": ((t, p, NUM_JOINTS, 2), np.float32),
            "joints3d": ((t, p, NUM_JOINTS, 3), np.float32),
            "joints3d_world": ((t, p, NUM_JOINTS, 3), np.float32),
            "joints_visible": ((t, p, NUM_JOINTS), np.bool_),
            "pose": ((t, p, 72), np.float32),
            "trans": ((t, p, 3), np.float32),
            "K": ((3, 3), np.float32),
            "R": ((3, 3), np.float32),
            "t": ((3,), np.float32),
            "light": ((p, 9), np.float32),
        }
        if self.flow_backward is not None:
            expected["flow_backward"] = ((t, h, w, 2), np.float32)
        for name, (shape, dtype) in expected.items():
            a = getattr(self, name)
            if a.shape != shape or a.dtype != dtype:
                raise ValueError(
                    f"ClipRecord.{name}: expected shape {shape} dtype {np.dtype(dtype)}, "
                    f"got {a.shape} {a.dtype}"
                )
        if self.betas.ndim != 2 or self.betas.shape[0] != p:
            raise ValueError(f"ClipRecord.betas: expected shape ({p}, n), got {self.betas.shape}")
        if self.gender.shape != (p,):
            raise ValueError(f"ClipRecord.gender: expected shape ({p},), got {self.gender.shape}")

    @property
    def num_frames(self) -> int:
        return self.rgb.shape[0]

    @property
    def num_people(self) -> int:
        return self.pose.shape[1]

    @property
    def image_size(self) -> tuple[int, int]:
        """(H, W)."""
        return self.rgb.shape[1], self.rgb.shape[2]


def _shape(name: str, a: np.ndarray, dtype, ndim: int) -> tuple[int, ...]:
    if not isinstance(a, np.ndarray) or a.ndim != ndim or a.dtype != dtype:
        got = (getattr(a, "shape", None), getattr(a, "dtype", type(a).__name__))
        raise ValueError(f"ClipRecord.{name}: expected a {ndim}-d {np.dtype(dtype)} array, got {got}")
    return a.shape
