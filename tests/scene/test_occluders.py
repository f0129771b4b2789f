"""Occluders (issue 17, part 2): closed meshes; drawn apart from the rest of the clip; they hide parts and
joints exactly where their depth is nearer; flow on them is the camera's motion, exactly."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from synthhuman.appearance.textures import TextureConfig
from synthhuman.pipeline import FrameBatch, RenderConfig, Topology, render_frames
from synthhuman.render import face_adjacency
from synthhuman.render.kernels import warp_available
from synthhuman.scene import SceneAssets, SceneConfig, build_clip, frame_batch, sample_clip, segments
from synthhuman.scene.config import CameraConfig
from synthhuman.scene.occluder_mesh import VARIANTS, slot_template, slot_vertices
from synthhuman.scene.occluders import OCCLUDER_KINDS, OccluderConfig, occluder_template

K = 3
SCENE = SceneConfig(frames=4, height=64, width=80, people=2, texture=TextureConfig(size=64))
BACKENDS = ["torch", *(["warp"] if warp_available() else [])]


@pytest.fixture(scope="module")
def off() -> SceneAssets:
    return SceneAssets(SCENE)


@pytest.fixture(scope="module")
def on() -> SceneAssets:
    return SceneAssets(replace(SCENE, occluders=OccluderConfig(count=K)))


@pytest.fixture(scope="module")
def moving() -> SceneAssets:
    return SceneAssets(replace(SCENE, occluders=OccluderConfig(count=K), camera=CameraConfig(mode="moving")))


def test_slot_mesh_is_closed_outward_and_the_unused_variant_has_no_area():
    t = slot_template()
    assert int((face_adjacency(t.faces) < 0).sum()) == 0  # watertight
    directed = torch.cat([t.faces[:, [0, 1]], t.faces[:, [1, 2]], t.faces[:, [2, 0]]])
    assert len(torch.unique(directed, dim=0)) == len(directed)  # consistently oriented
    assert float(t.uv.min()) >= 0 and float(t.uv.max()) <= 1
    for variant in VARIANTS:
        v = slot_vertices(t, variant, 0.4, 0.3, 1.2, 0.01, (1.0, -2.0), 0.7)
        tri = v[t.faces]
        cross = torch.linalg.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        volume = float((tri[:, 0] * cross).sum() / 6)
        expected = 0.8 * 0.6 * 1.2 if variant == "square" else math.pi * 0.4 * 0.3 * 1.2
        assert volume == pytest.approx(expected, rel=0.03)  # positive: normals point out
        start, stop = t.variant_verts[variant]
        in_variant = ((t.faces >= start) & (t.faces < stop)).all(1)
        assert float(cross[~in_variant].norm(dim=1).max()) == 0.0  # the other variant: zero area
        assert float(v[:, 1].min()) == 0.0  # standing on the ground


def test_occluders_draw_apart_from_the_rest_of_the_clip(off, on):
    for index in range(2):
        a, b = sample_clip(off, 0, "train", index), sample_clip(on, 0, "train", index)
        assert a.occluders == () and len(b.occluders) == K
        assert a.distance == b.distance and torch.equal(a.placement, b.placement)
        assert torch.equal(a.background, b.background)
        for x, y in zip(a.people, b.people, strict=True):
            assert torch.equal(x.betas, y.betas) and torch.equal(x.light, y.light)
            assert torch.equal(x.texture, y.texture) and np.array_equal(x.pose, y.pose)
        assert {o.kind for o in b.occluders} <= set(OCCLUDER_KINDS)
        again = sample_clip(on, 0, "train", index).occluders
        assert all(
            torch.equal(o.texture, p.texture) and o.kind == p.kind
            for o, p in zip(again, b.occluders, strict=True)
        )


def _render(assets: SceneAssets, index: int, backend: str = "torch"):
    clip = build_clip(assets, sample_clip(assets, 0, "train", index))
    batch = frame_batch(segments(clip, 100, False), assets, False)
    with torch.no_grad():
        return clip, batch, render_frames(batch, assets.topology, RenderConfig(backend=backend))


def _occluders_alone(clip, batch: FrameBatch) -> tuple[Topology, FrameBatch]:
    """The clip's occluders as a scene of their own (no people): the brute-force reference."""
    slot = occluder_template()
    n = slot.faces.shape[0]
    faces = (slot.faces[None] + (torch.arange(K) * slot.num_verts)[:, None, None]).reshape(-1, 3)
    topo = Topology(faces, slot.uv, slot.uv_faces.repeat(K, 1), torch.zeros(K * n, dtype=torch.int64),
                    torch.arange(1, K + 1).repeat_interleave(n))  # fmt: skip
    B = batch.verts.shape[0]
    alone = replace(batch, verts=clip.occluders.verts[None].expand(B, -1, -1).contiguous(),
                    texture_index=batch.texture_index[:, -K:], sh=batch.sh[:, -K:])  # fmt: skip
    return topo, alone


