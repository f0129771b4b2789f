"""``PoseSequence``, the one motion type, and its operations: slerp resampling, mirroring, speed, heading,
looping of cyclic clips.

A sequence is SMPL's 24 joints as 72-d axis-angle per frame (global orientation about the pelvis joint
first) plus a translation per frame, in our world frame (``docs/conventions.md``: +Y up, the body in zero
pose faces +Z, +X is the body's left). Arrays are numpy float32; rotation arithmetic runs in float64.

World rotations (``rotate_heading``, ``mirror``, the readers' axis conversions) change the global
orientation and ``trans``. SMPL rotates the body about its rest root joint ``J0`` and then adds ``trans``,
so turning the whole posed body by Q about the world origin needs ``trans' = Q (trans + J0) - J0``. The
functions take that ``root`` (the body's rest root joint, (3,)) optionally; without it ``trans' = Q trans``,
which is exact whenever Q fixes J0 -- true for heading rotations and mirroring of the default body and the
mannequin, whose rest root lies on the Y axis (x = z = 0 to 1e-7 m).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from synthhuman.conventions import NUM_JOINTS

POSE_DIM = 3 * NUM_JOINTS
"""72 axis-angle values per frame."""

LEFT_RIGHT_PAIRS = ((1, 2), (4, 5), (7, 8), (10, 11), (13, 14), (16, 17), (18, 19), (20, 21), (22, 23))
"""SMPL's left/right joint pairs (left first)."""


def _mirror_permutation() -> tuple[int, ...]:
    perm = list(range(NUM_JOINTS))
    for a, b in LEFT_RIGHT_PAIRS:
        perm[a], perm[b] = b, a
    return tuple(perm)


MIRROR_PERMUTATION = _mirror_permutation()
"""Joint j of a mirrored pose takes the rotation of joint ``MIRROR_PERMUTATION[j]``."""


def _as_array(name: str, value, shape_tail: tuple[int, ...]) -> np.ndarray:
    try:
        a = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
    except Exception as e:  # noqa: BLE001 - report any conversion failure as a field error
        raise ValueError(f"PoseSequence.{name}: not convertible to an array ({e})") from e
    if a.dtype.kind not in "fiub":
        raise ValueError(f"PoseSequence.{name}: expected a numeric array, got dtype {a.dtype}")
    if a.ndim != 1 + len(shape_tail) or tuple(a.shape[1:]) != shape_tail:
        want = "(T, " + ", ".join(map(str, shape_tail)) + ")"
        raise ValueError(f"PoseSequence.{name}: expected shape {want}, got {tuple(a.shape)}")
    a = a.astype(np.float32)
    bad = ~np.isfinite(a)
    if bad.any():
        frame = int(np.argwhere(bad)[0][0])
        raise ValueError(
            f"PoseSequence.{name}: {int(bad.sum())} non-finite values (NaN/inf), first in frame {frame}"
        )
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class PoseSequence:
    """SMPL motion: ``poses`` (T, 72) float32 axis-angle, ``trans`` (T, 3) float32 metres, ``fps`` > 0.

    ``name`` identifies the sequence (e.g. '01_01'), ``source`` where it came from ('amass', 'surreal',
    'procedural' ...), ``subject`` the performer, used for train/test splits. Validated on construction
    (shapes, equal T >= 1, finite values, fps finite and > 0): a ValueError names the field and what was
    seen. Arrays are stored read-only; operations return new sequences.
    """

    poses: np.ndarray
    trans: np.ndarray
    fps: float
    name: str = ""
    source: str = ""
    subject: str = ""

    def __post_init__(self) -> None:
        poses = _as_array("poses", self.poses, (POSE_DIM,))
        trans = _as_array("trans", self.trans, (3,))
        if poses.shape[0] < 1:
            raise ValueError(f"PoseSequence.poses: expected at least 1 frame, got shape {poses.shape}")
        if trans.shape[0] != poses.shape[0]:
            raise ValueError(
                f"PoseSequence.trans: expected {poses.shape[0]} frames (as poses), got shape {trans.shape}"
            )
        try:
            fps = float(self.fps)
        except (TypeError, ValueError) as e:
            raise ValueError(f"PoseSequence.fps: expected a number, got {self.fps!r}") from e
        if not math.isfinite(fps) or fps <= 0:
            raise ValueError(f"PoseSequence.fps: expected a finite number > 0, got {self.fps!r}")
        for field in ("name", "source", "subject"):
            if not isinstance(getattr(self, field), str):
                raise ValueError(f"PoseSequence.{field}: expected a str, got {getattr(self, field)!r}")
        object.__setattr__(self, "poses", poses)
        object.__setattr__(self, "trans", trans)
        object.__setattr__(self, "fps", fps)

    @property
    def num_frames(self) -> int:
        return int(self.poses.shape[0])

    @property
    def duration(self) -> float:
        """Seconds from the first to the last frame."""
        return (self.num_frames - 1) / self.fps

    def __len__(self) -> int:
        return self.num_frames


