"""The project's conventions and shared facts, written once (``docs/conventions.md`` explains each) and
tested in tests/test_conventions.py. Every other module imports these; none defines its own.

- Units: metres, seconds, radians. Images are channels-last ``(B, H, W, C)``; sizes are ``(H, W)``.
- World: SMPL's frame, +Y up, the body in zero pose faces +Z, +X is the body's left.
- Camera: OpenCV. ``X_cam = R @ X_world + t``; +x right, +y down, +z forward; ``K`` in pixels; the
  centre of pixel (u=col, v=row) is at integer coordinates (u, v).
- Depth: planar camera-space z in metres; 0 for background in stored layers.
- Normals: unit, camera axes, interpolated vertex normals; 0 for background.
- Segmentation: 0 background, 1..24 = SMPL joint index + 1 (SURREAL's ``sorted_parts`` order).
- Instance ids: 0 background, 1..P.
- Flow: forward, pixels ``(du, dv)``: where the surface point seen at a pixel of frame t is in frame t+1,
  minus that pixel. ``flow_valid`` is false where that point is outside frame t+1 or occluded there,
  and on the last frame of a clip.
- Texture UVs: u left to right, v bottom to top (OBJ ``vt``); texel (i, j) of an ``(Ht, Wt)`` map has its
  centre at ``u = (j + 0.5) / Wt``, ``v = 1 - (i + 0.5) / Ht``.
"""

from __future__ import annotations

NUM_JOINTS = 24
"""SMPL body joints."""

SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
"""Parent of each SMPL joint (kinematic tree), -1 for the pelvis."""

PART_NAMES = (
    "hips", "leftUpLeg", "rightUpLeg", "spine", "leftLeg", "rightLeg", "spine1", "leftFoot",
    "rightFoot", "spine2", "leftToeBase", "rightToeBase", "neck", "leftShoulder", "rightShoulder",
    "head", "leftArm", "rightArm", "leftForeArm", "rightForeArm", "leftHand", "rightHand",
    "leftHandIndex1", "rightHandIndex1",
)  # fmt: skip
"""Segmentation label k (1..24) is ``PART_NAMES[k - 1]`` = SMPL joint k - 1 (SURREAL's sorted_parts)."""

SEGM_24_TO_14 = (2, 12, 9, 2, 13, 10, 2, 14, 11, 2, 14, 11, 2, 2, 2, 1, 6, 3, 7, 4, 8, 5, 8, 5)
"""SURREAL's training map: 14-class label of 24-class label k is ``SEGM_24_TO_14[k - 1]``; 0 stays 0."""

BACKGROUND = 0
"""Label of background pixels in segmentation and instance layers."""

DEFAULT_ZNEAR = 1e-2
"""Metres. Faces with any vertex nearer than this are culled by the rasterizer (not clipped)."""

DEFAULT_OCCLUSION_TOLERANCE = 0.03
"""Metres. Flow's occlusion test: a point counts as hidden at t+1 when the surface there is this much nearer
than the point, unless that surface is the point's own face. 3 cm covers the depth change across half a
pixel of a steeply sloped surface at SURREAL's distances (about 1.3 cm per pixel at 8 m, f = 600 px)."""

DEFAULT_JOINT_TOLERANCE = 0.15
"""Metres. Joints lie inside the body, behind their own surface by up to a limb's or the torso's half
thickness; a joint counts as hidden when the surface at its pixel is nearer than this."""

SPLITS = ("train", "test")
"""The dataset splits. Clip seeds, textures, backgrounds, shapes and motions are all split this way."""

GENDERS = ("neutral", "male", "female")
"""Body genders, in SMPL's file order (the default body is built and exported in this order)."""


def clip_id(index: int) -> str:
    """The name of clip ``index`` of a split: its index as six digits (``12`` -> ``"000012"``)."""
    if index < 0:
        raise ValueError(f"index: expected >= 0, got {index}")
    return f"{index:06d}"
