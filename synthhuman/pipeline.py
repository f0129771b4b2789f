"""One batch of frames: rasterize once, then shade RGB and compute every ground-truth layer.

``render_frames(FrameBatch, Topology, RenderConfig) -> RenderOutput`` is the composition that ``generate``,
the on-the-fly dataset, the benchmark and the previews use. Each stage is a primitive of
:mod:`synthhuman.render` (rasterize, interpolate, sample_texture, shade, antialias) or a ground-truth layer of
:mod:`synthhuman.gt`; this module sits above both.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from synthhuman.config import require
from synthhuman.conventions import DEFAULT_JOINT_TOLERANCE, DEFAULT_OCCLUSION_TOLERANCE, DEFAULT_ZNEAR
from synthhuman.gt import Flow, Joints, instance_ids, normals_fg, optical_flow, project_joints, segmentation
from synthhuman.render import (
    Cameras,
    Fragments,
    MipTexture,
    antialias_,
    face_adjacency,
    fragments_from_winners,
    interpolate_fg,
    project,
    rasterize,
    rasterize_pytorch3d,
    sample_texture,
    shade,
    sphere_occlusion,
    take_batched,
    take_rows,
    texture_lod,
    vertex_normals,
    world_to_camera,
)
from synthhuman.render.checks import check_batch, check_rasterizer_inputs, check_tensor
from synthhuman.render.kernels import EMPTY_KEY, FACE_MASK, covered_pixels, zbuffer_world
from synthhuman.render.kernels.forward import project_joints_kernel, shade_layers, vertex_faces
from synthhuman.render.kernels.runtime import as_int32
from synthhuman.render.kernels.silhouette import antialias_forward, antialias_in_place
from synthhuman.render.raster import resolve_backend
from synthhuman.timing import StageTimer, untimed

__all__ = ["FrameBatch", "RenderConfig", "RenderOutput", "Topology", "render_frames"]

BACKENDS = ("auto", "warp", "torch", "pytorch3d")
CASTER_HEIGHT = 8.0
"""Contact shadows: a caster counts where its centre is lower than this many radii above the ground (its
occlusion ``(r / D)^2 cos`` is below 1/64 everywhere when higher)."""


@dataclass(frozen=True)
class RenderConfig:
    """How :func:`render_frames` renders a batch.

    backend: "warp" (compiled kernels: the z-buffer and silhouette searches, and, when no input requires
      a gradient, the whole forward), "torch" (the PyTorch reference, always available), "auto" (warp where
      warp-lang imports, else torch) or "pytorch3d" (its rasterizer, when importable). Discrete layers are
      identical across backends; continuous ones agree to float32 rounding (``docs/conventions.md``).
    antialias: smooth silhouettes (and give them gradients); label layers stay point-sampled either way.
    znear: metres; faces with a vertex nearer than this are culled.
    occlusion_tolerance: metres; flow's occlusion test (:func:`synthhuman.gt.optical_flow`).
    joint_tolerance: metres; joints' visibility test (:func:`synthhuman.gt.project_joints`).
    """

    backend: str = "auto"
    antialias: bool = True
    znear: float = DEFAULT_ZNEAR
    occlusion_tolerance: float = DEFAULT_OCCLUSION_TOLERANCE
    joint_tolerance: float = DEFAULT_JOINT_TOLERANCE

    def __post_init__(self) -> None:
        require(self.backend in BACKENDS, "backend", f"one of {BACKENDS}", self.backend)
        require(self.znear > 0, "znear", "> 0 metres", self.znear)
        require(self.occlusion_tolerance >= 0, "occlusion_tolerance", ">= 0 metres", self.occlusion_tolerance)
        require(self.joint_tolerance >= 0, "joint_tolerance", ">= 0 metres", self.joint_tolerance)

    def resolved(self, device: torch.device | str) -> RenderConfig:
        """This config with ``backend`` "auto" replaced by what runs on ``device`` here ("warp" or "torch"):
        what a run records, so that its other workers and its resumes render the same way."""
        if self.backend in ("warp", "torch", "pytorch3d"):
            if self.backend == "warp":
                resolve_backend("warp", torch.empty(0, device=device))  # a clear error when absent
            return self
        return dataclasses.replace(self, backend=resolve_backend("auto", torch.empty(0, device=device)))


@dataclass(frozen=True)
class TopologyIds32:
    """A :class:`Topology`'s integer tensors as contiguous int32: faces, uv_faces, adjacency (F, 3);
    face_labels, face_instance (F,)."""

    faces: Tensor
    uv_faces: Tensor
    face_labels: Tensor
    face_instance: Tensor
    adjacency: Tensor


@dataclass(frozen=True)
class Topology:
    """What the frames of a batch share: faces and their corner UVs and labels.

    faces: (F, 3) int64. uv: (Nuv, 2) in [0, 1]; uv_faces: (F, 3) int64 into uv. face_labels: (F,) part
    labels 1..24 (0 on scene objects: occluders). face_instance: (F,) person 1..P, then scene objects
    P + 1.. (default: all 1, one person); each instance has its texture and light in the ``FrameBatch``.
    adjacency: (F, 3) (computed when not given).
    closed: every mesh is a closed, outward-oriented surface (bodies are), so back faces are never visible
    and the rasterizer culls them (the ground, seen from above only, is culled from below).
    ground_faces: the last this many faces are the ground (the plane y = 0, normal +Y): contact shadows
    (``FrameBatch.shadows``) darken their shading; flow's occlusion test never lets one hide another; with
    ``ground_labels`` false their pixels get background labels (depth 0, normals 0, instance 0, no flow;
    segmentation is 0 on them either way).
    """

    faces: Tensor
    uv: Tensor
    uv_faces: Tensor
    face_labels: Tensor
    face_instance: Tensor = field(default=None)  # type: ignore[assignment]
    closed: bool = True
    adjacency: Tensor = field(default=None)  # type: ignore[assignment]
    ground_faces: int = 0
    ground_labels: bool = True

    def __post_init__(self) -> None:
        f = check_tensor("faces", self.faces, 2, (3,)).shape[0]
        if self.face_instance is None:
            object.__setattr__(self, "face_instance", torch.ones_like(self.faces[:, 0]))
        check_tensor("uv", self.uv, 2, (2,))
        check_tensor("uv_faces", self.uv_faces, 2, (3,))
        for name in ("uv_faces", "face_labels", "face_instance"):
            if getattr(self, name).shape[0] != f:
                raise ValueError(
                    f"{name}: expected {f} rows (one per face), got {tuple(getattr(self, name).shape)}"
                )
        if self.adjacency is None:
            object.__setattr__(self, "adjacency", face_adjacency(self.faces))

    @functools.cached_property
    def ids32(self) -> TopologyIds32:
        """faces, uv_faces, face_labels, face_instance and adjacency as int32, made once (what the kernels
        read)."""
        names = ("faces", "uv_faces", "face_labels", "face_instance", "adjacency")
        return TopologyIds32(*(as_int32(getattr(self, name)) for name in names))

    @functools.cached_property
    def vertex_faces(self) -> tuple[Tensor, Tensor]:
        """The faces of each vertex as CSR (offsets (V + 1,), face ids (3F,)), for the normals kernel."""
        return vertex_faces(self.faces, int(self.faces.max()) + 1)

    @property
    def num_people(self) -> int:
        """The people: instances of labelled faces (scene objects such as occluders, label 0, follow them)."""
        people = self.face_instance[self.face_labels > 0]
        return int(people.max()) if people.numel() else 0

    def to(self, device: torch.device | str) -> Topology:
        """The same topology on ``device`` (adjacency moved, not recomputed)."""
        names = ("faces", "uv", "uv_faces", "face_labels", "face_instance", "adjacency")
        return Topology(
            **{n: getattr(self, n).to(device) for n in names},
            closed=self.closed,
            ground_faces=self.ground_faces,
            ground_labels=self.ground_labels,
        )


@dataclass(frozen=True)
class FrameBatch:
    """B frames to render.

    verts: (B, V, 3) world space. cameras: B cameras. textures: T textures; texture_index: (B, P) int64,
    the texture of person p in frame b. sh: (B, P, 9) light per person. background: (B, H, W, 3) in
    [0, 1]. joints: (B, P, J, 3) world space. next_index: (B,) int64, the batch index of each frame's next
    frame in its clip, -1 for the last frame (no flow). prev_index: (B,) int64 or None, the same for the
    previous frame (-1 for the first); when given, the backward flow SURREAL stores is computed too.
    shadows: (B, S, 5) or None: contact-shadow casters (world centre, radius, weight) darkening the ground
    faces' shading (``Topology.ground_faces``) by their sphere occlusion.
    """

    verts: Tensor
    cameras: Cameras
    textures: MipTexture
    texture_index: Tensor
    sh: Tensor
    background: Tensor
    joints: Tensor
    next_index: Tensor
    prev_index: Tensor | None = None
    shadows: Tensor | None = None

    def __post_init__(self) -> None:
        b = check_tensor("verts", self.verts, 3, (3,)).shape[0]
        h, w = self.cameras.image_size
        check_batch("cameras", self.cameras.K, b)
        check_tensor("background", self.background, 4, (h, w, 3))
        check_tensor("sh", self.sh, 3, (9,))
        check_tensor("texture_index", self.texture_index, 2)
        check_tensor("joints", self.joints, 4, (3,))
        check_tensor("next_index", self.next_index, 1)
        names = ["background", "sh", "texture_index", "joints", "next_index"]
        if self.prev_index is not None:
            check_tensor("prev_index", self.prev_index, 1)
            names.append("prev_index")
        if self.shadows is not None:
            check_tensor("shadows", self.shadows, 3, (5,))
            names.append("shadows")
        for name in names:
            check_batch(name, getattr(self, name), b)
        if self.sh.shape[1] != self.texture_index.shape[1]:
            raise ValueError(
                f"sh: expected (B, P, 9) with P = {self.texture_index.shape[1]} people as texture_index, "
                f"got {tuple(self.sh.shape)}"
            )


@dataclass(frozen=True)
class RenderOutput:
    """rgb (B, H, W, 3) in [0, 1]; depth (B, H, W) metres, 0 background; normals (B, H, W, 3) camera axes;
    segm, instance (B, H, W) uint8; flow; joints (per person flattened: J = P * joints per person);
    flow_backward: with ``FrameBatch.prev_index``, for the point seen at each pixel of frame t, its position
    in frame t-1 minus the pixel (every covered pixel of a frame that has a previous one; else 0).
    fragments: the rasterizer's :class:`Fragments` (made on first use after the fused forward)."""

    rgb: Tensor
    depth: Tensor
    normals: Tensor
    segm: Tensor
    instance: Tensor
    flow: Flow
    joints: Joints
    raster: Fragments | Callable[[], Fragments] = field(repr=False)
    flow_backward: Flow | None = None

    @functools.cached_property
    def fragments(self) -> Fragments:
        return self.raster() if callable(self.raster) else self.raster


