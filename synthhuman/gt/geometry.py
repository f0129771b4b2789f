"""Surface normals from Fragments (depth is ``Fragments.depth`` itself: planar camera z, 0 background)."""

from __future__ import annotations

from torch import Tensor

from synthhuman.render import Fragments, interpolate_fg, unit_vectors


def normal_map(fragments: Fragments, normals_cam: Tensor, faces: Tensor) -> Tensor:
    """(B, H, W, 3) unit normals in camera axes from (B, V, 3) vertex normals; 0 for background."""
    return fragments.to_dense(normals_fg(fragments, normals_cam, faces))


def normals_fg(fragments: Fragments, normals: Tensor, faces: Tensor) -> Tensor:
    """(N, 3) unit interpolated normals at covered pixels, in the axes ``normals`` (B, V, 3) are in."""
    return unit_vectors(interpolate_fg(normals, fragments, faces))
