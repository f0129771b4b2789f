"""The ground (issue 17, part 3): geometry under the feet with exact depth and normals, no holes near the
camera, labels as background on request, soft contact shadows."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from synthhuman.appearance.textures import TextureConfig
from synthhuman.pipeline import RenderConfig, render_frames
from synthhuman.render.kernels import warp_available
from synthhuman.scene import SceneAssets, SceneConfig, build_clip, frame_batch, sample_clip, segments
from synthhuman.scene.config import CameraConfig
from synthhuman.scene.ground import GroundConfig, ground_lines, ground_topology
from synthhuman.scene.occluders import OccluderConfig

SCENE = SceneConfig(frames=3, height=48, width=64, people=2, texture=TextureConfig(size=64),
                    camera=CameraConfig(mode="varied"), ground=GroundConfig(enabled=True))  # fmt: skip
BACKENDS = ["torch", *(["warp"] if warp_available() else [])]
GROUND_ID = 3  # two people, no occluders


@pytest.fixture(scope="module")
def assets() -> SceneAssets:
    return SceneAssets(SCENE)


def _render(assets: SceneAssets, index: int, backend: str = "torch", **ground):
    clip = build_clip(assets, sample_clip(assets, 0, "train", index))
    if ground:
        assets = SceneAssets(replace(assets.cfg, ground=replace(assets.cfg.ground, **ground)))
    batch = frame_batch(segments(clip, 100, False), assets, False)
    with torch.no_grad():
        return clip, batch, render_frames(batch, assets.topology, RenderConfig(backend=backend))


def _rays_down(batch) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, H, W) world y of each pixel's unit view ray, and the camera eyes (B, 3)."""
    cams = batch.cameras
    h, w = cams.image_size
    v, u = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    pix = torch.stack([u, v, torch.ones_like(u)], -1)
    ray = pix @ torch.linalg.inv(cams.K.double()).transpose(1, 2)[:, None]  # (B, H, W, 3) camera axes
    world = ray @ cams.R.double()[:, None]  # R^T ray
    world = world / world.norm(dim=-1, keepdim=True)
    eyes = -(cams.R.double().transpose(1, 2) @ cams.t.double()[..., None])[..., 0]
    return world[..., 1], eyes


def test_grid_lines_and_faces():
    xs = ground_lines(-3.0, 5.0, 1000.0)
    assert (
        bool((xs[1:] > xs[:-1]).all())
        and float(xs[0]) == pytest.approx(-1003)
        and float(xs[-1]) == pytest.approx(1005)
    )
    faces, uv, uv_faces = ground_topology()
    n = len(xs)
    verts = torch.stack(torch.meshgrid(xs, xs, indexing="ij"), -1).reshape(-1, 2)
    v3 = torch.stack([verts[:, 0], torch.zeros(n * n, dtype=torch.float64), verts[:, 1]], 1)
    tri = v3[faces]
    normal = torch.linalg.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    assert bool((normal[:, 1] > 0).all())  # every face looks up
    assert float(uv.min()) >= 0 and float(uv.max()) <= 1 and torch.equal(faces, uv_faces)


@pytest.mark.parametrize("backend", BACKENDS)
def test_ground_depth_normals_and_no_holes_near_the_camera(assets, backend):
    for index in range(3):
        _, batch, out = _render(assets, index, backend)
        ground = out.instance == GROUND_ID
        assert int(ground.sum()) > 100
        assert int(out.segm[ground].max()) == 0
        # depth exact: every ground pixel unprojects onto y = 0
        b, row, col = ground.nonzero(as_tuple=True)
        cams = batch.cameras
        z = out.depth[b, row, col].double()
        pix = torch.stack([col.double(), row.double(), torch.ones_like(z)], 1)
        cam = (torch.linalg.inv(cams.K[b].double()) @ pix[..., None])[..., 0] * z[:, None] - cams.t[
            b
        ].double()
        world = (cams.R[b].double().transpose(1, 2) @ cam[..., None])[..., 0]
        assert float(world[:, 1].abs().max()) < 2e-3 * float(z.max())
        # normals: world up in camera axes
        up = cams.R[b].double()[:, :, 1]
        assert float((out.normals[b, row, col].double() - up).abs().max()) < 1e-3
        # no holes: every pixel whose view ray meets the ground within 100 m shows the ground or something
        # nearer (the near-plane culling never eats it)
        ray_y, eyes = _rays_down(batch)
        reach = eyes[:, 1, None, None] / (-ray_y).clamp_min(1e-9)
        meets = (ray_y < 0) & (reach < 100)
        covered = (out.depth > 0) | (out.instance > 0)
        assert bool(covered[meets].all()), int((meets & ~covered).sum())


