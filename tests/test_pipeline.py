"""The full frame pipeline: every layer's shape, dtype and range, agreement between layers, determinism."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from synthhuman.demo_scene import demo_clip
from synthhuman.pipeline import FrameBatch, Topology, render_frames
from synthhuman.render.cameras import project
from synthhuman.render.mesh import join_meshes

H, W = 96, 128
T = 6


@pytest.fixture(scope="module")
def clip():
    batch, topo = demo_clip(T, (H, W), seed=3, distance=4.0)
    with torch.no_grad():
        return batch, topo, render_frames(batch, topo)


def test_layers_shapes_dtypes_ranges(clip):
    _, topo, out = clip
    assert out.rgb.shape == (T, H, W, 3) and out.rgb.dtype == torch.float32
    assert float(out.rgb.min()) >= 0 and float(out.rgb.max()) <= 1
    assert out.depth.shape == (T, H, W) and float(out.depth.min()) >= 0
    assert out.normals.shape == (T, H, W, 3)
    assert out.segm.shape == (T, H, W) and out.segm.dtype == torch.uint8 and int(out.segm.max()) <= 24
    assert out.instance.dtype == torch.uint8 and set(out.instance.unique().tolist()) == {0, 1}
    assert out.flow.flow.shape == (T, H, W, 2) and out.flow.valid.dtype == torch.bool
    assert out.joints.joints2d.shape == (T, 24, 2) and out.joints.joints3d.shape == (T, 24, 3)
    assert out.joints.visible.shape == (T, 24) and out.joints.visible.dtype == torch.bool
    assert len(out.segm.unique()) >= 20  # most parts are seen in a clip this close


def test_layers_agree(clip):
    batch, topo, out = clip
    body = out.depth > 0
    assert torch.equal(out.segm > 0, body) and torch.equal(out.instance > 0, body)
    n = out.normals[body].norm(dim=-1)
    assert torch.allclose(n, torch.ones_like(n), atol=1e-5) and not bool(out.normals[~body].any())
    facing = out.normals[body][:, 2]  # camera-space normals of visible surfaces face the camera (-z)
    assert float((facing < 0.05).float().mean()) > 0.99
    torch.testing.assert_close(out.joints.joints2d, project(out.joints.joints3d, batch.cameras.K))
    assert not bool(out.flow.valid[-1].any())  # the last frame has no next frame
    assert bool((out.flow.valid <= body).all())


def test_flow_lands_on_the_same_part(clip):
    """Where the 2x2 pixels around a flow target all show one part at t+1, it is the source pixel's part."""
    _, _, out = clip
    same, total = 0, 0
    for t in range(T - 1):
        valid = out.flow.valid[t]
        rows, cols = valid.nonzero().unbind(1)
        target = torch.stack([cols, rows], -1) + out.flow.flow[t][valid]
        c0 = target[:, 0].floor().long().clamp(0, W - 2)
        r0 = target[:, 1].floor().long().clamp(0, H - 2)
        around = torch.stack([out.segm[t + 1, r0 + dr, c0 + dc] for dr in (0, 1) for dc in (0, 1)], -1)
        inside_part = (around == around[:, :1]).all(-1)
        same += int((around[inside_part, 0] == out.segm[t][valid][inside_part]).sum())
        total += int(inside_part.sum())
    assert total > 1000 and same / total > 0.995


def test_deterministic_and_independent_of_batch_split(clip):
    batch, topo, out = clip
    with torch.no_grad():
        again = render_frames(batch, topo)
        for name in ("rgb", "depth", "normals", "segm", "instance"):
            assert torch.equal(getattr(out, name), getattr(again, name)), name
        assert torch.equal(out.flow.flow, again.flow.flow)
        half = T // 2
        first = _sub_batch(batch, slice(0, half))
        part = render_frames(first, topo)
    for name in ("depth", "normals", "segm", "instance"):
        assert torch.equal(getattr(part, name), getattr(out, name)[:half]), name
    assert torch.equal(part.flow.flow[: half - 1], out.flow.flow[: half - 1])


