"""What every config shares: field checks that name the bad field and the expected value, device names,
and reading a (nested) config from a TOML/YAML file into a frozen dataclass.

The configs themselves live with what they configure (``RenderConfig`` in :mod:`synthhuman.pipeline`,
``SceneConfig`` in :mod:`synthhuman.scene`, ``GenerateConfig`` in :mod:`synthhuman.generate`, ...); each
validates itself on construction. The CLI only maps flags onto them.
"""

from __future__ import annotations

import torch


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


def check_device_available(name: str, field_name: str = "device") -> torch.device:
    """The torch device ``name`` stands for, or ValueError naming ``field_name`` when this machine's torch
    cannot use it (a CUDA device on a CPU-only build or a machine without that GPU)."""
    check_device(name, field_name)
    device = resolve_device(name)
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(
                f"{field_name}: {name!r} asked for, but this torch ({torch.__version__}) sees no CUDA "
                "device; use cpu or auto"
            )
        if device.index is not None and device.index >= count:
            raise ValueError(f"{field_name}: {name!r} asked for, but only {count} CUDA device(s) exist")
    return device


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
