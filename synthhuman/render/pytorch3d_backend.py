"""Optional pytorch3d rasterization backend with the contract of :func:`synthhuman.render.rasterize`.

pytorch3d has no wheel for current torch, so it is never needed by default: it is imported lazily, and
:func:`is_pytorch3d_available` says whether it can be used.

Only the z-buffer (which face is visible at each pixel) comes from pytorch3d. Barycentrics and depth are
then recomputed for the winning faces by :func:`synthhuman.render.raster.fragments_from_winners`, so
values and gradients are those of our rasterizer.

Camera conventions (``docs/conventions.md``): our pixel ``(u, v)`` has its centre at integer coordinates;
pytorch3d's NDC has +X left, +Y up, spans [-1, 1] along the shorter image side, and puts the centre of
pixel (row i, col j) at ``x = -(j + 0.5 - W/2) / s``, ``y = -(i + 0.5 - H/2) / s`` with
``s = min(H, W) / 2``. Both axes flip, a 180 degree rotation of the image plane, so triangle winding is
unchanged.
"""

from __future__ import annotations

import torch
from torch import Tensor

from synthhuman.conventions import DEFAULT_ZNEAR
from synthhuman.render.cameras import project
from synthhuman.render.checks import check_image_size, check_rasterizer_inputs
from synthhuman.render.raster import Fragments, fragments_from_winners

PYTORCH3D_MISSING = (
    "the pytorch3d rasterizer backend needs pytorch3d, which is not importable here. It has no wheel for "
    "current torch: build it from source (pip install --no-build-isolation "
    "'git+https://github.com/facebookresearch/pytorch3d.git'), or use synthhuman.render.rasterize, the "
    "default backend, which needs nothing else."
)


def _import_pytorch3d():
    """pytorch3d's ``rasterize_meshes`` and ``Meshes``, or ImportError with :data:`PYTORCH3D_MISSING`."""
    try:
        from pytorch3d.renderer.mesh import rasterize_meshes
        from pytorch3d.structures import Meshes
    except ImportError as e:
        raise ImportError(PYTORCH3D_MISSING) from e
    return rasterize_meshes, Meshes


def is_pytorch3d_available() -> bool:
    """True when pytorch3d (with its compiled extension) imports, so :func:`rasterize_pytorch3d` works."""
    try:
        _import_pytorch3d()
    except ImportError:
        return False
    return True


def pixels_to_ndc(uv: Tensor, image_size: tuple[int, int]) -> Tensor:
    """(..., 2) our pixel coordinates ``(u, v)`` -> (..., 2) pytorch3d NDC ``(x, y)`` (+X left, +Y up)."""
    h, w = check_image_size(image_size)
    s = min(h, w) / 2.0
    return torch.stack([(w / 2.0 - 0.5 - uv[..., 0]) / s, (h / 2.0 - 0.5 - uv[..., 1]) / s], -1)


def rasterize_pytorch3d(
    verts: Tensor,
    faces: Tensor,
    K: Tensor,
    image_size: tuple[int, int],
    *,
    cull_backfaces: bool = False,
    znear: float = DEFAULT_ZNEAR,
) -> Fragments:
    """Rasterize B meshes sharing one topology with pytorch3d; same arguments and result as ``rasterize``.

    Args:
      verts: (B, V, 3) float, camera space (OpenCV axes).
      faces: (F, 3) int64 vertex indices.
      K: (B, 3, 3) intrinsics, same dtype and device as ``verts``.
      image_size: (H, W).
      cull_backfaces: drop faces whose right-hand normal points away from the camera (the same 3D test
        as ``rasterize``, applied here before pytorch3d sees the faces).
      znear: faces with any vertex at z <= znear are culled.

    Returns:
      :class:`Fragments`; gradients flow from ``bary``/``depth`` to ``verts`` and ``K``.

    Raises:
      ImportError: pytorch3d is not importable (the message says how to build it).
    """
    rasterize_meshes, Meshes = _import_pytorch3d()
    h, w = check_rasterizer_inputs(verts, faces, K, image_size)

    b, f = verts.shape[0], faces.shape[0]
    with torch.no_grad():
        face_verts = _ndc_face_verts(verts.detach(), faces, K.detach(), (h, w), cull_backfaces, znear)
        # One mesh per batch element with unshared vertices, so packed face b*F + i is our face i.
        mesh_faces = torch.arange(3 * f, device=verts.device).view(1, f, 3).repeat(b, 1, 1)
        meshes = Meshes(verts=face_verts.view(b, 3 * f, 3), faces=mesh_faces)
        pix_to_face, _, _, _ = rasterize_meshes(
            meshes,
            image_size=(h, w),
            blur_radius=0.0,
            faces_per_pixel=1,
            max_faces_per_bin=f,  # a bin never holds more than one mesh's faces: no silent overflow
            perspective_correct=True,  # so the z-buffer compares true planar depth, as ours does
            cull_backfaces=False,
        )
    packed = pix_to_face.reshape(-1)
    pixel_index = (packed >= 0).nonzero().squeeze(1)
    face = packed[pixel_index] % f
    return fragments_from_winners(verts, faces, K, pixel_index, face, (h, w))


def _ndc_face_verts(
    verts: Tensor, faces: Tensor, K: Tensor, image_size: tuple[int, int], cull_backfaces: bool, znear: float
) -> Tensor:
    """(B, F, 3, 3) float32 face vertices in pytorch3d NDC ``(x, y, z)``, z = camera depth.

    Culled faces (near plane, back faces) are collapsed to a point at z = -1, which pytorch3d skips both
    as zero-area and as behind the camera.
    """
    b, f = verts.shape[0], faces.shape[0]
    tri = verts[:, faces]  # (B, F, 3, 3)
    z = tri[..., 2]
    keep = (z > znear).all(-1)
    if cull_backfaces:
        normal = torch.linalg.cross(tri[..., 1, :] - tri[..., 0, :], tri[..., 2, :] - tri[..., 0, :])
        keep &= (normal * tri[..., 0, :]).sum(-1) < 0
    safe = torch.cat([tri[..., :2], torch.where(keep[..., None], z, 1.0)[..., None]], -1)
    xy = pixels_to_ndc(project(safe.view(b, 3 * f, 3), K).view(b, f, 3, 2), image_size)
    out = torch.cat([xy, safe[..., 2:]], -1)
    culled = torch.tensor([0.0, 0.0, -1.0], dtype=out.dtype, device=out.device)
    return torch.where(keep[..., None, None], out, culled).float()
