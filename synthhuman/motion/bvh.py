"""BVH motion capture files -> SMPL :class:`PoseSequence`, with the rest-pose difference corrected.

Reading the file into a :class:`Bvh` record (:func:`parse_bvh`: the format, channel order and Euler
convention), its forward kinematics and length-unit detection are in :mod:`synthhuman.motion.bvh_file`;
their names are importable from this module too. This module retargets the BVH skeleton onto SMPL's
24 joints (:func:`retarget`) and reads a file into a :class:`PoseSequence` (:func:`read_bvh`).

Axes and units. BVH worlds are Y-up, as ours (+Y up, the body in zero pose faces +Z, +X is the body's
left; metres): positions are kept as they are, only scaled to metres, and the body faces wherever the BVH
skeleton faces (CMU's rest skeletons face +Z with +X their left, exactly SMPL's rest). ``scale=None``
detects the file's length unit from its rest skeleton (:func:`detect_scale`: metres, centimetres,
millimetres, inches or CMU's unit, whichever makes the skeleton's size nearest :data:`HUMAN_SIZE`). The
performer's own metres are kept (not rescaled to the body): stride lengths are the performer's, as in
SURREAL.

Retargeting (:func:`retarget`). Each SMPL joint j is mapped to a BVH joint b(j) at about the same place
whose rotation moves the same bone (default :data:`CMU_JOINT_MAP`). Its global rotation is the BVH one
times a constant rest alignment, ``S_j(t) = G_b(j)(t) A_j`` (:func:`rest_alignment`), which takes SMPL's
rest pose to the BVH's:

- torso (pelvis, spine1-3, neck, collars, head): ``A_j`` is the turn about the vertical that takes SMPL's
  left-right axis (the first left/right joint pair mapped: the hips) onto the BVH's, so the body faces
  where the BVH's rest skeleton faces. Both rest skeletons are taken to stand upright: how their torso
  bones lean at rest says where each puts its joints, not a pose (on a cgspeed CMU skeleton and the
  default body: CMU's head joint sits 10 degrees behind its neck base, SMPL's 19 degrees in front; CMU's
  collar bones start at the chest joint and rise 8 degrees, SMPL's start by the neck and fall 8; matching
  those bones would tip the head back 30 degrees, shrug the shoulders by 17-20 and straighten SMPL's lower
  back by 15);
- limbs (legs, arms, hands, feet): rest poses do differ there (each CMU leg stands 16 degrees out, T- and
  A-poses, arms down), so every limb bone -- the vector from a joint to its nearest mapped descendant --
  points where the BVH's does: ``A_j`` is the parent's alignment, then the smallest turn that puts
  SMPL's rest bone onto the BVH's. Twist is inherited down the limb (a T-pose body following arms-down
  data has its palms towards the thighs). At every frame the bone then points exactly as the BVH's, as
  long as BVH joints in between (CMU's ``LHipJoint``, ``LeftHand``) are at rest or only twist about the
  bone. A leaf (toes, hands) or a zero-length bone keeps its parent's alignment: its local rotation is
  the BVH's relative rotation.

SMPL joints left out of the map keep the identity local rotation: the mapped joint below one carries the
whole bend. Root translation: ``trans = scale * P_b(pelvis) - J0`` with J0 the body's rest pelvis, so the
pelvis joint lands on the BVH's pelvis joint; the feet are not put on the ground (see
``clips.place_on_ground``).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from synthhuman.conventions import NUM_JOINTS, SMPL_PARENTS
from synthhuman.motion.bvh_file import (
    HUMAN_SIZE,
    LENGTH_UNITS,
    Bvh,
    detect_scale,
    forward_kinematics,
    parse_bvh,
    rest_positions,
)
from synthhuman.motion.sequence import LEFT_RIGHT_PAIRS, POSE_DIM, PoseSequence, resample

__all__ = [
    "CMU_JOINT_MAP", "HUMAN_SIZE", "LENGTH_UNITS", "SMPL_JOINT_NAMES", "TORSO_JOINTS", "Bvh",
    "body_rest_joints", "cmu_subject", "detect_scale", "forward_kinematics", "parse_bvh", "read_bvh",
    "rest_alignment", "rest_positions", "retarget",
]  # fmt: skip

SMPL_JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
    "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hand", "right_hand",
)  # fmt: skip
"""SMPL's 24 joints in order (smplx's names): the keys of a joint map."""

CMU_JOINT_MAP = {
    "pelvis": "Hips", "left_hip": "LeftUpLeg", "right_hip": "RightUpLeg", "spine1": "LowerBack",
    "left_knee": "LeftLeg", "right_knee": "RightLeg", "spine2": "Spine", "left_ankle": "LeftFoot",
    "right_ankle": "RightFoot", "spine3": "Spine1", "left_foot": "LeftToeBase", "right_foot": "RightToeBase",
    "neck": "Neck", "left_collar": "LeftShoulder", "right_collar": "RightShoulder", "head": "Head",
    "left_shoulder": "LeftArm", "right_shoulder": "RightArm", "left_elbow": "LeftForeArm",
    "right_elbow": "RightForeArm", "left_wrist": "LeftFingerBase", "right_wrist": "RightFingerBase",
    "left_hand": "LeftHandIndex1", "right_hand": "RightHandIndex1",
}  # fmt: skip
"""SMPL joint -> joint of CMU's BVH skeleton (cgspeed's conversion of the CMU ASF files).

