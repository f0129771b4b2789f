"""DeepMimic clips (shipped in pybullet's wheel) -> SMPL :class:`PoseSequence`, and the bundled library.

Conversion (run once with pybullet installed: ``synthhuman assets build-motion``); reading the
committed result (:func:`read_bundled_library`) needs neither pybullet nor network.

File format (DeepMimic's README, and pybullet's ``pybullet_envs/deep_mimic/env/humanoid_pose_interpolator.py``
which reads root rotation from ``frame[4:8]`` as w, x, y, z and the knees/elbows from ``frame[20]``,
``frame[29]``, ``frame[34]``, ``frame[43]``): each frame has 44 numbers::

    0 duration of the frame (s) | 1:4 root position (m, world) | 4:8 root rotation (w, x, y, z, world)
    8:12 chest | 12:16 neck | 16:20 right hip | 20 right knee (rad) | 21:25 right ankle
    25:29 right shoulder | 29 right elbow (rad) | 30:34 left hip | 34 left knee | 35:39 left ankle
    39:43 left shoulder | 43 left elbow

Other rotations are local to the parent joint. The humanoid (``pybullet_data/humanoid/humanoid.urdf``,
loaded at scale 0.25) has every joint frame aligned with the root in its rest pose (all ``rpy = 0``):
x forward, y up, z the body's right (the right hip is at +z); legs straight down and **arms hanging
straight down** (shoulder -> elbow -> wrist offsets along -y); knees and elbows are revolute about +z
(the body's right): knee flexion is negative (data range about [-2.6, 0.2] rad), elbow flexion positive.

Axes: SMPL's world (+Y up, facing +Z, +X the body's left) is ``v_smpl = C v_dm`` with ``C`` mapping
DeepMimic (x fwd, y up, z right) to (z, y, -x) -- a proper rotation, so a quaternion (w, x, y, z) becomes
(w, -z, y, x). Both the world and every local joint frame are converted with the same C.

Joint map (DeepMimic -> SMPL index): root -> pelvis 0; chest -> spine1/2/3 (3, 6, 9), each a third of the
chest rotation (slerp from identity, so the three compose to exactly the chest rotation); neck -> neck 12
and head 15, half each; hips -> 2 (right) / 1 (left); knees -> 5 / 4 as a rotation about the body's right
axis (SMPL -X); ankles -> 8 / 7; shoulders -> SMPL's shoulder joints 17 / 16 (collars 13 / 14 stay
identity); elbows -> 19 / 18 about SMPL -X in the DeepMimic frame (see the rest-pose correction). Feet
(10, 11), wrists (20, 21) and hands (22, 23) have no data: identity.

Rest-pose correction: SMPL's rest pose is a T-pose (left arm along +X, right arm along -X, palms down);
DeepMimic's has the arms hanging down (-Y). ``Q_l = Rz(-90 deg)`` turns SMPL's left rest arm onto
DeepMimic's (``Q_r = Rz(+90 deg)`` the right; palms then face the thighs). For the global rotation of the
upper arm to be DeepMimic's composed with Q (``G_dm Q``: the SMPL rest arm is first brought to the
DeepMimic rest arm, then moved as DeepMimic moves it) the SMPL local rotations are ``shoulder = R_sh Q``
and ``elbow = Q^T R_el Q`` (so the forearm and hand are ``G_dm Q`` too). Legs, spine and head have the
same rest direction in both skeletons: no correction.

Units and timing: positions are metres of the 0.25-scaled humanoid (leg hip->ankle 0.831 m). The pelvis
trajectory is scaled by the ratio of the default neutral body's leg length to that (so stride lengths
match the body and feet do not skate), ``trans = pelvis - J0`` of the default neutral body, and a constant
vertical shift puts the lowest vertex of the whole clip on y = 0 on that body. Frame durations vary
within some files (the last frame has duration 0; ``roll`` mixes 1/60 and ~1/30 s): frames are put at
their cumulative times and resampled with quaternion slerp to :data:`LIBRARY_FPS`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from synthhuman.atomic import atomic_write
from synthhuman.motion.sequence import (
    POSE_DIM,
    PoseSequence,
    aa_to_quat,
    axis_rotation_quat,
    quat_mul,
    quat_slerp,
    quat_to_aa,
)

LIBRARY_PATH = Path(__file__).resolve().parents[2] / "assets" / "motion" / "deepmimic.npz"
"""The committed converted clips (source checkout / editable install)."""

LIBRARY_FPS = 30.0
"""Frame rate of the bundled clips."""

DM_FRAME_SIZE = 44
DM_LEG_LENGTH = 0.25 * (1.686184 + 1.639480)
"""Hip -> knee -> ankle of pybullet's humanoid.urdf at its load scale 0.25 (metres)."""

