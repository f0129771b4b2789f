"""BVH test skeletons written as text: a CMU-like skeleton, one on the body's own rest joints, and a
small two-joint file to break. Shared by ``test_bvh_file`` and ``test_bvh``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synthhuman.motion.bvh import CMU_JOINT_MAP, SMPL_JOINT_NAMES
from synthhuman.motion.bvh_file import LENGTH_UNITS

CMU_UNIT = LENGTH_UNITS["cmu"]


@dataclass
class Joint:
    """A joint of a test skeleton: rotation channels in ``order`` (e.g. 'ZYX' = Zrotation Yrotation
    Xrotation); the root also has ``root_channels`` (all six, in the order written)."""

    name: str
    parent: str | None
    offset: tuple[float, float, float]
    order: str = "ZYX"
    end: tuple[float, float, float] | None = None
    root_channels: tuple[str, ...] = field(default=())

    @property
    def channels(self) -> tuple[str, ...]:
        return self.root_channels or tuple(f"{a}rotation" for a in self.order)


def bvh_text(joints: list[Joint], frames: list[dict], frame_time: float = 1 / 120) -> str:
    """A BVH file; ``frames[t][name]`` = {'pos': (x, y, z), 'X': deg, 'Y': deg, 'Z': deg} (missing: 0)."""
    children = {j.name: [k for k in joints if k.parent == j.name] for j in joints}

    def block(j: Joint, depth: int) -> list[str]:
        pad = "  " * depth
        head = "ROOT" if j.parent is None else "JOINT"
        out = [f"{pad}{head} {j.name}", f"{pad}{{", f"{pad}  OFFSET {' '.join(f'{v:.6f}' for v in j.offset)}"]
        out.append(f"{pad}  CHANNELS {len(j.channels)} {' '.join(j.channels)}")
        for k in children[j.name]:
            out += block(k, depth + 1)
        if j.end is not None:
            out += [
                f"{pad}  End Site",
                f"{pad}  {{",
                f"{pad}    OFFSET {' '.join(map(str, j.end))}",
                f"{pad}  }}",
            ]
        return out + [f"{pad}}}"]

    lines = [
        "HIERARCHY",
        *block(joints[0], 0),
        "MOTION",
        f"Frames: {len(frames)}",
        f"Frame Time: {frame_time}",
    ]
    order = []  # the file's channel order: depth first

    def visit(j: Joint) -> None:
        order.append(j)
        for k in children[j.name]:
            visit(k)

    visit(joints[0])
    for f in frames:
        values = []
        for j in order:
            d = f.get(j.name, {})
            for c in j.channels:
                values.append(
                    d.get("pos", (0.0, 0.0, 0.0))["XYZ".index(c[0])] if "position" in c else d.get(c[0], 0.0)
                )
        lines.append(" ".join(f"{v:.6f}" for v in values))
    return "\n".join(lines) + "\n"


def mirrored(joints: list[Joint]) -> list[Joint]:
    """The right side of left-side joints: names Left -> Right, L -> R; x negated."""

    def rename(n: str | None) -> str | None:
        if n is None:
            return None
        return n.replace("Left", "Right") if "Left" in n else n.replace("L", "R", 1) if n[0] == "L" else n

    def flip(v):
        return None if v is None else (-v[0], v[1], v[2])

    return [Joint(rename(j.name), rename(j.parent), flip(j.offset), j.order, flip(j.end)) for j in joints]


CMU_ROOT = ("Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation")


def cmu_like_skeleton() -> list[Joint]:
    """CMU's joint names and layout as in cgspeed's files (hip joints and lower back at the pelvis; neck
    and collars starting at Spine1; finger base and thumb at the wrist), proportions of an adult in CMU's
    unit (0.056 m), legs slanting outwards as CMU's rest does. Numbers made up for the test."""
    left_leg = [
        Joint("LHipJoint", "Hips", (0, 0, 0)),
        Joint("LeftUpLeg", "LHipJoint", (1.6, -1.7, 0.8)),
        Joint("LeftLeg", "LeftUpLeg", (2.3, -6.2, 0.0)),
        Joint("LeftFoot", "LeftLeg", (2.7, -7.4, 0.0)),
        Joint("LeftToeBase", "LeftFoot", (0.2, -0.5, 2.2), end=(0.0, 0.0, 1.1)),
    ]
    left_arm = [
        Joint("LeftShoulder", "Spine1", (0, 0, 0)),
        Joint("LeftArm", "LeftShoulder", (3.3, 0.6, 0.2)),
        Joint("LeftForeArm", "LeftArm", (5.3, 0.0, 0.0)),
        Joint("LeftHand", "LeftForeArm", (2.6, 0.0, 0.0)),
        Joint("LeftFingerBase", "LeftHand", (0, 0, 0)),
        Joint("LeftHandIndex1", "LeftFingerBase", (0.7, 0.0, 0.0), end=(0.6, 0.0, 0.0)),
        Joint("LThumb", "LeftHand", (0, 0, 0), end=(0.6, 0.0, 0.6)),
    ]
    spine = [
        Joint("LowerBack", "Hips", (0, 0, 0)),
        Joint("Spine", "LowerBack", (0.03, 2.1, -0.1)),
        Joint("Spine1", "Spine", (-0.02, 2.1, -0.07)),
        Joint("Neck", "Spine1", (0, 0, 0)),
        Joint("Neck1", "Neck", (-0.02, 1.7, 0.0)),
        Joint("Head", "Neck1", (-0.05, 1.5, -0.6), end=(0.0, 1.7, -0.2)),
    ]
    root = Joint("Hips", None, (0, 0, 0), root_channels=CMU_ROOT)
    return [root, *left_leg, *mirrored(left_leg), *spine, *left_arm, *mirrored(left_arm)]