The three spine joints follow CMU's lowerback, upperback and thorax (``Spine1``: the neck and both
collars start there). The wrist is ``LeftFingerBase``, which sits on ``LeftHand`` (the wrist point) and
whose rotation, after ``LeftHand``'s, turns the palm as SMPL's wrist does; the hand joint is
``LeftHandIndex1`` (the fingers). ``LHipJoint``, ``Neck1``, ``LeftHand`` and ``LThumb`` are not mapped:
see the module docstring for joints in between."""

TORSO_JOINTS = (0, 3, 6, 9, 12, 13, 14, 15)
"""Pelvis, spine1-3, neck, collars, head: aligned by the turn about the vertical only (module docstring)."""

_MIN_MAPPED = 12  # the default CMU map must find at least this many joints in a file


def _check_joint_map(bvh: Bvh, joint_map: Mapping[str, str] | None) -> dict[int, int]:
    """SMPL joint index -> BVH joint index, validated (names, duplicates, hierarchy)."""
    available = ", ".join(bvh.names)
    if joint_map is None:
        found = {k: v for k, v in CMU_JOINT_MAP.items() if v in bvh.names}
        if "pelvis" not in found or len(found) < _MIN_MAPPED:
            missing = [v for v in CMU_JOINT_MAP.values() if v not in bvh.names]
            raise ValueError(
                f"{bvh.path}: not a CMU-named skeleton (missing joints {missing}); pass a joint map "
                f"(SMPL joint -> BVH joint). Joints in the file: {available}"
            )
        joint_map = found
    out: dict[int, int] = {}
    for smpl_name, bvh_name in joint_map.items():
        if smpl_name not in SMPL_JOINT_NAMES:
            raise ValueError(
                f"{bvh.path}: joint map: {smpl_name!r} is not an SMPL joint; SMPL joints: {SMPL_JOINT_NAMES}"
            )
        if bvh_name not in bvh.names:
            raise ValueError(
                f"{bvh.path}: joint map: {smpl_name!r} -> {bvh_name!r}: no such joint in the file; "
                f"joints in the file: {available}"
            )
        index = bvh.names.index(bvh_name)
        if index in out.values():
            raise ValueError(f"{bvh.path}: joint map: BVH joint {bvh_name!r} is mapped to two SMPL joints")
        out[SMPL_JOINT_NAMES.index(smpl_name)] = index
    if 0 not in out:
        raise ValueError(f"{bvh.path}: joint map: 'pelvis' must be mapped (joints in the file: {available})")
    for j, b in out.items():
        a = _mapped_ancestor(j, out)
        if a is not None and out[a] not in _bvh_ancestors(bvh, b):
            raise ValueError(
                f"{bvh.path}: joint map: {SMPL_JOINT_NAMES[j]!r} -> {bvh.names[b]!r} is not below "
                f"{SMPL_JOINT_NAMES[a]!r} -> {bvh.names[out[a]]!r} in the BVH hierarchy"
            )
    return out


def _mapped_ancestor(j: int, mapped: Mapping[int, int]) -> int | None:
    a = SMPL_PARENTS[j]
    while a >= 0 and a not in mapped:
        a = SMPL_PARENTS[a]
    return a if a >= 0 else None


def _bvh_ancestors(bvh: Bvh, b: int) -> set[int]:
    out = set()
    while bvh.parents[b] >= 0:
        b = bvh.parents[b]
        out.add(b)
    return out


def _chain_target(j: int, mapped: Mapping[int, int]) -> int | None:
    """The nearest mapped joint down a limb from j (limb joints have one child each), if any."""
    k = j
    while children := [c for c, p in enumerate(SMPL_PARENTS) if p == k]:
        k = children[0]
        if k in mapped:
            return k
    return None


def _shortest_arc(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(3, 3) the smallest rotation taking the direction of a onto that of b."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(a @ b)
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        axis = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
        s = np.linalg.norm(axis)
    return Rotation.from_rotvec(axis / s * math.atan2(s, c)).as_matrix()


def rest_alignment(
    smpl_rest: np.ndarray, bvh_rest: np.ndarray, mapped: Mapping[int, int], eps: float = 1e-6
) -> np.ndarray:
    """(24, 3, 3) the rest alignments A_j (module docstring): the torso's turn about the vertical, and for
    limb joints the turn of SMPL's rest bone onto the BVH's.

    smpl_rest: (24, 3) the body's rest joints; bvh_rest: (J, 3) the BVH rest joints (any unit); mapped:
    SMPL joint -> BVH joint. A vector shorter than ``eps`` times its skeleton's size counts as absent.
    Unmapped joints get the identity (they are not used).
    """
    tol_s = eps * np.ptp(smpl_rest, axis=0).max()
    tol_b = eps * max(np.ptp(bvh_rest, axis=0).max(), 1e-12)

    def vectors(j: int, k: int, keep=slice(None)) -> tuple[np.ndarray, np.ndarray] | None:
        """SMPL's and the BVH's rest vectors from joint j to joint k (components ``keep``), if both long."""
        s, b = (smpl_rest[k] - smpl_rest[j])[keep], (bvh_rest[mapped[k]] - bvh_rest[mapped[j]])[keep]
        return (s, b) if np.linalg.norm(s) > tol_s and np.linalg.norm(b) > tol_b else None

    heading = 0.0  # the BVH's left-right axis's direction in the ground plane minus SMPL's
    for left, right in LEFT_RIGHT_PAIRS:
        if left in mapped and right in mapped and (v := vectors(right, left, [0, 2])) is not None:
            heading = math.atan2(v[1][0], v[1][1]) - math.atan2(v[0][0], v[0][1])
            break
    A = np.broadcast_to(np.eye(3), (NUM_JOINTS, 3, 3)).copy()
    for j in range(NUM_JOINTS):
        if j not in mapped:
            continue
        if j in TORSO_JOINTS:
            A[j] = Rotation.from_rotvec([0.0, heading, 0.0]).as_matrix()
            continue
        base = A[_mapped_ancestor(j, mapped)]
        k = _chain_target(j, mapped)
        bone = None if k is None else vectors(j, k)
        # the parent's alignment, then the smallest turn onto the BVH's bone (twist is inherited);
        # a leaf or a zero-length bone keeps the parent's alignment
        A[j] = base if bone is None else _shortest_arc(base @ bone[0], bone[1]) @ base
    return A


def retarget(
    bvh: Bvh,
    joint_map: Mapping[str, str] | None = None,
    scale: float | None = None,
    smpl_rest: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """BVH motion -> SMPL ``poses`` (T, 72) axis-angle and ``trans`` (T, 3) metres (module docstring).

    joint_map: SMPL joint name -> BVH joint name (None: :data:`CMU_JOINT_MAP`, using the joints the file
    has); scale: metres per file unit (None: :func:`detect_scale`); smpl_rest: (24, 3) the body's rest
    joints (None: the default neutral body's).
    """
    mapped = _check_joint_map(bvh, joint_map)
    if scale is None:
        scale = detect_scale(bvh)
    elif not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale: expected a finite number > 0 (metres per file unit), got {scale!r}")
    if smpl_rest is None:
        smpl_rest = body_rest_joints(None)
    A = rest_alignment(smpl_rest, rest_positions(bvh), mapped)
    G, P = forward_kinematics(bvh)
    T = bvh.num_frames
    S = np.empty((T, NUM_JOINTS, 3, 3))
    local = np.empty_like(S)
    for j, p in enumerate(SMPL_PARENTS):
        if j in mapped:
            S[:, j] = G[:, mapped[j]] @ A[j]
        else:
            S[:, j] = S[:, p]
        local[:, j] = S[:, j] if p < 0 else np.swapaxes(S[:, p], 1, 2) @ S[:, j]
    poses = Rotation.from_matrix(local.reshape(-1, 3, 3)).as_rotvec().reshape(T, POSE_DIM)
    trans = scale * P[:, mapped[0]] - smpl_rest[0]
    return poses, trans


def body_rest_joints(body=None) -> np.ndarray:
    """(24, 3) float64 rest joints (zero shape, zero pose) of ``body`` (a ``BodyModel``; None: the default
    neutral body, computed once per process)."""
    if body is None:
        return _default_rest_joints().copy()
    import torch

    with torch.no_grad():
        out = body(None, torch.zeros(1, POSE_DIM, dtype=body.dtype, device=body.device))
    return out.joints[0].double().cpu().numpy()


@functools.cache
def _default_rest_joints() -> np.ndarray:
    from synthhuman.body.default_body import load_default_body

    return body_rest_joints(load_default_body("neutral"))


def cmu_subject(stem: str) -> str:
    """CMU subject of a file stem: '01_01' -> '01'; '' for other names."""
    m = re.fullmatch(r"(\d+)_\d+", stem)
    return m.group(1) if m else ""


def read_bvh(
    path: str | Path,
    joint_map: Mapping[str, str] | None = None,
    scale: float | None = None,
    body=None,
    fps: float | None = None,
) -> PoseSequence:
    """A BVH file as an SMPL :class:`PoseSequence` in our world (module docstring).

    joint_map: SMPL joint name (:data:`SMPL_JOINT_NAMES`) -> BVH joint name; None reads CMU's skeleton
    (:data:`CMU_JOINT_MAP`). scale: metres per file unit (None: detected, :func:`detect_scale`). body: the
    ``BodyModel`` whose rest skeleton the motion is fitted to (None: the default neutral body). fps: resample
    to this rate (quaternion slerp); None keeps the file's ``1 / Frame Time``. name: the file's stem; source
    'bvh'; subject from CMU-style names ('01_01.bvh' -> '01'), else ''.
    """
    path = Path(path)
    bvh = parse_bvh(path)
    poses, trans = retarget(bvh, joint_map, scale, body_rest_joints(body))
    seq = PoseSequence(poses, trans, bvh.fps, name=path.stem, source="bvh", subject=cmu_subject(path.stem))
    return seq if fps is None else resample(seq, fps)
