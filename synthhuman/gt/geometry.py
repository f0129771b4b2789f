"""Depth and surface normals from Fragments."""

from __future__ import annotations

from torch import Tensor

from synthhuman.render._corners import unit_vectors
from synthhuman.render.interpolate import interpolate_fg
from synthhuman.render.rasterize import Fragments


def depth_map(fragments: Fragments) -> Tensor:
    """(B, H, W) planar camera-space z in metres, 0 for background."""
    return fragments.depth


def normal_map(fragments: Fragments, normals_cam: Tensor, faces: Tensor) -> Tensor:
    """(B, H, W, 3) unit normals in camera axes from (B, V, 3) vertex normals; 0 for background."""
    return fragments.to_dense(normals_fg(fragments, normals_cam, faces))


def normals_fg(fragments: Fragments, normals: Tensor, faces: Tensor) -> Tensor:
    """(N, 3) unit interpolated normals at covered pixels, in the axes ``normals`` (B, V, 3) are in."""
    return unit_vectors(interpolate_fg(normals, fragments, faces))
