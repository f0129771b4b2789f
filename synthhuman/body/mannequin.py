"""A procedural, SMPL-like articulated mannequin: a body to test, benchmark and demo with, no files needed.

Rest pose: SMPL's T-pose in SMPL's world frame (``docs/conventions.md``: metres, +Y up, facing +Z, +X is the
body's left), standing on the ground: soles at y = 0, pelvis joint at (0, 0.93, 0), top of the head at
y = 1.74. The 24 joints follow SMPL's order and kinematic tree (``conventions.SMPL_PARENTS``).

Each of the 24 parts is one closed, outward-oriented (counter-clockwise seen from outside) tube with
elliptical cross-sections, rounded into two poles on its axis (a superellipse profile). Vertex k belongs to
exactly one part: ``part_labels = joint + 1`` and one-hot skinning weights to that joint, so the mesh poses
rigidly per part with ``smplx.lbs.lbs``. Parts overlap at the joints instead of sharing vertices.

Joint regressor: every joint lies on the axis of one part (its own, or the shin's for the ankles), so it is
an exact convex combination of that part's two pole vertices.

Shape (10 betas, the rest zero), linear like SMPL's blend shapes:
  beta 0, girth: every vertex moves away from its part's axis by 10% of its distance per unit.
  beta 1, size: the whole body scales by 5% per unit about the origin (the ground under the pelvis).
Joints follow both exactly (poles lie on the axes; regression is linear).

UVs: a 6 x 4 atlas, part j in tile (column j % 6, row j // 6 from the top). Around a tube, u goes once
round (the seam column is duplicated in UV space, not in positions); along it, v goes from the pole near
the part's start to the pole near its end. ``mannequin_texture`` paints that atlas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from smplx.lbs import batch_rigid_transform, batch_rodrigues, lbs
from torch import Tensor

from synthhuman.conventions import NUM_JOINTS, SMPL_PARENTS
from synthhuman.viz import hsv_to_rgb

NUM_BETAS = 10
"""Shape coefficients taken by ``pose_mannequin``; only the first two do something."""

GIRTH_PER_BETA = 0.10
"""Relative growth of every part's cross-section per unit of beta 0."""

SIZE_PER_BETA = 0.05
"""Relative growth of the whole body per unit of beta 1."""

ATLAS_GRID = (4, 6)
"""Texture atlas tiles (rows, columns); part j has column ``j % 6`` and row ``j // 6`` from the top."""

_TILE_MARGIN = 1.0 / 32.0
"""Fraction of a tile left on each side so bilinear sampling never reaches a neighbouring tile."""

REST_JOINTS = (
    (0.0, 0.93, 0.0),  # 0 pelvis
    (0.085, 0.86, 0.0),  # 1 L_hip
    (-0.085, 0.86, 0.0),  # 2 R_hip
    (0.0, 1.05, -0.005),  # 3 spine1
    (0.095, 0.48, 0.01),  # 4 L_knee
    (-0.095, 0.48, 0.01),  # 5 R_knee
    (0.0, 1.18, -0.005),  # 6 spine2
    (0.10, 0.08, -0.02),  # 7 L_ankle
    (-0.10, 0.08, -0.02),  # 8 R_ankle
    (0.0, 1.24, -0.005),  # 9 spine3
    (0.11, 0.03, 0.11),  # 10 L_foot (ball of the foot)
    (-0.11, 0.03, 0.11),  # 11 R_foot
    (0.0, 1.45, -0.015),  # 12 neck
    (0.075, 1.37, -0.01),  # 13 L_collar
    (-0.075, 1.37, -0.01),  # 14 R_collar
    (0.0, 1.53, 0.01),  # 15 head
    (0.185, 1.40, -0.015),  # 16 L_shoulder
    (-0.185, 1.40, -0.015),  # 17 R_shoulder
    (0.44, 1.39, -0.025),  # 18 L_elbow
    (-0.44, 1.39, -0.025),  # 19 R_elbow
    (0.69, 1.39, -0.025),  # 20 L_wrist
    (-0.69, 1.39, -0.025),  # 21 R_wrist
    (0.78, 1.39, -0.03),  # 22 L_hand
    (-0.78, 1.39, -0.03),  # 23 R_hand
)
"""Rest (T-pose) joint positions in metres, SMPL order."""

