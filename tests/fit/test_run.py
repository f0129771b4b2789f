"""``synthhuman fit`` end to end: a generated clip (scored against its truth) and a photo with a
segmentation network and 2D joints; bad input gets one line naming it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from synthhuman.cli import app
from synthhuman.generate import GenerateConfig, generate
from synthhuman.io.canonical import read_canonical_clip
from synthhuman.scene import SceneConfig
from synthhuman.viz import write_png

runner = CliRunner()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    out = tmp_path_factory.mktemp("fitclip")
    generate(GenerateConfig(out=str(out), clips=1, device="cpu", preview=False,
                            scene=SceneConfig(frames=4, height=96, width=128)))  # fmt: skip
    return out / "train" / "000000"


def test_fit_a_clip_writes_parameters_scores_pictures_and_meshes(clip, tmp_path):
    res = runner.invoke(app, ["fit", str(clip), "--out", str(tmp_path), "--frames", "0:4", "--steps", "6",
                              "--batch", "3", "--mesh", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert set(summary["median"]) == {"mpjpe_mm", "pa_mpjpe_mm", "part_iou", "silhouette_iou"}
    fit = json.loads((tmp_path / "fit.json").read_text())
    assert [f["frame"] for f in fit["frames"]] == [f"train/000000/{k}" for k in range(4)]
    row = fit["frames"][0]
    assert len(row["pose"]) == 72 and len(row["trans"]) == 3 and np.array(row["joints3d"]).shape == (24, 3)
    assert len(row["betas"]) == 10 and np.isfinite(row["loss"]) and 0 <= row["part_iou"] <= 1
    assert fit["config"]["frames"] == "0:4" and fit["gender"] in ("female", "male")
    assert len(list(tmp_path.glob("overlay_*.png"))) == 4 and len(list(tmp_path.glob("mesh_*.obj"))) == 4


def test_fit_a_photo_with_a_network_and_joints(clip, tmp_path):
    from synthhuman.train.run import train
    from tests.train.test_run import tiny

    train(tiny(tmp_path / "segm"))
    c = read_canonical_clip(clip)
    photo = write_png(tmp_path / "photo.png", c.rgb[1])
    joints = np.concatenate([c.joints2d[1, 0], np.ones((24, 1))], 1)
    (tmp_path / "joints.json").write_text(json.dumps({"photo.png": joints.tolist()}))
    ckpt = tmp_path / "segm" / "checkpoint.pt"
    res = runner.invoke(app, ["fit", str(photo), "--segm-checkpoint", str(ckpt),
                              "--joints", str(tmp_path / "joints.json"), "--focal", str(float(c.K[0, 0, 0])),
                              "--out", str(tmp_path / "fit"), "--steps", "4"])  # fmt: skip
    assert res.exit_code == 0, res.output
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())
    assert fit["frames"][0]["frame"] == "photo" and "median" not in fit
    assert (tmp_path / "fit" / "overlay_photo.png").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--frames", "7:9"], "--frames: expected frames in 0..3"),
        (["--person", "3"], "--person: expected 0..0"),
        (["--gender", "other"], "gender: expected one of"),
    ],
)
def test_bad_flags_get_one_line(clip, tmp_path, args, message):
    res = runner.invoke(app, ["fit", str(clip), "--out", str(tmp_path), "--steps", "2", *args])
    assert res.exit_code != 0 and message in res.output and "Traceback" not in res.output
    assert not (tmp_path / "fit.json").exists()


def test_images_need_a_network(tmp_path):
    photo = write_png(tmp_path / "p.png", np.zeros((8, 8, 3), np.uint8))
    res = runner.invoke(app, ["fit", str(photo), "--out", str(tmp_path / "o")])
    assert res.exit_code != 0 and "segm_checkpoint: expected a checkpoint to fit images" in res.output