def _sub_batch(batch: FrameBatch, idx: slice) -> FrameBatch:
    nxt = batch.next_index[idx].clone()
    nxt[nxt >= idx.stop] = -1
    return dataclasses.replace(
        batch,
        verts=batch.verts[idx],
        cameras=batch.cameras.index(idx),
        texture_index=batch.texture_index[idx],
        sh=batch.sh[idx],
        background=batch.background[idx],
        joints=batch.joints[idx],
        next_index=nxt,
    )


def test_two_people_instances_and_occlusion():
    batch, topo = demo_clip(2, (H, W), seed=1, distance=5.0, heading=0.0)
    second = batch.verts + torch.tensor([0.4, 0.0, -1.0])  # one step to the side, one metre behind
    verts, faces, instance = join_meshes([batch.verts, second], [topo.faces, topo.faces])
    topo2 = Topology(
        faces=faces,
        uv=topo.uv,
        uv_faces=torch.cat([topo.uv_faces, topo.uv_faces]),
        face_labels=torch.cat([topo.face_labels, topo.face_labels]),
        face_instance=instance,
    )
    two = dataclasses.replace(
        batch,
        verts=verts,
        texture_index=batch.texture_index.expand(2, 2),
        sh=batch.sh.expand(2, 2, 9),
        joints=torch.cat([batch.joints, batch.joints + torch.tensor([0.4, 0.0, -1.0])], 1),
    )
    with torch.no_grad():
        out = render_frames(two, topo2)
        alone = render_frames(
            dataclasses.replace(batch, verts=second, joints=batch.joints + torch.tensor([0.4, 0.0, -1.0])),
            topo,
        )
    assert set(out.instance.unique().tolist()) == {0, 1, 2}
    assert out.joints.joints2d.shape == (2, 48, 2)
    hidden = (alone.depth > 0) & (out.instance == 1)  # where the back person is covered by the front one
    assert bool(hidden.any())
    assert bool((out.depth[hidden] < alone.depth[hidden]).all())


def test_bad_frame_batch_names_the_field():
    batch, topo = demo_clip(2, (H, W))
    with pytest.raises(ValueError, match="background"):
        dataclasses.replace(batch, background=torch.zeros(2, H, W + 1, 3))
    with pytest.raises(ValueError, match="sh"):
        dataclasses.replace(batch, sh=torch.zeros(3, 1, 9))
    with pytest.raises(ValueError, match=r"sh: expected \(B, P, 9\) with P = 1"):
        dataclasses.replace(batch, sh=torch.zeros(2, 2, 9))
    with pytest.raises(ValueError, match="uv_faces"):
        Topology(topo.faces, topo.uv, topo.uv_faces[:-1], topo.face_labels, topo.face_instance)


@pytest.mark.gpu
def test_cpu_and_cuda_agree(clip):
    batch, topo, out = clip
    to = lambda t: t.cuda()  # noqa: E731
    gpu_batch = dataclasses.replace(
        batch,
        verts=to(batch.verts),
        cameras=dataclasses.replace(
            batch.cameras, K=to(batch.cameras.K), R=to(batch.cameras.R), t=to(batch.cameras.t)
        ),
        textures=dataclasses.replace(
            batch.textures,
            texels=to(batch.textures.texels),
            offsets=to(batch.textures.offsets),
            heights=to(batch.textures.heights),
            widths=to(batch.textures.widths),
        ),
        texture_index=to(batch.texture_index),
        sh=to(batch.sh),
        background=to(batch.background),
        joints=to(batch.joints),
        next_index=to(batch.next_index),
    )
    gpu_topo = topo.to("cuda")
    with torch.no_grad():
        gpu = render_frames(gpu_batch, gpu_topo)
    same = (gpu.segm.cpu() == out.segm).float().mean()
    assert float(same) > 0.999
    both = (gpu.depth.cpu() > 0) & (out.depth > 0)
    torch.testing.assert_close(gpu.depth.cpu()[both], out.depth[both], atol=1e-4, rtol=0)
