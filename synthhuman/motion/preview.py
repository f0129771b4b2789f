"""A contact sheet of bundled motion clips on the default body: one row per clip, evenly spaced frames.

Each clip is seen by one static camera (3/4 view from the body's front-left at the clip's start heading,
at pelvis height over the clip's mean root position, far enough for the whole clip), so the travel, the
heading and the ground contact are visible across a row. ``labels=True`` renders the 24-part labels
instead of the texture (left and right limbs get different colours: for checking left/right).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from synthhuman import viz
from synthhuman.appearance.lighting import LightConfig, sample_light
from synthhuman.appearance.textures import TextureConfig, bake_uv_layout, paint_texture
from synthhuman.body.default_body import load_default_body
from synthhuman.motion.deepmimic import read_bundled_library
from synthhuman.motion.sequence import PoseSequence, aa_to_quat, quat_rotate
from synthhuman.pipeline import FrameBatch, Topology, render_frames
from synthhuman.render.cameras import Cameras, intrinsics, look_at
from synthhuman.render.texture import build_mipmaps

CLIPS = ("walk", "run", "jump", "kick", "cartwheel", "dance_a")


def _clip_camera(seq: PoseSequence, joints: torch.Tensor, h: int, w: int, view_angle: float):
    pelvis = joints[:, 0].double().numpy()
    facing = quat_rotate(aa_to_quat(seq.poses[0, :3].astype(np.float64)), np.array([0.0, 0.0, 1.0]))
    heading = math.atan2(facing[0], facing[2]) + view_angle
    centre = 0.5 * (pelvis.min(0) + pelvis.max(0))
    extent = float(np.max(pelvis.max(0) - pelvis.min(0)))
    distance = 3.0 + 1.2 * extent
    target = torch.tensor([centre[0], 0.85, centre[2]], dtype=torch.float32)
    eye = target + distance * torch.tensor([math.sin(heading), 0.12, math.cos(heading)])
    R, t = look_at(eye[None], target[None])
    focal = 0.7 * h * distance / 1.9  # a 1.9 m span fills 70% of the height at the centre
    return intrinsics(focal, ((w - 1) / 2, (h - 1) / 2)), R, t


def preview_motion(
    out: Path,
    clips: tuple[str, ...] = CLIPS,
    frames_per_clip: int = 5,
    size: tuple[int, int] = (220, 300),
    seed: int = 0,
    labels: bool = False,
    view_angle: float = 0.8,
) -> None:
    """Write ``out`` (PNG): ``clips`` of the bundled library as rows of ``frames_per_clip`` frames."""
    h, w = size
    lib = {s.name: s for s in read_bundled_library()}
    unknown = [c for c in clips if c not in lib]
    if unknown:
        raise ValueError(f"unknown clips {unknown}; the library has {sorted(lib)}")
    body = load_default_body("neutral")
    betas = torch.zeros(1, 10)
    gen = torch.Generator().manual_seed(seed)
    rest = body(betas, torch.zeros(1, 72))
    bake = bake_uv_layout(rest.vertices[0], body.faces, body.uv, body.uv_faces, body.face_labels, 512, 8)
    texture = build_mipmaps(paint_texture(bake, gen, TextureConfig(size=512))[None])
    topo = Topology(body.faces, body.uv, body.uv_faces, body.face_labels)
    sh = sample_light(LightConfig(ambient=(1.1, 1.3), vertical=(-0.2, 0.0), spread=0.2), 1, gen)[
        None
    ]  # a bright, even light
    rows = []
    for name in clips:
        seq = lib[name]
        idx = np.linspace(0, seq.num_frames - 1, frames_per_clip).round().astype(int)
        n = len(idx)
        with torch.no_grad():
            allj = body(
                betas.expand(seq.num_frames, -1),
                torch.as_tensor(seq.poses.copy()),
                torch.as_tensor(seq.trans.copy()),
            )
            posed = body(
                betas.expand(n, -1), torch.as_tensor(seq.poses[idx]), torch.as_tensor(seq.trans[idx])
            )
        K, R, t = _clip_camera(seq, allj.joints, h, w, view_angle)
        cams = Cameras(K.expand(n, 3, 3), R.expand(n, 3, 3), t.expand(n, 3), (h, w))
        bg = torch.linspace(0.85, 0.55, h)[None, :, None, None].expand(n, h, w, 3).contiguous()
        batch = FrameBatch(
            verts=posed.vertices,
            cameras=cams,
            textures=texture,
            texture_index=torch.zeros(n, 1, dtype=torch.int64),
            sh=sh.expand(n, 1, 9),
            background=bg,
            joints=posed.joints[:, None],
            next_index=torch.full((n,), -1),
        )
        with torch.no_grad():
            res = render_frames(batch, topo)
        rows.append(
            [viz.labels_image(res.segm[i]) if labels else viz.rgb_image(res.rgb[i]) for i in range(n)]
        )
    viz.write_png(out, viz.contact_sheet(rows))
