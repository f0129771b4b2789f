"""Depth, normals, label layers and joints from Fragments, against analytic answers."""

from __future__ import annotations

import torch

from synthhuman.gt.geometry import normal_map
from synthhuman.gt.joints import project_joints
from synthhuman.gt.labels import face_labels_from_vertex_labels, instance_ids, segmentation
from synthhuman.render.cameras import intrinsics, unproject
from synthhuman.render.mesh import join_meshes, vertex_normals
from synthhuman.render.raster import rasterize
from tests.meshes import uv_sphere

H, W = 48, 64


def test_sphere_depth_and_normals_match_analytic(device, dtype):
    center = torch.tensor([0.2, -0.1, 3.0], dtype=dtype, device=device)
    v, faces = uv_sphere(0.8, tuple(center.tolist()), n_lat=64, n_lon=128, dtype=dtype)
    v, faces = v.to(device), faces.to(device)
    K = intrinsics(50.0, ((W - 1) / 2, (H - 1) / 2), dtype=dtype, device=device)
    frags = rasterize(v[None], faces, K, (H, W))
    normals = normal_map(frags, vertex_normals(v[None], faces), faces)[0]
    covered = frags.pix_to_face[0] >= 0
    rows, cols = covered.nonzero().unbind(1)
    rays = unproject(
        torch.stack([cols, rows], -1).to(dtype)[None], torch.ones_like(rows, dtype=dtype)[None], K
    )[0]
    # exact ray-sphere intersection; the mesh is inscribed: its faces sag inside the sphere by up to
    # 0.8 (1 - cos(pi/64 * sqrt 2)) ~ 1 mm, more along oblique rays
    d = rays / rays.norm(dim=-1, keepdim=True)
    b = (d * center).sum(-1)
    disc = b * b - (center * center).sum() + 0.8**2
    inner = disc > 0.05  # away from the rim, where the polygonal silhouette differs from the sphere
    dist = b - disc.clamp_min(0).sqrt()
    hit = d * dist[:, None]
    torch.testing.assert_close(frags.depth[0][covered][inner], hit[inner, 2], atol=2.5e-3, rtol=0)
    expected_n = torch.nn.functional.normalize(hit - center, dim=-1)
    err = (normals[covered][inner] - expected_n[inner]).norm(dim=-1)
    assert float(err.max()) < 0.02
    assert torch.allclose(normals[covered].norm(dim=-1), torch.ones((), dtype=dtype, device=device))
    assert float(normals[~covered].abs().max()) == 0 and float(frags.depth[0][~covered].abs().max()) == 0


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


def test_joints_projection_and_visibility(device):
    K = intrinsics(50.0, ((W - 1) / 2, (H - 1) / 2), dtype=torch.float64, device=device)
    depth = torch.zeros(1, H, W, dtype=torch.float64, device=device)
    depth[0, :, : W // 2] = 2.0  # a wall at 2 m over the left half
    joints = torch.tensor(
        [[[-0.5, 0.0, 3.0], [0.5, 0.0, 3.0], [-0.5, 0.0, 2.1], [50.0, 0.0, 3.0], [0.0, 0.0, -1.0]]],
        dtype=torch.float64,
        device=device,
    )
    out = project_joints(joints, K, depth)
    expected_u = 50.0 * joints[0, :4, 0] / joints[0, :4, 2] + (W - 1) / 2
    torch.testing.assert_close(out.joints2d[0, :4, 0], expected_u)
    # behind the wall / free / just behind the wall within tolerance / off-image / behind the camera
    assert out.visible[0].tolist() == [False, True, True, False, False]
