"""Ground-truth layers from the renderer's ``Fragments``: normals, part segmentation, instance ids,
exact forward optical flow and 2D/3D joints with visibility (depth is ``Fragments.depth``).

The public API is flat: ``from synthhuman.gt import optical_flow``. Conventions: ``docs/conventions.md``.
"""

from synthhuman.gt.flow import Flow, optical_flow
from synthhuman.gt.geometry import normal_map, normals_fg
from synthhuman.gt.joints import Joints, project_joints
from synthhuman.gt.labels import face_label_map, face_labels_from_vertex_labels, instance_ids, segmentation

__all__ = [
    "Flow",
    "Joints",
    "face_label_map",
    "face_labels_from_vertex_labels",
    "instance_ids",
    "normal_map",
    "normals_fg",
    "optical_flow",
    "project_joints",
    "segmentation",
]
