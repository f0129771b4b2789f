"""Warp kernel of linear blend skinning's per-vertex step (the blend of the joint transforms is a matrix
product that stays in torch): each vertex's blended 3x4 transform applied to its rest position,
operation for operation as :func:`synthhuman.body.model._apply_blend` (each row's three products summed
left to right, then the translation), so the vertices equal the PyTorch path's bit for bit. Imported only
when Warp is used."""

from __future__ import annotations

from typing import Any

import warp as wp

# no autodiff (PyTorch is the gradient path); no FMA contraction: the same bits as torch's separate ops
wp.set_module_options({"enable_backward": False, "fuse_fp": False})


@wp.kernel
def apply_blended_transforms(
    blend: wp.array3d(dtype=Any),
    rest: wp.array3d(dtype=Any),
    chunk: int,
    out: wp.array3d(dtype=Any),
):
    """out[b, v] = blend[b, v] (row-major 3x4) applied to rest[b, v], vertices [c * chunk, (c + 1) * chunk)
    of frame b."""
    b, c = wp.tid()
    for v in range(c * chunk, wp.min((c + 1) * chunk, rest.shape[1])):
        x, y, z = rest[b, v, 0], rest[b, v, 1], rest[b, v, 2]
        for r in range(3):
            s = blend[b, v, 4 * r] * x + blend[b, v, 4 * r + 1] * y
            out[b, v, r] = (s + blend[b, v, 4 * r + 2] * z) + blend[b, v, 4 * r + 3]
