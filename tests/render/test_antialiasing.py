"""Silhouette anti-aliasing (coverage, gradients), gradcheck of shaded colour, and pose recovery."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from synthhuman.pipeline import FrameBatch, Topology, render_frames
from synthhuman.render.antialiasing import antialias, antialias_
from synthhuman.render.cameras import Cameras, intrinsics
from synthhuman.render.mesh import face_adjacency
from synthhuman.render.raster import rasterize
from synthhuman.render.texture import build_mipmaps

H, W = 12, 16


def _square(right_edge_px: torch.Tensor, device):
    """A white square at z = 2 spanning from off-image left to a vertical edge at ``right_edge_px``."""
    z, f, c = 2.0, 8.0, 0.0
    x1 = (right_edge_px - c) * z / f
    zero = torch.zeros_like(x1)
    verts = torch.stack(
        [
            torch.stack([zero - 10, zero - 10, zero + z]),
            torch.stack([x1, zero - 10, zero + z]),
            torch.stack([x1, zero + 10, zero + z]),
            torch.stack([zero - 10, zero + 10, zero + z]),
        ]
    )[None]
    faces = torch.tensor([[0, 2, 1], [0, 3, 2]], device=device)
    K = intrinsics(f, (c, 0.0), dtype=torch.float64, device=device)
    return verts, faces, K


@pytest.mark.parametrize("edge", [7.3, 7.7, 7.5])
def test_antialiasing_gives_box_filtered_coverage(device, edge):
    verts, faces, K = _square(torch.tensor(edge, dtype=torch.float64, device=device), device)
    frags = rasterize(verts, faces, K, (H, W))
    hard = (frags.pix_to_face >= 0).to(torch.float64)[..., None]
    soft = antialias(hard, frags, verts, faces, K, face_adjacency(faces))[0, :, :, 0]
    cols = torch.arange(W, dtype=torch.float64, device=device)
    coverage = (edge - (cols - 0.5)).clamp(0, 1)  # exact area of pixel [c - 1/2, c + 1/2] left of the edge
    torch.testing.assert_close(soft, coverage.expand(H, W))


def test_in_place_variant_blends_the_given_image(device):
    """antialias_ writes the blend into its argument (what render_frames uses); antialias leaves its
    argument alone; both give the same image; a non-contiguous image is refused."""
    verts, faces, K = _square(torch.tensor(7.3, dtype=torch.float64, device=device), device)
    frags = rasterize(verts, faces, K, (H, W))
    hard = (frags.pix_to_face >= 0).to(torch.float64)[..., None].expand(-1, -1, -1, 3).contiguous()
    kept = hard.clone()
    soft = antialias(hard, frags, verts, faces, K, face_adjacency(faces))
    assert torch.equal(hard, kept) and not torch.equal(soft, hard)
    assert antialias_(hard, frags, verts, faces, K, face_adjacency(faces)) is hard
    assert torch.equal(hard, soft)
    with pytest.raises(ValueError, match="contiguous"):
        antialias_(kept.repeat(1, 1, 1, 2)[..., ::2], frags, verts, faces, K, face_adjacency(faces))


def test_nothing_in_view_leaves_the_image_alone(device):
    verts, faces, K = _square(torch.tensor(7.3, dtype=torch.float64, device=device), device)
    behind = verts * torch.tensor([1.0, 1.0, -1.0], dtype=verts.dtype, device=device)
    frags = rasterize(behind, faces, K, (H, W))
    assert frags.pixel_index.numel() == 0
    color = torch.rand(1, H, W, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).to(device)
    assert torch.equal(antialias(color, frags, behind, faces, K, face_adjacency(faces)), color)


def test_internal_edges_are_not_blurred(device):
    """Edges between front-facing neighbours of one surface are not silhouettes: colours stay put."""
    verts, faces, K = _square(
        torch.tensor(30.0, dtype=torch.float64, device=device), device
    )  # fills the image
    frags = rasterize(verts, faces, K, (H, W))
    color = torch.rand(1, H, W, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).to(device)
    assert torch.equal(antialias(color, frags, verts, faces, K, face_adjacency(faces)), color)


def test_silhouette_gradient_matches_coverage_derivative(device):
    """d(sum of image)/d(edge position) = rows the edge crosses (one column of coverage per pixel moved)."""
    edge = torch.tensor(7.3, dtype=torch.float64, device=device, requires_grad=True)
    verts, faces, K = _square(edge, device)
    frags = rasterize(verts, faces, K, (H, W))
    hard = (frags.pix_to_face >= 0).to(torch.float64)[..., None]
    antialias(hard, frags, verts, faces, K, face_adjacency(faces)).sum().backward()
    assert math.isclose(float(edge.grad), H, rel_tol=1e-9)


def _tiny_scene(verts, texture, sh, background, K, R, t, device):
    """Render one frame of a small two-triangle 'tent' with texture, SH light and background."""
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]], device=device)
    topo = Topology(
        faces=faces,
        uv=torch.tensor([[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]], dtype=torch.float64, device=device),
        uv_faces=faces,
        face_labels=torch.tensor([1, 2], device=device),
        face_instance=torch.ones(2, dtype=torch.int64, device=device),
        closed=False,
    )
    cams = Cameras(K[None], R[None], t[None], (8, 8))
    batch = FrameBatch(
        verts=verts[None],
        cameras=cams,
        textures=build_mipmaps(texture[None]),
        texture_index=torch.zeros(1, 1, dtype=torch.int64, device=device),
        sh=sh[None, None],
        background=background[None],
        joints=verts[None, None, :1],
        next_index=torch.full((1,), -1, device=device),
    )
    return render_frames(batch, topo).rgb


def test_gradcheck_shaded_colour(device):
    """Colour is differentiable w.r.t. vertices, texture, SH coefficients, background and camera (K, R, t),
    in float64."""
    gen = torch.Generator().manual_seed(0)
    # vertices off the pixel lattice, so no pixel centre lies on an edge (coverage is locally constant)
    verts = torch.tensor(
        [[-0.63, -0.52, 2.03], [0.51, -0.61, 2.17], [0.58, 0.49, 2.11], [-0.47, 0.57, 1.93]],
        dtype=torch.float64,
    )
    texture = torch.rand(4, 4, 3, dtype=torch.float64, generator=gen)
    sh = torch.tensor([0.9, -0.3, 0.2, 0.1, 0.05, -0.1, 0.1, 0.0, 0.05], dtype=torch.float64)
    background = torch.rand(8, 8, 3, dtype=torch.float64, generator=gen) * 0.5
    K = intrinsics(6.0, (3.5, 3.5), dtype=torch.float64)[0]
    c, s = math.cos(0.03), math.sin(0.03)
    R = torch.tensor([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]], dtype=torch.float64)
    t = torch.tensor([0.01, -0.02, 0.05], dtype=torch.float64)
    inputs = tuple(x.to(device).requires_grad_() for x in (verts, texture, sh, background, K, R, t))
    assert torch.autograd.gradcheck(lambda *a: _tiny_scene(*a, device), inputs, eps=1e-7, atol=1e-5)


def _pyramid_loss(image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over an image pyramid (1, 2, 4, 8 px): coarse levels widen the basin, as usual in
    analysis by synthesis."""
    a, b = image.permute(0, 3, 1, 2), target.permute(0, 3, 1, 2)
    return sum(F.mse_loss(F.avg_pool2d(a, s), F.avg_pool2d(b, s)) for s in (1, 2, 4, 8))


