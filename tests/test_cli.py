"""The command line: bench prints JSON with fps, render-test writes its contact sheet."""

from __future__ import annotations

import json

import imageio.v3 as iio
import torch
from typer.testing import CliRunner

from synthhuman.cli import app

runner = CliRunner()


def test_bench_json():
    res = runner.invoke(
        app,
        [
            "bench",
            "--batch",
            "2",
            "--height",
            "48",
            "--width",
            "64",
            "--iterations",
            "1",
            "--warmup",
            "0",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["fps"] > 0 and data["triangles"] > 10000
    assert set(data["stage_seconds_per_batch"]) == {"rasterize", "shade", "antialias", "ground_truth", "flow"}


def test_bench_rejects_missing_cuda():
    if torch.cuda.is_available():
        return
    res = runner.invoke(app, ["bench", "--device", "cuda", "--iterations", "1"])
    assert res.exit_code != 0 and "CUDA" in res.output


def test_render_test_writes_contact_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    res = runner.invoke(
        app, ["render-test", "--out", str(out), "--frames", "2", "--height", "60", "--width", "80"]
    )
    assert res.exit_code == 0, res.output
    img = iio.imread(out)
    assert img.shape == (2 * 60 + 2, 6 * 80 + 5 * 2, 3)
    assert not list(tmp_path.glob(".*tmp*"))  # written through a temporary name, then renamed


def test_bench_bad_flag_names_the_field():
    res = runner.invoke(app, ["bench", "--batch", "0"])
    assert res.exit_code != 0 and "batch" in res.output


def test_assets_export_body_loads_in_plain_smplx(tmp_path):
    import smplx

    res = runner.invoke(app, ["assets", "export-body", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    model = smplx.create(str(tmp_path), model_type="smpl", gender="male")
    out = model(betas=torch.zeros(1, 10))
    assert out.vertices.shape == (1, 13718, 3)


def test_default_body_preview(tmp_path):
    from synthhuman.body.preview import PEOPLE, preview_default_body

    out = tmp_path / "body.png"
    preview_default_body(out, size=(90, 60))
    assert iio.imread(out).shape == (2 * 90 + 2, len(PEOPLE) * 60 + (len(PEOPLE) - 1) * 2, 3)


def test_generate_camera_flag_reaches_the_config_manifest_and_labels(tmp_path):
    import numpy as np

    out = tmp_path / "moving"
    res = runner.invoke(
        app,
        ["generate", "--out", str(out), "--clips", "1", "--frames", "4", "--height", "48", "--width", "64",
         "--device", "cpu", "--no-preview", "--camera", "moving"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["scene"]["camera"]["mode"] == "moving" and manifest["format_version"] == 2
    assert manifest["config"]["scene"]["camera"]["focal_range"] == [300.0, 1500.0]
    (clip,) = (out / "train").iterdir()
    info = json.loads((clip / "info.json").read_text())
    assert info["extra"]["camera"]["mode"] == "moving"
    with np.load(clip / "labels.npz") as labels:
        assert (
            labels["K"].shape == (4, 3, 3) and labels["R"].shape == (4, 3, 3) and labels["t"].shape == (4, 3)
        )
