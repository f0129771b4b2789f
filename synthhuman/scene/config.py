"""What decides a clip: the scene's configs (clip length and size, people, camera, motion, light,
texture, background) and where the assets come from, each checked in ``__post_init__``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from synthhuman.appearance.backgrounds import BackgroundConfig
from synthhuman.appearance.degrade import DegradeConfig
from synthhuman.appearance.lighting import LightConfig
from synthhuman.appearance.textures import TextureConfig
from synthhuman.config import require
from synthhuman.conventions import GENDERS
from synthhuman.scene.ground import GroundConfig
from synthhuman.scene.occluders import OccluderConfig

CAMERA_MODES = ("surreal", "varied", "moving")
"""``CameraConfig.mode``: SURREAL's camera, a random static camera per clip, or a moving camera."""
CAMERA_MOVES = ("dolly", "orbit", "pan", "shake")
"""The trajectories of a moving camera (``CameraConfig.moves``)."""


@dataclass(frozen=True)
class CameraConfig:
    """The camera of a clip (``docs/conventions.md``, section 3).

    mode "surreal" (default): a static camera per clip, level (no tilt or roll) at the height of the first
    frame's pelvis, as SURREAL's. focal: pixels at a width of 320 (scaled with the width). distance ~
    N(mean, std) metres from the scene's centre, at least ``distance_min``; with ``keep_in_frame`` the
    camera backs off until every person stays inside the image, ``margin`` (a fraction of the image) from
    its border, for the whole clip (SURREAL's people may walk out of frame).

    mode "varied": a static camera per clip with focal ~ U(``focal_range``) pixels at 320 wide, the
    sampled distance scaled by ``focal_sampled / focal`` (the person keeps SURREAL's image size), its eye
    ``height_range`` metres (uniform) above the ground, pitched to look at the scene's centre at the first
    frame's pelvis height, rolled by U(``roll_range``) degrees. The whole clip stays in frame, always.
    mode "moving": the same draws, then one trajectory per clip drawn uniformly from ``moves``: "dolly"
    (the distance changes by a factor U(``dolly_range``)), "orbit" (the camera turns about the scene's
    vertical axis by U(``orbit_range``) degrees, either way), "pan" (the camera turns about its own vertical
    by a fraction U(``pan_range``) of its half field of view, either way), "shake" (handheld: smooth
    low-frequency rotations of about ``shake_deg`` degrees). Every frame stays in frame.
    """

    mode: str = "surreal"
    focal: float = 600.0
    distance_mean: float = 8.0
    distance_std: float = 1.0
    distance_min: float = 2.5
    keep_in_frame: bool = True
    margin: float = 0.03
    focal_range: tuple[float, float] = (300.0, 1500.0)
    height_range: tuple[float, float] = (0.5, 2.5)
    roll_range: tuple[float, float] = (-10.0, 10.0)
    moves: tuple[str, ...] = CAMERA_MOVES
    dolly_range: tuple[float, float] = (0.7, 1.3)
    orbit_range: tuple[float, float] = (15.0, 90.0)
    pan_range: tuple[float, float] = (0.3, 1.0)
    shake_deg: float = 0.5

    def __post_init__(self) -> None:
        require(self.mode in CAMERA_MODES, "camera.mode", f"one of {CAMERA_MODES}", self.mode)
        require(self.focal > 0, "camera.focal", "> 0 pixels", self.focal)
        require(self.distance_std >= 0, "camera.distance_std", ">= 0 metres", self.distance_std)
        require(self.distance_min > 0, "camera.distance_min", "> 0 metres", self.distance_min)
        require(0 <= self.margin < 0.5, "camera.margin", "a fraction in [0, 0.5)", self.margin)
        ranges = {
            "focal_range": ("0 < low <= high pixels", 0.0, math.inf),
            "height_range": ("low <= high metres, each in (0, 100]", 0.0, 100.0),
            "roll_range": ("low <= high degrees, each in [-45, 45]", -45.0, 45.0),
            "dolly_range": ("low <= high factors, each in [0.25, 4]", 0.25, 4.0),
            "orbit_range": ("0 <= low <= high <= 360 degrees", 0.0, 360.0),
            "pan_range": ("0 <= low <= high <= 1 (fractions of the half field of view)", 0.0, 1.0),
        }
        for name, (expected, lo, hi) in ranges.items():
            a, b = getattr(self, name)
            strict = name in ("focal_range", "height_range", "dolly_range")
            ok = (
                all(math.isfinite(v) for v in (a, b))
                and a <= b
                and hi >= b
                and (a > lo if strict else a >= lo)
            )
            require(ok, f"camera.{name}", expected, getattr(self, name))
        require(len(self.moves) >= 1, "camera.moves", f"at least one of {CAMERA_MOVES}", self.moves)
        for m in self.moves:
            require(m in CAMERA_MOVES, "camera.moves", f"each one of {CAMERA_MOVES}", self.moves)
        require(0 <= self.shake_deg <= 5, "camera.shake_deg", "0..5 degrees", self.shake_deg)


