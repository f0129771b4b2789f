"""Inputs the command line must take or refuse clearly: a body file whose name tells no gender
(``--gender``), degenerate bodies, predict's output names (never overwritten silently)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from synthhuman.body.smpl_files import SmplFileError, read_smpl_file
from synthhuman.train.predict import output_stems
from tests.body.tiny_smpl import make_tiny_model, write_npz

runner = CliRunner()


def _generate(tmp_path: Path, body: Path, *extra: str):
    from synthhuman.cli import app

    args = ["generate", "--out", str(tmp_path / "out"), "--body", str(body), "--clips", "1", "--frames", "3",
            "--height", "48", "--width", "64", "--device", "cpu", "--no-preview", *extra]  # fmt: skip
    return runner.invoke(app, args)


def test_a_body_file_without_a_gender_takes_the_gender_flag(tmp_path):
    body = write_npz(tmp_path / "mybody.npz", make_tiny_model("smpl"))
    res = _generate(tmp_path, body)
    assert res.exit_code == 1 and "--gender neutral" in res.output and not (tmp_path / "out").exists()
    with pytest.warns(UserWarning, match="no UVs"):
        res = _generate(tmp_path, body, "--gender", "neutral")
    assert res.exit_code == 0, res.output
    res = _generate(tmp_path / "x", body, "--gender", "robot")
    assert res.exit_code == 2 and "--gender" in res.output


@pytest.mark.parametrize(
    ("field", "change", "words"),
    [
        ("v_template", lambda a: a * 0, "field 'v_template' spans"),
        ("J_regressor", lambda a: a * 0, "field 'J_regressor' has all-zero rows"),
        ("weights", lambda a: a * 0, "field 'weights' has all-zero rows"),
        ("v_template", lambda a: a * np.nan, "field 'v_template' has .* non-finite"),
        ("f", lambda a: a * 0, "field 'f' has only faces of zero area"),
    ],
)
def test_degenerate_bodies_are_refused(tmp_path, field, change, words):
    model = make_tiny_model("smpl")
    model[field] = change(model[field])
    path = write_npz(tmp_path / "SMPL_NEUTRAL.npz", model)
    with pytest.raises(SmplFileError, match=words):
        read_smpl_file(path)


def test_predict_output_names_never_collide():
    images = [Path("a.png"), Path("a.jpg"), Path("b.png"), Path("x/a.png"), Path("A.PNG")]
    stems = output_stems(images)
    assert stems == ["a_png", "a_jpg", "b", "a_png_2", "A"]
    assert len(set(stems)) == len(stems)