def render_frames(
    batch: FrameBatch, topo: Topology, cfg: RenderConfig = RenderConfig(), *, timer: StageTimer | None = None
) -> RenderOutput:
    """Render RGB and every ground-truth layer of a batch of frames from one rasterization.

    With the warp backend and no input requiring a gradient (float32, 3-channel textures) the fused Warp
    forward runs; otherwise the differentiable PyTorch primitives, on the chosen rasterizer."""
    if cfg.backend == "pytorch3d":
        return _render_differentiable(batch, topo, cfg, rasterize_pytorch3d, "auto", timer)
    backend = resolve_backend(cfg.backend, batch.verts)
    if backend == "warp" and _fusable(batch):
        return _render_fused(batch, topo, cfg, timer)
    rasterizer = functools.partial(rasterize, backend=backend)
    return _render_differentiable(batch, topo, cfg, rasterizer, backend, timer)


def _fusable(batch: FrameBatch) -> bool:
    """Whether the fused no-grad forward applies: no gradient wanted, float32 throughout, RGB textures."""
    tensors = (batch.verts, batch.cameras.K, batch.cameras.R, batch.cameras.t, batch.textures.texels)
    tensors += (batch.sh, batch.background, batch.joints)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        return False
    return all(t.dtype == torch.float32 for t in tensors) and batch.textures.texels.shape[1] == 3