def body_skeleton(J: np.ndarray, unit: float) -> list[Joint]:
    """CMU-named skeleton whose mapped joints sit exactly on the body's rest joints ``J`` (24, 3) in metres,
    written in ``unit`` metres. Joints CMU has in between coincide with one of their neighbours (or lie
    midway, Neck1), so with those at rest the two skeletons are the same."""
    pos = {CMU_JOINT_MAP[n]: J[i] for i, n in enumerate(SMPL_JOINT_NAMES)}
    pos.update(LHipJoint=J[0], RHipJoint=J[0], Neck1=0.5 * (J[12] + J[15]), LeftHand=J[20], RightHand=J[21])
    pos.update(LThumb=J[20] + [0.02, 0.0, 0.02], RThumb=J[21] + [-0.02, 0.0, 0.02])
    out = []
    for j in cmu_like_skeleton():
        parent = pos[j.parent] if j.parent else np.zeros(3)
        offset = tuple((pos[j.name] - parent) / unit)
        end = None if j.end is None else tuple(np.asarray(j.end) * CMU_UNIT / unit)
        out.append(Joint(j.name, j.parent, offset, j.order, end, j.root_channels))
    return out


def small_bvh(
    frame_time: str = "0.0333333", rows: tuple[str, ...] = ("0 90 0 0 0 0 10", "1 90 0 0 0 0 -10")
) -> str:
    """Two joints (root with 6 channels, a child with 1) and a 2-frame motion, as text to break."""
    return "\n".join([
        "HIERARCHY", "ROOT Hips", "{", "  OFFSET 0 0 0",
        "  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation",
        "  JOINT Spine", "  {", "    OFFSET 0 10 0", "    CHANNELS 1 Xrotation",
        "    End Site", "    {", "      OFFSET 0 10 0", "    }", "  }", "}",
        "MOTION", f"Frames: {len(rows)}", f"Frame Time: {frame_time}", *rows,
    ]) + "\n"  # fmt: skip
