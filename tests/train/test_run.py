"""``synthhuman train`` / ``evaluate`` / ``predict``: runs, resume, refusals, the CLI, prediction geometry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from synthhuman.cli import app
from synthhuman.data.frames import LabeledFrames
from synthhuman.train.hourglass import HourglassConfig
from synthhuman.train.loop import TrainConfig, load_checkpoint
from synthhuman.train.metrics import MetricsResult
from synthhuman.train.predict import crop_square, predict_image
from synthhuman.train.run import RunConfig, load_trained, metrics_dict, run_config, task_batch, train
from synthhuman.train.targets import DEPTH_STEP

SCENE = {"frames": 8, "height": 64, "width": 80}
NET = {"stacks": 1, "features": 16, "input_size": 64, "batch": 4}


def tiny(out: Path, **kw) -> RunConfig:
    data = {"out": str(out), "device": "cpu", "scene": SCENE, "train": {**NET, "steps": 4}, "eval_clips": 3,
            "log_every": 2, "checkpoint_every": 2, "clips_per_chunk": 2, "frames_per_clip": 2}  # fmt: skip
    for k, v in kw.items():
        if isinstance(v, dict):
            data[k] = {**data.get(k, {}), **v}
        else:
            data[k] = v
    return run_config(data)


def params(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path).model.state_dict()


@pytest.fixture(scope="module")
def segm_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "segm"
    res = train(tiny(out))
    assert (res.start, res.step) == (0, 4) and np.isfinite(res.loss)
    return out


def test_a_run_writes_its_checkpoint_log_config_and_test_scores(segm_run):
    assert sorted(p.name for p in segm_run.iterdir()) == [
        "checkpoint.pt",
        "log.jsonl",
        "metrics.json",
        "run.json",
    ]
    lines = [json.loads(x) for x in (segm_run / "log.jsonl").read_text().splitlines()]
    steps = [x for x in lines if "loss" in x]
    assert [x["step"] for x in steps] == [2, 4]
    assert all(0 <= x["data_share"] <= 1 and x["step_s"] >= x["data_s"] for x in steps)
    assert "eval" in lines[-1] and lines[-1]["eval_clips"] == 3
    metrics = json.loads((segm_run / "metrics.json").read_text())
    assert metrics["step"] == 4 and 0 <= metrics["iou"] <= 1 and metrics["rmse_mm"] is None
    saved = json.loads((segm_run / "run.json").read_text())
    assert saved["train"]["stacks"] == 1 and saved["augment"]["input_size"] == 64
    assert load_checkpoint(segm_run / "checkpoint.pt").step == 4


def test_resuming_ends_where_an_uninterrupted_run_ends(segm_run, tmp_path):
    train(tiny(tmp_path, train={"steps": 2}))
    res = train(tiny(tmp_path, resume=True))
    assert (res.start, res.step) == (2, 4)
    a, b = params(segm_run / "checkpoint.pt"), params(tmp_path / "checkpoint.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_an_existing_run_is_not_overwritten_nor_resumed_with_other_settings(segm_run):
    with pytest.raises(ValueError, match="pass --resume"):
        train(tiny(segm_run))
    with pytest.raises(ValueError, match=r"other settings \(seed\)"):
        train(tiny(segm_run, resume=True, seed=3))


def test_depth_targets_are_bins_around_the_pelvis():
    depth = torch.zeros(1, 64, 64)
    depth[0, 20:40, 20:40] = 5.0 + DEPTH_STEP * 2.5  # 2.5 bins behind the pelvis -> offset 3 -> class 13
    joints2d = torch.full((1, 24, 2), 30.0)
    joints2d[0, :12] = 20.0
    joints2d[0, 12:] = 40.0
    joints3d = torch.zeros(1, 24, 3)
    joints3d[0, 0, 2] = 5.0
    frames = LabeledFrames(torch.rand(1, 64, 64, 3), depth, (depth > 0).to(torch.uint8), joints2d, joints3d,
                           ("train/000000",), torch.zeros(1, dtype=torch.int64))  # fmt: skip
    from synthhuman.train.augment import AugmentConfig

    batch = task_batch(frames, "depth", AugmentConfig(64, 16), train=False)
    assert set(batch.labels.unique().tolist()) == {0, 13}


def test_metrics_dict_reports_the_other_tasks_scores_as_none():
    nan = float("nan")
    out = metrics_dict(MetricsResult(0.5, 0.6, nan, nan, nan, (), ()))
    assert out == {"iou": 0.5, "accuracy": 0.6, "rmse_mm": None, "st_rmse_mm": None, "pose_rmse_mm": None}


def test_run_config_checks_its_fields(tmp_path):
    with pytest.raises(ValueError, match="data: expected an existing dataset folder"):
        tiny(tmp_path, data=str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="a multiple of batch = 4"):
        tiny(tmp_path, clips_per_chunk=3, frames_per_clip=1)
    with pytest.raises(ValueError, match="unknown field"):
        tiny(tmp_path, train={"stack": 2})
    assert tiny(tmp_path).augment.output_size == 16
    with pytest.raises(ValueError, match="augment.input_size: expected the network's input_size 64"):
        RunConfig(out=str(tmp_path), train=TrainConfig(**NET))


class _RedIsClassOne(nn.Module):
    """A stand-in network: class 1 where the input is red, at the output resolution (for geometry)."""

    def __init__(self, input_size: int) -> None:
        super().__init__()
        self.config = HourglassConfig(1, 2, 2, input_size)
        self.weight = nn.Parameter(torch.zeros(()))

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        red = nn.functional.avg_pool2d(image[:, :1], 4)  # (B, 1, s, s)
        return [torch.cat([0.5 - red, red - 0.5], 1)]


@pytest.mark.parametrize("box", [None, (40.0, 10.0, 100.0, 90.0)])
def test_predictions_land_back_on_the_image_pixels_they_came_from(box):
    image = torch.zeros(100, 140, 3)
    image[30:70, 50:90, 0] = 1.0  # a red square
    classes = predict_image(_RedIsClassOne(256), image, box)
    truth = image[..., 0] > 0.5
    agree = (classes.bool() == truth).float().mean()
    # the output grid is 64 x 64 over a crop of ~140 px: cells are ~2 px, so only the square's border differs
    border = truth.sum() ** 0.5 * 4 * 2 / truth.numel()
    assert 1 - agree <= border, (agree, border)


def test_crop_square_pads_a_box_as_surreal_pads_its_joint_box():
    from synthhuman.train.augment import AugmentConfig

    centre, side = crop_square((100, 100), (20.0, 20.0, 59.0, 79.0), AugmentConfig())
    # box 40 x 60 px (pixel centres 20..59, 20..79) -> +25 % left/right/bottom, +35 % top
    w, h = 40 * 1.5, 60 * 1.6
    assert side.item() == pytest.approx(max(w, h) * 200 / 240)
    assert centre[0].tolist() == pytest.approx([39.5, (19.5 - 0.35 * 60 + 79.5 + 0.25 * 60) / 2])


def test_the_cli_trains_evaluates_and_predicts(segm_run, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["evaluate", "--checkpoint", str(segm_run / "checkpoint.pt"), "--clips", "2",
                              "--device", "cpu", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    scores = json.loads(res.output)
    assert set(scores) == {"iou", "accuracy", "rmse_mm", "st_rmse_mm", "pose_rmse_mm"}
    assert 0 <= scores["iou"] <= 1
    import imageio.v3 as iio

    photo = tmp_path / "photo.png"
    iio.imwrite(photo, (np.random.default_rng(0).random((50, 70, 3)) * 255).astype(np.uint8))
    res = runner.invoke(app, ["predict", str(photo), "--checkpoint", str(segm_run / "checkpoint.pt"),
                              "--out", str(tmp_path / "pred"), "--device", "cpu"])  # fmt: skip
    assert res.exit_code == 0, res.output
    picture = iio.imread(tmp_path / "pred" / "photo_segm.png")
    assert picture.shape == (50, 3 * 70 + 2 * 2, 3)
    res = runner.invoke(app, ["predict", str(tmp_path / "nope.png"), "--checkpoint",
                              str(segm_run / "checkpoint.pt"), "--device", "cpu"])  # fmt: skip
    assert res.exit_code != 0 and "nope.png" in res.output
    res = runner.invoke(app, ["train", "--out", str(segm_run), "--device", "cpu", "--steps", "2"])
    assert res.exit_code != 0 and "--resume" in res.output


def test_a_depth_run_reports_depth_errors_in_millimetres(tmp_path):
    res = train(tiny(tmp_path, train={"task": "depth", "steps": 2}))
    m = res.metrics
    assert m["iou"] is None and m["accuracy"] is None
    assert 0 < m["rmse_mm"] < 1000 and 0 <= m["st_rmse_mm"] <= m["rmse_mm"] + 1e-9 and m["pose_rmse_mm"] >= 0


def test_a_run_trains_and_evaluates_from_a_dataset_on_disk(tmp_path):
    from synthhuman.generate import GenerateConfig, generate
    from synthhuman.scene import SceneConfig

    data = tmp_path / "data"
    generate(GenerateConfig(out=str(data), clips=5, device="cpu", preview=False, scene=SceneConfig(**SCENE)))
    res = train(tiny(tmp_path / "run", data=str(data), eval_clips=50))
    assert res.step == 4 and 0 <= res.metrics["iou"] <= 1
    log = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert "render_s" not in log[0]  # nothing rendered: read from disk


def test_tensorboard_gets_every_logged_scalar(tmp_path, monkeypatch):
    import sys
    import types

    scalars: list[tuple[str, float, int]] = []

    class Writer:
        def __init__(self, folder: str) -> None:
            assert folder == str(tmp_path / "tensorboard")

        def add_scalar(self, name: str, value: float, step: int) -> None:
            scalars.append((name, value, step))

        def close(self) -> None:
            scalars.append(("closed", 0.0, 0))

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", types.SimpleNamespace(SummaryWriter=Writer))
    train(tiny(tmp_path, tensorboard=True, train={"steps": 2}))
    names = {name for name, _, _ in scalars}
    assert {"loss", "data_share", "eval/iou", "eval/accuracy", "closed"} <= names
    assert ("loss", 2) in {(n, s) for n, _, s in scalars}


@pytest.mark.gpu
def test_a_run_trains_on_cuda_with_bfloat16(tmp_path):
    res = train(tiny(tmp_path, device="cuda", train={"steps": 2, "amp": True}))
    assert res.step == 2 and np.isfinite(res.loss) and 0 <= res.metrics["iou"] <= 1


def test_the_cli_reads_a_config_file_and_flags_override_it(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(
        'device = "cpu"\neval_clips = 2\nlog_every = 1\nclips_per_chunk = 2\nframes_per_clip = 2\n'
        "[train]\nstacks = 1\nfeatures = 16\ninput_size = 64\nbatch = 4\nsteps = 5\n"
        "[scene]\nframes = 8\nheight = 64\nwidth = 80\n"
    )
    res = CliRunner().invoke(
        app, ["train", "--out", str(tmp_path / "run"), "--config", str(config), "--steps", "1"]
    )
    assert res.exit_code == 0, res.output
    saved = json.loads((tmp_path / "run" / "run.json").read_text())
    assert saved["train"]["steps"] == 1 and saved["train"]["stacks"] == 1 and saved["scene"]["width"] == 80
    assert saved["augment"]["input_size"] == 64 and saved["augment"]["output_size"] == 16
    config.write_text("[train]\nstackz = 1\n")
    res = CliRunner().invoke(app, ["train", "--out", str(tmp_path / "bad"), "--config", str(config)])
    assert res.exit_code != 0 and "stackz" in res.output


def test_a_checkpoint_from_before_the_render_backend_field_still_loads(segm_run, tmp_path):
    """Checkpoints written before ``RenderConfig.backend`` named the field ``render.rasterizer``."""
    saved = torch.load(segm_run / "checkpoint.pt", weights_only=False)
    render = {k: v for k, v in saved["run"]["render"].items() if k != "backend"}
    saved["run"]["render"] = render | {"rasterizer": "synthhuman"}
    old = tmp_path / "old.pt"
    torch.save(saved, old)
    state, cfg = load_trained(old)
    assert cfg.render.backend == "torch"
    torch.testing.assert_close(state.model.state_dict(), params(segm_run / "checkpoint.pt"))
