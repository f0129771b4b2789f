"""Configs validate themselves and name the bad field."""

from __future__ import annotations

import pytest

from synthhuman.bench import BenchConfig
from synthhuman.pipeline import RenderConfig


@pytest.mark.parametrize(
    ("field", "value"),
    [("backend", "blender"), ("znear", 0.0), ("occlusion_tolerance", -1.0), ("joint_tolerance", -0.1)],
)
def test_render_config_rejects(field, value):
    with pytest.raises(ValueError, match=f"^{field}: expected"):
        RenderConfig(**{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("device", "tpu"),
        ("batch", 0),
        ("height", 0),
        ("width", -3),
        ("iterations", 0),
        ("warmup", -1),
        ("threads", 0),
    ],
)
def test_bench_config_rejects(field, value):
    with pytest.raises(ValueError, match=f"^{field}: expected"):
        BenchConfig(**{field: value})


def test_configs_are_frozen():
    cfg = RenderConfig()
    with pytest.raises(AttributeError):
        cfg.antialias = False  # type: ignore[misc]
