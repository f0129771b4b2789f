"""Soft part maps of a posed body, rendered by our differentiable rasterizer: the part loss a fit
minimizes, and the hard part maps it is scored with.

Each vertex carries the one-hot vector of its 14-class part (``PART_OF_LABEL`` of its 24-part label);
interpolated over faces, a pixel inside a face that spans a part border holds a mix that moves with the
vertices (gradients at part borders), and :func:`synthhuman.render.antialias` blends the silhouettes
(gradients at the outline and where a limb crosses the body). Channel 0 is the background:
``1 - sum(parts)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from synthhuman.fit.targets import NUM_PARTS, parts_from_labels
from synthhuman.render import antialias, face_adjacency, interpolate, rasterize


@dataclass(frozen=True)
class PartMesh:
    """What rendering a body's parts needs: faces (F, 3) int64; vertex_parts (1, V, 14) one-hot float;
    face_parts (F,) int64 1..14; adjacency (F, 3) for anti-aliasing."""

    faces: Tensor
    vertex_parts: Tensor
    face_parts: Tensor
    adjacency: Tensor

    @classmethod
    def of(cls, faces: Tensor, vertex_labels: Tensor, face_labels: Tensor, dtype: torch.dtype) -> PartMesh:
        """From a body's faces and its 24-part vertex (V,) and face (F,) labels."""
        one_hot = torch.nn.functional.one_hot(parts_from_labels(vertex_labels) - 1, NUM_PARTS)
        return cls(faces, one_hot.to(dtype)[None], parts_from_labels(face_labels), face_adjacency(faces))


def soft_parts(mesh: PartMesh, verts: Tensor, K: Tensor, image_size: tuple[int, int]) -> Tensor:
    """(B, H, W, 15) soft part probabilities of (B, V, 3) camera-space vertices seen with K (B, 3, 3):
    channel 0 background, 1..14 the parts; differentiable in ``verts``."""
    return soft_parts_and_depth(mesh, verts, K, image_size)[0]


def soft_parts_and_depth(
    mesh: PartMesh, verts: Tensor, K: Tensor, image_size: tuple[int, int]
) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`soft_parts`, and from the same rasterization the (B, H, W) depth (differentiable in
    ``verts``) and (B, H, W) bool coverage."""
    frags = rasterize(verts, mesh.faces, K, image_size, cull_backfaces=True)
    parts = interpolate(mesh.vertex_parts.to(verts), frags, mesh.faces).contiguous()
    parts = antialias(parts, frags, verts, mesh.faces, K, mesh.adjacency)
    return torch.cat([1 - parts.sum(-1, keepdim=True), parts], -1), frags.depth, frags.pix_to_face >= 0


def hard_parts(mesh: PartMesh, verts: Tensor, K: Tensor, image_size: tuple[int, int]) -> Tensor:
    """(B, H, W) int64 part of the visible face at each pixel (0 background), point-sampled."""
    with torch.no_grad():
        frags = rasterize(verts, mesh.faces, K, image_size, cull_backfaces=True)
        return frags.to_dense(mesh.face_parts.index_select(0, frags.face), fill=0)
