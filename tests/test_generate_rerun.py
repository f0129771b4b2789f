"""``generate`` reruns: a dataset's identity excludes where it lies, a refused resume names what differs,
a run that fails before its first clip leaves the folder as found, small asset folders, info names files."""

from __future__ import annotations

import importlib.util
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import synthhuman.generate as generate_module
from synthhuman.generate import GenerateConfig, generate
from synthhuman.scene import AssetConfig, SceneConfig

SCENE = SceneConfig(frames=3, height=48, width=64)


def tiny(out, **kw) -> GenerateConfig:
    kw.setdefault("scene", SCENE)
    kw.setdefault("clips", 1)
    return GenerateConfig(out=str(out), device="cpu", preview=False, **kw)


PHOTOS = ("photo0.jpg", "photo2.jpg", "photo3.jpg")
"""Three names that all hash into the train split (test_fraction 0.2)."""


def _jpegs(folder: Path) -> Path:
    import imageio.v3 as iio

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in PHOTOS:
        iio.imwrite(folder / name, rng.integers(0, 255, (40, 60, 3), dtype=np.uint8))
    return folder


def test_resume_whatever_the_spelling_or_place_of_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert generate(tiny("data")).written == 1
    assert generate(tiny(tmp_path / "data", resume=True)).skipped == 1  # absolute now
    assert generate(tiny("./data/../data", resume=True)).skipped == 1
    shutil.copytree(tmp_path / "data", tmp_path / "moved")
    assert generate(tiny(tmp_path / "moved", resume=True)).skipped == 1


def test_refused_resume_names_each_differing_field_with_both_values(tmp_path):
    generate(tiny(tmp_path / "d"))
    with pytest.raises(ValueError) as err:
        generate(tiny(tmp_path / "d", resume=True, seed=5, scene=replace(SCENE, fps=25.0)))
    msg = str(err.value)
    assert "seed: 0 in the folder, 5 in this run" in msg
    assert "config.scene.fps: 30.0 in the folder, 25.0 in this run" in msg
    assert "out" not in msg.replace("--out", "") and "config.seed" not in msg


def _bad_textures(tmp_path: Path) -> Path:
    folder = tmp_path / "textures"
    folder.mkdir()
    for i in range(6):
        (folder / f"tex{i}.jpg").write_bytes(b"not a jpeg")
    return folder


def test_bad_textures_leave_no_trace_and_the_rerun_works(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="cannot read image"):
        generate(tiny(out, assets=AssetConfig(textures=str(_bad_textures(tmp_path)))))
    assert not out.exists()
    assert generate(tiny(out)).written == 1


def test_unavailable_cuda_is_refused_before_writing(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ValueError, match="device: 'cuda'.*no CUDA"):
        generate(replace(tiny(out), device="cuda"))
    assert list(out.iterdir()) == []
    assert generate(tiny(out)).written == 1


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed")
def test_ray_auto_without_a_cluster_says_what_to_do_and_writes_nothing(tmp_path, monkeypatch):
    import ray

    monkeypatch.setenv("RAY_ADDRESS", "")
    out = tmp_path / "out"
    if ray.is_initialized():
        pytest.skip("Ray already running in this process")
    with pytest.raises(ValueError, match=r"ray start --head.*--ray local"):
        generate(tiny(out, ray="auto"))
    assert not out.exists()


def test_a_failure_before_the_first_clip_leaves_the_folder_as_found(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("kept")

    def dying(*args, **kw):
        raise RuntimeError("render died")

    monkeypatch.setattr(generate_module, "render_and_write", dying)
    with pytest.raises(RuntimeError):
        generate(tiny(out))
    assert sorted(p.name for p in out.rglob("*")) == ["mine.txt"]


def test_a_manifest_without_a_finished_clip_is_taken_over(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    content = {"format": "canonical", "seed": 9, "config": {"clips": 7}, "clips": []}
    (out / "manifest.json").write_text(json.dumps(content))  # a killed run that finished nothing
    assert generate(tiny(out)).written == 1
    assert json.loads((out / "manifest.json").read_text())["seed"] == 0


def test_three_jpegs_serve_both_splits_with_a_warning(tmp_path):
    folder = _jpegs(tmp_path / "bg")
    assets = AssetConfig(backgrounds=str(folder))
    res = generate(tiny(tmp_path / "a", clips=1, assets=assets))  # one train clip: no test clip needed
    assert res.written == 1
    with pytest.warns(UserWarning, match="both splits share them"):
        assert generate(tiny(tmp_path / "b", clips=5, assets=assets)).written == 5


def test_few_textures_serve_both_splits_with_a_warning(tmp_path):
    import imageio.v3 as iio

    folder = tmp_path / "tex"
    folder.mkdir()
    iio.imwrite(folder / "cloth.png", np.full((16, 16, 3), 200, np.uint8))
    with pytest.warns(UserWarning, match="both splits share them"):
        generate(tiny(tmp_path / "o", clips=5, assets=AssetConfig(textures=str(folder))))
    info = json.loads((tmp_path / "o" / "test" / "000000" / "info.json").read_text())
    assert info["textures"] == ["cloth.png"]


def test_info_names_the_sampled_background_file(tmp_path):
    folder = _jpegs(tmp_path / "bg")
    generate(tiny(tmp_path / "o", clips=2, assets=AssetConfig(backgrounds=str(folder))))
    names = {json.loads(p.read_text())["background"] for p in (tmp_path / "o").glob("*/*/info.json")}
    assert names <= set(PHOTOS) and names


def test_surreal_bg_names_the_sampled_file(tmp_path):
    from synthhuman.io.surreal import read_surreal_clip, surreal_clip_paths

    folder = _jpegs(tmp_path / "bg")
    generate(tiny(tmp_path / "s", format="surreal", assets=AssetConfig(backgrounds=str(folder))))
    clip = read_surreal_clip(surreal_clip_paths(tmp_path / "s", "000000", 1, "train").info)
    assert set(clip.bg) <= set(PHOTOS)
