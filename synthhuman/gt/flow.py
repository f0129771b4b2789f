"""Exact forward optical flow: follow the surface point seen at each pixel to the next frame.

The point at a pixel of frame t is (visible face, barycentrics); in frame t+1 the same face and
barycentrics with frame t+1's vertices and camera give its position, and its projection minus the pixel
is the flow. ``valid`` is false where that projection leaves frame t+1, where the point is hidden there by
a nearer surface, and on frames with no next frame.

Hidden: the pixel where the point lands (rounded) shows another face, nearer than the point by more than
``occlusion_tolerance`` at that pixel's centre (the z-buffer's depth), unless both faces lie in the
ground's plane: a plane crosses a line of sight once, so it never hides itself. On a floor seen at a
grazing angle the depth changes by metres across one pixel (the ground 40 m away, 600 px focal, camera
1.5 m up: about 1.8 m per pixel row), so the depth at the centre of the landing pixel, half a pixel from
the point, would hide the point behind the next face of the same floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from synthhuman.conventions import DEFAULT_OCCLUSION_TOLERANCE
from synthhuman.render import Fragments, project, take_batched, take_rows, weighted_corner_sum


@dataclass(frozen=True)
class Flow:
    """flow: (B, H, W, 2) pixels (du, dv), 0 where invalid. valid: (B, H, W) bool."""

    flow: Tensor
    valid: Tensor


def optical_flow(
    fragments: Fragments,
    faces: Tensor,
    verts_next: Tensor,
    K_next: Tensor,
    pix_to_face_next: Tensor,
    depth_next: Tensor,
    has_next: Tensor,
    occlusion_tolerance: float = DEFAULT_OCCLUSION_TOLERANCE,
    *,
    zero_invalid: bool = True,
    next_frame: Tensor | None = None,
    ground_faces: int = 0,
) -> Flow:
    """Forward flow from frame t (``fragments``) to frame t+1.

    faces: (F, 3). verts_next: (B, V, 3) frame t+1 vertices in frame t+1's camera space. K_next: (B, 3, 3).
    pix_to_face_next, depth_next: (B', H, W) layers of the frames t+1 (for the occlusion test): element b is
      frame b's next frame, or, with ``next_frame`` (B,) int64, element ``next_frame[b]`` is (so a batch of
      consecutive frames passes its own layers without copying them).
    has_next: (B,) bool, false on the last frame of a clip.
    zero_invalid: set the flow to 0 where it is not valid (our convention); False keeps the motion of every
    covered pixel whose frame has a next frame (as Blender's vector pass, for SURREAL's files).
    ground_faces: the last this many faces lie in one plane (the ground): they never hide one another.
    """
    h, w = fragments.image_size
    if next_frame is not None and tuple(next_frame.shape) != (fragments.batch_size,):
        raise ValueError(
            f"next_frame: expected shape ({fragments.batch_size},), got {tuple(next_frame.shape)}"
        )
    bidx = fragments.batch_index
    corners = take_batched(verts_next, bidx, take_rows(faces, fragments.face))  # (N, 3, 3)
    point = weighted_corner_sum(corners, fragments.bary_fg)  # (N, 3)
    z = point[:, 2]
    uv = project(point[:, None], take_rows(K_next, bidx))[:, 0]  # (N, 2)
    flow_fg = uv - fragments.pixel_xy().to(uv.dtype)

    col, row = torch.round(uv[:, 0]), torch.round(uv[:, 1])
    inside = (z > 0) & (col >= 0) & (col <= w - 1) & (row >= 0) & (row <= h - 1)
    there = bidx if next_frame is None else next_frame.index_select(0, bidx)
    target = there * (h * w) + row.clamp(0, h - 1).long() * w + col.clamp(0, w - 1).long()
    face_there = pix_to_face_next.flatten().index_select(0, target)
    depth_there = depth_next.detach().flatten().index_select(0, target)
    plane = faces.shape[0] - ground_faces  # the first face of the ground
    same_plane = (fragments.face >= plane) & (face_there >= plane)
    unoccluded = (face_there == fragments.face) | (face_there < 0) | same_plane
    unoccluded |= z <= depth_there + occlusion_tolerance
    valid_fg = inside & unoccluded & has_next[bidx]
    keep = valid_fg if zero_invalid else has_next[bidx]
    flow_fg = torch.where(keep[:, None], flow_fg, torch.zeros_like(flow_fg))
    return Flow(fragments.to_dense(flow_fg), fragments.to_dense(valid_fg, fill=False))
