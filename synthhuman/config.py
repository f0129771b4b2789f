"""Frozen dataclasses configuring each stage; the CLI only maps flags onto them.

Every config validates itself on construction and names the bad field and the expected value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from synthhuman.conventions import DEFAULT_ZNEAR
from synthhuman.gt.flow import DEFAULT_OCCLUSION_TOLERANCE
from synthhuman.gt.joints import DEFAULT_JOINT_TOLERANCE

RASTERIZERS = ("synthhuman", "pytorch3d")


def require(ok: bool, name: str, expected: str, value: object) -> None:
    """Raise ValueError naming the field ``name``, what was expected and what was seen, unless ``ok``."""
    if not ok:
        raise ValueError(f"{name}: expected {expected}, got {value!r}")


@dataclass(frozen=True)
class RenderConfig:
    """How :func:`synthhuman.render.renderer.render_frames` renders a batch.

    rasterizer: "synthhuman" (ours, always available) or "pytorch3d" (when importable).
    antialias: smooth silhouettes (and give them gradients); label layers stay point-sampled either way.
    znear: metres; faces with a vertex nearer than this are culled.
    occlusion_tolerance: metres; flow's occlusion test (synthhuman.gt.flow).
    joint_tolerance: metres; joints' visibility test (synthhuman.gt.joints).
    """

    rasterizer: str = "synthhuman"
    antialias: bool = True
    znear: float = DEFAULT_ZNEAR
    occlusion_tolerance: float = DEFAULT_OCCLUSION_TOLERANCE
    joint_tolerance: float = DEFAULT_JOINT_TOLERANCE

    def __post_init__(self) -> None:
        require(self.rasterizer in RASTERIZERS, "rasterizer", f"one of {RASTERIZERS}", self.rasterizer)
        require(self.znear > 0, "znear", "> 0 metres", self.znear)
        require(self.occlusion_tolerance >= 0, "occlusion_tolerance", ">= 0 metres", self.occlusion_tolerance)
        require(self.joint_tolerance >= 0, "joint_tolerance", ">= 0 metres", self.joint_tolerance)


@dataclass(frozen=True)
class BenchConfig:
    """``synthhuman bench``: render ``iterations`` timed batches of ``batch`` frames of the test clip."""

    device: str = "cpu"
    batch: int = 32
    height: int = 240
    width: int = 320
    iterations: int = 10
    warmup: int = 2
    threads: int | None = None
    render: RenderConfig = field(default_factory=RenderConfig)

    def __post_init__(self) -> None:
        require(self.device.split(":")[0] in ("cpu", "cuda"), "device", "cpu, cuda or cuda:N", self.device)
        for name in ("batch", "height", "width", "iterations"):
            require(getattr(self, name) >= 1, name, ">= 1", getattr(self, name))
        require(self.warmup >= 0, "warmup", ">= 0", self.warmup)
        require(self.threads is None or self.threads >= 1, "threads", ">= 1 or None", self.threads)