def test_recover_translation_and_rotation_by_gradient_descent():
    """Fit a body-like mesh's translation and rotation to a target rendering (silhouette + shading)."""
    from synthhuman.body.mannequin import demo_motion, make_mannequin, pose_mannequin

    # A silhouette fit: white body, ambient light, black background. (The mannequin's part tubes
    # interpenetrate; colour steps along those intersection curves, where no mesh edge lies, get no
    # gradient from edge anti-aliasing, so shading and texture are left out.) A mid-stride pose makes the
    # rotation identifiable from the silhouette alone.
    m = make_mannequin(segments=12, rings=7)
    tex = build_mipmaps(torch.ones(1, 4, 4, 3))
    h, w = 128, 96
    topo = Topology(m.faces, m.uv, m.uv_faces, m.face_labels)
    pose, _ = demo_motion(9)
    rest, joints = pose_mannequin(m, pose[8:9])
    rest = rest - joints[:, :1]
    K = intrinsics(220.0, ((w - 1) / 2, (h - 1) / 2))
    facing_body = torch.diag(torch.tensor([1.0, -1.0, -1.0]))[None]  # camera on +Z looking at the body
    cams = Cameras(K, facing_body, torch.tensor([[0.0, 0.0, 4.0]]), (h, w))
    sh = torch.zeros(1, 1, 9)
    sh[..., 0] = 1 / 0.886227  # irradiance 1 everywhere
    bg = torch.zeros(1, h, w, 3)

    def render(angle, shift):
        c, s = torch.cos(angle), torch.sin(angle)
        zero, one = torch.zeros_like(c), torch.ones_like(c)
        rot = torch.stack(
            [torch.stack([c, zero, s]), torch.stack([zero, one, zero]), torch.stack([-s, zero, c])]
        )
        verts = rest @ rot.T + shift
        batch = FrameBatch(
            verts,
            cams,
            tex,
            torch.zeros(1, 1, dtype=torch.int64),
            sh,
            bg,
            joints[:, None],
            torch.full((1,), -1),
        )
        return render_frames(batch, topo).rgb

    true_angle, true_shift = torch.tensor(0.25), torch.tensor([0.06, -0.05, 0.0])
    target = render(true_angle, true_shift).detach()
    angle = torch.tensor(0.0, requires_grad=True)
    shift = torch.zeros(3, requires_grad=True)
    opt = torch.optim.Adam([angle, shift], lr=0.02)
    first = None
    for _ in range(120):
        opt.zero_grad()
        loss = _pyramid_loss(render(angle, shift), target)
        first = first or float(loss.detach())
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 1e-3 * first
    assert abs(float(angle.detach()) - 0.25) < 0.005
    assert float((shift.detach() - true_shift).abs().max()) < 0.005


