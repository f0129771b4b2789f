"""Per-face label layers (part segmentation, instance ids), point-sampled: no anti-aliasing."""

from __future__ import annotations

import torch
from torch import Tensor

from synthhuman.conventions import BACKGROUND
from synthhuman.render import Fragments


def face_label_map(fragments: Fragments, face_labels: Tensor, dtype: torch.dtype = torch.uint8) -> Tensor:
    """(B, H, W) label of the visible face (face_labels (F,) int), BACKGROUND where none."""
    if face_labels.ndim != 1:
        raise ValueError(f"face_labels: expected shape (F,), got {tuple(face_labels.shape)}")
    return fragments.to_dense(face_labels.to(dtype).index_select(0, fragments.face), fill=BACKGROUND)


def segmentation(fragments: Fragments, face_labels: Tensor) -> Tensor:
    """(B, H, W) uint8 part labels: 0 background, 1..24 = SMPL joint index + 1."""
    return face_label_map(fragments, face_labels)


def instance_ids(fragments: Fragments, face_instance: Tensor) -> Tensor:
    """(B, H, W) uint8 instance ids: 0 background, 1..P (``face_instance`` from ``join_meshes``)."""
    return face_label_map(fragments, face_instance)


def face_labels_from_vertex_labels(vertex_labels: Tensor, faces: Tensor) -> Tensor:
    """(F,) label of each face: the label two or three of its corners share, else its first corner's."""
    lv = vertex_labels[faces]  # (F, 3)
    agree_12 = lv[:, 1] == lv[:, 2]
    return torch.where(agree_12 & (lv[:, 0] != lv[:, 1]), lv[:, 1], lv[:, 0])
