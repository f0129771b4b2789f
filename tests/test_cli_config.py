"""Flags mapped onto configs: the scene flags reach generate's and train's scene sections, over the config
file's other fields of the same section."""

from __future__ import annotations

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