_REGRESSOR_PART = {7: 4, 8: 5}
"""Joints regressed from another part's poles (the ankles lie on the shins' axes); others use their own."""

_UP, _FRONT = (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)


@dataclass(frozen=True)
class _Tube:
    """One part's surface: poles ``p0`` -> ``p1``; cross-section half-axes (along e1, e2) ``r0`` at the p0
    end, ``r1`` at the p1 end, linearly tapered; e2 is ``ref`` made orthogonal to the axis; ``n`` is the
    superellipse exponent of the profile (2: ellipsoid, larger: flatter sides, more like a capsule)."""

    p0: np.ndarray
    p1: np.ndarray
    r0: tuple[float, float]
    r1: tuple[float, float]
    ref: tuple[float, float, float]
    n: float


def _tube(a, b, ext0: float, ext1: float, r0, r1, ref, n: float = 3.0) -> _Tube:
    """A tube along a -> b, extended past a by ``ext0`` and past b by ``ext1`` (metres)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = (b - a) / np.linalg.norm(b - a)
    return _Tube(a - ext0 * d, b + ext1 * d, r0, r1, ref, n)


def _mirror(t: _Tube) -> _Tube:
    """The same tube on the other side of the body (x negated)."""
    flip = np.array([-1.0, 1.0, 1.0])
    return _Tube(t.p0 * flip, t.p1 * flip, t.r0, t.r1, t.ref, t.n)


def _tubes() -> list[_Tube]:
    """The 24 part surfaces in joint order. Radii are (along e1, along e2) half-axes in metres."""
    J = np.asarray(REST_JOINTS, np.float64)
    left = {
        1: _tube(J[1], J[4], 0.06, 0.03, (0.080, 0.085), (0.050, 0.055), _FRONT),  # thigh
        4: _tube(J[4], J[7], 0.03, 0.035, (0.050, 0.055), (0.030, 0.035), _FRONT),  # shin
        # foot: heel to ball, below the ankle (the ankle joint is regressed from the shin)
        7: _tube((0.10, 0.042, -0.07), (0.11, 0.035, 0.14), 0.0, 0.0, (0.042, 0.042), (0.048, 0.032), _UP),
        10: _tube(J[10], (0.11, 0.025, 0.21), 0.02, 0.0, (0.048, 0.028), (0.040, 0.020), _UP),  # toes
        13: _tube(J[13], J[16], 0.02, 0.03, (0.055, 0.060), (0.055, 0.055), _FRONT),  # collar
        16: _tube(J[16], J[18], 0.04, 0.03, (0.050, 0.050), (0.038, 0.040), _FRONT),  # upper arm
        18: _tube(J[18], J[20], 0.03, 0.02, (0.038, 0.040), (0.025, 0.030), _FRONT),  # forearm
        20: _tube(J[20], J[22], 0.01, 0.01, (0.018, 0.035), (0.016, 0.045), _FRONT, 4.0),  # palm
        22: _tube(J[22], (0.87, 1.39, -0.03), 0.01, 0.0, (0.013, 0.043), (0.010, 0.038), _FRONT, 4.0),
    }
    tubes = {
        0: _tube((0.0, 0.80, 0.0), (0.0, 1.04, 0.0), 0.0, 0.0, (0.160, 0.105), (0.150, 0.100), _FRONT, 4.0),
        3: _tube(J[3], J[6], 0.06, 0.03, (0.140, 0.090), (0.145, 0.095), _FRONT, 4.0),
        6: _tube(J[6], J[9], 0.05, 0.06, (0.150, 0.100), (0.160, 0.105), _FRONT, 4.0),
        9: _tube(J[9], J[12], 0.02, 0.02, (0.165, 0.105), (0.150, 0.090), _FRONT, 4.0),
        12: _tube(J[12], J[15], 0.03, 0.02, (0.050, 0.050), (0.050, 0.050), _FRONT),
        15: _tube(J[15], (0.0, 1.74, 0.01), 0.03, 0.0, (0.078, 0.095), (0.078, 0.095), _FRONT, 2.0),
    }
    for j, t in left.items():
        tubes[j] = t
        tubes[j + 1] = _mirror(t)
    return [tubes[j] for j in range(NUM_JOINTS)]


def _tube_mesh(t: _Tube, segments: int, rings: int):
    """Vertices, girth directions, faces, UVs and UV faces of one tube, indices local to it.

    Vertex order: pole p0, rings 1..rings-1 of ``segments`` vertices each, pole p1. UV order: a
    (rings-1) x (segments+1) grid (the last column is the seam), then ``segments`` UVs per pole.
    Returns verts (Vp, 3), girth (Vp, 3) = offset from the axis, faces (Fp, 3), uv (Np, 2) local to the
    tile in [0, 1], uv_faces (Fp, 3).
    """
    axis = t.p1 - t.p0
    d = axis / np.linalg.norm(axis)
    e2 = np.asarray(t.ref, np.float64) - np.dot(t.ref, d) * d
    e2 /= np.linalg.norm(e2)
    e1 = np.cross(e2, d)  # (e1, e2, d) right-handed: phi increasing turns counter-clockwise about d

    tk = np.arange(1, rings) / rings
    c, s = np.cos(np.pi * tk), np.sin(np.pi * tk)
    h = 0.5 - 0.5 * np.sign(c) * np.abs(c) ** (2.0 / t.n)  # axial fraction, (rings-1,)
    f = np.abs(s) ** (2.0 / t.n)  # cross-section scale, rounds into the poles
    radii = (1.0 - h)[:, None] * np.asarray(t.r0) + h[:, None] * np.asarray(t.r1)  # (rings-1, 2)
    phi = 2.0 * np.pi * np.arange(segments) / segments
    offset = (
        f[:, None, None] * radii[:, 0, None, None] * np.cos(phi)[None, :, None] * e1
        + f[:, None, None] * radii[:, 1, None, None] * np.sin(phi)[None, :, None] * e2
    )
    centre = t.p0 + h[:, None] * axis  # (rings-1, 3)
    ring_verts = (centre[:, None, :] + offset).reshape(-1, 3)
    verts = np.concatenate([t.p0[None], ring_verts, t.p1[None]])
    girth = np.concatenate([np.zeros((1, 3)), offset.reshape(-1, 3), np.zeros((1, 3))])

    S, R = segments, rings - 1  # R rings
    pole0, pole1 = 0, 1 + R * S
    ring = 1 + np.arange(R)[:, None] * S + np.arange(S)[None, :]  # (R, S) vertex index
    nxt = np.roll(ring, -1, axis=1)
    grid = np.arange(R)[:, None] * (S + 1) + np.arange(S)[None, :]  # (R, S) uv index; +1 is the next column
    uv_pole0, uv_pole1 = R * (S + 1), R * (S + 1) + S
    col = np.arange(S)

    def fan_and_quads(a, b, p0, p1):
        """Triangles of the bottom fan, the side quads and the top fan for index tables a (R, S) and its
        next column b, poles p0 (S,) and p1 (S,)."""
        bottom = np.stack([p0, b[0], a[0]], -1)
        A, B, C, D = a[:-1], b[:-1], b[1:], a[1:]
        quads = np.stack([np.stack([A, B, C], -1), np.stack([A, C, D], -1)], 2).reshape(-1, 3)
        top = np.stack([a[-1], b[-1], p1], -1)
        return np.concatenate([bottom, quads, top])

    faces = fan_and_quads(ring, nxt, np.full(S, pole0), np.full(S, pole1))
    uv_faces = fan_and_quads(grid, grid + 1, uv_pole0 + col, uv_pole1 + col)

    u_grid = np.broadcast_to(np.arange(S + 1) / S, (R, S + 1))
    v_grid = np.broadcast_to(h[:, None], (R, S + 1))
    u_pole = (col + 0.5) / S
    uv = np.concatenate(
        [
            np.stack([u_grid, v_grid], -1).reshape(-1, 2),
            np.stack([u_pole, np.zeros(S)], -1),
            np.stack([u_pole, np.ones(S)], -1),
        ]
    )
    return verts, girth, faces, uv, uv_faces


@dataclass(frozen=True)
class Mannequin:
    """An SMPL-format rig (what ``smplx.lbs.lbs`` takes) with UVs and part labels. Treat as read-only.

    v_template: (V, 3) float32 rest vertices, metres. faces: (F, 3) int64, counter-clockwise from outside.
    uv: (Nuv, 2) float32 in [0, 1], OBJ convention. uv_faces: (F, 3) int64 into ``uv``, parallel to faces.
    part_labels: (V,) int64 in 1..24 (joint + 1). face_labels: (F,) int64, the label of each face.
    joints_rest: (24, 3) float32. weights: (V, 24) float32, one-hot. shapedirs: (V, 3, 10) float32.
    J_regressor: (24, V) float32, ``J_regressor @ v_template == joints_rest``. parents: (24,) int64.
    """

    v_template: Tensor
    faces: Tensor
    uv: Tensor
    uv_faces: Tensor
    part_labels: Tensor
    face_labels: Tensor
    joints_rest: Tensor
    weights: Tensor
    shapedirs: Tensor
    J_regressor: Tensor
    parents: Tensor


@lru_cache(maxsize=8)
def make_mannequin(segments: int = 24, rings: int = 13) -> Mannequin:
    """Build the mannequin: 24 tubes of ``segments`` vertices around and ``rings - 1`` rings along.

    Triangles: ``48 * segments * (rings - 1)`` (13,824 by default; 384 with segments=4, rings=3).
    Deterministic and cached: the same arguments return the same object.
    """
    if segments < 3 or rings < 2:
        raise ValueError(f"make_mannequin: need segments >= 3 and rings >= 2, got {segments}, {rings}")
    verts, girth, faces, uv, uv_faces, labels, poles = [], [], [], [], [], [], []
    num_v = num_uv = 0
    rows, cols = ATLAS_GRID
    for j, tube in enumerate(_tubes()):
        v, g, f, t, tf = _tube_mesh(tube, segments, rings)
        col, row = j % cols, j // cols
        tile = np.stack(
            [
                col + _TILE_MARGIN + t[:, 0] * (1 - 2 * _TILE_MARGIN),
                rows - 1 - row + _TILE_MARGIN + t[:, 1] * (1 - 2 * _TILE_MARGIN),
            ],
            -1,
        )
        verts.append(v)
        girth.append(g)
        faces.append(f + num_v)
        uv.append(tile / np.array([cols, rows]))
        uv_faces.append(tf + num_uv)
        labels.append(np.full(len(v), j + 1))
        poles.append((num_v, num_v + len(v) - 1))
        num_v += len(v)
        num_uv += len(t)
    verts = np.concatenate(verts)
    labels = np.concatenate(labels)
    faces = np.concatenate(faces)

    joints = np.asarray(REST_JOINTS, np.float64)
    regressor = np.zeros((NUM_JOINTS, num_v))
    for j in range(NUM_JOINTS):
        i0, i1 = poles[_REGRESSOR_PART.get(j, j)]
        p0, p1 = verts[i0], verts[i1]
        w = np.dot(joints[j] - p0, p1 - p0) / np.dot(p1 - p0, p1 - p0)
        assert 0.0 <= w <= 1.0 and np.linalg.norm(p0 + w * (p1 - p0) - joints[j]) < 1e-9, j
        regressor[j, i0], regressor[j, i1] = 1.0 - w, w

    shapedirs = np.zeros((num_v, 3, NUM_BETAS))
    shapedirs[:, :, 0] = GIRTH_PER_BETA * np.concatenate(girth)
    shapedirs[:, :, 1] = SIZE_PER_BETA * verts

    f32 = torch.float32
    return Mannequin(
        v_template=torch.tensor(verts, dtype=f32),
        faces=torch.tensor(faces, dtype=torch.int64),
        uv=torch.tensor(np.concatenate(uv), dtype=f32),
        uv_faces=torch.tensor(np.concatenate(uv_faces), dtype=torch.int64),
        part_labels=torch.tensor(labels, dtype=torch.int64),
        face_labels=torch.tensor(labels[faces[:, 0]], dtype=torch.int64),
        joints_rest=torch.tensor(joints, dtype=f32),
        weights=torch.nn.functional.one_hot(torch.tensor(labels - 1), NUM_JOINTS).to(f32),
        shapedirs=torch.tensor(shapedirs, dtype=f32),
        J_regressor=torch.tensor(regressor, dtype=f32),
        parents=torch.tensor(SMPL_PARENTS, dtype=torch.int64),
    )


def pose_mannequin(
    m: Mannequin, pose: Tensor, betas: Tensor | None = None, trans: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Pose the mannequin with ``smplx.lbs.lbs`` (no pose blend shapes), in ``pose``'s dtype and device.

    pose: (B, 72) axis-angle, SMPL order (global orientation first, about the pelvis joint).
    betas: (B, 10) or None (zeros). trans: (B, 3) or None, added to every vertex and joint.
    Returns verts (B, V, 3) and joints (B, 24, 3), world frame.
    """
    if pose.ndim != 2 or pose.shape[1] != 3 * NUM_JOINTS:
        raise ValueError(f"pose_mannequin: pose must be (B, {3 * NUM_JOINTS}), got {tuple(pose.shape)}")
    batch, device, dtype = pose.shape[0], pose.device, pose.dtype
    if betas is None:
        betas = pose.new_zeros(batch, NUM_BETAS)
    if betas.shape != (batch, NUM_BETAS):
        raise ValueError(f"pose_mannequin: betas must be ({batch}, {NUM_BETAS}), got {tuple(betas.shape)}")
    if trans is not None and trans.shape != (batch, 3):
        raise ValueError(f"pose_mannequin: trans must be ({batch}, 3), got {tuple(trans.shape)}")

    def cast(t: Tensor) -> Tensor:
        return t.to(device=device, dtype=dtype)

    num_verts = m.v_template.shape[0]
    posedirs = pose.new_zeros(()).expand((NUM_JOINTS - 1) * 9, num_verts * 3)  # no pose correctives
    verts, joints = lbs(
        cast(betas),
        pose,
        cast(m.v_template),
        cast(m.shapedirs),
        posedirs,
        cast(m.J_regressor),
        m.parents.to(device),
        cast(m.weights),
    )
    if trans is not None:
        verts = verts + cast(trans)[:, None]
        joints = joints + cast(trans)[:, None]
    return verts, joints


