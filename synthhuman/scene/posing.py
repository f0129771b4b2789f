"""Posing and camera fit: ``build_clip`` poses a sampled clip's bodies on the render device, puts their
feet on the ground, keeps people apart and places the camera so that the whole clip stays in frame:
SURREAL's level, static camera (:func:`fit_camera`), or a varied or moving one
(:func:`~synthhuman.scene.camera_paths.camera_path`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from synthhuman.body.model import BodyModel
from synthhuman.render import Cameras, intrinsics, look_at
from synthhuman.scene.assets import SceneAssets
from synthhuman.scene.camera_paths import camera_path
from synthhuman.scene.config import SceneConfig
from synthhuman.scene.ground import PlacedGround, place_ground
from synthhuman.scene.occluders import PlacedOccluders, place_occluders
from synthhuman.scene.sampling import ClipParams, PersonParams


@dataclass(frozen=True)
class ClipGeometry:
    """A built clip on the render device. verts (T, P * V, 3) world; joints (T, P, 24, 3) world;
    pose (T, P, 72), trans (T, P, 3) as posed (trans includes ground placement and person offsets);
    cameras: T cameras, one per frame (T copies of a static camera); distance: metres from the scene centre
    (the first frame's, for a moving camera); camera_info: what ``info.json`` records of a varied or moving
    camera (``CameraPath.info``), empty for SURREAL's; occluders: the placed occluders (static world
    vertices and their ``info.json`` records), None without occluders; ground: the ground's grid and
    texture, None without a ground."""

    params: ClipParams
    verts: Tensor
    joints: Tensor
    pose: Tensor
    trans: Tensor
    cameras: Cameras
    distance: float
    camera_info: dict = field(default_factory=dict)
    occluders: PlacedOccluders | None = None
    ground: PlacedGround | None = None


_FOOTPRINT_STEP = 7
"""Every 7th vertex measures a person's footprint (the surface is dense enough at that sampling)."""


def _pose_person(
    body: BodyModel, person: PersonParams, device: torch.device
) -> tuple[Tensor, Tensor, Tensor]:
    """(T, V, 3) vertices, (T, 24, 3) joints and (T, 3) trans of a person standing on the ground."""
    T = person.pose.shape[0]
    pose = torch.as_tensor(person.pose, dtype=body.dtype, device=device)
    trans = torch.as_tensor(person.trans, dtype=body.dtype, device=device)
    betas = person.betas.to(device, body.dtype)[None].expand(T, -1)
    out = body(betas, pose, trans, normals=False)
    lift = out.vertices[..., 1].min()
    up = torch.tensor([0.0, 1.0, 0.0], dtype=body.dtype, device=device) * lift
    return out.vertices - up, out.joints - up, trans - up


def _place_people(verts: list[Tensor], joints: list[Tensor], gap: float, draws: Tensor) -> list[Tensor]:
    """Horizontal offsets (3,) for each person so that, at every frame, the vertical cylinders around
    people (radius: farthest vertex from the pelvis over the clip, plus ``gap`` / 2) do not overlap.
    Person 0 stays; person p tries directions and distances from ``draws`` (N, 2) in [0, 1), farther
    with each failure, around the people already placed."""
    roots = [j[:, 0, [0, 2]] for j in joints]  # (T, 2) each
    radii = [
        float((v[:, ::_FOOTPRINT_STEP, [0, 2]] - r[:, None]).norm(dim=-1).max()) + gap / 2
        for v, r in zip(verts, roots, strict=True)
    ]
    offsets = [roots[0].new_zeros(2)]
    for p in range(1, len(verts)):
        centre = torch.stack([roots[q] + offsets[q] for q in range(p)]).mean((0, 1))
        own = roots[p].mean(0)
        for k in range(10_000):
            angle, extra = draws[k % len(draws)]
            reach = (radii[p] + max(radii[:p])) * (1.0 + float(extra) + 0.25 * (k // len(draws)))
            step = torch.stack([torch.cos(2 * math.pi * angle), torch.sin(2 * math.pi * angle)]).to(own)
            offset = centre + reach * step - own
            apart = all(
                bool(((roots[p] + offset - roots[q] - offsets[q]).norm(dim=-1) >= radii[p] + radii[q]).all())
                for q in range(p)
            )
            if apart:
                break
        offsets.append(offset)
    return [torch.stack([o[0], o.new_zeros(()), o[1]]) for o in offsets]


def fit_camera(
    points: Tensor, pelvis_height: float, distance: float, cfg: SceneConfig
) -> tuple[Tensor, Tensor, float]:
    """A level camera looking along world -Z at the horizontal centre of ``points`` (N, 3) world (float32
    or float64; computed as float64 either way), ``distance`` metres in front of it at ``pelvis_height``;
    with ``cfg.camera.keep_in_frame`` moved back as little as needed for every point to project inside the
    image, ``margin`` from its border. Returns R (3, 3), t (3,) and the distance used."""
    cam = cfg.camera
    lo, hi = (x.double() for x in torch.aminmax(points, dim=0))  # exact: widening keeps the order
    cx, cz = float(lo[0] + hi[0]) / 2, float(lo[2] + hi[2]) / 2
    f = cfg.focal_pixels
    if cam.keep_in_frame:
        half_w = cfg.width / 2 - cam.margin * cfg.width
        half_h = cfg.height / 2 - cam.margin * cfg.height

        def needs(p: Tensor) -> Tensor:  # the distance each point needs, per rule
            nearer = p[:, 2] - cz  # the camera is on the +Z side: z_cam = distance - nearer
            need_x = f * (p[:, 0] - cx).abs() / half_w + nearer
            need_y = f * (p[:, 1] - pelvis_height).abs() / half_h + nearer
            return torch.stack([need_x, need_y, nearer + cam.distance_min])

        scale = float(torch.cat([lo, hi]).abs().max()) * (f / min(half_w, half_h) + 1)
        distance = max(distance, _largest(needs, points, scale))
    eye = torch.tensor([[cx, pelvis_height, cz + distance]], dtype=torch.float64)
    target = eye - torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)
    R, t = look_at(eye, target)
    return R[0], t[0], distance


_EXACT_BELOW = 4096
"""Point sets smaller than this are measured in float64 directly."""


def _largest(values: Callable[[Tensor], Tensor], points: Tensor, scale: float) -> float:
    """``float(values(points.double()).max())`` (values: (N, 3) points -> (K, N)), with float64 arithmetic on
    few points: float32 ``values`` of every point pick those within a margin of the largest (the margin,
    1e-5 of the values' and the coordinates' size ``scale``, is far above float32's error on them: eight
    times the bound of its five roundings), then float64 on those. Rounding is monotone, so the point with
    the largest float64 value is among them and the result is the same bits."""
    if points.dtype == torch.float64 or points.shape[0] < _EXACT_BELOW:
        return float(values(points.double()).max())
    approx = values(points.float())
    top = float(approx.max())
    if not math.isfinite(top) or not math.isfinite(scale):
        return float(values(points.double()).max())
    margin = 1e-5 * (1 + abs(top) + scale)
    near = (approx >= top - margin).any(0)
    return float(values(points[near].double()).max())


def cat_parts(parts: list[Tensor], dim: int = 0) -> Tensor:
    """``torch.cat(parts, dim)``, without a copy when there is one part (one person's vertices; a batch of
    one clip's frames, whose background then stays one image expanded over the frames, read in place)."""
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim)


