"""Everything random about a clip, drawn on CPU from the clip's own generator (``rng.clip_generator``):
per person the gender, shape, motion window, mirroring, speed, heading, texture and light; then the
background, the camera distance and the draws that place people apart. A varied or moving camera
(``CameraConfig.mode``) is drawn from a generator of its own (``derived_generator(clip seed, "camera")``),
so SURREAL's mode draws exactly what it always did. Same seed, split and index: the same clip, whatever
else is drawn.

The photo-like backgrounds and fabric textures (the default looks) draw from generators of their own,
derived from the clip's seed (``rng.derived_generator(clip seed, "look", ...)``), and the clip's generator
is advanced exactly as the surreal-style looks would advance it (``skip_paint_texture``,
``skip_random_background``): bodies, motions, lights and cameras are the same whichever look is chosen."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor

from synthhuman.appearance._util import load_image
from synthhuman.appearance.backgrounds import photo_like_background, random_background, skip_random_background
from synthhuman.appearance.fabric import paint_fabric
from synthhuman.appearance.lighting import sample_light
from synthhuman.appearance.textures import paint_texture, part_colours, skip_paint_texture
from synthhuman.body.shapes import sample_normal_betas
from synthhuman.motion.sequence import PoseSequence, change_speed, is_cyclic, loop, mirror, rotate_heading
from synthhuman.rng import clip_generator, clip_seed, derived_generator
from synthhuman.scene.assets import SceneAssets
from synthhuman.scene.camera_paths import CameraParams, sample_camera
from synthhuman.scene.config import MotionConfig
from synthhuman.scene.occluders import OccluderParams, sample_occluders


@dataclass(frozen=True)
class PersonParams:
    """One person of a clip, drawn by :func:`sample_clip`. pose (T, 72), trans (T, 3) float64 at the
    clip's fps, heading already applied; betas (K,) float32; texture (S, S, 3) float32; light (9,)."""

    gender: str
    betas: Tensor
    shape_row: int
    motion: str
    motion_start: int
    mirrored: bool
    speed: float
    heading: float
    pose: np.ndarray
    trans: np.ndarray
    texture: Tensor
    texture_name: str
    light: Tensor


@dataclass(frozen=True)
class ClipParams:
    """Everything random about one clip. background (H, W, 3) float32; placement: (N, 2) candidate
    (angle, extra distance) draws for people 2..P; distance: the sampled camera distance (metres);
    camera: the varied or moving camera's draws, None for SURREAL's camera; occluders: the occluders'
    draws (none unless ``SceneConfig.occluders.count`` > 0)."""

    split: str
    index: int
    seed: int
    people: tuple[PersonParams, ...]
    background: Tensor
    background_name: str
    distance: float
    placement: Tensor
    camera: CameraParams | None = None
    occluders: tuple[OccluderParams, ...] = ()


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen, dtype=torch.float64))


def _motion_window(seq: PoseSequence, frames: int, cfg: MotionConfig, gen: torch.Generator):
    """A window of exactly ``frames`` frames: (sequence, start frame in the source)."""
    if seq.num_frames >= frames:
        starts = range(0, seq.num_frames - frames + 1, cfg.stride)
        start = starts[int(torch.randint(len(starts), (), generator=gen))]
        return replace(
            seq, poses=seq.poses[start : start + frames], trans=seq.trans[start : start + frames]
        ), start
    if is_cyclic(seq):
        return loop(seq, frames), 0
    before = int(torch.randint(frames - seq.num_frames + 1, (), generator=gen))
    after = frames - seq.num_frames - before
    pad = [(before, after), (0, 0)]
    return replace(
        seq, poses=np.pad(seq.poses, pad, mode="edge"), trans=np.pad(seq.trans, pad, mode="edge")
    ), -before