_ATLAS_FAMILY = (
    "trousers", "trousers", "trousers", "shirt", "trousers", "trousers", "shirt", "shoes", "shoes",
    "shirt", "shoes", "shoes", "skin", "shirt", "shirt", "skin", "shirt", "shirt", "shirt", "shirt",
    "skin", "skin", "skin", "skin",
)  # fmt: skip
"""Clothing of each part (joint order): what colour family and pattern its tile gets."""

_SKIN_TONES = ((0.95, 0.80, 0.69), (0.87, 0.68, 0.55), (0.76, 0.57, 0.42), (0.55, 0.38, 0.26),
               (0.36, 0.24, 0.16))  # fmt: skip


def mannequin_texture(size: int = 256, *, gen: torch.Generator) -> Tensor:
    """A procedural atlas for the mannequin's UVs: (size, size, 3) float32 in [0, 1], row 0 at v = 1.

    Colours by part: skin (head, neck, hands; the head also gets hair, eyes and a mouth facing +Z), a shirt
    (torso, collars, arms) with stripes around the limbs, trousers (pelvis, legs) with checks, shoes
    (feet, toes) with stripes along them. Every part's shade differs a little, so parts and texture
    mapping errors are visible in pictures. Randomness comes only from ``gen`` (a CPU generator).
    """
    rows, cols = ATLAS_GRID

    def rand(*shape: int) -> Tensor:
        return torch.rand(shape, generator=gen)

    skin = torch.tensor(_SKIN_TONES)[torch.randint(len(_SKIN_TONES), (1,), generator=gen)][0]
    skin = (skin * (0.92 + 0.16 * rand(3))).clamp(0, 1)
    h = rand(4)
    shirt = hsv_to_rgb(h[0], 0.35 + 0.5 * rand(), 0.55 + 0.4 * rand())
    shirt2 = hsv_to_rgb((h[0] + 0.25 + 0.5 * h[1]) % 1.0, 0.2 + 0.5 * rand(), 0.7 + 0.3 * rand())
    trousers = hsv_to_rgb(h[2], 0.2 + 0.5 * rand(), 0.25 + 0.3 * rand())
    shoes = hsv_to_rgb(h[3], 0.1 + 0.3 * rand(), 0.12 + 0.25 * rand())
    hair = hsv_to_rgb(0.05 + 0.06 * rand(), 0.4 + 0.4 * rand(), 0.08 + 0.35 * rand())
    shade = 0.85 + 0.3 * rand(NUM_JOINTS)  # per-part brightness

    i = torch.arange(size, dtype=torch.float32)
    u = ((i + 0.5) / size)[None, :].expand(size, size)  # texel centres, conventions.py
    v = (1.0 - (i + 0.5) / size)[:, None].expand(size, size)
    col = (u * cols).floor().clamp(max=cols - 1)
    row = ((1.0 - v) * rows).floor().clamp(max=rows - 1)
    part = (row * cols + col).long()
    lu = ((u * cols - col - _TILE_MARGIN) / (1 - 2 * _TILE_MARGIN)).clamp(0, 1)
    lv = ((v * rows - (rows - 1 - row) - _TILE_MARGIN) / (1 - 2 * _TILE_MARGIN)).clamp(0, 1)

    stripes_v = ((lv * 10).floor() % 2)[..., None]  # bands around a limb
    stripes_u = ((lu * 12).floor() % 2)[..., None]  # lines along a limb
    checks = (((lu * 8).floor() + (lv * 8).floor()) % 2)[..., None]
    looks = {
        "shirt": shirt + (shirt2 - shirt) * stripes_v,
        "trousers": trousers * (1.0 - 0.3 * checks),
        "shoes": shoes * (1.0 + 0.5 * stripes_u),
        "skin": skin * (1.0 - 0.08 * checks),
    }
    image = torch.zeros(size, size, 3)
    for j, family in enumerate(_ATLAS_FAMILY):
        mask = (part == j)[..., None]
        image = torch.where(mask, looks[family] * shade[j], image)

    # Head (part 15): the face looks at +Z, which is u = 0.25 of its tile (see _tube_mesh).
    head = part == 15
    hair_mask = head & ((lv > 0.74) | (((lu - 0.75).abs() < 0.2) & (lv > 0.4)))
    eyes = head & (((lu - 0.25).abs() - 0.035).abs() < 0.018) & ((lv - 0.6).abs() < 0.03)
    mouth = head & ((lu - 0.25).abs() < 0.035) & ((lv - 0.36).abs() < 0.012)
    image = torch.where(hair_mask[..., None], hair, image)
    image = torch.where((eyes | mouth)[..., None], torch.tensor([0.1, 0.05, 0.05]), image)
    return image.clamp(0.0, 1.0).contiguous()