def _render_fused(
    batch: FrameBatch, topo: Topology, cfg: RenderConfig, timer: StageTimer | None
) -> RenderOutput:
    stage = timer or untimed
    cams = batch.cameras
    faces = topo.faces
    shadows = bool(topo.ground_faces) and batch.shadows is not None
    # on CPU the anti-aliasing writes over the shading (which then holds the background clamped)
    in_place = cfg.antialias and not shadows and batch.verts.device.type == "cpu"
    with stage("rasterize"):
        size = check_rasterizer_inputs(batch.verts, faces, cams.K, cams.image_size)
        zbuf, cam = zbuffer_world(
            batch.verts, cams.R, cams.t, cams.K, faces, size, cull_backfaces=topo.closed, znear=cfg.znear
        )
        verts_cam = cam.verts
    ids = topo.ids32  # what the kernels read: int32 copies, made once per topology
    with stage("shade"):
        layers = shade_layers(
            zbuf,
            verts_cam,
            ids.faces,
            cams.K,
            cams.R,
            batch.verts,
            topo.vertex_faces,
            topo.uv,
            ids.uv_faces,
            ids.face_labels,
            ids.face_instance,
            batch.textures,
            batch.texture_index,
            batch.sh,
            batch.background,
            clamp_rgb=not cfg.antialias and not shadows,
            clamp_background=in_place,
            next_frame=batch.next_index,
            prev_frame=batch.prev_index,
            occlusion_tolerance=cfg.occlusion_tolerance,
            ground_faces=topo.ground_faces,
        )
    rgb = layers.rgb
    seen = _faces_seen(zbuf.keys) if topo.ground_faces else None
    if shadows:  # on the unclamped shading, as the PyTorch path
        with stage("shade"):
            _contact_shadows(rgb, seen, layers.depth, batch, topo)
            if not cfg.antialias:
                rgb.clamp_(0, 1)
    if cfg.antialias:
        with stage("antialias"):
            # the faces seen are read from the z-buffer's keys
            search = (zbuf.keys, layers.depth, cam.screen, ids.faces, ids.adjacency, cams.K)
            if in_place:
                rgb = antialias_in_place(rgb, batch.background, *search, window=zbuf.window)
            else:
                rgb = antialias_forward(rgb, *search, window=zbuf.window)
    with stage("ground_truth"):  # one launch (as gt.project_joints: a dozen small torch ops)
        b = batch.verts.shape[0]
        world = batch.joints.reshape(b, -1, 3)
        joints = Joints(
            *project_joints_kernel(world, cams.R, cams.t, cams.K, layers.depth, cfg.joint_tolerance)
        )
    with stage("flow"):  # computed by the shading kernel (its time is the shade stage's): the stage stays
        flow = Flow(layers.flow, layers.flow_valid)  # for every backend's timers to name the same stages
        back = Flow(layers.flow_back, layers.flow_back_valid) if batch.prev_index is not None else None

    def fragments() -> Fragments:
        return fragments_from_winners(verts_cam, faces, cams.K, *covered_pixels(zbuf.keys), size)

    out = RenderOutput(
        rgb, layers.depth, layers.normals, layers.segm, layers.instance, flow, joints, fragments, back
    )
    return _ground_as_background(out, seen, topo)


