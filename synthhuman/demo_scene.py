"""The built-in test scene: the procedural mannequin walking, filmed SURREAL-style (focal 600 px at 320x240,
about 7 m away), over a procedural background. Used by ``synthhuman bench``, ``render-test`` and tests."""

from __future__ import annotations

import math

import torch

from synthhuman.appearance.backgrounds import procedural_background
from synthhuman.appearance.lighting import LightConfig, sample_light
from synthhuman.body.mannequin import demo_motion, make_mannequin, mannequin_texture, pose_mannequin
from synthhuman.pipeline import FrameBatch, Topology
from synthhuman.render.cameras import Cameras, intrinsics, look_at
from synthhuman.render.texture import build_mipmaps


def demo_clip(
    num_frames: int,
    image_size: tuple[int, int] = (240, 320),
    *,
    seed: int = 0,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    distance: float = 7.0,
    heading: float | None = None,
) -> tuple[FrameBatch, Topology]:
    """One clip of ``num_frames`` consecutive frames (next_index chains them) and its topology."""
    gen = torch.Generator().manual_seed(seed)
    h, w = image_size
    m = make_mannequin()
    pose, trans = demo_motion(num_frames, dtype=torch.float32)
    if heading is None:
        heading = float(2 * math.pi * torch.rand((), generator=gen))
    verts, joints = pose_mannequin(m, pose, trans=trans)
    centre = joints[:, 0].mean(0)
    eye = centre + distance * torch.tensor([math.sin(heading), 0.0, math.cos(heading)])
    R, t = look_at(eye[None], centre[None])
    focal = 600.0 * w / 320.0
    K = intrinsics(focal, ((w - 1) / 2, (h - 1) / 2), num_frames)
    cams = Cameras(
        K.to(device, dtype),
        R.expand(num_frames, 3, 3).to(device, dtype),
        t.expand(num_frames, 3).to(device, dtype),
        (h, w),
    )
    texture = mannequin_texture(256, gen=gen)[None]
    background = procedural_background(h, w, gen).expand(num_frames, h, w, 3)
    sh = sample_light(LightConfig(), 1, gen).expand(num_frames, 1, 9)
    next_index = torch.arange(1, num_frames + 1)
    next_index[-1] = -1
    batch = FrameBatch(
        verts=verts.to(device, dtype),
        cameras=cams,
        textures=build_mipmaps(texture.to(device, dtype)),
        texture_index=torch.zeros(num_frames, 1, dtype=torch.int64, device=device),
        sh=sh.to(device, dtype),
        background=background.to(device, dtype),
        joints=joints[:, None].to(device, dtype),
        next_index=next_index.to(device),
    )
    topo = Topology(
        faces=m.faces.to(device),
        uv=m.uv.to(device, dtype),
        uv_faces=m.uv_faces.to(device),
        face_labels=m.face_labels.to(device),
        face_instance=torch.ones(m.faces.shape[0], dtype=torch.int64, device=device),
    )
    return batch, topo