def _quat(aa: Tensor) -> Tensor:
    """(..., 3) axis-angle -> (..., 4) unit quaternion (w, x, y, z)."""
    angle = aa.norm(dim=-1, keepdim=True)
    axis = aa / angle.clamp(min=1e-12)
    return torch.cat([torch.cos(angle / 2), torch.sin(angle / 2) * axis], -1)


def _compose(a: Tensor, b: Tensor) -> Tensor:
    """(..., 3) axis-angle of the rotation ``R(a) @ R(b)`` (b applied first)."""
    qa, qb = _quat(a), _quat(b)
    w = qa[..., :1] * qb[..., :1] - (qa[..., 1:] * qb[..., 1:]).sum(-1, keepdim=True)
    xyz = qa[..., :1] * qb[..., 1:] + qb[..., :1] * qa[..., 1:] + torch.cross(qa[..., 1:], qb[..., 1:], -1)
    w, xyz = torch.where(w < 0, -w, w), torch.where(w < 0, -xyz, xyz)
    sin_half = xyz.norm(dim=-1, keepdim=True)
    return xyz / sin_half.clamp(min=1e-12) * 2.0 * torch.atan2(sin_half, w)


DEMO_FPS = 30.0
"""Frame rate ``demo_motion`` is written for (SURREAL's)."""


