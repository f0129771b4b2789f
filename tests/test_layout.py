"""The package's layout, checked: every name of each flat API imports, and the import graph has floors
and no circles (the README's "Layout" section).

Floors, bottom to top: conventions; the small shared tools on it (rng, config, timing, atomic, _memory,
userfiles; then viz); render/; gt/; the pipeline; the assets (body/, motion/, appearance/, then the demo
scene and the benchmark built on them); scene/; io/; then the jobs (clip rendering, data/, the dataset
overview), the Ray tasks and train/, generate and fit/, and the CLI on top. A module imports only modules
on lower floors, or on its own floor inside its own package (the asset packages may also use each other).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import synthhuman

PACKAGE = Path(synthhuman.__file__).parent

FLOORS = {
    "": 0, "conventions": 0,  # "": the package's own __init__ (its version)
    "rng": 1, "config": 1, "timing": 1, "atomic": 1, "_memory": 1, "userfiles": 1,
    "viz": 2,
    "render": 3,
    "gt": 4,
    "pipeline": 5,
    "body": 6, "motion": 6, "appearance": 6,
    "demo_scene": 7,
    "bench": 8,
    "scene": 9,
    "io": 10,
    "rendering": 11, "data": 11, "overview": 11,
    "ray_tasks": 12, "train": 12,
    "generate": 13, "fit": 13,
    "cli_assets": 14, "cli_errors": 14, "cli_config": 14,
    "cli": 15,
}  # fmt: skip
SHARED_FLOOR = {"body", "motion", "appearance"}
"""Packages of one floor that may import each other (still without circles)."""


def module_name(path: Path) -> str:
    parts = ["synthhuman", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The synthhuman modules ``name`` imports anywhere in its file (lazy imports count too)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in MODULES else base)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m in MODULES and m != name}


def top(name: str) -> str:
    return name.split(".")[1] if name != "synthhuman" else ""


@pytest.mark.parametrize("name", [m for m in MODULES if m != "synthhuman"])
def test_module_imports_only_lower_floors(name):
    here = top(name)
    assert here in FLOORS, f"{name}: give its top-level name {here!r} a floor in FLOORS"
    for dep in sorted(imports_of(name)):
        there = top(dep)
        same_package = there == here or {here, there} <= SHARED_FLOOR
        assert FLOORS[there] < FLOORS[here] or same_package, f"{name} (floor {FLOORS[here]}) imports {dep}"


def test_no_import_circle():
    graph = {m: imports_of(m) for m in MODULES}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for dep in sorted(graph[m]):
            if state.get(dep) == 1:
                cycle = path[path.index(dep) :] + [dep] if dep in path else [m, dep]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep, path + [dep])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_render_imports_only_conventions():
    for name in (m for m in MODULES if m == "synthhuman.render" or m.startswith("synthhuman.render.")):
        outside = {d for d in imports_of(name) if top(d) != "render"}
        assert outside <= {"synthhuman.conventions"}, f"{name} imports {outside}"


FLAT_APIS = [
    "synthhuman.render", "synthhuman.gt", "synthhuman.pipeline", "synthhuman.scene", "synthhuman.data",
    "synthhuman.body", "synthhuman.motion", "synthhuman.fit",
]  # fmt: skip


@pytest.mark.parametrize("name", FLAT_APIS)
def test_every_name_of_a_flat_api_imports(name):
    module = importlib.import_module(name)
    assert len(module.__all__) == len(set(module.__all__)), f"{name}.__all__ repeats a name"
    for attr in module.__all__:
        value = getattr(module, attr)  # AttributeError names the missing one
        assert not isinstance(value, type(module)), f"{name}.{attr} is a module, not the API's object"


def test_render_functions_are_not_shadowed_by_modules():
    import synthhuman.render as render

    for attr in ("rasterize", "interpolate", "antialias"):
        assert callable(getattr(render, attr)) and not isinstance(getattr(render, attr), type(render))
