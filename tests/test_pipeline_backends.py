"""The fused Warp forward against the PyTorch pipeline: every layer, on single- and two-person scenes,
with and without anti-aliasing, backward flow, odd sizes and empty frames (the issue's tolerances)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from synthhuman.demo_scene import demo_clip
from synthhuman.pipeline import RenderConfig, Topology, render_frames
from synthhuman.render import join_meshes
from synthhuman.render.kernels import EMPTY_KEY, warp_available

pytestmark = pytest.mark.skipif(not warp_available(), reason="warp-lang does not import here")

DISCRETE = ("segm", "instance")


def _render_both(batch, topo, **cfg):
    with torch.no_grad():
        return (render_frames(batch, topo, RenderConfig(backend=b, **cfg)) for b in ("warp", "torch"))


def assert_layers_agree(warp, ref) -> None:
    """Discrete layers identical; depth 1e-6 relative; RGB and normals 1e-5; flow 1e-4 px."""
    for name in DISCRETE:
        assert torch.equal(getattr(warp, name), getattr(ref, name)), name
    assert torch.equal(warp.fragments.pix_to_face, ref.fragments.pix_to_face)
    assert torch.equal(warp.fragments.pixel_index, ref.fragments.pixel_index)
    torch.testing.assert_close(warp.depth, ref.depth, rtol=1e-6, atol=0)
    torch.testing.assert_close(warp.rgb, ref.rgb, rtol=0, atol=1e-5)
    torch.testing.assert_close(warp.normals, ref.normals, rtol=0, atol=1e-5)
    for a, b in [(warp.flow, ref.flow), (warp.flow_backward, ref.flow_backward)]:
        if b is None:
            assert a is None
            continue
        assert torch.equal(a.valid, b.valid)
        torch.testing.assert_close(a.flow, b.flow, rtol=0, atol=1e-4)
    assert torch.equal(warp.joints.visible, ref.joints.visible)
    torch.testing.assert_close(warp.joints.joints2d, ref.joints.joints2d, rtol=0, atol=1e-4)


@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("size", [(96, 128), (37, 53), (1, 1)])
def test_demo_clip_every_layer(device, antialias, size):
    batch, topo = demo_clip(6, size, seed=3, distance=4.0, device=device)
    batch = dataclasses.replace(batch, prev_index=torch.tensor([-1, 0, 1, 2, 3, 4], device=device))
    warp, ref = _render_both(batch, topo.to(device), antialias=antialias)
    assert_layers_agree(warp, ref)
    if size == (96, 128):
        assert int((warp.segm > 0).sum()) > 1000  # the body is in view


def _two_people(batch, topo, device):
    """The clip's person and a copy of it shifted aside and back, as one mesh."""
    shift = torch.tensor([0.4, 0.0, -1.0], device=device)
    verts, faces, instance = join_meshes([batch.verts, batch.verts + shift], [topo.faces, topo.faces])
    topo2 = Topology(
        faces=faces,
        uv=topo.uv,
        uv_faces=torch.cat([topo.uv_faces, topo.uv_faces]),
        face_labels=torch.cat([topo.face_labels, topo.face_labels]),
        face_instance=instance,
    )
    n = batch.verts.shape[0]
    two = dataclasses.replace(
        batch,
        verts=verts,
        texture_index=torch.tensor([[0, 0]], device=device).expand(n, 2),
        sh=batch.sh.expand(n, 2, 9).clone(),
        joints=torch.cat([batch.joints, batch.joints + shift], 1),
    )
    return two, topo2


def test_flow_occlusion_test_against_the_landing_pixels_depth(device):
    """The fused forward reads the depth seen where a pixel lands from that frame's z-buffer key: with no
    tolerance the occlusion test rejects pixels it keeps with a large one, and both agree with PyTorch."""
    batch, topo = demo_clip(5, (72, 96), seed=5, distance=4.0, heading=0.6, device=device)
    batch = dataclasses.replace(batch, prev_index=torch.tensor([-1, 0, 1, 2, 3], device=device))
    two, topo2 = _two_people(batch, topo, device)
    valid = {}
    for tolerance in (0.0, 10.0):
        warp, ref = _render_both(two, topo2, occlusion_tolerance=tolerance)
        assert_layers_agree(warp, ref)
        valid[tolerance] = (warp.flow.valid, warp.flow_backward.valid)
    for strict, loose in zip(valid[0.0], valid[10.0], strict=True):
        assert int((loose & ~strict).sum()) > 0 and not bool((strict & ~loose).any())


