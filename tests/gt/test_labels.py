"""Part and instance label layers from Fragments; face labels from vertex labels."""

from __future__ import annotations

import torch

from synthhuman.gt import face_labels_from_vertex_labels, instance_ids, segmentation
from synthhuman.render import intrinsics, join_meshes, rasterize
from tests.meshes import uv_sphere

H, W = 48, 64


def test_segmentation_and_instances_of_two_people(device):
    """Two spheres: labels per face, instance ids from join_meshes, nearer one occludes, bg is 0."""
    v1, f1 = uv_sphere(0.5, (-0.3, 0.0, 3.0))
    v2, f2 = uv_sphere(0.5, (0.3, 0.0, 3.5))
    verts, faces, inst = join_meshes(
        [v1[None].to(device), v2[None].to(device)], [f1.to(device), f2.to(device)]
    )
    labels = torch.where(verts[0, faces[:, 0], 1] > 0, 16, 1)  # upper half "head", lower half "hips"
    K = intrinsics(50.0, ((W - 1) / 2, (H - 1) / 2), dtype=torch.float64, device=device)
    frags = rasterize(verts, faces, K, (H, W))
    segm, instance = segmentation(frags, labels)[0], instance_ids(frags, inst)[0]
    assert segm.dtype == torch.uint8 and instance.dtype == torch.uint8
    covered = frags.pix_to_face[0] >= 0
    assert torch.equal(segm > 0, covered) and torch.equal(instance > 0, covered)
    assert set(instance.unique().tolist()) == {0, 1, 2}
    assert set(segm.unique().tolist()) == {0, 1, 16}
    centre_row, mid_col = H // 2, (W - 1) // 2  # where they overlap the nearer sphere (1) wins
    assert int(instance[centre_row, mid_col]) == 1


def test_face_labels_from_vertex_labels():
    vl = torch.tensor([1, 1, 2, 3, 2])
    faces = torch.tensor([[0, 1, 2], [2, 4, 0], [1, 2, 3], [2, 3, 4]])
    assert face_labels_from_vertex_labels(vl, faces).tolist() == [1, 2, 1, 2]
