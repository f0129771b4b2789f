"""A contact sheet of the default body: several genders, ages and poses, textured, with part labels."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from synthhuman import viz
from synthhuman.appearance.backgrounds import procedural_background
from synthhuman.appearance.lighting import LightConfig, sample_light
from synthhuman.appearance.textures import TextureConfig, bake_uv_layout, paint_texture
from synthhuman.body.default_body import load_default_body
from synthhuman.body.mannequin import demo_motion
from synthhuman.body.shapes import DefaultBodyShapes
from synthhuman.pipeline import FrameBatch, Topology, render_frames
from synthhuman.render.cameras import Cameras, intrinsics, look_at
from synthhuman.render.texture import build_mipmaps

PEOPLE = (  # (gender, age range in years, frame of the demo walk, heading)
    ("female", (6, 10), 0, 0.0),
    ("male", (12, 16), 8, 0.9),
    ("female", (20, 35), 16, 2.6),
    ("male", (25, 40), 24, -0.6),
    ("neutral", (40, 60), 4, 3.4),
    ("male", (70, 90), 12, 0.3),
    ("female", (70, 90), 20, -1.4),
)


_DISTANCE = 2.8
_FILL = 0.8


def preview_default_body(out: Path, seed: int = 0, size: tuple[int, int] = (360, 220)) -> None:
    """Write ``out`` (PNG): one column per person, RGB above, 24-part segmentation below."""
    h, w = size
    pose, _ = demo_motion(32)
    rgb_row, segm_row = [], []
    for i, (gender, ages, frame, heading) in enumerate(PEOPLE):
        gen = torch.Generator().manual_seed(seed * 1000 + i)
        body = load_default_body(gender)
        betas = DefaultBodyShapes(gender, ages).sample(1, gen).betas
        rest = body(betas, torch.zeros(1, 72))
        posed = body(betas, pose[frame : frame + 1])
        bake = bake_uv_layout(rest.vertices[0], body.faces, body.uv, body.uv_faces, body.face_labels, 512, 8)
        texture = paint_texture(bake, gen, TextureConfig(size=512))
        pelvis = posed.joints[0, 0]
        height = float(rest.vertices[0, :, 1].max() - rest.vertices[0, :, 1].min())
        target = pelvis + torch.tensor([0.0, 0.1 * height - 0.1, 0.0])
        eye = target + _DISTANCE * torch.tensor([math.sin(heading), 0.0, math.cos(heading)])
        R, t = look_at(eye[None], target[None])
        focal = _FILL * h * _DISTANCE / 2.0  # a 2 m tall person fills _FILL of the image height
        cams = Cameras(intrinsics(focal, ((w - 1) / 2, (h - 1) / 2)), R, t, (h, w))
        topo = Topology(body.faces, body.uv, body.uv_faces, body.face_labels)
        batch = FrameBatch(
            verts=posed.vertices,
            cameras=cams,
            textures=build_mipmaps(texture[None]),
            texture_index=torch.zeros(1, 1, dtype=torch.int64),
            sh=sample_light(LightConfig(), 1, gen)[None],
            background=procedural_background(h, w, gen)[None],
            joints=posed.joints[:, None],
            next_index=torch.full((1,), -1),
        )
        with torch.no_grad():
            res = render_frames(batch, topo)
        rgb_row.append(viz.rgb_image(res.rgb[0]))
        segm_row.append(viz.labels_image(res.segm[0]))
    viz.write_png(out, viz.contact_sheet([rgb_row, segm_row]))