# DeepMimic spherical joints: (offset in a frame, SMPL joints, fraction of the rotation each gets).
_SPHERICAL = (
    (8, (3, 6, 9), 1.0 / 3.0),  # chest -> spine1, spine2, spine3
    (12, (12, 15), 0.5),  # neck -> neck, head
    (16, (2,), 1.0),  # right hip
    (21, (8,), 1.0),  # right ankle
    (30, (1,), 1.0),  # left hip
    (35, (7,), 1.0),  # left ankle
)
_KNEES = ((20, 5), (34, 4))  # (offset, SMPL joint): right, left
# (shoulder offset, elbow offset, SMPL shoulder, SMPL elbow, angle of Q about +Z)
_ARMS = ((25, 29, 17, 19, math.pi / 2), (39, 43, 16, 18, -math.pi / 2))

_IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def dm_quat_to_smpl(q: np.ndarray) -> np.ndarray:
    """(..., 4) DeepMimic quaternion (w, x, y, z) in its axes -> the same rotation in SMPL's axes."""
    q = np.asarray(q, dtype=np.float64)
    return np.stack([q[..., 0], -q[..., 3], q[..., 2], q[..., 1]], axis=-1)


def dm_vec_to_smpl(v: np.ndarray) -> np.ndarray:
    """(..., 3) DeepMimic vectors (x fwd, y up, z right) -> SMPL's (x left, y up, z fwd)."""
    v = np.asarray(v, dtype=np.float64)
    return np.stack([-v[..., 2], v[..., 1], v[..., 0]], axis=-1)


def _normalize(q: np.ndarray) -> np.ndarray:
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _conj(q: np.ndarray) -> np.ndarray:
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def frames_to_smpl_quats(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 44) DeepMimic frames -> SMPL local quaternions (T, 24, 4) and root positions (T, 3) in SMPL axes
    (metres of the DeepMimic humanoid)."""
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2 or frames.shape[1] != DM_FRAME_SIZE:
        raise ValueError(f"DeepMimic frames: expected shape (T, {DM_FRAME_SIZE}), got {frames.shape}")
    if not np.isfinite(frames).all():
        raise ValueError("DeepMimic frames: non-finite values")
    T = frames.shape[0]
    q = np.broadcast_to(_IDENTITY, (T, 24, 4)).copy()
    q[:, 0] = _normalize(dm_quat_to_smpl(frames[:, 4:8]))
    for off, joints, frac in _SPHERICAL:
        r = _normalize(dm_quat_to_smpl(frames[:, off : off + 4]))
        part = quat_slerp(np.broadcast_to(_IDENTITY, r.shape), r, np.full((T, 1), frac)) if frac < 1 else r
        for j in joints:
            q[:, j] = part
    right_axis = np.array([-1.0, 0.0, 0.0])  # DeepMimic +z (body's right) in SMPL axes
    for off, j in _KNEES:
        q[:, j] = aa_to_quat(frames[:, off : off + 1] * right_axis)
    for sh_off, el_off, sh_j, el_j, angle in _ARMS:
        Q = axis_rotation_quat("z", angle)
        r_sh = _normalize(dm_quat_to_smpl(frames[:, sh_off : sh_off + 4]))
        r_el = aa_to_quat(frames[:, el_off : el_off + 1] * right_axis)
        q[:, sh_j] = quat_mul(r_sh, np.broadcast_to(Q, r_sh.shape))
        q[:, el_j] = quat_mul(
            quat_mul(np.broadcast_to(_conj(Q), r_el.shape), r_el), np.broadcast_to(Q, r_el.shape)
        )
    return q, dm_vec_to_smpl(frames[:, 1:4])


def _resample_times(q: np.ndarray, pos: np.ndarray, times: np.ndarray, fps: float):
    """Slerp (T, J, 4) quaternions / lerp (T, 3) positions given at ``times`` onto k / fps."""
    n = int(math.floor((times[-1] - times[0]) * fps + 1e-6)) + 1
    t = times[0] + np.arange(n) / fps
    i1 = np.clip(np.searchsorted(times, t, side="right"), 1, len(times) - 1)
    i0 = i1 - 1
    span = np.maximum(times[i1] - times[i0], 1e-12)
    frac = np.clip((t - times[i0]) / span, 0.0, 1.0)
    qs = quat_slerp(q[i0], q[i1], frac[:, None, None])
    ps = (1 - frac)[:, None] * pos[i0] + frac[:, None] * pos[i1]
    return qs, ps


def convert_frames(
    frames: np.ndarray, fps: float = LIBRARY_FPS, scale: float = 1.0, name: str = ""
) -> PoseSequence:
    """DeepMimic frames (T, 44) -> a :class:`PoseSequence` at ``fps``; ``trans`` is the pelvis position
    (SMPL axes) times ``scale``, not yet relative to a body's rest root (see :func:`convert_file`)."""
    frames = np.asarray(frames, dtype=np.float64)
    q, pos = frames_to_smpl_quats(frames)
    dur = frames[:, 0]
    if (dur[:-1] <= 0).any():
        raise ValueError(f"{name}: frame durations must be > 0 (except the last), got {dur[:-1].min()}")
    times = np.concatenate([[0.0], np.cumsum(dur[:-1])])
    q, pos = _resample_times(q, pos, times, fps)
    poses = quat_to_aa(q).reshape(-1, POSE_DIM)
    return PoseSequence(
        poses=poses, trans=pos * scale, fps=fps, name=name, source="deepmimic", subject="deepmimic"
    )


