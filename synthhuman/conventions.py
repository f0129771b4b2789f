"""The project's conventions, written once (DESIGN.md section 3) and tested in tests/test_conventions.py.

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
