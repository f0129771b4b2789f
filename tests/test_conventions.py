"""The conventions and shared facts, each defined once in synthhuman.conventions."""

from __future__ import annotations

import pytest

from synthhuman import conventions as c


def test_parts_and_joints():
    assert c.NUM_JOINTS == 24 == len(c.PART_NAMES) == len(c.SMPL_PARENTS) == len(c.SEGM_24_TO_14)
    assert c.SMPL_PARENTS[0] == -1 and all(0 <= p < j for j, p in enumerate(c.SMPL_PARENTS) if j)
    assert set(c.SEGM_24_TO_14) == set(range(1, 15))  # SURREAL's 14 training parts, each used
    assert c.PART_NAMES[0] == "hips" and c.PART_NAMES[15] == "head" and c.BACKGROUND == 0


def test_splits_genders_and_clip_ids():
    assert c.SPLITS == ("train", "test")
    assert c.GENDERS == ("neutral", "male", "female")
    assert c.clip_id(0) == "000000" and c.clip_id(12) == "000012" and c.clip_id(1234567) == "1234567"
    with pytest.raises(ValueError, match="index: expected >= 0, got -1"):
        c.clip_id(-1)


def test_tolerances_are_metres_and_positive():
    assert 0 < c.DEFAULT_ZNEAR < c.DEFAULT_OCCLUSION_TOLERANCE < c.DEFAULT_JOINT_TOLERANCE < 1


def test_no_module_redefines_a_shared_fact():
    import ast
    from pathlib import Path

    import synthhuman

    shared = {"SPLITS", "GENDERS", "NUM_JOINTS", "DEFAULT_OCCLUSION_TOLERANCE", "DEFAULT_JOINT_TOLERANCE"}
    for path in Path(synthhuman.__file__).parent.rglob("*.py"):
        if path.name == "conventions.py":
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign):
                names = {t.id for t in node.targets if isinstance(t, ast.Name)}
                assert not names & shared, f"{path}: defines {names & shared}; import it from conventions"