def read_deepmimic_file(path: str | Path) -> np.ndarray:
    """The (T, 44) frames of a DeepMimic motion JSON file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        frames = np.asarray(data["Frames"], dtype=np.float64)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a DeepMimic motion file ({e})") from e
    if frames.ndim != 2 or frames.shape[1] != DM_FRAME_SIZE or frames.shape[0] < 2:
        raise ValueError(f"{path}: expected 'Frames' of shape (T >= 2, {DM_FRAME_SIZE}), got {frames.shape}")
    return frames


def clip_name(path: str | Path) -> str:
    """'humanoid3d_walk.txt' -> 'walk'."""
    stem = Path(path).stem
    return stem[len("humanoid3d_") :] if stem.startswith("humanoid3d_") else stem


def convert_file(path: str | Path, body=None, fps: float = LIBRARY_FPS) -> PoseSequence:
    """One DeepMimic file -> SMPL, fitted to ``body`` (default: the default neutral body): pelvis trajectory
    scaled by leg length, ``trans`` relative to the body's rest root, lowest vertex of the clip on y = 0."""
    import torch

    from synthhuman.motion.clips import place_on_ground

    if body is None:
        from synthhuman.body.default_body import load_default_body

        body = load_default_body("neutral")
    betas = torch.zeros(1, body.num_betas if hasattr(body, "num_betas") else 10)
    with torch.no_grad():
        rest = body(betas, torch.zeros(1, POSE_DIM))
    J = rest.joints[0].double().numpy()
    leg = np.linalg.norm(J[1] - J[4]) + np.linalg.norm(J[4] - J[7])
    seq = convert_frames(read_deepmimic_file(path), fps, scale=leg / DM_LEG_LENGTH, name=clip_name(path))
    seq = PoseSequence(seq.poses, seq.trans - J[0], seq.fps, seq.name, seq.source, seq.subject)
    return place_on_ground(seq, body, betas)


def pybullet_motion_files() -> list[Path]:
    """The 15 humanoid clips in the installed pybullet wheel (``pip install pybullet``)."""
    try:
        import pybullet_data
    except ImportError as e:
        raise ImportError(
            "converting DeepMimic clips needs pybullet: pip install 'synthhuman[assets]'"
        ) from e
    files = sorted((Path(pybullet_data.getDataPath()) / "data" / "motions").glob("humanoid3d_*.txt"))
    if not files:
        raise FileNotFoundError(f"no humanoid3d_*.txt under {pybullet_data.getDataPath()}/data/motions")
    return files


def write_library(seqs: list[PoseSequence], out: str | Path = LIBRARY_PATH) -> Path:
    """Write ``poses_<name>`` / ``trans_<name>`` (float32) / ``fps_<name>`` for each sequence (atomic)."""
    out = Path(out)
    arrays = {}
    for s in seqs:
        arrays[f"poses_{s.name}"] = s.poses.astype(np.float32)
        arrays[f"trans_{s.name}"] = s.trans.astype(np.float32)
        arrays[f"fps_{s.name}"] = np.float32(s.fps)
    with atomic_write(out) as f:
        np.savez_compressed(f, **arrays)
    return out


def build_library(out: str | Path = LIBRARY_PATH) -> Path:
    """Convert every pybullet DeepMimic clip and write the bundled library."""
    return write_library([convert_file(f) for f in pybullet_motion_files()], out)


def read_library(path: str | Path) -> list[PoseSequence]:
    """Clips of a library file written by :func:`write_library`, sorted by name."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (the bundled motion library)")
    out = []
    with np.load(path, allow_pickle=False) as data:
        names = sorted(k[len("poses_") :] for k in data.files if k.startswith("poses_"))
        for n in names:
            for k in (f"trans_{n}", f"fps_{n}"):
                if k not in data.files:
                    raise ValueError(f"{path}: missing field {k!r}")
            try:
                out.append(
                    PoseSequence(
                        data[f"poses_{n}"],
                        data[f"trans_{n}"],
                        float(data[f"fps_{n}"]),
                        n,
                        "deepmimic",
                        "deepmimic",
                    )
                )
            except ValueError as e:
                raise ValueError(f"{path}: clip {n!r}: {e}") from e
    return out


def read_bundled_library() -> list[PoseSequence]:
    """The bundled DeepMimic clips converted to SMPL (no pybullet needed), sorted by name."""
    return read_library(LIBRARY_PATH)
