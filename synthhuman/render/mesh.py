"""Mesh utilities: joining several meshes into one scene mesh, vertex normals, face adjacency."""

from __future__ import annotations

import torch
from torch import Tensor

from synthhuman.render.checks import check_faces, check_tensor


def join_meshes(verts: list[Tensor], faces: list[Tensor]) -> tuple[Tensor, Tensor, Tensor]:
    """Join P meshes (people in one scene) into one mesh per image.

    verts: P tensors (B, V_p, 3); faces: P tensors (F_p, 3) int64.
    Returns verts (B, sum V_p, 3), faces (sum F_p, 3) with per-mesh vertex offsets, and
    face_instance (sum F_p,) int64 in 1..P, so instance ids fall out of ``pix_to_face``.
    """
    if not verts or len(verts) != len(faces):
        raise ValueError(
            f"join_meshes: expected equal, non-empty lists, got {len(verts)} verts, {len(faces)} faces"
        )
    out_faces, instance, offset = [], [], 0
    for p, (v, f) in enumerate(zip(verts, faces, strict=True)):
        check_tensor(f"verts[{p}]", v, 3, (3,))
        f = check_faces(f, v.shape[1], name=f"faces[{p}]")
        out_faces.append(f + offset)
        instance.append(torch.full((f.shape[0],), p + 1, dtype=torch.int64, device=f.device))
        offset += v.shape[1]
    return torch.cat(verts, 1), torch.cat(out_faces), torch.cat(instance)


def vertex_normals(verts: Tensor, faces: Tensor) -> Tensor:
    """(B, V, 3) unit area-weighted vertex normals of (B, V, 3) verts, faces (F, 3) counter-clockwise."""
    b, n = verts.shape[:2]
    # Coordinate planes (3, V, B): each corner is one row gather for the whole batch, the cross product
    # is six products on contiguous (F, B) planes, and each corner's sum is one index_add of (F, 3B) rows
    # (about 2x faster on CPU than gathering (F, 3, B, 3) triangles and torch.linalg.cross).
    planes = verts.permute(2, 1, 0).contiguous()
    v0, v1, v2 = (planes.index_select(1, faces[:, k]) for k in range(3))
    (ax, ay, az), (bx, by, bz) = (v1 - v0).unbind(0), (v2 - v0).unbind(0)
    face_n = torch.stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], 1).view(-1, 3 * b)
    summed = face_n.new_zeros(n, 3 * b)
    for k in range(3):
        summed.index_add_(0, faces[:, k], face_n)
    summed = summed.view(n, 3, b)
    length = summed.square().sum(1, keepdim=True).sqrt().clamp_min(1e-12)
    return (summed / length).permute(2, 0, 1).contiguous()


def face_adjacency(faces: Tensor) -> Tensor:
    """(F, 3) int64: the face across edge k of each face, -1 on a boundary.

    Edge k joins vertices k+1 and k+2 (it is opposite vertex k), as in the rasterizer. Where more than two
    faces share an edge, they are paired in index order.
    """
    f = faces.shape[0]
    a, b = faces.roll(-1, 1), faces.roll(-2, 1)
    n = int(faces.max()) + 1
    key = (torch.minimum(a, b) * n + torch.maximum(a, b)).flatten()
    order = torch.argsort(key, stable=True)
    sk = key[order]
    pair = (sk[1:] == sk[:-1]).nonzero().squeeze(1)
    # keep pairs that do not overlap a previous pair (3+ faces on one edge pair up in order)
    pair = pair[torch.cat([pair.new_ones(min(1, len(pair)), dtype=torch.bool), pair[1:] != pair[:-1] + 1])]
    adj = torch.full((f * 3,), -1, dtype=torch.int64, device=faces.device)
    adj[order[pair]] = torch.div(order[pair + 1], 3, rounding_mode="floor")
    adj[order[pair + 1]] = torch.div(order[pair], 3, rounding_mode="floor")
    return adj.view(f, 3)