def test_sphere_silhouette_area_gradient_matches_analytic(device):
    """A sphere's image is a disc of area pi f^2 r^2 / (d^2 - r^2); the anti-aliased white-on-black image
    sum follows it, and its gradient w.r.t. the distance d matches the analytic derivative. The sphere's
    rim is made of grazing, sub-pixel faces, so this needs the silhouette walk across neighbours."""
    from tests.meshes import uv_sphere

    f, r, size = 80.0, 0.5, 128
    d = torch.tensor(3.0, dtype=torch.float64, device=device, requires_grad=True)
    v, faces = uv_sphere(r, (0.0, 0.0, 0.0), n_lat=96, n_lon=192)
    v, faces = v.to(device), faces.to(device)
    verts = (v + torch.stack([torch.zeros_like(d), torch.zeros_like(d), d]))[None]
    K = intrinsics(f, ((size - 1) / 2, (size - 1) / 2), dtype=torch.float64, device=device)
    frags = rasterize(verts, faces, K, (size, size), cull_backfaces=True)
    white = (frags.pix_to_face >= 0).to(torch.float64)[..., None]
    total = antialias(white, frags, verts, faces, K, face_adjacency(faces)).sum()
    total.backward()
    area = math.pi * f**2 * r**2 / (3.0**2 - r**2)
    d_area = -2 * math.pi * f**2 * r**2 * 3.0 / (3.0**2 - r**2) ** 2
    assert abs(float(total.detach()) - area) < 0.01 * area
    assert abs(float(d.grad) - d_area) < 0.03 * abs(d_area)
