"""Flags mapped onto configs: the scene flags reach generate's and train's scene sections, over the config
file's other fields of the same section; ``generate --ground`` end to end (info.json, the instance layer,
one error line for a bad ``scene.ground`` value)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from synthhuman.appearance.materials import MATERIALS
from synthhuman.cli import app
from synthhuman.cli_config import generate_config, run_config_from_flags, scene_flags


def test_scene_flags_reach_train_and_generate_configs(tmp_path):
    flags = scene_flags("moving", "surreal-style", "fabric", "blur,noise", 2, True)
    cfg_file = tmp_path / "run.toml"
    cfg_file.write_text("[scene.camera]\nfocal_range = [400.0, 900.0]\n[scene.occluders]\ncount = 5\n")
    for make in (generate_config, run_config_from_flags):
        cfg = make(tmp_path / "out", cfg_file, dict(flags))
        scene = cfg.scene
        assert scene.camera.mode == "moving" and tuple(scene.camera.focal_range) == (400.0, 900.0)
        assert scene.background.style == "surreal-style" and scene.texture.style == "fabric"
        assert tuple(scene.degrade.effects) == ("blur", "noise")
        assert scene.occluders.count == 2 and scene.ground.enabled
    assert scene_flags(None, None, None, None, None, False) == {}
    default = run_config_from_flags(tmp_path / "out", None, {})
    assert default.scene.camera.mode == "surreal" and default.scene.occluders.count == 0


def test_generate_ground_flag_reaches_info_and_the_instance_layer(tmp_path):
    out = tmp_path / "ground"
    res = CliRunner().invoke(
        app,
        ["generate", "--out", str(out), "--clips", "1", "--frames", "4", "--height", "48", "--width", "64",
         "--device", "cpu", "--no-preview", "--ground", "--occluders", "1"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["scene"]["ground"]["enabled"] is True
    (clip,) = (out / "train").iterdir()
    extra = json.loads((clip / "info.json").read_text())["extra"]
    ground = extra["ground"]
    assert set(ground) == {"material", "core", "extent", "labels"}
    assert ground["material"] in MATERIALS
    x0, z0, x1, z1 = ground["core"]
    assert x0 < x1 and z0 < z1 and ground["extent"] == 1000.0 and ground["labels"] is True
    with np.load(clip / "labels.npz") as labels:
        instance, segm, depth = labels["instance"], labels["segm"], labels["depth"]
        people = labels["pose"].shape[1]
    ground_id = people + len(extra["occluders"]) + 1  # P + K + 1: after people and occluders
    assert ground_id == 3 and int(instance.max()) == ground_id
    on_ground = instance == ground_id
    assert on_ground.sum() > 0.1 * on_ground.size  # the floor fills a good part of each frame
    assert not segm[on_ground].any() and bool((depth[on_ground] > 0).all())


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("shadow = 2.0", "scene.ground.shadow: expected a strength in [0, 1], got 2.0"),
        ("extent = 5.0", "scene.ground.extent: expected 10..100000 metres, got 5.0"),
        ("material_probs = [1.0]", "scene.ground.material_probs: expected 5 non-negative weights"),
    ],
)
def test_a_bad_ground_value_is_one_error_line(tmp_path, toml, expected):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(f"[scene.ground]\n{toml}\n")
    res = CliRunner().invoke(
        app, ["generate", "--out", str(tmp_path / "o"), "--config", str(cfg), "--ground"]
    )
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {cfg}: {expected}"), res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists()