def demo_motion(num_frames: int, dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    """A smooth walking cycle at ``DEMO_FPS``: 1.07 s per stride pair, 1.25 m/s towards +Z.

    Hips flex +-0.4 rad, knees bend in swing, ankles and toes push off, arms hang and swing against the
    legs, elbows bend a little, pelvis and thorax twist against each other. Vertical translation keeps
    the mannequin's lowest foot point on the ground (y = 0) in every frame (it moves at most about
    1 cm a frame; parameters chosen so that foot contact passes smoothly from heel to toe to heel).
    Returns pose (T, 72) axis-angle and trans (T, 3), both ``dtype``, on CPU.
    """
    t = torch.arange(num_frames, dtype=torch.float64) / DEMO_FPS
    phase = 2.0 * math.pi * t / (32.0 / DEMO_FPS)
    aa = torch.zeros(num_frames, NUM_JOINTS, 3, dtype=torch.float64)
    s = torch.sin(phase)
    for side, (hip, knee, ankle, toes) in ((0.0, (1, 4, 7, 10)), (math.pi, (2, 5, 8, 11))):
        p = phase + side  # this leg is furthest forward at p = pi/2, furthest back at -pi/2
        aa[:, hip, 0] = -0.4 * torch.sin(p) - 0.05  # negative about +X swings the leg forward
        aa[:, knee, 0] = 0.1 + 0.7 * torch.cos(p).clamp(min=0) ** 2  # bent most in mid-swing
        push_off = torch.cos(p + math.pi / 2 - 0.2).clamp(min=0) ** 2  # peaks just before toe-off
        aa[:, ankle, 0] = 0.2 * push_off - 0.1  # positive about +X points the toes down
        aa[:, toes, 0] = -0.3 * push_off  # toes bend up at the ball of the foot
    aa[:, 0, 1] = -0.08 * s  # pelvis yaw: the hip of the forward leg leads
    for spine in (3, 6, 9):
        aa[:, spine, 1] = 0.05 * s  # thorax turns against the pelvis
    aa[:, 12, 1] = -0.07 * s  # head keeps looking ahead
    for shoulder, elbow, sign in ((16, 18, 1.0), (17, 19, -1.0)):
        down = torch.tensor([0.0, 0.0, -1.3 * sign], dtype=torch.float64).expand(num_frames, 3)
        swing = torch.zeros(num_frames, 3, dtype=torch.float64)
        swing[:, 0] = 0.35 * sign * s  # arm swings forward with the opposite leg
        aa[:, shoulder] = _compose(swing, down)
        aa[:, elbow, 1] = -sign * (0.3 - 0.12 * sign * s)
    pose = aa.reshape(num_frames, 3 * NUM_JOINTS)

    trans = torch.zeros(num_frames, 3, dtype=torch.float64)
    trans[:, 2] = 1.25 * t
    trans[:, 1] = -_lowest_foot_point(pose)
    return pose.to(dtype), trans.to(dtype)


def _lowest_foot_point(pose: Tensor) -> Tensor:
    """(T,) lowest y of the default mannequin's feet and toes posed by ``pose`` (T, 72) without trans."""
    m = make_mannequin()
    rot = batch_rodrigues(pose.reshape(-1, 3)).reshape(-1, NUM_JOINTS, 3, 3)
    rest = m.joints_rest.to(pose.dtype).expand(pose.shape[0], -1, -1)
    _, transforms = batch_rigid_transform(rot, rest, m.parents, dtype=pose.dtype)  # (T, 24, 4, 4)
    lowest = []
    for joint in (7, 8, 10, 11):  # ankles (feet) and toes
        verts = m.v_template[m.part_labels == joint + 1].to(pose.dtype)  # (Vj, 3)
        row_y = transforms[:, joint, 1]  # (T, 4): the y row of each frame's rigid transform
        lowest.append((row_y[:, :3] @ verts.T + row_y[:, 3:]).amin(dim=1))
    return torch.stack(lowest).amin(dim=0)
