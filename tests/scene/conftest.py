"""Fixtures shared by the scene tests: one small two-person scene, loaded once for the package."""

from __future__ import annotations

import pytest

from synthhuman.scene import SceneAssets, SceneConfig


@pytest.fixture(scope="session")
def assets() -> SceneAssets:
    return SceneAssets(SceneConfig(frames=8, height=96, width=128, people=2))