def build_clip(assets: SceneAssets, params: ClipParams, device: torch.device | str = "cpu") -> ClipGeometry:
    """Pose a sampled clip on ``device``: feet on the ground, people apart, the whole clip in frame."""
    cfg = assets.cfg
    device = torch.device(device)
    posed = [_pose_person(assets.body_on(p.gender, device), p, device) for p in params.people]
    verts, joints, trans = (list(x) for x in zip(*posed, strict=True))
    offsets = _place_people(verts, joints, cfg.person_gap, params.placement)
    verts = [v + o.to(v) for v, o in zip(verts, offsets, strict=True)]
    joints = [j + o.to(j) for j, o in zip(joints, offsets, strict=True)]
    trans = [tr + o.to(tr) for tr, o in zip(trans, offsets, strict=True)]
    T = cfg.frames
    dtype = verts[0].dtype
    size = (cfg.height, cfg.width)
    centre = ((cfg.width - 1) / 2, (cfg.height - 1) / 2)
    pelvis_height = float(joints[0][0, 0, 1])
    if params.camera is None:
        points = cat_parts([v.reshape(-1, 3) for v in verts]).cpu()
        R, t, distance = fit_camera(points, pelvis_height, params.distance, cfg)
        K = intrinsics(cfg.focal_pixels, centre, T, dtype=dtype, device=device)
        cams = Cameras(K, R.to(device, dtype).expand(T, 3, 3), t.to(device, dtype).expand(T, 3), size)
        info = {}
    else:
        points = torch.cat(verts, 1).double().cpu()  # (T, N, 3): each frame's own vertices
        lo, hi = points.reshape(-1, 3).amin(0), points.reshape(-1, 3).amax(0)
        aim = torch.tensor([float(lo[0] + hi[0]) / 2, pelvis_height, float(lo[2] + hi[2]) / 2]).double()
        path = camera_path(points, aim, params.distance, params.camera, cfg)
        K = intrinsics(path.focal, centre, T, dtype=dtype, device=device)
        cams = Cameras(K, path.R.to(device, dtype), path.t.to(device, dtype), size)
        distance, info = path.distance, path.info
    pose = torch.stack([torch.as_tensor(p.pose, dtype=dtype, device=device) for p in params.people], 1)
    occluders = None
    if params.occluders:
        first = len(params.people) + 1
        placed = place_occluders(params.occluders, first, verts, joints, cams.R, cams.t, cfg.occluders)
        occluders = PlacedOccluders(placed.verts.to(device, dtype), placed.info)
    ground = None
    if cfg.ground.enabled:
        R, t = cams.R.double().cpu(), cams.t.double().cpu()
        eyes = -(R.transpose(1, 2) @ t[..., None])[..., 0]
        feet = torch.cat([j[:, 0] for j in joints]).double().cpu()
        g = place_ground(cfg.ground, params.seed, eyes, feet, cfg.texture.size)
        ground = PlacedGround(g.verts.to(device, dtype), g.texture, g.info)
    verts_all = cat_parts(verts, 1)  # one person: no copy
    joints_all, trans_all = torch.stack(joints, 1), torch.stack(trans, 1)
    return ClipGeometry(
        params, verts_all, joints_all, pose, trans_all, cams, distance, info, occluders, ground
    )
