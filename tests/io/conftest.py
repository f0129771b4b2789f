"""A real rendered clip as a :class:`ClipRecord`, for the dataset writers' tests.

The default body (female, non-zero betas) with its arms lowered and legs apart, turned by a heading,
textured procedurally, translating rigidly sideways and upwards in the camera's image plane (so flow is
known: a point at planar depth z moves by f * step / z pixels), filmed at 320x240 from about 7 m by a
level camera (no tilt or roll) looking at it from an oblique direction.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthhuman.appearance.backgrounds import procedural_background
from synthhuman.appearance.lighting import LightConfig, sample_light
from synthhuman.appearance.textures import TextureConfig, procedural_texture
from synthhuman.body.default_body import load_default_body
from synthhuman.io.record import ClipInfo, ClipRecord
from synthhuman.pipeline import FrameBatch, Topology, render_frames
from synthhuman.render.cameras import Cameras, intrinsics, look_at
from synthhuman.render.texture import build_mipmaps

NUM_FRAMES = 4
IMAGE_SIZE = (240, 320)
GENDER = "female"
STEP_RIGHT = 0.05
"""Metres per frame along the camera's +x (to the right in our image)."""
STEP_UP = 0.02
"""Metres per frame along world +Y (upwards in our image)."""


def clip_pose(heading: float) -> torch.Tensor:
    """(72,) SMPL pose: heading about +Y, arms lowered, legs apart, elbows bent."""
    pose = torch.zeros(24, 3)
    pose[0, 1] = heading
    pose[1, 2], pose[2, 2] = 0.15, -0.15  # hips: legs apart
    pose[16, 2], pose[17, 2] = -0.6, 0.6  # shoulders: arms lowered
    pose[18, 1], pose[19, 1] = -0.5, 0.5  # elbows
    return pose.flatten()


def render_record(
    heading: float = 2.0,
    view: float = 0.7,
    distance: float = 7.0,
    seed: int = 0,
    clip_id: str = "clip0",
    orbit: float = 0.0,
    focal: float = 600.0,
) -> ClipRecord:
    """Render the test clip. view: azimuth of the camera around the body (radians about +Y); orbit:
    radians the camera turns further about the pelvis each frame (0: a static camera); focal: pixels at
    320 wide."""
    gen = torch.Generator().manual_seed(seed)
    h, w = IMAGE_SIZE
    T = NUM_FRAMES
    body = load_default_body(GENDER)
    betas = 0.8 * torch.randn(1, body.num_betas, generator=gen)
    pose = clip_pose(heading).expand(T, 72)
    rest = body(betas, pose[:1])
    target = rest.joints[0, 0] + torch.tensor([0.3, 0.0, -0.2])  # pelvis of frame 0 (trans added below)
    views = view + orbit * torch.arange(T, dtype=torch.float32)
    eye = target + distance * torch.stack([torch.sin(views), torch.zeros(T), torch.cos(views)], -1)
    R, t = look_at(eye, target.expand(T, 3))
    step = STEP_RIGHT * R[0, 0] + STEP_UP * torch.tensor([0.0, 1.0, 0.0])
    trans = torch.tensor([0.3, 0.0, -0.2]) + torch.arange(T, dtype=torch.float32)[:, None] * step
    posed = body(betas.expand(T, -1), pose, trans)

    K = intrinsics(focal * w / 320, ((w - 1) / 2, (h - 1) / 2), T)
    cams = Cameras(K, R, t, (h, w))
    texture = procedural_texture(
        rest.vertices[0], body.faces, body.uv, body.uv_faces, body.face_labels, gen, TextureConfig(size=256)
    )
    sh = sample_light(LightConfig(), 1, gen)
    next_index = torch.arange(1, T + 1)
    next_index[-1] = -1
    prev_index = torch.arange(-1, T - 1)
    batch = FrameBatch(
        verts=posed.vertices,
        cameras=cams,
        textures=build_mipmaps(texture[None]),
        texture_index=torch.zeros(T, 1, dtype=torch.int64),
        sh=sh.expand(T, 1, 9),
        background=procedural_background(h, w, gen).expand(T, h, w, 3),
        joints=posed.joints[:, None],
        next_index=next_index,
        prev_index=prev_index,
    )
    out = render_frames(batch, Topology(body.faces, body.uv, body.uv_faces, body.face_labels))

    def np32(x: torch.Tensor) -> np.ndarray:
        return x.detach().numpy().astype(np.float32)

    info = ClipInfo(
        clip_id=clip_id,
        split="train",
        index=0,
        seed=seed,
        fps=30.0,
        motions=("test/static",),
        motion_starts=(0,),
        textures=("procedural/0",),
        genders=(GENDER,),
        headings=(heading,),
        background="procedural/0",
        camera_distance=distance,
    )
    return ClipRecord(
        info=info,
        rgb=(out.rgb * 255).round().to(torch.uint8).numpy(),
        depth=np32(out.depth),
        normals=out.normals.detach().numpy().astype(np.float16),
        segm=out.segm.numpy(),
        instance=out.instance.numpy(),
        flow=np32(out.flow.flow),
        flow_valid=out.flow.valid.numpy(),
        joints2d=np32(out.joints.joints2d)[:, None],
        joints3d=np32(out.joints.joints3d)[:, None],
        joints3d_world=np32(posed.joints)[:, None],
        joints_visible=out.joints.visible.numpy()[:, None],
        pose=np32(pose)[:, None],
        betas=np32(betas),
        trans=np32(trans)[:, None],
        gender=np.array([GENDER]),
        K=np32(K),
        R=np32(R),
        t=np32(t),
        light=np32(sh),
        flow_backward=np32(-out.flow_backward.flow),
    )


@pytest.fixture(scope="session")
def clip_record() -> ClipRecord:
    """The test clip (read-only: tests derive variants with ``dataclasses.replace``)."""
    return render_record()
