"""The typed records that pass between the pipeline, the dataset writers and their readers.

:class:`ClipRecord` is a rendered clip in memory: the one thing every writer (canonical, SURREAL,
WebDataset) takes, and what the canonical reader gives back. :class:`ClipRef` names a clip of a run;
:class:`DiskClip` is a finished clip found on disk and :class:`FrameLabels` frames read from it. Arrays are
numpy, in the conventions of ``docs/conventions.md`` (our world: +Y up; OpenCV camera; planar depth;
forward flow). T frames, P people, H x W pixels, 24 SMPL joints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synthhuman.conventions import NUM_JOINTS, clip_id
from synthhuman.io.video import read_mp4


@dataclass(frozen=True)
class ClipRef:
    """Clip ``index`` of ``split`` in a run; its name is :func:`synthhuman.conventions.clip_id`."""

    split: str
    index: int

    @property
    def clip_id(self) -> str:
        return clip_id(self.index)


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

    rgb (T, H, W, 3) uint8, or None for a clip read back without its video. depth (T, H, W) float32
    planar camera z in metres, 0 background. normals (T, H, W, 3) float16 unit, camera axes, 0 background.
    segm (T, H, W) uint8, 0 background, 1..24 parts. instance (T, H, W) uint8, 0 background, 1..P.
    flow (T, H, W, 2) float32 forward flow in pixels (du, dv) from t to t+1;
    flow_valid (T, H, W) bool (false on the last frame).
    flow_backward (T, H, W, 2) float32 or None: for the point seen at frame t, its pixel motion from t-1 to
    t (SURREAL's flow before its sign change; 0 on frame 0 and off the body); only computed when a writer
    needs it.
    joints2d (T, P, 24, 2) float32 pixels; joints3d (T, P, 24, 3) float32 camera space; joints3d_world
    (T, P, 24, 3) float32 world (read back: recomputed from joints3d and the camera, float32 rounding);
    joints_visible (T, P, 24) bool.
    pose (T, P, 72) float32 SMPL axis-angle in our world (global orientation includes the heading);
    betas (P, n) float32; trans (T, P, 3) float32 (smplx ``transl``); gender (P,) str.
    K (T, 3, 3), R (T, 3, 3), t (T, 3) float32: each frame's camera (OpenCV, ``X_cam = R X + t``; equal
    for every frame when the camera is static). light (P, 9) float32 SH coefficients.
    """

    info: ClipInfo
    rgb: np.ndarray | None
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
        t, h, w = _shape("depth", self.depth, np.float32, 3)
        p = self.pose.shape[1] if self.pose.ndim == 3 else -1
        expected = {
            "rgb": ((t, h, w, 3), np.uint8),
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
            "K": ((t, 3, 3), np.float32),
            "R": ((t, 3, 3), np.float32),
            "t": ((t, 3), np.float32),
            "light": ((p, 9), np.float32),
        }
        if self.flow_backward is not None:
            expected["flow_backward"] = ((t, h, w, 2), np.float32)
        if self.rgb is None:
            del expected["rgb"]
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
        return self.depth.shape[0]

    @property
    def num_people(self) -> int:
        return self.pose.shape[1]

    @property
    def image_size(self) -> tuple[int, int]:
        """(H, W)."""
        return self.depth.shape[1], self.depth.shape[2]

    @property
    def static_camera(self) -> bool:
        """Whether every frame has frame 0's camera (K, R and t)."""
        return all(bool((a == a[:1]).all()) for a in (self.K, self.R, self.t))

    def require_rgb(self) -> np.ndarray:
        """``rgb``, or a ValueError naming the clip when it was read back without its video."""
        if self.rgb is None:
            raise ValueError(f"{self.info.clip_id}: ClipRecord.rgb: expected (T, H, W, 3) frames, got None")
        return self.rgb


def _shape(name: str, a: np.ndarray, dtype, ndim: int) -> tuple[int, ...]:
    if not isinstance(a, np.ndarray) or a.ndim != ndim or a.dtype != dtype:
        got = (getattr(a, "shape", None), getattr(a, "dtype", type(a).__name__))
        raise ValueError(f"ClipRecord.{name}: expected a {ndim}-d {np.dtype(dtype)} array, got {got}")
    return a.shape


@dataclass(frozen=True)
class DiskClip:
    """One finished clip on disk.

    format: "canonical", "surreal" or "webdataset". clip_id: its name prefixed by the split:
    ``"train/000012"`` (canonical, webdataset) or ``"train/run0/01_01/01_01_c0001"`` (SURREAL: the clip's
    path under the split folder, since SURREAL's runs reuse clip names). folder: the folder holding its
    files (webdataset: the shard, a tar file); name: the clip folder's name (canonical), SURREAL's file
    prefix ``<seq>_cNNNN`` or the clip id in the shard. num_frames: T; num_people: P (SURREAL: 1).
    """

    format: str
    clip_id: str
    folder: Path
    name: str
    num_frames: int
    num_people: int

    def path(self, part: str) -> Path:
        """The file holding ``part``: 'video' or 'info'; 'labels' (canonical); 'depth' or 'segm' (SURREAL)."""
        if self.format == "canonical":
            files = {"video": "rgb.mp4", "info": "info.json", "labels": "labels.npz"}
        else:
            files = {"video": f"{self.name}.mp4"}
            files.update({p: f"{self.name}_{p}.mat" for p in ("info", "depth", "segm")})
        if part not in files:
            raise ValueError(f"part: expected one of {sorted(files)} for a {self.format} clip, got {part!r}")
        return self.folder / files[part]


@dataclass(frozen=True)
class FrameLabels:
    """N frames read back from a clip on disk, each with the joints of one person of interest, in our
    conventions whatever the format (SURREAL's frames in its own, mirrored image).

    image (N, H, W, 3) uint8; depth (N, H, W) planar metres, 0 background; segm (N, H, W) uint8 24-part
    labels; joints2d (N, 24, 2) pixels; joints3d (N, 24, 3) camera space, metres.
    """

    image: np.ndarray
    depth: np.ndarray
    segm: np.ndarray
    joints2d: np.ndarray
    joints3d: np.ndarray


def read_clip_video(clip: DiskClip) -> np.ndarray:
    """(T, H, W, 3) uint8: the whole video of ``clip`` (clips are short), checked to hold its T frames."""
    video = clip.path("video")
    if not video.is_file():
        raise FileNotFoundError(f"{video}: missing (clip {clip.clip_id})")
    rgb = read_mp4(video)
    check_shape(video, "frames", rgb, (clip.num_frames, None, None, 3))
    return rgb


def check_shape(path: str | os.PathLike, name: str, a: np.ndarray, shape: tuple[int | None, ...]) -> None:
    """ValueError naming the file and the field unless ``a`` has ``shape`` (None: any size)."""
    if a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape, strict=True)):
        expected = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{path}: {name}: expected shape {expected}, got {a.shape}")
