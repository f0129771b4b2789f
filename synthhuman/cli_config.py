"""The command line's flags mapped onto config mappings (``generate``'s and ``train``'s): the flags given
override the ``--config`` file's fields, and errors name the flags as the user wrote them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from synthhuman.config import ConfigError

if TYPE_CHECKING:  # for annotations only: the CLI imports what a command needs when it runs
    from synthhuman.generate import GenerateConfig
    from synthhuman.train.run import RunConfig

__all__ = ["SCENE_FLAGS", "generate_config", "run_config_from_flags", "scene_flags"]

SCENE_FLAGS = {
    "camera": ("scene", "camera", "mode"),
    "background_style": ("scene", "background", "style"),
    "clothing": ("scene", "texture", "style"),
    "degrade": ("scene", "degrade", "effects"),
    "occluders": ("scene", "occluders", "count"),
    "ground": ("scene", "ground", "enabled"),
}
"""Flags that set one field of a nested scene section (the rest of that section stays as the file has it);
``generate`` and ``train`` (its on-the-fly data) both take them."""


def scene_flags(
    camera: str | None,
    background_style: str | None,
    clothing: str | None,
    degrade: str | None,
    occluders: int | None,
    ground: bool,
) -> dict:
    """The scene flags given (None: not given), ``--degrade``'s list parsed."""
    flags = dict(camera=camera, background_style=background_style, clothing=clothing, occluders=occluders)
    if degrade is not None:
        from synthhuman.appearance.degrade import parse_effects

        flags["degrade"] = parse_effects(degrade, "--degrade")
    if ground:
        flags["ground"] = True
    return {k: v for k, v in flags.items() if v is not None}


def _config_data(
    out: Path, config: Path | None, flags: dict, sections: dict[str, tuple[str, ...]], spelled: dict[str, str]
) -> tuple[dict, dict[str, str]]:
    """A run's config as a mapping: the file's fields (if any), then every flag given on the command line
    (flags named in ``sections`` go into that nested section; those of :data:`SCENE_FLAGS` into theirs);
    and the flags' keys (dotted) -> the flags as written (``--name``, or as ``spelled`` gives them), so
    errors name what the user wrote."""
    from synthhuman.config import read_config_file

    data = read_config_file(config) if config is not None else {}
    if not isinstance(data, dict):
        raise ConfigError(f"{config}: expected a table of fields, got {type(data).__name__}")
    data["out"] = str(out)
    names = {"out": "--out"}
    for name, value in flags.items():
        if value is None:
            continue
        *path, leaf = SCENE_FLAGS.get(name) or (*_section(sections, name), name)
        target = data
        for depth, part in enumerate(path):
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                where = ".".join(path[: depth + 1])
                raise ConfigError(f"{config}: {where}: expected a table of fields, got {target!r}")
        target[leaf] = str(value) if isinstance(value, Path) else value
        names[".".join((*path, leaf))] = spelled.get(name, "--" + name.replace("_", "-"))
    return data, names


def _section(sections: dict[str, tuple[str, ...]], name: str) -> tuple[str, ...]:
    section = next((s for s, names in sections.items() if name in names), None)
    return tuple(section.split(".")) if section else ()


def generate_config(out: Path, config: Path | None, flags: dict) -> GenerateConfig:
    """``generate``'s config from its ``--config`` file and flags."""
    from synthhuman.config import from_mapping
    from synthhuman.generate import GenerateConfig

    sections = {"scene": ("frames", "height", "width", "people", "genders"),
                "assets": ("body", "motion", "shapes", "textures", "backgrounds", "uv_template"),
                "render": ("backend",)}  # fmt: skip
    spelled = {"preview": "--no-preview", "genders": "--gender"}
    data, names = _config_data(out, config, flags, sections, spelled)
    return from_mapping(GenerateConfig, data, str(config) if config else None, names)


def run_config_from_flags(out: Path, config: Path | None, flags: dict) -> RunConfig:
    """``train``'s run config from its ``--config`` file and flags."""
    from synthhuman.train.run import run_config

    sections = {"train": ("task", "steps", "batch", "stacks", "features", "input_size", "lr"),
                "render": ("backend",)}  # fmt: skip
    data, names = _config_data(out, config, flags, sections, {})
    return run_config(data, str(config) if config else None, names)
