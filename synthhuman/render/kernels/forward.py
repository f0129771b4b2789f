"""The fused no-grad forward as Warp kernels (float32): every dense layer (optical flow included) written
straight into its output tensor, one thread per pixel, no host synchronisation inside a batch.

The pipeline (:func:`synthhuman.pipeline.render_frames`) uses these when no input requires a gradient; the
PyTorch primitives remain the reference they are tested against (``tests/test_pipeline_backends.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from synthhuman.conventions import DEFAULT_OCCLUSION_TOLERANCE
from synthhuman.render.kernels import DepthKeys
from synthhuman.render.kernels.runtime import (
    Relaunch,
    as_int32,
    copy_frames,
    device_name,
    empty,
    fill_frames,
    launch,
    launch_by_frames,
    row_span,
    view,
    work_chunk,
)


@dataclass(frozen=True)
class ShadedLayers:
    """rgb (B, H, W, 3) float32 composited over the background; depth (B, H, W) planar camera z, 0 where
    empty; normals (B, H, W, 3) unit, camera axes, 0 where empty; segm, instance (B, H, W) uint8 (0
    background); flow (B, H, W, 2) float32 and flow_valid (B, H, W) bool to each frame's next frame (as
    :func:`synthhuman.gt.optical_flow`, zero where not valid); flow_back and flow_back_valid the same to
    the previous frame, the flow kept wherever that frame exists (None when not asked for)."""

    rgb: Tensor
    depth: Tensor
    normals: Tensor
    segm: Tensor
    instance: Tensor
    flow: Tensor
    flow_valid: Tensor
    flow_back: Tensor | None = None
    flow_back_valid: Tensor | None = None


def vertex_faces(faces: Tensor, num_verts: int) -> tuple[Tensor, Tensor]:
    """The faces of each vertex as CSR: offsets (V + 1,) int64 and the faces (3F, 3) int32, each as its
    corners' vertex ids (rows of ``faces``), in face order (stored in full, so a vertex's faces are read in
    one run rather than through their ids)."""
    corner_vertex = faces.flatten()
    order = torch.argsort(corner_vertex, stable=True)
    counts = torch.bincount(corner_vertex, minlength=num_verts)
    offsets = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    corners = faces.index_select(0, torch.div(order, 3, rounding_mode="floor"))
    return offsets, corners.to(torch.int32).contiguous()


def vertex_normals_kernel(world: Tensor, faces: Tensor, csr: tuple[Tensor, Tensor]) -> Tensor:
    """(B, V, 3) float32 unit area-weighted vertex normals of world vertices (B, V, 3) float32, faces (F, 3)
    int64: each vertex's face cross products (v1 - v0) x (v2 - v0) summed in face order (the PyTorch
    path, :func:`synthhuman.render.vertex_normals`, leaves that order to its kernels). ``csr`` from
    :func:`vertex_faces`."""
    from synthhuman.render.kernels import _forward

    b, v = world.shape[:2]
    dev = device_name(world)
    normals = empty((b, v, 3), world.dtype, world.device)
    if b * v == 0:
        return normals
    args = [view(world), *_csr_views(csr, v)]
    chunk = work_chunk(dev)
    seen = torch.zeros(1, 1, dtype=torch.uint8, device=world.device)  # not read: every vertex
    kernel = Relaunch(_forward.vertex_normals, dev, args, [chunk, view(seen), 1, view(normals)])

    def run(start: int, stop: int) -> None:
        kernel((stop - start, -(-v // chunk)), start)

    launch_by_frames(b, dev, run)
    return normals


def _frame_source(images: Tensor) -> Tensor:
    """What to copy (B, H, W, C) images from, frame by frame: one image (B = 1, or one expanded over the
    batch with stride 0, as a constant or per-clip background often is) made dense once as a single frame
    (1, H, W, C) (a copy from a source with zero strides inside a frame runs element by element, several
    times slower); other images as they are."""
    if images.shape[0] == 1 or images.stride(0) == 0:
        if images.device.type == "cpu":  # numpy's copy, on this thread (see render.checks.extrema)
            return torch.from_numpy(np.ascontiguousarray(images[:1].numpy()))
        return images[:1].contiguous()
    return images


def _csr_views(csr: tuple[Tensor, Tensor], num_verts: int) -> list:
    offsets = csr[0]
    if offsets.shape[0] < num_verts + 1:  # vertices after the last one a face uses: no faces, zero normals
        offsets = torch.cat([offsets, offsets[-1:].expand(num_verts + 1 - offsets.shape[0])])
    return [view(offsets), view(csr[1])]


def shade_layers(
    zbuf: DepthKeys,
    verts: Tensor,
    faces: Tensor,
    K: Tensor,
    R: Tensor,
    world: Tensor,
    csr: tuple[Tensor, Tensor],
    uv: Tensor,
    uv_faces: Tensor,
    face_labels: Tensor,
    face_instance: Tensor,
    texture,
    texture_index: Tensor,
    sh: Tensor,
    background: Tensor,
    clamp_rgb: bool,
    next_frame: Tensor,
    prev_frame: Tensor | None = None,
    occlusion_tolerance: float = DEFAULT_OCCLUSION_TOLERANCE,
    ground_faces: int = 0,
    clamp_background: bool = False,
) -> ShadedLayers:
    """Shade and label every pixel of a z-buffer (:func:`synthhuman.render.kernels.zbuffer`), with the
    optical flow to other frames of the batch.

    verts (B, V, 3) camera space; faces (F, 3) int64 or int32 (as uv_faces, face_labels and face_instance:
    the kernel reads int32 copies, made here unless given); K, R (B, 3, 3); world (B, V, 3) the same vertices
    in world axes (for the vertex normals, where the light is; R takes them to camera axes), csr the faces
    of each vertex (:func:`vertex_faces`); uv (Nuv, 2), uv_faces
    (F, 3); face_labels, face_instance (F,); texture a :class:`synthhuman.render.MipTexture` with 3
    channels; texture_index (B, P) int64; sh (B, P, 9); background (B, H, W, 3). All float tensors
    float32, on one device. ``clamp_rgb``: clamp to [0, 1] here (when no anti-aliasing follows);
    ``clamp_background``: clamp only the background's pixels (for
    :func:`synthhuman.render.kernels.silhouette.antialias_in_place`, which reads the unclamped background
    itself).
    next_frame, prev_frame (B,) int64: the batch index of each frame's next and previous frame (-1: none),
    as :func:`synthhuman.gt.optical_flow`'s ``next_frame``, with its ``occlusion_tolerance`` (metres) and
    ``ground_faces`` (the last this many faces lie in one plane: they never hide one another); the backward
    flow only with ``prev_frame``.
    """
    from synthhuman.render.kernels import _forward

    b, h, w = zbuf.keys.shape
    dev = device_name(verts)
    # empty pixels are set by bulk copies and fills (vectorised) of each run's frames, just before its
    # kernel (on CPU in the worker thread, beside the other workers' kernels); the kernel touches covered
    # pixels only
    backward = prev_frame is not None
    f32, u8, at = verts.dtype, torch.uint8, verts.device
    out = ShadedLayers(
        rgb=empty((b, h, w, 3), f32, at),
        depth=empty((b, h, w), f32, at),
        normals=empty((b, h, w, 3), f32, at),
        segm=empty((b, h, w), u8, at),
        instance=empty((b, h, w), u8, at),
        flow=empty((b, h, w, 2), f32, at),
        flow_valid=empty((b, h, w), torch.bool, at),
        flow_back=empty((b, h, w, 2), f32, at) if backward else None,
        flow_back_valid=empty((b, h, w), torch.bool, at) if backward else None,
    )
    zeroed = [out.depth, out.normals, out.segm, out.instance, out.flow, out.flow_valid]
    zeroed += [out.flow_back, out.flow_back_valid] if backward else []
    source = _frame_source(background.detach())
    texel_area = float(texture.base_size[0] * texture.base_size[1])
    # the normals of the vertices seen only (marked from the z-buffer, then computed in vertex order: a
    # third of the cost of computing each on first use in pixel order, as this did before)
    nv = world.shape[1]
    normals, seen = empty((b, nv, 3), f32, at), empty((b, nv), u8, at)
    # the topology as int32 (half the cache lines per pixel: the shading 3 % faster)
    small = [as_int32(t) for t in (faces, uv_faces, face_labels, face_instance)]
    seen_view, normals_view = view(seen), view(normals)
    marking = [view(zbuf.keys), view(small[0]), view(zbuf.window)]
    normal_args = [view(world), *_csr_views(csr, nv)]
    chunk = work_chunk(dev)
    inputs = [view(t) for t in (zbuf.keys, verts, small[0], K, R)] + [normals_view]
    inputs += [view(uv.to(torch.float32)), *(view(t) for t in small[1:])]
    mip = (texture.texels, texture.offsets, texture.heights, texture.widths)
    inputs += [view(t) for t in mip]
    inputs.append(texel_area)
    inputs += [view(t) for t in (texture_index.long(), sh)]
    next_frame = next_frame.long()
    inputs += [view(next_frame), view(prev_frame.long() if backward else next_frame), int(backward)]
    inputs += [float(occlusion_tolerance), faces.shape[0] - int(ground_faces), int(bool(clamp_rgb))]
    outputs = [view(t) for t in (out.rgb, out.depth, out.normals, out.segm, out.instance)]
    outputs += [view(out.flow), view(out.flow_valid)]
    # without a backward flow the kernel never touches its outputs: the forward ones stand in
    outputs += [view(out.flow_back), view(out.flow_back_valid)] if backward else outputs[-2:]
    window, span = view(zbuf.window), row_span(w, dev)
    mark = Relaunch(_forward.mark_seen_vertices, dev, marking, [span, seen_view])
    vertex_normals = Relaunch(_forward.vertex_normals, dev, normal_args, [chunk, seen_view, 0, normals_view])
    shade = Relaunch(_forward.shade_pixels, dev, [*inputs, window], [span, *outputs])

    def run(start: int, stop: int) -> None:
        # clamped on the way in where asked (the kernel clamps the covered pixels it writes)
        copy_frames(out.rgb, source, start, stop, clamp=clamp_rgb or clamp_background)
        for t in (*zeroed, seen):
            fill_frames(t, start, stop, 0)
        dim = (stop - start, h, -(-w // span))
        mark(dim, start)
        vertex_normals((stop - start, -(-nv // chunk)), start)
        shade(dim, start)

    if b * h * w:
        launch_by_frames(b, dev, run)
    return out


def project_joints_kernel(
    joints: Tensor, R: Tensor, t: Tensor, K: Tensor, depth: Tensor, tolerance: float
) -> tuple[Tensor, Tensor, Tensor]:
    """:func:`synthhuman.gt.project_joints` of world joints (B, J, 3) float32 seen by cameras R, K (B, 3, 3),
    t (B, 3), with the depth layer (B, H, W) (0 where empty) and ``tolerance`` (metres), in one launch:
    (joints2d (B, J, 2), joints_cam (B, J, 3), visible (B, J) bool), the same values (in
    :class:`synthhuman.gt.Joints`' order)."""
    from synthhuman.render.kernels import _forward

    b, j = joints.shape[:2]
    dev, at = device_name(depth), depth.device
    cam, uv = empty((b, j, 3), torch.float32, at), empty((b, j, 2), torch.float32, at)
    visible = empty((b, j), torch.bool, at)
    if b * j:
        inputs = [view(x.detach()) for x in (joints, R, t, K, depth)]
        args = [*inputs, float(tolerance), view(cam), view(uv), view(visible)]
        launch(_forward.project_joints, (b, j), args, dev)
    return uv, cam, visible
