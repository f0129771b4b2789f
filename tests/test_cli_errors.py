"""Every command's errors: one line naming the file or flag and what was expected, no traceback (unless
``--debug``), exit code 2 for a bad flag or config value, 1 for a failed run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from synthhuman.cli import app
from synthhuman.train.loop import TrainConfig, build, save_checkpoint

runner = CliRunner()
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def one_line(res, code: int, *words: str) -> None:
    assert res.exit_code == code, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    assert "Traceback" not in res.output
    for w in words:
        assert w in lines[0], res.output


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.pt"
    cfg = TrainConfig(steps=1, batch=1, stacks=1, features=16, input_size=64)
    save_checkpoint(path, build(cfg), None)
    return path


@no_cuda
@pytest.mark.parametrize(
    "command",
    [
        ["generate", "--out", "{tmp}/g", "--clips", "1"],
        ["train", "--out", "{tmp}/t", "--steps", "1"],
        ["predict", "{tmp}/a.png", "--checkpoint", "{tmp}/c.pt"],
        ["bench", "--iterations", "1"],
        ["evaluate", "--checkpoint", "{tmp}/c.pt"],
    ],
)
def test_cuda_on_a_cpu_only_torch_is_a_usage_error(tmp_path, command):
    res = run(*(c.format(tmp=tmp_path) for c in command), "--device", "cuda")
    one_line(res, 2, "--device", "'cuda'", "no CUDA")
    assert not (tmp_path / "g").exists() and not (tmp_path / "t").exists()


def _broken(tmp_path: Path, checkpoint: Path) -> dict[str, Path]:
    data = checkpoint.read_bytes()
    files = {"truncated": data[: len(data) // 2], "corrupt": b"\x00garbage" * 100, "empty": b""}
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name}.pt"
        paths[name].write_bytes(content)
    paths["foreign"] = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, paths["foreign"])
    paths["list"] = tmp_path / "list.pt"
    torch.save([1, 2], paths["list"])
    return paths


def test_broken_checkpoints_are_one_line_naming_the_file(tmp_path, checkpoint):
    image = tmp_path / "a.png"
    import imageio.v3 as iio
    import numpy as np

    iio.imwrite(image, np.zeros((8, 8, 3), np.uint8))
    for kind, path in _broken(tmp_path, checkpoint).items():
        predict = ["predict", image, "--checkpoint", path, "--device", "cpu", "--out", tmp_path / "p"]
        for command in (["evaluate", "--checkpoint", path, "--device", "cpu"], predict):
            one_line(run(*command), 1, str(path))
        assert not (tmp_path / "p").exists(), kind
    res = run("evaluate", "--checkpoint", tmp_path / "foreign.pt", "--device", "cpu")
    assert "no field model" in res.output


def test_train_resume_of_a_broken_checkpoint(tmp_path, checkpoint):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(checkpoint.read_bytes()[:100])
    res = run("train", "--out", out, "--resume", "--device", "cpu", "--steps", "2")
    one_line(res, 1, str(out / "checkpoint.pt"), "not a readable checkpoint")


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[scene]\nframes = "twelve"\n', ["cfg.toml: scene.frames: expected an integer, got 'twelve'"]),
        ('[scene]\ngenders = "male"\n', ["scene.genders: expected a list of text values, got 'male'"]),
        ("seed = true\n", ["cfg.toml: seed: expected an integer, got True"]),
        ("clips = 2.5\n", ["clips: expected an integer, got 2.5"]),
        ("[scene]\nframes = 1\n", ["cfg.toml: scene.frames: expected >= 2, got 1"]),
        ("[scene.camera]\nfocal = -1.0\n", ["cfg.toml: scene.camera.focal: expected > 0 pixels"]),
        ("[scene.camera]\nmode = 'drone'\n", ["cfg.toml: scene.camera.mode: expected one of", "'drone'"]),
        ("[scene.camera]\nfocal_range = [900.0, 300.0]\n", ["cfg.toml: scene.camera.focal_range: expected"]),
        ("[scene.camera]\nmoves = ['crane']\n", ["cfg.toml: scene.camera.moves: expected each one of"]),
        ("scene = 3\n", ["cfg.toml: scene: expected a table of fields"]),
        ("[scene]\nfrmes = 3\n", ["unknown field(s) ['scene.frmes']"]),
        ("frames = [\n", ["cfg.toml: not a valid TOML file"]),
    ],
)
def test_config_file_errors_name_the_key_as_written(tmp_path, toml, words):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(toml)
    res = run("generate", "--out", tmp_path / "o", "--config", cfg, "--device", "cpu")
    one_line(res, 2, *words)
    assert "flags" not in res.output and not (tmp_path / "o").exists()


def test_flag_errors_name_the_flag(tmp_path):
    one_line(run("generate", "--out", tmp_path / "o", "--frames", "1"), 2, "--frames: expected >= 2, got 1")
    one_line(run("generate", "--out", tmp_path / "o", "--camera", "drone"), 2, "--camera: expected one of")
    assert not (tmp_path / "o").exists()
    one_line(run("train", "--out", tmp_path / "t", "--lr", "-1"), 2, "--lr: expected > 0")
    one_line(run("train", "--out", tmp_path / "t", "--camera", "drone"), 2, "--camera: expected one of")
    one_line(run("train", "--out", tmp_path / "t", "--occluders", "-1"), 2, "--occluders: expected")
    one_line(run("train", "--out", tmp_path / "t", "--degrade", "fog"), 2, "--degrade: expected")
    assert not (tmp_path / "t").exists()
    one_line(run("bench", "--batch", "0"), 2, "--batch: expected")
    yaml = tmp_path / "c.yaml"
    yaml.write_text("train:\n  steps: yes\n")
    one_line(run("train", "--out", tmp_path / "t", "--config", yaml), 2, "train.steps: expected an integer")


def test_a_failure_is_exit_code_1_and_debug_shows_the_traceback(tmp_path):
    missing = tmp_path / "nope"
    one_line(run("info", missing), 1, str(missing))
    res = run("--debug", "info", missing)
    assert res.exit_code == 1 and isinstance(res.exception, (ValueError, OSError))


def test_flags_that_do_not_parse_are_one_line_too(tmp_path):
    one_line(run("generate", "--out", tmp_path / "o", "--frames", "twelve"), 2, "'--frames'", "valid integer")
    one_line(run("generate", "--frames", "3"), 2, "Missing option '--out'")
    one_line(run("train", "--out", tmp_path / "t", "--stepz", "3"), 2, "--stepz")
