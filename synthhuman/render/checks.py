"""Input validation for public entry points: every error names the argument and quotes what was seen."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

_NUMPY_DTYPES = (torch.float32, torch.float64, torch.float16, torch.int64, torch.int32)


def extrema(t: Tensor) -> tuple[float | int, float | int]:
    """The smallest and largest element of a non-empty ``t`` (NaN where one is NaN). A CPU tensor of a
    common dtype is read by numpy, on this thread only: a torch reduction on several threads wakes
    OpenMP's other threads, which then spin (``GOMP_SPINCOUNT``, about a millisecond here) on the cores
    the render kernels' workers are starting on."""
    if t.device.type == "cpu" and t.dtype in _NUMPY_DTYPES and not t.requires_grad:
        a = t.numpy()
        return a.min().item(), a.max().item()
    lo, hi = torch.aminmax(t)
    return lo.item(), hi.item()


def shape_str(t: Tensor) -> str:
    return f"shape {tuple(t.shape)}, dtype {t.dtype}, device {t.device}"


def check_tensor(name: str, t: object, ndim: int | None = None, last: tuple[int, ...] = ()) -> Tensor:
    """Check ``t`` is a tensor with ``ndim`` dims whose trailing sizes equal ``last``."""
    if not isinstance(t, Tensor):
        raise ValueError(f"{name}: expected a torch.Tensor, got {type(t).__name__}")
    if ndim is not None and t.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got {shape_str(t)}")
    if last and tuple(t.shape[t.ndim - len(last) :]) != last:
        raise ValueError(f"{name}: expected trailing dimensions {last}, got {shape_str(t)}")
    return t


def check_float(name: str, t: Tensor) -> None:
    if not t.is_floating_point():
        raise ValueError(f"{name}: expected a floating-point tensor, got {shape_str(t)}")


def check_finite(name: str, t: Tensor) -> None:
    """No NaN or inf in ``t``. Read as its smallest and largest value (one reduction, which NaN and inf
    reach), each element once (a dimension expanded with stride 0 is read at one index): an order of
    magnitude faster than ``isfinite(t).all()`` on a batch of vertices."""
    if t.numel() == 0:
        return
    distinct = t
    for dim in range(t.ndim):
        if distinct.stride(dim) == 0 and distinct.shape[dim] > 1:
            distinct = distinct.narrow(dim, 0, 1)
    if t.is_floating_point() and not all(np.isfinite(extrema(distinct))):
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name}: {bad} non-finite (NaN or inf) values in tensor of {shape_str(t)}")


def check_same_device(**tensors: Tensor) -> None:
    devices = {name: t.device for name, t in tensors.items()}
    if len(set(devices.values())) > 1:
        raise ValueError(f"tensors on different devices: {devices}")


def check_image_size(image_size: object) -> tuple[int, int]:
    try:
        h, w = (int(s) for s in image_size)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(f"image_size: expected (H, W), got {image_size!r}") from None
    if h <= 0 or w <= 0:
        raise ValueError(f"image_size: expected positive (H, W), got {(h, w)}")
    return h, w


def check_batch(name: str, t: Tensor, batch: int) -> None:
    if t.shape[0] != batch:
        raise ValueError(f"{name}: expected batch size {batch} (from verts), got {shape_str(t)}")


def check_faces(faces: object, num_verts: int, name: str = "faces") -> Tensor:
    """(F, 3) int64 indices in [0, num_verts); F >= 1."""
    f = check_tensor(name, faces, 2, (3,))
    if f.dtype != torch.int64:
        raise ValueError(f"{name}: expected dtype torch.int64, got {shape_str(f)}")
    if f.shape[0] == 0:
        raise ValueError(f"{name}: empty mesh (0 faces)")
    lo, hi = (int(v) for v in extrema(f))
    if lo < 0 or hi >= num_verts:
        raise ValueError(f"{name}: indices must lie in [0, {num_verts}), got range [{lo}, {hi}]")
    return f


def check_rasterizer_inputs(verts: Tensor, faces: Tensor, K: Tensor, image_size: object) -> tuple[int, int]:
    """The rasterizer contract's inputs: verts (B, V, 3) finite float, faces (F, 3) int64 in range, K
    (B, 3, 3) finite with verts' dtype, all on one device. Returns (H, W)."""
    h, w = check_image_size(image_size)
    check_tensor("verts", verts, 3, (3,))
    check_float("verts", verts)
    check_finite("verts", verts)
    if verts.shape[1] == 0:
        raise ValueError(f"verts: empty mesh (0 vertices), got shape {tuple(verts.shape)}")
    check_faces(faces, verts.shape[1])
    check_tensor("K", K, 3, (3, 3))
    check_batch("K", K, verts.shape[0])
    if K.dtype != verts.dtype:
        raise ValueError(f"K: expected dtype {verts.dtype} (as verts), got {K.dtype}")
    check_finite("K", K)
    check_same_device(verts=verts, faces=faces, K=K)
    return h, w
