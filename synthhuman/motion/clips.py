"""Clips of a sequence, deterministic train/test splits, feet on the ground, the root trajectory.

Short sequences: :func:`clip_windows` raises :class:`ClipTooShortError` (a ValueError naming the
sequence, its length and the clip length); :func:`clip_windows_or_skip` and :func:`all_clip_windows`
turn that into a skip with the reason returned, for use over a whole library.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import torch

from synthhuman.motion.sequence import PoseSequence


class ClipTooShortError(ValueError):
    """A sequence has fewer frames than one clip."""


def _check_positive_int(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {v!r}")
    return int(v)


def clip_windows(seq: PoseSequence, frames: int = 100, stride: int = 50) -> list[tuple[int, int]]:
    """Frame windows ``[start, end)`` of ``frames`` frames starting at 0, stride, 2 * stride, ...

    Only whole windows (as SURREAL: clip c starts at c * stride); frames after the last whole window are
    not used. Raises :class:`ClipTooShortError` if the sequence has fewer than ``frames`` frames.
    Resample first (``sequence.resample``) for clips at a given fps.
    """
    frames = _check_positive_int("frames", frames)
    stride = _check_positive_int("stride", stride)
    T = seq.num_frames
    if T < frames:
        raise ClipTooShortError(
            f"sequence {seq.name!r}: {T} frames at {seq.fps:g} fps, shorter than one clip of {frames} frames"
        )
    return [(s, s + frames) for s in range(0, T - frames + 1, stride)]


def clip_windows_or_skip(
    seq: PoseSequence, frames: int = 100, stride: int = 50
) -> tuple[list[tuple[int, int]], str | None]:
    """``(windows, None)``, or ``([], reason)`` when the sequence is shorter than a clip."""
    try:
        return clip_windows(seq, frames, stride), None
    except ClipTooShortError as e:
        return [], str(e)


def all_clip_windows(
    seqs: Iterable[PoseSequence], frames: int = 100, stride: int = 50
) -> tuple[list[tuple[int, int, int]], list[tuple[str, str]]]:
    """Windows over many sequences: ``([(sequence index, start, end)], [(name, reason skipped)])``."""
    clips, skipped = [], []
    for i, seq in enumerate(seqs):
        windows, reason = clip_windows_or_skip(seq, frames, stride)
        if reason is not None:
            skipped.append((seq.name, reason))
        clips.extend((i, s, e) for s, e in windows)
    return clips, skipped


def slice_clip(seq: PoseSequence, start: int, end: int) -> PoseSequence:
    """Frames ``[start, end)`` as a sequence; name gets ``_f<start>``."""
    if not 0 <= start < end <= seq.num_frames:
        raise ValueError(f"slice_clip: need 0 <= start < end <= {seq.num_frames}, got {start}, {end}")
    return replace(seq, poses=seq.poses[start:end], trans=seq.trans[start:end], name=f"{seq.name}_f{start}")


def split_of(key: str, test_fraction: float = 0.2, salt: str = "") -> str:
    """'train' or 'test' for ``key``, deterministic across runs and machines (SHA-256, not ``hash``)."""
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test_fraction: expected a number in [0, 1], got {test_fraction!r}")
    digest = hashlib.sha256(f"{salt}\0{key}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2.0**64
    return "test" if u < test_fraction else "train"


def split_sequences(
    seqs: Iterable[PoseSequence], test_fraction: float = 0.2, by: str = "subject", salt: str = ""
) -> dict[str, list[PoseSequence]]:
    """``{'train': [...], 'test': [...]}`` by a hash of each sequence's subject (all of one performer's
    sequences land on the same side) or name (``by='name'``). A sequence with an empty subject falls back
    to its name."""
    if by not in ("subject", "name"):
        raise ValueError(f"by: expected 'subject' or 'name', got {by!r}")
    out: dict[str, list[PoseSequence]] = {"train": [], "test": []}
    for seq in seqs:
        key = seq.subject if by == "subject" and seq.subject else seq.name
        out[split_of(key, test_fraction, salt)].append(seq)
    return out


def _pose_body(body, betas: torch.Tensor, pose: torch.Tensor, trans: torch.Tensor) -> torch.Tensor:
    out = body(betas, pose, trans)
    return out[0] if isinstance(out, tuple) else out.vertices


def _body_dtype_device(body) -> tuple[torch.dtype, torch.device]:
    dtype = getattr(body, "dtype", torch.float32)
    device = getattr(body, "device", torch.device("cpu"))
    return (dtype if isinstance(dtype, torch.dtype) else torch.float32), torch.device(device)


def _betas_batch(betas, n: int, dtype, device) -> torch.Tensor:
    b = torch.as_tensor(np.asarray(betas) if not isinstance(betas, torch.Tensor) else betas)
    b = b.to(device=device, dtype=dtype).reshape(1, -1)
    return b.expand(n, -1)


@torch.no_grad()
def lowest_vertex_height(seq: PoseSequence, body, betas, chunk: int = 128) -> float:
    """Lowest vertex y over all frames of ``seq`` posed on ``body`` (a ``BodyModel``, or any callable
    ``body(betas (B, K), pose (B, 72), trans (B, 3))`` returning ``.vertices`` or ``(verts, joints)``)."""
    chunk = _check_positive_int("chunk", chunk)
    dtype, device = _body_dtype_device(body)
    lowest = float("inf")
    for s in range(0, seq.num_frames, chunk):
        pose = torch.as_tensor(seq.poses[s : s + chunk].copy(), dtype=dtype, device=device)
        trans = torch.as_tensor(seq.trans[s : s + chunk].copy(), dtype=dtype, device=device)
        verts = _pose_body(body, _betas_batch(betas, pose.shape[0], dtype, device), pose, trans)
        lowest = min(lowest, float(verts[..., 1].min()))
    return lowest


def place_on_ground(seq: PoseSequence, body, betas, chunk: int = 128) -> PoseSequence:
    """Shift ``trans`` vertically (one constant over the clip) so that the lowest vertex over the whole
    clip is at y = 0 (the ground plane); frames are posed in batches of ``chunk`` through ``body``.
    betas: (K,) or (1, K), the body's shape."""
    lowest = lowest_vertex_height(seq, body, betas, chunk)
    trans = seq.trans.astype(np.float64).copy()
    trans[:, 1] -= lowest
    return replace(seq, trans=trans)


@torch.no_grad()
def root_trajectory(seq: PoseSequence, body=None, betas=None) -> np.ndarray:
    """(T, 3) float64 world trajectory of the root (pelvis) joint, e.g. to place a camera on a clip.

    The pelvis joint is at ``J0(betas) + trans`` whatever the pose (SMPL rotates about it). With ``body``
    (and ``betas``, default zeros) J0 comes from the body's rest pose; without, the result is ``trans``
    itself (the pelvis relative to its rest position).
    """
    trans = seq.trans.astype(np.float64)
    if body is None:
        return trans.copy()
    dtype, device = _body_dtype_device(body)
    zero_pose = torch.zeros(1, 72, dtype=dtype, device=device)
    if betas is None:
        num_betas = getattr(body, "num_betas", 10)
        betas = np.zeros(num_betas)
    b = _betas_batch(betas, 1, dtype, device)
    out = body(b, zero_pose, torch.zeros(1, 3, dtype=dtype, device=device))
    joints = out[1] if isinstance(out, tuple) else out.joints
    return trans + joints[0, 0].double().cpu().numpy()