# ---------------------------------------------------------------------------------------------------------
# Quaternions (w, x, y, z), float64 numpy.


def aa_to_quat(aa: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 4) unit quaternion (w, x, y, z), w >= 0 for angles <= pi."""
    aa = np.asarray(aa, dtype=np.float64)
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(a/2)/a, with its series near 0
    small = angle < 1e-6
    k = np.where(small, 0.5 - angle**2 / 48.0, np.sin(half) / np.where(small, 1.0, angle))
    return np.concatenate([np.cos(half), aa * k], axis=-1)


def quat_to_aa(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternion (need not be unit) -> (..., 3) axis-angle with angle in [0, pi]."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    q = np.where(q[..., :1] < 0, -q, q)
    w, xyz = q[..., :1], q[..., 1:]
    s = np.linalg.norm(xyz, axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(s, w)
    small = s < 1e-8
    k = np.where(small, 2.0 / np.maximum(w, 1e-12), angle / np.where(small, 1.0, s))
    return xyz * k


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product: the rotation ``R(a) @ R(b)`` (b applied first)."""
    aw, av = a[..., :1], a[..., 1:]
    bw, bv = b[..., :1], b[..., 1:]
    w = aw * bw - np.sum(av * bv, axis=-1, keepdims=True)
    v = aw * bv + bw * av + np.cross(av, bv)
    return np.concatenate([w, v], axis=-1)