def _render_differentiable(
    batch: FrameBatch,
    topo: Topology,
    cfg: RenderConfig,
    rasterizer: Callable,
    search_backend: str,
    timer: StageTimer | None,
) -> RenderOutput:
    """The PyTorch primitives, composed: differentiable in every input (``search_backend``: who finds
    the anti-aliasing's silhouette pairs)."""
    stage = timer or untimed
    cams = batch.cameras
    with stage("rasterize"):
        verts_cam = cams.to_camera(batch.verts)
        frags = rasterizer(
            verts_cam, topo.faces, cams.K, cams.image_size, cull_backfaces=topo.closed, znear=cfg.znear
        )
    with stage("shade"):
        bidx = frags.batch_index
        normals_world = vertex_normals(batch.verts, topo.faces)
        n_world = normals_fg(frags, normals_world, topo.faces)
        slot = bidx * batch.sh.shape[1] + take_rows(topo.face_instance, frags.face) - 1  # (frame, person)
        uv = interpolate_fg(topo.uv[None], frags, topo.uv_faces)
        screen = project(verts_cam, cams.K)
        lod = texture_lod(
            take_rows(topo.uv, take_rows(topo.uv_faces, frags.face)),
            take_batched(screen, bidx, take_rows(topo.faces, frags.face)),
            batch.textures.base_size,
        )
        albedo = sample_texture(batch.textures, uv, take_rows(batch.texture_index.flatten(), slot), lod)
        rgb_fg = shade(albedo, n_world, take_rows(batch.sh.reshape(-1, 9), slot))
        rgb = batch.background.new_empty(batch.background.shape).copy_(batch.background)
        rgb.view(-1, 3).index_put_((frags.pixel_index,), rgb_fg.to(rgb.dtype))
        if topo.ground_faces and batch.shadows is not None:
            rgb = _contact_shadows(rgb, frags.pix_to_face, frags.depth, batch, topo)
    if cfg.antialias:
        with stage("antialias"):
            rgb = antialias_(
                rgb, frags, verts_cam, topo.faces, cams.K, topo.adjacency, backend=search_backend
            )
    with stage("ground_truth"):
        rot = take_rows(cams.R, bidx)  # camera-axes normals: R n_world
        normals = frags.to_dense((rot @ n_world[..., None])[..., 0])
        segm = segmentation(frags, topo.face_labels)
        inst = instance_ids(frags, topo.face_instance)
        b = batch.verts.shape[0]
        joints_cam = cams.to_camera(batch.joints.reshape(b, -1, 3))
        joints = project_joints(joints_cam, cams.K, frags.depth, cfg.joint_tolerance)
    with stage("flow"):
        flow = _flow_to(batch.next_index, batch, frags, topo, cfg, zero_invalid=True)
        back = None
        if batch.prev_index is not None:
            back = _flow_to(batch.prev_index, batch, frags, topo, cfg, zero_invalid=False)
    rgb = rgb.clamp(0, 1) if rgb.requires_grad else rgb.clamp_(0, 1)  # in place when no graph needs it
    out = RenderOutput(rgb, frags.depth, normals, segm, inst, flow, joints, frags, back)
    return _ground_as_background(out, frags.pix_to_face, topo)


