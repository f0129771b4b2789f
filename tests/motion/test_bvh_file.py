"""BVH file reading: the parsed record, errors naming the file and line, the file's length unit."""

from __future__ import annotations

import pytest

from synthhuman.body.default_body import load_default_body
from synthhuman.motion.bvh import body_rest_joints
from synthhuman.motion.bvh_file import LENGTH_UNITS, detect_scale, parse_bvh
from tests.motion.bvh_skeletons import body_skeleton, bvh_text, small_bvh


@pytest.fixture(scope="module")
def rest_joints():
    return body_rest_joints(load_default_body("neutral"))


@pytest.mark.parametrize(
    "text, line, message",
    [
        (
            small_bvh(rows=("0 90 0 0 0 0 10", "1 90 0 nan 0 0 -10")),
            20,
            r"finite number for value 4 \(Hips zrotation\)",
        ),
        (small_bvh(rows=("0 90 0 0 0 0 10", "1 90 0 0 0 0")), 20, "expected 7 values .* got 6"),
        (small_bvh(rows=("0 90 0 0 0 0 10", "1 90 0 0 0 0 x")), 20, "finite number .* got 'x'"),
        (small_bvh(frame_time="0"), 18, "Frame Time.* dt > 0"),
        (small_bvh(frame_time="-0.01"), 18, "Frame Time.* dt > 0"),
        (small_bvh().replace("Frames: 2", "Frames: 3"), 20, "end of file, expected 3 frames"),
        (small_bvh().replace("Frames: 2", "Frames: 1"), 20, "expected the end of the file after 1 frames"),
        (small_bvh().replace("Frames: 2", "Frames: two"), 17, "'Frames: N'"),
        (small_bvh().split("MOTION")[0], 15, "end of file, expected 'MOTION'"),
        ("\n".join(small_bvh().splitlines()[:9]), 9, "end of file, expected JOINT, End Site or '}'"),
        (small_bvh().replace("    End Site", "    Endsite"), 10, "expected JOINT, End Site or '}'"),
        (small_bvh().replace("  }\n}", "  }"), 15, "closing joint 'Hips', got 'MOTION'"),
        (small_bvh().replace("Xrotation\n", "Wrotation\n"), 5, "channel name .* got 'Wrotation'"),
        (
            small_bvh().replace("OFFSET 0 10 0", "OFFSET 0 ten 0", 1),
            8,
            "OFFSET value 2 of 3 of joint 'Spine'",
        ),
        (small_bvh().replace("ROOT", "JOINT"), 2, "'ROOT'"),
    ],
)
def test_bad_files(tmp_path, text, line, message):
    path = tmp_path / "bad.bvh"
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"bad\.bvh:{line}: .*{message}"):
        parse_bvh(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.bvh"):
        parse_bvh(tmp_path / "nope.bvh")


def test_two_joint_file(tmp_path):
    """A minimal skeleton: joints, parents, channels and frame rate as written."""
    path = tmp_path / "two.bvh"
    path.write_text(small_bvh())
    bvh = parse_bvh(path)
    assert bvh.names == ("Hips", "Spine") and bvh.parents == (-1, 0) and bvh.num_frames == 2
    assert bvh.channels[1] == ("xrotation",) and bvh.fps == pytest.approx(30.0, rel=1e-5)


@pytest.mark.parametrize("name", list(LENGTH_UNITS))
def test_detect_scale(tmp_path, rest_joints, name):
    joints = body_skeleton(rest_joints, LENGTH_UNITS[name])
    path = tmp_path / "units.bvh"
    path.write_text(bvh_text(joints, [{}]))
    assert detect_scale(parse_bvh(path)) == LENGTH_UNITS[name]