def quat_slerp(q0: np.ndarray, q1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical linear interpolation along the shorter arc; t broadcast as (..., 1)."""
    q0 = np.asarray(q0, dtype=np.float64)
    q1 = np.asarray(q1, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.abs(dot).clip(max=1.0)
    theta = np.arccos(dot)
    sin_theta = np.sin(theta)
    near = sin_theta < 1e-6  # (nearly) the same rotation: normalized lerp is exact to first order
    safe = np.where(near, 1.0, sin_theta)
    w0 = np.where(near, 1.0 - t, np.sin((1.0 - t) * theta) / safe)
    w1 = np.where(near, t, np.sin(t * theta) / safe)
    q = w0 * q0 + w1 * q1
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def axis_rotation_quat(axis: str, angle: float) -> np.ndarray:
    """(4,) quaternion of a rotation by ``angle`` radians about the world 'x', 'y' or 'z' axis."""
    v = np.zeros(3)
    v["xyz".index(axis)] = 1.0
    return np.concatenate([[math.cos(angle / 2)], math.sin(angle / 2) * v])


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate (..., 3) vectors by (4,) or (..., 4) unit quaternions."""
    q = np.asarray(q, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    qv = np.concatenate([np.zeros(v.shape[:-1] + (1,)), v], axis=-1)
    conj = q * np.array([1.0, -1.0, -1.0, -1.0])
    return quat_mul(quat_mul(q, qv), conj)[..., 1:]


# ---------------------------------------------------------------------------------------------------------
# Operations.


def _resample(seq: PoseSequence, src_fps: float, dst_fps: float) -> PoseSequence:
    """Resample treating the frames as taken at ``src_fps``; the result is at ``dst_fps``."""
    T = seq.num_frames
    duration = (T - 1) / src_fps
    n = int(math.floor(duration * dst_fps + 1e-6)) + 1  # frames at k / dst_fps within the duration
    s = np.arange(n, dtype=np.float64) * (src_fps / dst_fps)  # position in source frames
    s = np.minimum(s, T - 1)
    i0 = np.floor(s).astype(np.int64)
    i1 = np.minimum(i0 + 1, T - 1)
    frac = (s - i0)[:, None]
    q = aa_to_quat(seq.poses.astype(np.float64).reshape(T, NUM_JOINTS, 3))
    poses = quat_to_aa(quat_slerp(q[i0], q[i1], frac[:, :, None])).reshape(n, POSE_DIM)
    tr = seq.trans.astype(np.float64)
    trans = (1.0 - frac) * tr[i0] + frac * tr[i1]
    return replace(seq, poses=poses, trans=trans, fps=dst_fps)


def resample(seq: PoseSequence, fps: float) -> PoseSequence:
    """The sequence at ``fps``: frame k at time k / fps, up to the last source frame's time.

    Joint rotations are interpolated by quaternion slerp (shortest arc) between the two neighbouring
    source frames, translation linearly. Downsampling by an integer factor picks source frames exactly
    (e.g. 120 -> 30 Hz keeps every 4th frame, as SURREAL does).
    """
    fps = float(fps)
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"resample: fps must be a finite number > 0, got {fps!r}")
    return _resample(seq, seq.fps, fps)


def change_speed(seq: PoseSequence, factor: float) -> PoseSequence:
    """Play ``factor`` times faster (2.0: half the frames, same fps), slerp-resampled."""
    factor = float(factor)
    if not math.isfinite(factor) or factor <= 0:
        raise ValueError(f"change_speed: factor must be a finite number > 0, got {factor!r}")
    return _resample(seq, seq.fps * factor, seq.fps)


def rotate_world(seq: PoseSequence, q: np.ndarray, root: np.ndarray | None = None) -> PoseSequence:
    """Turn the whole posed body by the rotation quaternion ``q`` (4,) about the world origin.

    Global orientation becomes ``Q @ R0``; ``trans' = Q (trans + root) - root`` with ``root`` the body's
    rest root joint (3,) (zeros when None: see the module docstring).
    """
    q = np.asarray(q, dtype=np.float64)
    T = seq.num_frames
    poses = seq.poses.astype(np.float64).copy()
    poses[:, :3] = quat_to_aa(quat_mul(np.broadcast_to(q, (T, 4)), aa_to_quat(poses[:, :3])))
    r = np.zeros(3) if root is None else np.asarray(root, dtype=np.float64).reshape(3)
    trans = quat_rotate(q, seq.trans.astype(np.float64) + r) - r
    return replace(seq, poses=poses, trans=trans)


def rotate_heading(seq: PoseSequence, angle: float, root: np.ndarray | None = None) -> PoseSequence:
    """Turn the motion by ``angle`` radians about the world +Y axis (global orientation and trans)."""
    return rotate_world(seq, axis_rotation_quat("y", float(angle)), root)


def mirror(seq: PoseSequence, root: np.ndarray | None = None) -> PoseSequence:
    """Left/right mirror image: reflect the world's x axis and swap SMPL's left/right joints.

    A reflection M = diag(-1, 1, 1) turns a rotation R into M R M, whose axis-angle is (x, -y, -z) for
    (x, y, z); every joint is reflected so, then the pairs in ``LEFT_RIGHT_PAIRS`` swap. trans x is negated
    (with ``root``: ``trans' = M (trans + root) - root``). Exact (up to float rounding) for a body that is
    symmetric about x = 0; mirroring twice gives the sequence back.
    """
    T = seq.num_frames
    aa = seq.poses.reshape(T, NUM_JOINTS, 3)[:, list(MIRROR_PERMUTATION)].copy()
    aa[..., 1:] *= -1.0
    m = np.array([-1.0, 1.0, 1.0])
    r = np.zeros(3) if root is None else np.asarray(root, dtype=np.float64).reshape(3)
    trans = (seq.trans.astype(np.float64) + r) * m - r
    return replace(seq, poses=aa.reshape(T, POSE_DIM), trans=trans)


# ---------------------------------------------------------------------------------------------------------
# Looping cyclic clips.

CYCLIC_MAX_DISTANCE = 15.0
"""Largest :func:`cyclic_distance` (degrees, RMS over the 24 joints) of a clip that :func:`loop` accepts.

On the bundled DeepMimic library the clips fall in two groups: backflip 3.3, spin 3.3, dance_a 5.5,
roll 5.7, dance_b 6.6, walk 7.3, jump 7.6, cartwheel 10.5, run 11.2, crawl 11.4 (cyclic: each ends in
about the pose it starts in) and spinkick 21.6, punch 24.6, kick 27.3, getup_faceup 31.7,
getup_facedown 41.2 (not). Ten of the 24 joints carry no data there (identity), which lowers the RMS;
clips that move every joint (AMASS) score higher for the same per-joint mismatch.
"""


class NotCyclicError(ValueError):
    """A sequence's last frame is too far from its first for it to be repeated."""


def _conj(q: np.ndarray) -> np.ndarray:
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def _quat_angle(q: np.ndarray) -> np.ndarray:
    """(..., 4) unit quaternions -> (...,) rotation angles in radians, in [0, pi]."""
    return 2.0 * np.arccos(np.clip(np.abs(q[..., 0]), 0.0, 1.0))


def _cycle_step(seq: PoseSequence, heading: bool = True) -> tuple[float, np.ndarray]:
    """The heading change of one cycle and the per-joint residual between the first and last frames.

    Returns ``psi`` (radians about +Y: the twist about Y of ``R_last R_first^T``, the root's turn over the
    clip; 0 when ``heading`` is False) and ``residual`` (24, 4): quaternions ``D_j`` with
    ``q_last = q_first D_j`` (joint j's local rotation; for the root, ``q_first`` is first turned by
    ``psi``), i.e. what is left between the end of one repetition and the start of the next, in each
    joint's own frame.
    """
    q = aa_to_quat(seq.poses.astype(np.float64).reshape(-1, NUM_JOINTS, 3))
    first, last = q[0].copy(), q[-1]
    psi = 0.0
    if heading:
        d = quat_mul(last[0], _conj(first[0]))
        if abs(d[0]) + abs(d[2]) > 1e-9:
            psi = 2.0 * math.atan2(d[2], d[0])
            psi = math.remainder(psi, 2.0 * math.pi)
    first[0] = quat_mul(axis_rotation_quat("y", psi), first[0])
    return psi, quat_mul(_conj(first), last)


def cyclic_distance(seq: PoseSequence) -> float:
    """How far the last frame is from the first, as a pose: RMS over the 24 joints of the angle between
    their local rotations, in degrees. The root counts only by its tilt (its turn about the vertical is
    what a repetition accumulates); translation does not count."""
    _, residual = _cycle_step(seq)
    return float(np.degrees(np.sqrt(np.mean(_quat_angle(residual) ** 2))))


def is_cyclic(seq: PoseSequence, max_distance: float = CYCLIC_MAX_DISTANCE) -> bool:
    """Whether ``seq`` can be repeated (:func:`loop`): at least 3 frames and :func:`cyclic_distance` at
    most ``max_distance`` degrees (default :data:`CYCLIC_MAX_DISTANCE`, which lists the bundled clips)."""
    return seq.num_frames >= 3 and cyclic_distance(seq) <= max_distance


def loop(
    seq: PoseSequence,
    num_frames: int,
    blend: int | None = None,
    heading: bool = True,
    max_distance: float = CYCLIC_MAX_DISTANCE,
) -> PoseSequence:
    """Repeat a cyclic clip to ``num_frames`` frames, continuing its root motion.

    The clip's last frame is taken as the same phase as its first (DeepMimic's and most MoCap cycles are
    stored so), so the period is ``T - 1`` frames: output frame 0 is frame 0 and repetition k >= 1 plays
    frames 1 .. T-1 again. Each repetition is the previous one moved rigidly by the clip's own root
    motion ``M``: a turn by ``psi`` about +Y (the root's heading change over the clip; a curving walk
    keeps curving; ``heading=False`` makes it 0) and the horizontal shift that takes the first frame's
    root onto the last frame's (``trans' = Ry(psi) (trans - trans_0) + trans_last`` for x and z). Height
    is not accumulated.

    Seams: what remains between the last and first frames (per joint, ``residual`` of
    :func:`_cycle_step`, and the height difference) is spread over ``blend`` frames on each side of each
    seam with quaternion slerp from identity: the frame before the seam gets half of it taken off, the
    frame after half of it added, fading linearly to nothing ``blend`` frames away, so the step across
    the seam is the clip's own step from frame 0 to 1. ``blend=None``: 4 frames, or half the period when
    that is shorter; ``blend=0`` leaves the seam unblended.

    Raises :class:`NotCyclicError` for a clip that :func:`is_cyclic` rejects (with ``max_distance``),
    even when ``num_frames`` fits in it: looping it would jump at every seam. name gets ``_loop``.
    """
    if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) or num_frames < 1:
        raise ValueError(f"loop: num_frames must be an integer >= 1, got {num_frames!r}")
    T = seq.num_frames
    if T < 3:
        raise NotCyclicError(f"loop: sequence {seq.name!r} has {T} frames; a cycle needs at least 3")
    dist = cyclic_distance(seq)
    if dist > max_distance:
        raise NotCyclicError(
            f"loop: sequence {seq.name!r} is not cyclic: its last frame differs from its first by "
            f"{dist:.1f} deg (RMS over the joints; limit {max_distance:g}), so every seam would jump"
        )
    period = T - 1
    if blend is None:
        blend = min(4, period // 2)
    if isinstance(blend, bool) or not isinstance(blend, (int, np.integer)) or not 0 <= blend <= period // 2:
        raise ValueError(f"loop: blend must be an integer in [0, {period // 2}] ({T} frames), got {blend!r}")
    psi, residual = _cycle_step(seq, heading)

    n = np.arange(int(num_frames))
    k = np.where(n == 0, 0, (n - 1) // period)  # repetition of each output frame
    i = np.where(n == 0, 0, 1 + (n - 1) % period)  # its frame in the clip
    q = aa_to_quat(seq.poses.astype(np.float64).reshape(T, NUM_JOINTS, 3))[i]
    turn = np.stack([axis_rotation_quat("y", psi * float(kk)) for kk in range(int(k[-1]) + 1)])
    q[:, 0] = quat_mul(turn[k], q[:, 0])

    tr = seq.trans.astype(np.float64)
    origin = [tr[0]]  # M^k applied to trans_0: where repetition k puts the first frame's root
    for _ in range(int(k[-1])):
        origin.append(quat_rotate(turn[1], origin[-1] - tr[0]) + tr[-1])
    trans = quat_rotate(turn[k], tr[i] - tr[0]) + np.asarray(origin)[k]
    trans[:, 1] = tr[i, 1]

    if blend > 0:
        # signed share of the residual per frame: -1/2 .. 0 before a seam, 1/2 .. 0 after it
        share = np.zeros(len(n))
        for seam in range(period + 1, len(n), period):  # first frame of each repetition k >= 1
            for m in range(blend):
                w = 0.5 * (1.0 - m / blend)
                if seam - 1 - m >= 0:
                    share[seam - 1 - m] -= w
                if seam + m < len(n):
                    share[seam + m] += w
        t = np.abs(share)[:, None, None]
        part = quat_slerp(np.broadcast_to([1.0, 0.0, 0.0, 0.0], residual.shape), residual[None], t)
        part = np.where(share[:, None, None] < 0, _conj(part), part)
        q = quat_mul(q, part)
        trans[:, 1] += share * (tr[-1, 1] - tr[0, 1])
    poses = quat_to_aa(q).reshape(len(n), POSE_DIM)
    return replace(seq, poses=poses, trans=trans, name=f"{seq.name}_loop")
