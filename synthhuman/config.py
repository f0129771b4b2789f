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


class ConfigError(ValueError):
    """A config field or command-line flag with a bad value: a usage error (the CLI exits with code 2).
    The message names the key as the user wrote it (``scene.frames`` in a file, ``--frames`` on the
    command line), what was expected and what was seen."""


def _describe(hint) -> str:
    import types
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        return "true or false"
    if hint is int:
        return "an integer"
    if hint is float:
        return "a number"
    if hint is str:
        return "text"
    if origin in (typing.Union, types.UnionType):
        return " or ".join("nothing" if a is type(None) else _describe(a) for a in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0])} values"
        return f"a list of {len(args)} values ({', '.join(_describe(a) for a in args)})"
    return getattr(hint, "__name__", str(hint))


_UNCHECKED = object()


def _checked(value: object, hint) -> object:
    """``value`` as a field typed ``hint`` takes it (lists become tuples), or ``_UNCHECKED`` when it does
    not fit. bool is not an int; an int is a number. Hints this does not know pass unchecked."""
    import types
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        return value if isinstance(value, bool) else _UNCHECKED
    if hint is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _UNCHECKED
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return value if ok else _UNCHECKED
    if hint is str:
        return value if isinstance(value, str) else _UNCHECKED
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for a in args:
            if a is not type(None) and (got := _checked(value, a)) is not _UNCHECKED:
                return got
        return _UNCHECKED
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            return _UNCHECKED
        kinds = [args[0]] * len(value) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(kinds) != len(value):
            return _UNCHECKED
        items = [_checked(v, k) for v, k in zip(value, kinds, strict=True)]
        return _UNCHECKED if any(i is _UNCHECKED for i in items) else tuple(items)
    return value


def from_mapping(
    cls, data: dict, where: str | None = "config", names: dict[str, str] | None = None, prefix: str = ""
):
    """Build the frozen dataclass ``cls`` from a (nested) mapping, e.g. a parsed TOML/YAML file: nested
    dataclass fields take nested mappings, tuples take lists; every value's type is checked against its
    field (bool is not an int). Errors are :class:`ConfigError` naming the key: dotted from the top
    (``scene.frames``) after ``where`` (the file), or as ``names`` maps it (``{"scene.frames": "--frames"}``
    for a command-line flag)."""
    import dataclasses
    import typing

    names = names or {}

    def fail(key: str, message: str) -> ConfigError:
        label = names.get(key, key)
        head = "" if label.startswith("--") or not where else f"{where}: "
        return ConfigError(f"{head}{label}: {message}" if label else f"{head}{message}")

    if not isinstance(data, dict):
        return_key = prefix[:-1]
        raise fail(return_key, f"expected a table of fields, got {type(data).__name__} {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise fail("", f"unknown field(s) {[prefix + k for k in unknown]}; known: {sorted(fields)}")
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = from_mapping(hint, value, where, names, f"{prefix}{name}.")
            continue
        got = _checked(value, hint)
        if got is _UNCHECKED:
            raise fail(prefix + name, f"expected {_describe(hint)}, got {value!r}")
        kwargs[name] = got
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        message = str(exc)
        head, sep, rest = message.partition(": ")
        leaf = head.rsplit(".", 1)[-1]
        if sep and " " not in head and leaf in fields:
            raise fail(prefix + leaf, rest) from None
        raise fail("", message) from None


def read_config_file(path) -> dict:
    """The mapping in a ``.toml``, ``.yaml`` or ``.yml`` file (errors name the file)."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
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
        raise ConfigError(f"{path}: not a valid {path.suffix[1:].upper()} file ({exc})") from None
    raise ConfigError(f"{path}: config file must end in .toml, .yaml or .yml")