def _faces_seen(keys: Tensor) -> Tensor:
    """(B, H, W) int64 face seen at each pixel, -1 where none, from the z-buffer's keys (B, H, W)."""
    return torch.where(keys == EMPTY_KEY, -1, keys & FACE_MASK)


def _ground_mask(pix_to_face: Tensor, topo: Topology) -> Tensor:
    """(B, H, W) bool: pixels showing a ground face."""
    return pix_to_face >= topo.faces.shape[0] - topo.ground_faces


def _contact_shadows(rgb: Tensor, pix_to_face: Tensor, depth: Tensor, batch: FrameBatch, topo: Topology):
    """Darken the ground's pixels of ``rgb`` (B, H, W, 3) by the sphere occlusion of ``batch.shadows``
    at the world point each shows (from its depth and the frame's camera); in place unless a gradient
    flows through ``rgb`` (then a new tensor). Returns rgb."""
    mask = _ground_mask(pix_to_face, topo)
    cams = batch.cameras
    dtype = depth.dtype
    k_inv = torch.linalg.inv(cams.K.detach().to(dtype))
    r_t = cams.R.detach().to(dtype).transpose(1, 2)
    t = cams.t.detach().to(dtype)
    spheres = batch.shadows.detach().to(dtype)
    up = depth.new_tensor([0.0, 1.0, 0.0])
    scale = torch.ones_like(depth)
    for f in range(depth.shape[0]):  # a frame at a time: (pixels, casters) stays small
        casters = spheres[f][spheres[f, :, 1] < CASTER_HEIGHT * spheres[f, :, 3]]  # near the ground only
        row, col = mask[f].nonzero(as_tuple=True)
        if casters.numel() == 0 or row.numel() == 0:
            continue
        z = depth[f, row, col].detach()
        pix = torch.stack([col.to(dtype), row.to(dtype), torch.ones_like(z)], -1)
        cam = (pix @ k_inv[f].T) * z[:, None] - t[f]
        world = cam @ r_t[f].T  # R^T (X_cam - t)
        scale[f, row, col] = 1 - sphere_occlusion(world, up, casters[None].expand(len(z), -1, -1))
    if rgb.requires_grad:
        return rgb * scale[..., None].to(rgb.dtype)
    return rgb.mul_(scale[..., None].to(rgb.dtype))


def _ground_as_background(out: RenderOutput, pix_to_face: Tensor, topo: Topology) -> RenderOutput:
    """With ``topo.ground_labels`` false: the ground's pixels labelled as background (RGB unchanged)."""
    if not topo.ground_faces or topo.ground_labels:
        return out
    mask = _ground_mask(pix_to_face, topo)
    keep = ~mask
    flow = Flow(out.flow.flow * keep[..., None], out.flow.valid & keep)
    back = out.flow_backward
    if back is not None:
        back = Flow(back.flow * keep[..., None], back.valid & keep)
    return dataclasses.replace(
        out,
        depth=out.depth * keep,
        normals=out.normals * keep[..., None],
        instance=out.instance * keep,
        flow=flow,
        flow_backward=back,
    )


def _flow_to(
    other_index: Tensor,
    batch: FrameBatch,
    frags: Fragments,
    topo: Topology,
    cfg: RenderConfig,
    zero_invalid: bool,
) -> Flow:
    """Where each pixel's surface point lies in frame ``other_index`` (B,) (-1: none), minus the pixel."""
    has = other_index >= 0
    other = other_index.clamp_min(0)
    cams = batch.cameras
    return optical_flow(
        frags,
        topo.faces,
        _to_next_camera(batch.verts[other], cams, other),
        cams.K[other],
        frags.pix_to_face,
        frags.depth,
        has,
        cfg.occlusion_tolerance,
        zero_invalid=zero_invalid,
        next_frame=other,
        ground_faces=topo.ground_faces,
    )


def _to_next_camera(verts_next: Tensor, cams: Cameras, nxt: Tensor) -> Tensor:
    """(B, V, 3) world vertices of each frame's next frame, in that next frame's camera."""
    return world_to_camera(verts_next, cams.R[nxt], cams.t[nxt])
