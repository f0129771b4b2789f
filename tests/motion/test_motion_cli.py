"""``synthhuman motion list`` and ``synthhuman motion import`` on tiny AMASS / SURREAL files."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from synthhuman.cli import app
from synthhuman.motion.readers import read_amass_npz

runner = CliRunner(env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})


def test_motion_list():
    res = runner.invoke(app, ["motion", "list"])
    assert res.exit_code == 0, res.output
    assert "walk" in res.output and "backflip" in res.output and "15 clips" in res.output
    walk = next(line for line in res.output.splitlines() if line.startswith("walk"))
    name, frames, fps, seconds = walk.split()
    assert int(frames) > 20 and float(fps) == 30 and float(seconds) > 1


def _amass(path, T=8):
    rng = np.random.default_rng(0)
    poses = 0.1 * rng.standard_normal((T, 156))
    trans = rng.standard_normal((T, 3))
    np.savez(path, poses=poses, trans=trans, mocap_framerate=np.array(120.0), betas=np.zeros(16),
             gender=np.array("female"))  # fmt: skip


def test_motion_import_amass(tmp_path):
    src = tmp_path / "07_01_poses.npz"
    _amass(src)
    out = tmp_path / "out" / "walk.npz"
    res = runner.invoke(app, ["motion", "import", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.output
    with np.load(out) as d:
        assert set(d.files) == {"poses", "trans", "fps"}
        assert d["poses"].shape == (8, 72) and d["trans"].shape == (8, 3) and float(d["fps"]) == 120.0
        assert d["poses"].dtype == np.float32
        ref = read_amass_npz(src)
        np.testing.assert_allclose(d["poses"], ref.poses)
        np.testing.assert_allclose(d["trans"], ref.trans)
    assert [p.name for p in out.parent.iterdir()] == ["walk.npz"]  # no temporary left behind
    res = runner.invoke(app, ["motion", "import", str(src), "--out", str(out), "--fps", "30"])
    assert res.exit_code == 0, res.output
    with np.load(out) as d:
        assert d["poses"].shape == (2, 72) and float(d["fps"]) == 30.0  # 7/120 s: frames 0 and 4


def test_motion_import_surreal(tmp_path):
    src = tmp_path / "smpl_data.npz"
    np.savez(src, pose_01_01=np.zeros((5, 72)), trans_01_01=np.zeros((5, 3)),
             pose_02_03=np.zeros((6, 72)), trans_02_03=np.ones((6, 3)))  # fmt: skip
    out = tmp_path / "s.npz"
    res = runner.invoke(app, ["motion", "import", str(src), "--out", str(out)])
    assert res.exit_code != 0 and "--sequence" in res.output and not out.exists()
    res = runner.invoke(app, ["motion", "import", str(src), "--out", str(out), "--sequence", "02_03"])
    assert res.exit_code == 0, res.output
    with np.load(out) as d:
        assert d["poses"].shape == (6, 72) and float(d["fps"]) == 120.0
    res = runner.invoke(app, ["motion", "import", str(src), "--out", str(out), "--sequence", "09_09"])
    assert res.exit_code != 0 and "09_09" in res.output


def test_motion_import_errors(tmp_path):
    out = tmp_path / "o.npz"
    res = runner.invoke(app, ["motion", "import", str(tmp_path / "missing.npz"), "--out", str(out)])
    assert res.exit_code != 0 and "no such file" in res.output
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    res = runner.invoke(app, ["motion", "import", str(bad), "--out", str(out)])
    assert res.exit_code != 0 and "readable" in res.output
    other = tmp_path / "other.npz"
    np.savez(other, shapes=np.zeros(3))
    res = runner.invoke(app, ["motion", "import", str(other), "--out", str(out)])
    assert res.exit_code != 0 and "AMASS" in res.output and "SURREAL" in res.output
    nan = tmp_path / "nan.npz"
    _amass(nan)
    with np.load(nan) as d:
        fields = dict(d)
    fields["poses"][2, 5] = np.nan
    np.savez(nan, **fields)
    res = runner.invoke(app, ["motion", "import", str(nan), "--out", str(out)])
    assert res.exit_code != 0 and "non-finite" in res.output
    res = runner.invoke(app, ["motion", "import", str(other), "--out", str(out), "--fps", "0"])
    assert res.exit_code != 0
    assert not out.exists()
