"""Batch packing: built clips cut into segments of at most a batch's frames (with flow's neighbour
frames) and packed, with their textures and lights, into the renderer's ``FrameBatch``."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from synthhuman.config import require
from synthhuman.pipeline import FrameBatch
from synthhuman.render import Cameras, build_mipmaps
from synthhuman.scene.assets import SceneAssets
from synthhuman.scene.ground import shadow_spheres
from synthhuman.scene.posing import ClipGeometry, cat_parts


@dataclass(frozen=True)
class Segment:
    """Frames ``[start, stop)`` of one built clip rendered together; the frames ``[keep_start, keep_stop)``
    are kept, the others are there only as neighbours for flow."""

    clip: ClipGeometry
    start: int
    stop: int
    keep_start: int
    keep_stop: int


def segments(clip: ClipGeometry, max_frames: int, backward: bool) -> list[Segment]:
    """Split a clip into segments of at most ``max_frames`` rendered frames whose kept frames tile it.
    Each segment also renders the frame after its kept frames (forward flow) and, with ``backward``, the
    one before (backward flow), so flow is exact across segment borders."""
    T = clip.verts.shape[0]
    pad = 1 + int(backward)
    require(max_frames > pad, "batch_frames", f"> {pad} (room for flow's neighbour frames)", max_frames)
    out, k = [], 0
    while k < T:
        start = k - 1 if backward and k > 0 else k
        stop = min(T, start + max_frames)
        keep_stop = stop if stop == T else stop - 1
        out.append(Segment(clip, start, stop, k, keep_stop))
        k = keep_stop
    return out


def frame_batch(segs: list[Segment], assets: SceneAssets, backward: bool) -> FrameBatch:
    """The renderer's batch for ``segs`` (all on one device): frames of each segment in order, next (and
    with ``backward`` previous) frame indices chaining within a segment, one texture per person."""
    picks = [(s.clip, torch.arange(s.start, s.stop, device=s.clip.verts.device)) for s in segs]
    return _picked_batch(picks, assets, chained=True, backward=backward)


def stills_batch(
    picks: list[tuple[ClipGeometry, Tensor]], assets: SceneAssets, with_next: bool = False
) -> FrameBatch:
    """The renderer's batch for single frames: for each (clip, (N,) int64 frame indices) pair, those
    frames in that order, with no neighbours (no flow); one texture per person of each clip. With
    ``with_next`` each frame is followed by the clip's next frame (when there is one), chained, so the
    frame gets its forward flow (:func:`still_rows` gives the rows of the frames asked for)."""
    if not with_next:
        return _picked_batch(picks, assets, chained=False, backward=False)
    pairs = []
    for clip, frames in picks:
        T = clip.verts.shape[0]
        pairs += [(clip, torch.arange(f, min(f + 2, T), device=frames.device)) for f in frames.tolist()]
    return _picked_batch(pairs, assets, chained=True, backward=False)


def still_rows(picks: list[tuple[ClipGeometry, Tensor]]) -> Tensor:
    """(N,) int64: the rows of a ``stills_batch(picks, assets, with_next=True)`` holding the frames asked
    for (the others are their next frames)."""
    rows, base = [], 0
    for clip, frames in picks:
        T = clip.verts.shape[0]
        for f in frames.tolist():
            rows.append(base)
            base += 2 if f + 1 < T else 1
    return torch.tensor(rows, dtype=torch.int64)


def _picked_batch(
    picks: list[tuple[ClipGeometry, Tensor]], assets: SceneAssets, chained: bool, backward: bool
) -> FrameBatch:
    verts, joints, K, R, t, bg, sh, tex, nxt, prv = [], [], [], [], [], [], [], [], [], []
    base = 0
    cfg = assets.cfg
    P = cfg.people + cfg.occluders.count + int(cfg.ground.enabled)  # textures and lights per clip: people,
    shadows = []  # occluders, the ground
    for i, (c, frames) in enumerate(picks):
        n = frames.shape[0]
        v = c.verts[frames]
        for static in (c.occluders, c.ground):  # static: the same world vertices in every frame
            if static is not None:
                v = torch.cat([v, static.verts[None].expand(n, -1, -1)], 1)
        verts.append(v)
        if c.ground is not None:
            shadows.append(shadow_spheres(c.joints[frames], cfg.ground.shadow))
        joints.append(c.joints[frames])
        K.append(c.cameras.K[frames])
        R.append(c.cameras.R[frames])
        t.append(c.cameras.t[frames])
        device, dtype = c.verts.device, c.verts.dtype
        bg.append(c.params.background.to(device, dtype)[None].expand(n, -1, -1, -1))
        lights = [p.light for p in c.params.people]
        lights += [lights[0]] * (len(c.params.occluders) + int(c.ground is not None))  # the first person's
        sh.append(torch.stack(lights).to(device, dtype)[None].expand(n, -1, -1))
        tex.append(torch.arange(i * P, (i + 1) * P, device=device)[None].expand(n, -1))
        local = torch.arange(n, device=device)
        none = torch.full_like(local, -1)
        nxt.append(torch.where(local + 1 < n, base + local + 1, -1) if chained else none)
        prv.append(torch.where(local > 0, base + local - 1, -1) if chained else none)
        base += n
    textures = [
        x.texture
        for c, _ in picks
        for x in (*c.params.people, *c.params.occluders, *filter(None, [c.ground]))
    ]
    textures = torch.stack(textures).to(device, dtype)
    cams = Cameras(cat_parts(K), cat_parts(R), cat_parts(t), picks[0][0].cameras.image_size)
    return FrameBatch(
        verts=cat_parts(verts),
        cameras=cams,
        textures=build_mipmaps(textures),
        texture_index=cat_parts(tex),
        sh=cat_parts(sh),
        background=cat_parts(bg),
        joints=cat_parts(joints),
        next_index=cat_parts(nxt),
        prev_index=cat_parts(prv) if backward else None,
        shadows=cat_parts(shadows) if shadows else None,
    )