def test_ground_out_of_the_labels(assets):
    for index in range(2):
        _, _, on = _render(assets, index)
        _, _, off = _render(assets, index, labels=False)
        ground = on.instance == GROUND_ID
        assert torch.equal(on.rgb, off.rgb)  # RGB unchanged
        assert int(off.depth[ground].abs().max()) == 0 and int(off.normals[ground].abs().max()) == 0
        assert int(off.instance[ground].max()) == 0 and not bool(off.flow.valid[ground].any())
        people = ~ground
        for name in ("depth", "normals", "instance", "segm"):
            assert torch.equal(getattr(on, name)[people], getattr(off, name)[people]), name
        assert torch.equal(on.joints.visible, off.joints.visible)


def test_contact_shadows_darken_the_ground_under_the_people(assets):
    clip, batch, lit = _render(assets, 0)
    _, _, plain = _render(assets, 0, shadow=0.0)
    ground = lit.instance == GROUND_ID
    ratio = lit.rgb.double().sum(-1)[ground] / plain.rgb.double().sum(-1)[ground].clamp_min(1e-9)
    assert float(ratio.max()) <= 1 + 1e-6 and float(ratio.min()) < 0.9  # darker somewhere, never lighter
    # elsewhere unchanged, but on silhouettes, which anti-aliasing blends with the (shadowed) ground
    near = torch.nn.functional.max_pool2d(ground.float()[:, None], 3, 1, 1)[:, 0] > 0
    assert torch.equal(lit.rgb[~near], plain.rgb[~near])


def test_ground_with_occluders_ids_and_info(assets):
    a = SceneAssets(replace(SCENE, occluders=OccluderConfig(count=2)))
    clip, _, out = _render(a, 0)
    assert a.topology.num_people == 2 and int(a.topology.face_instance.max()) == 5
    assert set(out.instance.unique().tolist()) <= {0, 1, 2, 3, 4, 5}
    assert clip.ground.info["labels"] is True and clip.ground.info["material"]


@pytest.fixture(scope="module")
def moving_assets() -> SceneAssets:
    return SceneAssets(replace(SCENE, frames=4, camera=CameraConfig(mode="moving")))


@pytest.mark.parametrize("backend", BACKENDS)
def test_ground_flow_valid_wherever_it_lands_on_the_ground(moving_assets, backend):
    """Under moving cameras, a ground point within 100 m whose next-frame pixel shows the ground is visible
    there (the floor never hides itself: ``docs/scenes.md``), and its flow is the camera's motion."""
    checked = 0
    for index in range(3):
        _, batch, out = _render(moving_assets, index, backend)
        cams, nxt = batch.cameras, batch.next_index
        _, eyes = _rays_down(batch)
        h, w = cams.image_size
        for b in (nxt >= 0).nonzero()[:, 0].tolist():
            n = int(nxt[b])
            row, col = (out.instance[b] == GROUND_ID).nonzero(as_tuple=True)
            # the pixel's ground point (its view ray meets y = 0) in frame n
            pix = torch.stack([col.double(), row.double(), torch.ones_like(col, dtype=torch.float64)], 1)
            ray = pix @ torch.linalg.inv(cams.K[b].double()).T @ cams.R[b].double()  # R^T K^-1 pix
            point = eyes[b] + ray * (-eyes[b, 1] / ray[:, 1])[:, None]
            cam = point @ cams.R[n].double().T + cams.t[n].double()
            uv = cam[:, :2] / cam[:, 2:] @ cams.K[n].double()[:2, :2].T + cams.K[n].double()[:2, 2]
            landing = uv.round()
            near = (cam[:, 2] > 0) & ((point - eyes[b]).norm(dim=1) < 100)
            clear = ((uv - landing).abs() < 0.49).all(1)  # not on a rounding edge (float32 vs float64)
            inside = (landing >= 0).all(1) & (landing[:, 0] <= w - 1) & (landing[:, 1] <= h - 1)
            keep = near & clear & inside
            r, c = landing[keep, 1].long(), landing[keep, 0].long()
            on_ground = out.instance[n, r, c] == GROUND_ID
            sel = keep.nonzero()[:, 0][on_ground]
            valid = out.flow.valid[b, row[sel], col[sel]]
            assert bool(valid.all()), f"clip {index} frame {b}: {int((~valid).sum())} of {len(sel)} not valid"
            expected = uv[sel] - torch.stack([col[sel], row[sel]], 1).double()
            assert float((out.flow.flow[b, row[sel], col[sel]].double() - expected).abs().max()) < 0.02
            checked += len(sel)
    assert checked > 500