def sample_person(
    assets: SceneAssets, split: str, gen: torch.Generator, look: torch.Generator | None = None
) -> PersonParams:
    """Draw one person (see :class:`PersonParams`). ``look``: the generator of a fabric texture (required
    for ``texture.style`` "fabric" on a body with UVs; ``gen`` then advances as a surreal-style texture
    would advance it)."""
    cfg = assets.cfg
    gender = cfg.genders[int(torch.randint(len(cfg.genders), (), generator=gen))]
    body = assets.bodies[gender]
    sampler = assets.shapes[(gender, split)]
    shape = (
        sampler.sample(1, gen)
        if sampler is not None
        else sample_normal_betas(1, body.num_betas, gen, cfg.shape_sigma)
    )
    pool = assets.motions[split]
    seq = pool[int(torch.randint(len(pool), (), generator=gen))]
    mc = cfg.motion
    speed = _uniform(gen, *mc.speed_range)
    mirrored = bool(torch.rand((), generator=gen) < mc.mirror_prob)
    heading = _uniform(gen, 0.0, 2 * math.pi)
    if speed != 1.0:
        seq = change_speed(seq, speed)
    seq, start = _motion_window(seq, cfg.frames, mc, gen)
    root = (
        body(shape.betas.to(body.dtype), torch.zeros(1, 72, dtype=body.dtype), normals=False)
        .joints[0, 0]
        .double()
        .numpy()
    )
    if mirrored:
        seq = mirror(seq, root)
    seq = rotate_heading(seq, heading, root)
    if assets.texture_folder is not None:
        paths = assets.texture_folder.paths(gender, split)
        pick = int(torch.randint(len(paths), (), generator=gen))
        texture = _resize_texture(load_image(paths[pick]), cfg.texture.size)
        texture_name = assets.texture_folder.name(paths[pick])
    elif assets.has_uv and cfg.texture.style == "surreal-style":
        texture = paint_texture(assets.bake(gender), gen, cfg.texture)
        texture_name = "procedural"
    elif assets.has_uv:
        if look is None:
            raise ValueError("look: a fabric texture needs its own generator (see sample_clip)")
        skip_paint_texture(gen, cfg.texture)
        texture = paint_fabric(assets.bake(gender), look, cfg.texture)
        texture_name = "procedural/fabric"
    else:
        texture = part_colours(body.face_labels, gen, str(body.data.path), cfg.texture).texture
        texture_name = "part colours"
    light = sample_light(cfg.light, 1, gen)[0]
    return PersonParams(
        gender, shape.betas[0].float(), int(shape.row[0]), seq.name, start, mirrored, speed, heading,
        seq.poses.astype(np.float64), seq.trans.astype(np.float64), texture, texture_name, light,
    )  # fmt: skip


def _resize_texture(image: Tensor, size: int) -> Tensor:
    if image.shape[0] == size and image.shape[1] == size:
        return image
    x = image.permute(2, 0, 1)[None]
    return (
        torch.nn.functional.interpolate(x, (size, size), mode="area").squeeze(0).permute(1, 2, 0).contiguous()
    )


def sample_clip(assets: SceneAssets, seed: int, split: str, index: int) -> ClipParams:
    """Draw clip ``index`` of ``split`` in a run seeded ``seed``: the same whatever else is drawn."""
    cfg = assets.cfg
    gen = clip_generator(seed, split, index)
    own = clip_seed(seed, split, index)
    people = tuple(
        sample_person(assets, split, gen, derived_generator(own, "look", "texture", p))
        for p in range(cfg.people)
    )
    h, w = cfg.height, cfg.width
    if assets.background_folders is not None:
        folder = assets.background_folders[split]
        background, background_name = folder.sample_named(h, w, gen)
    elif assets.photos is not None and bool(torch.rand((), generator=gen) < 0.5):
        background, name = assets.photos.sample_named(h, w, gen)
        background_name = f"skimage/{name}"
    elif cfg.background.style == "surreal-style":
        background, background_name = random_background(h, w, gen, cfg.background), "procedural"
    else:
        skip_random_background(h, w, gen, cfg.background)
        look = derived_generator(own, "look", "background")
        background, background_name = photo_like_background(h, w, look, cfg.background, assets.look_photos)
    cam = cfg.camera
    distance = max(
        cam.distance_min, cam.distance_mean + cam.distance_std * float(torch.randn((), generator=gen))
    )
    placement = torch.rand(64, 2, generator=gen, dtype=torch.float64)
    camera = None if cam.mode == "surreal" else sample_camera(cam, derived_generator(own, "camera"))
    occluders = sample_occluders(cfg.occluders, own, cfg.texture.size) if cfg.occluders.count else ()
    return ClipParams(
        split, index, own, people, background, background_name, distance, placement, camera, occluders
    )