@pytest.mark.parametrize("backend", BACKENDS)
def test_occluders_hide_parts_and_joints_exactly_where_their_depth_is_nearer(off, on, backend):
    hidden_parts = hidden_joints = 0
    for index in range(3):
        clip, batch, with_occ = _render(on, index, backend)
        _, _, people = _render(off, index, backend)
        topo, alone = _occluders_alone(clip, batch)
        with torch.no_grad():
            occ = render_frames(alone, topo, RenderConfig(backend=backend))
        P = SCENE.people
        # z-buffer by hand: each pixel shows the nearer of the people's and the occluders' surfaces
        d_people = torch.where(people.depth > 0, people.depth, torch.inf)
        d_occ = torch.where(occ.depth > 0, occ.depth, torch.inf)
        occ_wins = d_occ < d_people
        expect_instance = torch.where(occ_wins, occ.instance + P, people.instance)
        assert torch.equal(with_occ.instance, expect_instance)
        assert torch.equal(with_occ.segm, torch.where(occ_wins, 0, people.segm))
        assert torch.equal(with_occ.depth, torch.where(occ_wins, occ.depth, people.depth))
        hidden_parts += int((occ_wins & (people.segm > 0)).sum())
        # joints: hidden where an occluder's depth at the joint's pixel is nearer than the joint (tolerance)
        j = with_occ.joints
        z = j.joints3d[..., 2]
        col, row = j.joints2d[..., 0].round().long(), j.joints2d[..., 1].round().long()
        inside = (col >= 0) & (col < SCENE.width) & (row >= 0) & (row < SCENE.height) & (z > 0)
        b = torch.arange(z.shape[0])[:, None].expand_as(z)
        d_at = d_occ[b, row.clamp(0, SCENE.height - 1), col.clamp(0, SCENE.width - 1)]
        behind = inside & (d_at < z - RenderConfig().joint_tolerance)
        assert torch.equal(j.visible, people.joints.visible & ~behind)
        assert torch.equal(j.joints2d, people.joints.joints2d)
        hidden_joints += int((people.joints.visible & behind).sum())
    assert hidden_parts > 100 and hidden_joints > 0  # the occluders do hide people


@pytest.mark.parametrize("backend", BACKENDS)
def test_flow_on_occluders_is_the_moving_cameras_motion(moving, backend):
    checked = 0
    for index in range(2):
        clip, batch, out = _render(moving, index, backend)
        cams = batch.cameras
        for t in range(batch.verts.shape[0] - 1):
            mask = (out.instance[t] > SCENE.people) & out.flow.valid[t]
            rows, cols = mask.nonzero(as_tuple=True)
            z = out.depth[t, rows, cols].double()
            pix = torch.stack([cols.double(), rows.double(), torch.ones_like(z)], 1)
            cam_pts = (torch.linalg.inv(cams.K[t].double()) @ pix.T).T * z[:, None]
            world = (cam_pts - cams.t[t].double()) @ cams.R[t].double()  # R^T (X_cam - t)
            nxt = world @ cams.R[t + 1].double().T + cams.t[t + 1].double()
            proj = nxt @ cams.K[t + 1].double().T
            uv = proj[:, :2] / proj[:, 2:]
            moved = uv - pix[:, :2]
            flow = out.flow.flow[t, rows, cols].double()
            if len(rows):
                assert float((flow - moved).abs().max()) < 2e-3
            checked += len(rows)
        assert (
            float(batch.cameras.t[0].sub(batch.cameras.t[-1]).norm())
            + float(batch.cameras.R[0].sub(batch.cameras.R[-1]).norm())
            > 1e-4
        )  # the camera moves
    assert checked > 200


def test_instance_ids_follow_the_people_and_info_lists_the_occluders(on):
    clip, _, out = _render(on, 0)
    P = SCENE.people
    assert set(out.instance.unique().tolist()) <= set(range(P + K + 1))
    assert int((out.instance > P).sum()) > 0
    info = clip.occluders.info
    assert [o["instance"] for o in info] == list(range(P + 1, P + K + 1))
    for o in info:
        assert o["kind"] in OCCLUDER_KINDS and len(o["size"]) == 3 and o["placed"] in (True, False)
        if o["placed"]:
            assert o["position"][1] == 0.0 and math.isfinite(o["yaw"])
    # the topology: label 0 and ids P + 1 .. P + K on the occluders' faces, after the people's
    topo = on.topology
    tail = topo.face_instance > P
    assert int(topo.face_labels[tail].max()) == 0 and int(topo.face_labels[~tail].min()) >= 1
    assert topo.num_people == P


def test_textures_and_lights_of_occluders_in_the_batch(on):
    clip, batch, _ = _render(on, 1)
    P = SCENE.people
    assert batch.texture_index.shape == (SCENE.frames, P + K) and batch.sh.shape == (SCENE.frames, P + K, 9)
    assert torch.equal(batch.sh[:, P:], batch.sh[:, :1].expand(-1, K, -1))
    for o in clip.params.occluders:
        assert o.texture.shape == (64, 64, 3) and float(o.texture.std()) > 0.01
