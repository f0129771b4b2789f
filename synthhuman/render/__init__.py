"""The renderer's primitives, a small functional core in the style of nvdiffrast: ``rasterize`` a batch
of meshes once into ``Fragments``, ``interpolate`` vertex attributes, ``sample_texture`` from mipmaps,
``shade`` with spherical-harmonics light, ``antialias`` silhouettes (and give them gradients). Cameras are
OpenCV pinholes (``Cameras``, ``project``, ``look_at``). Everything is differentiable PyTorch; the
discrete searches (which face covers a pixel, which pixels pair across a silhouette) run as compiled Warp
kernels where ``warp-lang`` imports (``backend=``), and :mod:`synthhuman.render.kernels` also holds the
fused no-grad forward the pipeline uses.

This package imports only :mod:`synthhuman.conventions`; the pipeline that composes these primitives with
the ground-truth layers is :mod:`synthhuman.pipeline`. Conventions (camera, pixel centres, the
rasterizer's contract): ``docs/conventions.md``.

    from synthhuman.render import rasterize, interpolate, intrinsics
"""

from synthhuman.render.antialiasing import antialias, antialias_
from synthhuman.render.cameras import (
    Cameras,
    camera_center,
    camera_to_world,
    from_pytorch3d,
    intrinsics,
    intrinsics_from_fov,
    look_at,
    project,
    to_pytorch3d,
    unproject,
    world_to_camera,
)
from synthhuman.render.corners import corner_sum, unit_vectors, weighted_corner_sum
from synthhuman.render.gather import take_batched, take_rows
from synthhuman.render.interpolation import interpolate, interpolate_fg
from synthhuman.render.mesh import face_adjacency, join_meshes, vertex_normals
from synthhuman.render.pytorch3d_backend import is_pytorch3d_available, rasterize_pytorch3d
from synthhuman.render.raster import Fragments, barycentrics, fragments_from_winners, rasterize
from synthhuman.render.shading import sh_irradiance, shade, sphere_occlusion
from synthhuman.render.texture import MipTexture, build_mipmaps, sample_texture, texture_lod

__all__ = [
    "Cameras",
    "Fragments",
    "MipTexture",
    "antialias",
    "antialias_",
    "barycentrics",
    "build_mipmaps",
    "camera_center",
    "camera_to_world",
    "corner_sum",
    "face_adjacency",
    "fragments_from_winners",
    "from_pytorch3d",
    "interpolate",
    "interpolate_fg",
    "intrinsics",
    "intrinsics_from_fov",
    "is_pytorch3d_available",
    "join_meshes",
    "look_at",
    "project",
    "rasterize",
    "rasterize_pytorch3d",
    "sample_texture",
    "sh_irradiance",
    "shade",
    "sphere_occlusion",
    "take_batched",
    "take_rows",
    "texture_lod",
    "to_pytorch3d",
    "unit_vectors",
    "unproject",
    "vertex_normals",
    "weighted_corner_sum",
    "world_to_camera",
]
