"""Barycentric interpolation of per-vertex or per-corner attributes over Fragments."""

from __future__ import annotations

from torch import Tensor

from synthhuman.render.checks import check_tensor
from synthhuman.render.corners import weighted_corner_sum
from synthhuman.render.gather import take_batched, take_rows
from synthhuman.render.raster import Fragments


def interpolate(attributes: Tensor, fragments: Fragments, faces: Tensor) -> Tensor:
    """Interpolate attributes at every pixel.

    attributes: (B, A, C) or (1, A, C) (shared by the batch). faces: (F, 3) int64 indices into A, parallel
    to the rasterized faces: the mesh's faces for per-vertex attributes, or separate corner indices
    (e.g. ``uv_faces``) for attributes with seams. Returns (B, H, W, C), 0 where no face is visible.
    """
    return fragments.to_dense(interpolate_fg(attributes, fragments, faces))


def interpolate_fg(attributes: Tensor, fragments: Fragments, faces: Tensor) -> Tensor:
    """As :func:`interpolate`, at covered pixels only: returns (N, C)."""
    check_tensor("attributes", attributes, 3)
    check_tensor("faces", faces, 2, (3,))
    if attributes.shape[0] not in (1, fragments.batch_size):
        raise ValueError(
            f"attributes: expected batch 1 or {fragments.batch_size}, got shape {tuple(attributes.shape)}"
        )
    corners = take_rows(faces, fragments.face)  # (N, 3)
    if attributes.shape[0] == 1:
        values = take_rows(attributes[0], corners)
    else:
        values = take_batched(attributes, fragments.batch_index, corners)
    return weighted_corner_sum(values, fragments.bary_fg)