@dataclass(frozen=True)
class MotionConfig:
    """How a clip's motion is drawn from a sequence: a window starting at a multiple of ``stride`` frames
    (SURREAL: 50), mirrored with ``mirror_prob``, played ``speed_range`` times faster (uniform), turned to
    a uniform heading. Sequences shorter than a clip are looped when cyclic, else held still at both ends
    (first and last pose) when at least ``min_fraction`` of a clip long, else skipped with the reason."""

    stride: int = 50
    mirror_prob: float = 0.5
    speed_range: tuple[float, float] = (0.8, 1.25)
    min_fraction: float = 0.4

    def __post_init__(self) -> None:
        require(self.stride >= 1, "motion.stride", ">= 1 frames", self.stride)
        require(0 <= self.mirror_prob <= 1, "motion.mirror_prob", "a probability", self.mirror_prob)
        lo, hi = self.speed_range
        require(0 < lo <= hi, "motion.speed_range", "0 < low <= high", self.speed_range)
        require(0 < self.min_fraction <= 1, "motion.min_fraction", "a fraction in (0, 1]", self.min_fraction)


@dataclass(frozen=True)
class SceneConfig:
    """Everything that decides what a clip looks like (not where it is written).

    frames at fps; image (height, width); people per scene (instance ids 1..P); genders drawn uniformly;
    age_range (years) of the default body's shapes; shape_sigma for other bodies without SURREAL shapes;
    person_gap: metres kept between people (their swept footprints); test_fraction: share of textures,
    backgrounds and user motions in the test split; degrade: image degradations applied to RGB after
    rendering (none by default; labels are never degraded); occluders: static objects between the camera
    and the people (none by default, :mod:`synthhuman.scene.occluders`); ground: the floor as geometry with
    contact shadows (off by default, :mod:`synthhuman.scene.ground`).
    """

    frames: int = 100
    fps: float = 30.0
    height: int = 240
    width: int = 320
    people: int = 1
    genders: tuple[str, ...] = ("female", "male")
    age_range: tuple[float, float] = (5.0, 90.0)
    shape_sigma: float = 1.0
    person_gap: float = 0.2
    test_fraction: float = 0.2
    camera: CameraConfig = field(default_factory=CameraConfig)
    motion: MotionConfig = field(default_factory=MotionConfig)
    light: LightConfig = field(default_factory=LightConfig)
    texture: TextureConfig = field(default_factory=TextureConfig)
    background: BackgroundConfig = field(default_factory=BackgroundConfig)
    degrade: DegradeConfig = field(default_factory=DegradeConfig)
    occluders: OccluderConfig = field(default_factory=OccluderConfig)
    ground: GroundConfig = field(default_factory=GroundConfig)

    def __post_init__(self) -> None:
        require(self.frames >= 2, "frames", ">= 2", self.frames)
        require(math.isfinite(self.fps) and self.fps > 0, "fps", "> 0", self.fps)
        for name in ("height", "width"):
            v = getattr(self, name)
            require(v >= 16 and v % 2 == 0, name, "an even number of pixels >= 16 (H.264 yuv420p)", v)
        require(1 <= self.people <= 255, "people", "1..255 (uint8 instance ids)", self.people)
        total = self.people + self.occluders.count + int(self.ground.enabled)
        require(
            total <= 255,
            "occluders",
            f"people + occluders (+ 1 ground) <= 255 (uint8 instance ids), {self.people} people",
            self.occluders.count,
        )
        require(len(self.genders) >= 1, "genders", "at least one gender", self.genders)
        for g in self.genders:
            require(g in GENDERS, "genders", f"each one of {GENDERS}", self.genders)
        require(self.shape_sigma >= 0, "shape_sigma", ">= 0", self.shape_sigma)
        require(self.person_gap >= 0, "person_gap", ">= 0 metres", self.person_gap)
        require(0 < self.test_fraction < 1, "test_fraction", "a fraction in (0, 1)", self.test_fraction)

    @property
    def focal_pixels(self) -> float:
        return self.camera.focal * self.width / 320.0


@dataclass(frozen=True)
class AssetConfig:
    """Where assets come from; None: the bundled defaults (default body, DeepMimic clips, procedural
    textures and backgrounds). body: an SMPL-family file or an ``smplx.create``-style folder; motion: a
    motion file (AMASS / SURREAL smpl_data / our npz / BVH) or a folder of them; shapes: SURREAL's
    ``smpl_data.npz`` (``maleshapes``/``femaleshapes``); textures: a texture folder (SURREAL layout or
    images); backgrounds: an image folder, or "skimage" for scikit-image's bundled CC0 photos mixed in;
    uv_template: a ``.obj`` with the body's UVs."""

    body: str | None = None
    motion: str | None = None
    shapes: str | None = None
    textures: str | None = None
    backgrounds: str | None = None
    uv_template: str | None = None

    def __post_init__(self) -> None:
        for name in ("body", "motion", "shapes", "textures", "backgrounds", "uv_template"):
            value = getattr(self, name)
            if value is None or (name == "backgrounds" and value == "skimage"):
                continue
            require(Path(value).exists(), name, "an existing file or folder", value)
