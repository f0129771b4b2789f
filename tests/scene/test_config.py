"""Scene configs: genders are checked against the project's conventions; the flat API is complete."""

from __future__ import annotations

import pytest

import synthhuman.scene
from synthhuman.conventions import GENDERS
from synthhuman.scene import SceneConfig


def test_genders_are_checked_against_the_conventions():
    assert SceneConfig().genders == ("female", "male")
    assert SceneConfig(genders=GENDERS).genders == GENDERS
    with pytest.raises(ValueError, match="genders"):
        SceneConfig(genders=("robot",))


def test_every_public_name_is_importable_from_the_package():
    for name in synthhuman.scene.__all__:
        assert getattr(synthhuman.scene, name) is not None
