"""Frozen dataclasses configuring each stage; the CLI only maps flags onto them.

Every config validates itself on construction and names the bad field and the expected value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from synthhuman.conventions import DEFAULT_ZNEAR
from synthhuman.gt.flow import DEFAULT_OCCLUSION_TOLERANCE
from synthhuman.gt.joints import DEFAULT_JOINT_TOLERANCE

RASTERIZERS = ("synthhuman", "pytorch3d")


def require(ok: bool, name: str, expected: str, value: object) -> None:
    """Raise ValueError naming the field ``name``, what was expected and what was seen, unless ``ok``."""
    if not ok:
        raise ValueError(f"{name}: expected {expected}, got {value!r}")


DEVICE_CHOICES = "auto, cpu, cuda or cuda:N"


def check_device(name: str, field_name: str = "device") -> None:
    """Raise ValueError unless ``name`` is 'auto', 'cpu', 'cuda' or 'cuda:N'."""
    head, _, index = name.partition(":")
    ok = name == "auto" or (head in ("cpu", "cuda") and (not index or (head == "cuda" and index.isdigit())))
    require(ok, field_name, DEVICE_CHOICES, name)


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when available, else the CPU; any other name as torch reads it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


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


def from_mapping(cls, data: dict, where: str = "config"):
    """Build the frozen dataclass ``cls`` from a (nested) mapping, e.g. a parsed TOML/YAML file: nested
    dataclass fields take nested mappings, tuples take lists; unknown keys are errors naming them."""
    import dataclasses
    import typing

    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a table of fields, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; known: {sorted(fields)}")
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = from_mapping(hint, value, f"{where}.{name}")
        elif typing.get_origin(hint) is tuple and isinstance(value, list):
            kwargs[name] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        else:
            kwargs[name] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None


def read_config_file(path) -> dict:
    """The mapping in a ``.toml``, ``.yaml`` or ``.yml`` file (errors name the file)."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: config file not found")
    text = path.read_text()
    try:
        if path.suffix == ".toml":
            import tomllib

            return tomllib.loads(text)
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
            return data if data is not None else {}
    except Exception as exc:  # the parsers' own error types differ
        raise ValueError(f"{path}: not a valid {path.suffix[1:].upper()} file ({exc})") from None
    raise ValueError(f"{path}: config file must end in .toml, .yaml or .yml")