def test_two_people_and_an_empty_frame(device):
    batch, topo = demo_clip(3, (64, 80), seed=1, distance=5.0, heading=0.0, device=device)
    two, topo2 = _two_people(batch, topo, device)
    t = batch.cameras.t.clone()
    t[1, 2] = -50.0  # frame 1: everything behind the camera
    two = dataclasses.replace(two, cameras=dataclasses.replace(batch.cameras, t=t))
    warp, ref = _render_both(two, topo2)
    assert set(warp.instance.unique().tolist()) == {0, 1, 2}
    assert int(warp.segm[1].count_nonzero()) == 0
    assert_layers_agree(warp, ref)


def test_grad_and_float64_take_the_differentiable_path():
    """With an input requiring grad, the warp backend finds fragments with its kernels and PyTorch
    computes every value: gradients equal the torch backend's."""
    batch, topo = demo_clip(2, (48, 64), seed=2, distance=4.0)
    grads = {}
    for backend in ("warp", "torch"):
        sh = batch.sh.clone().requires_grad_(True)
        verts = batch.verts.clone().requires_grad_(True)
        grad_batch = dataclasses.replace(batch, sh=sh, verts=verts)
        out = render_frames(grad_batch, topo, RenderConfig(backend=backend))
        (out.rgb * torch.linspace(0, 1, out.rgb.numel()).view_as(out.rgb)).sum().backward()
        grads[backend] = (sh.grad, verts.grad)
    torch.testing.assert_close(grads["warp"][0], grads["torch"][0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grads["warp"][1], grads["torch"][1], rtol=1e-5, atol=1e-6)


def test_same_bytes_run_to_run_and_whatever_the_thread_split():
    batch, topo = demo_clip(5, (60, 80), seed=4, distance=3.0)
    before = torch.get_num_threads()
    try:
        outs = []
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            with torch.no_grad():
                outs.append(render_frames(batch, topo, RenderConfig(backend="warp")))
    finally:
        torch.set_num_threads(before)
    for other in outs[1:]:
        for name in ("rgb", "depth", "normals", "segm", "instance"):
            assert torch.equal(getattr(outs[0], name), getattr(other, name)), name
        assert torch.equal(outs[0].flow.flow, other.flow.flow)
        assert torch.equal(outs[0].flow.valid, other.flow.valid)


def test_backend_is_checked():
    with pytest.raises(ValueError, match="backend"):
        RenderConfig(backend="cuda")


@pytest.mark.gpu
def test_warp_on_cuda_equals_torch_on_cpu():
    batch, topo = demo_clip(6, (96, 128), seed=3, distance=4.0)
    cuda_batch, _ = demo_clip(6, (96, 128), seed=3, distance=4.0, device="cuda")
    with torch.no_grad():
        ref = render_frames(batch, topo, RenderConfig(backend="torch"))
        warp = render_frames(cuda_batch, topo.to("cuda"), RenderConfig(backend="warp"))
    for name in DISCRETE:
        assert torch.equal(getattr(warp, name).cpu(), getattr(ref, name)), name
    assert torch.equal(warp.flow.valid.cpu(), ref.flow.valid)
    torch.testing.assert_close(warp.depth.cpu(), ref.depth, rtol=1e-6, atol=0)
    torch.testing.assert_close(warp.rgb.cpu(), ref.rgb, rtol=0, atol=1e-5)
    torch.testing.assert_close(warp.normals.cpu(), ref.normals, rtol=0, atol=1e-5)
    torch.testing.assert_close(warp.flow.flow.cpu(), ref.flow.flow, rtol=0, atol=1e-4)


def test_float64_takes_the_differentiable_path_with_the_same_answer():
    batch, topo = demo_clip(3, (40, 56), seed=6, distance=3.0)
    cams = batch.cameras
    double = dataclasses.replace(
        batch,
        verts=batch.verts.double(),
        cameras=dataclasses.replace(cams, K=cams.K.double(), R=cams.R.double(), t=cams.t.double()),
        textures=dataclasses.replace(batch.textures, texels=batch.textures.texels.double()),
        sh=batch.sh.double(),
        background=batch.background.double(),
        joints=batch.joints.double(),
    )
    warp, ref = _render_both(double, topo)
    assert warp.rgb.dtype == torch.float64
    for name in ("depth", "normals", "segm", "instance"):
        assert torch.equal(getattr(warp, name), getattr(ref, name)), name
    # the anti-aliasing's changes into one pixel are summed in another order
    torch.testing.assert_close(warp.rgb, ref.rgb, rtol=0, atol=1e-12)
    assert torch.equal(warp.flow.flow, ref.flow.flow) and torch.equal(warp.flow.valid, ref.flow.valid)


def test_the_antialiasing_scan_limited_to_the_window_changes_nothing():
    from synthhuman.render.kernels import zbuffer_world
    from synthhuman.render.kernels.silhouette import antialias_forward

    batch, topo = demo_clip(4, (60, 90), seed=7, distance=5.0)
    cams = batch.cameras
    with torch.no_grad():
        out = render_frames(batch, topo, RenderConfig(backend="warp", antialias=False))
    zbuf, cam = zbuffer_world(batch.verts, cams.R, cams.t, cams.K, topo.faces, (60, 90), cull_backfaces=True)
    assert bool((zbuf.window[:, 2] - zbuf.window[:, 0] < 60).all())  # the body covers part of each frame
    args = (out.rgb, out.fragments.pix_to_face, out.depth, cam.screen, topo.faces, topo.adjacency, cams.K)
    assert torch.equal(antialias_forward(*args, window=zbuf.window), antialias_forward(*args))


def test_in_place_antialiasing_gives_the_separate_passs_bytes(monkeypatch):
    """On CPU the anti-aliasing writes over the shading (the background clamped on the way in); with a
    background partly outside [0, 1] it gives the bytes of the pass that reads the whole unclamped image
    and writes a new one, and agrees with the PyTorch path."""
    import synthhuman.pipeline as pipeline
    from synthhuman.render.kernels.silhouette import antialias_forward

    batch, topo = demo_clip(4, (60, 90), seed=7, distance=5.0)
    stripes = torch.linspace(-0.4, 1.5, 90).view(1, 1, 90, 1)
    batch = dataclasses.replace(batch, background=(batch.background + stripes).contiguous())
    with torch.no_grad():
        warp, ref = _render_both(batch, topo)
    assert_layers_agree(warp, ref)

    def separate_pass(color, background, keys, *args, **kwargs):
        covered = (keys != EMPTY_KEY)[..., None]
        return antialias_forward(torch.where(covered, color, background), keys, *args, **kwargs)

    monkeypatch.setattr(pipeline, "antialias_in_place", separate_pass)
    with torch.no_grad():
        separate = render_frames(batch, topo, RenderConfig(backend="warp"))
    assert torch.equal(warp.rgb, separate.rgb)
    assert bool((warp.rgb == 0).any()) and bool((warp.rgb == 1).any())  # clamped at both ends


SCENE_OBJECTS = {
    "occluders": dict(ground=False),
    "ground": dict(ground=True),
    "unlabelled": dict(labels=False),
}


@pytest.fixture(scope="module", params=list(SCENE_OBJECTS))
def object_assets(request):
    from synthhuman.appearance.textures import TextureConfig
    from synthhuman.scene import SceneAssets, SceneConfig
    from synthhuman.scene.config import CameraConfig
    from synthhuman.scene.ground import GroundConfig
    from synthhuman.scene.occluders import OccluderConfig

    opts = SCENE_OBJECTS[request.param]
    ground = GroundConfig(enabled=opts.get("ground", True), labels=opts.get("labels", True))
    camera, occluders = CameraConfig(mode="moving"), OccluderConfig(count=3)
    scene = SceneConfig(frames=4, height=48, width=64, people=2, texture=TextureConfig(size=64),
                        camera=camera, occluders=occluders, ground=ground)  # fmt: skip
    return SceneAssets(scene)


@pytest.mark.parametrize("antialias", [True, False])
def test_occluder_and_ground_scenes_every_layer(device, object_assets, antialias):
    from synthhuman.scene import build_clip, frame_batch, sample_clip, segments

    a = object_assets
    for index in range(2):
        clip = build_clip(a, sample_clip(a, 0, "train", index), device)
        batch = frame_batch(segments(clip, 100, True), a, True)
        warp, ref = _render_both(batch, a.topology_on(torch.device(device)), antialias=antialias)
        assert_layers_agree(warp, ref)
        assert int(((warp.instance > 2) & (warp.instance < 6)).sum()) > 0  # occluders in view
