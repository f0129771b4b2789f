"""MoCap readers: AMASS ``.npz`` and SURREAL's ``smpl_data.npz``, into :class:`PoseSequence` (our Y-up world);
``read_motion_file`` also dispatches ``.bvh`` files to ``bvh.read_bvh``.

Both sources store SMPL global orientations in a Z-up world: a standing body's own up axis (SMPL +Y) is
the world's +Z. Our world is Y-up (``docs/conventions.md``), so both readers turn the whole motion by
``Q = Rx(-90 deg)`` (which maps +Z to +Y and +Y to -Z): global orientation ``Q @ R0`` and
``trans' = Q @ trans``. The second is exact for the pelvis trajectory up to a constant offset
``(Q - I) J0`` of the source body's rest root joint J0 (a few tenths of a metre for SMPL): the absolute
placement is redone anyway by ``clips.place_on_ground`` and the camera follows ``clips.root_trajectory``.

SURREAL (``docs/conventions.md``, SURREAL's files): its renderer's world orientation is
``R_world = R90 @ Rz(zrot) @ rot(pose[0:3])`` with ``R90 = Rx(+90 deg)``, i.e. ``pose[0:3]`` itself is the
orientation in the MoSh/CMU Z-up frame (``Rz(zrot)`` is SURREAL's random per-clip heading, not stored in
``smpl_data.npz``, and ``R90`` takes Z-up to SURREAL's -Y-up world). Going to our Y-up world instead is
``G = Rx(-90 deg) @ rot(pose[0:3])``, the same conversion as AMASS.

Every problem with a file (missing, unreadable, missing key, wrong shape, NaN, bad frame rate) raises a
ValueError (FileNotFoundError for a missing file) naming the file and the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthhuman.atomic import atomic_write
from synthhuman.motion.bvh import read_bvh
from synthhuman.motion.sequence import PoseSequence, axis_rotation_quat, rotate_world
from synthhuman.userfiles import npz_array

Z_UP_TO_Y_UP = axis_rotation_quat("x", -math.pi / 2)
"""Rx(-90 deg) as a quaternion: Z-up MoCap worlds (AMASS, SURREAL/CMU MoSh) to our Y-up world."""

SURREAL_FPS = 120.0
"""Frame rate of SURREAL's CMU sequences."""

# Offsets of the first finger joint (index1) of each hand in the flat pose vectors.
_HAND_INDEX1 = {156: (66, 111), 165: (75, 120)}  # SMPL-H: 22 body joints then 15+15; SMPL-X: +jaw, eyes
_AMASS_FPS_KEYS = ("mocap_framerate", "mocap_frame_rate")  # SMPL-H releases, SMPL-X releases


@dataclass(frozen=True)
class AmassMotion:
    """An AMASS file: the motion, and the performer's ``betas`` (of the source body model) and ``gender``."""

    sequence: PoseSequence
    betas: np.ndarray
    gender: str


def _open_npz(path: Path) -> np.lib.npyio.NpzFile:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as e:  # numpy and zipfile raise many types for files that are not archives
        raise ValueError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not an .npz archive (a single array)")
    return data


def _field(path: Path, data, key: str) -> np.ndarray:
    if key not in data.files:
        raise ValueError(f"{path}: missing field {key!r} (fields: {sorted(data.files)[:20]})")
    return npz_array(path, data, key)


def _numeric(path: Path, key: str, a: np.ndarray, ndim: int, last: Sequence[int] | None = None) -> np.ndarray:
    if a.dtype.kind not in "fiu":
        raise ValueError(f"{path}: field {key!r}: expected numbers, got dtype {a.dtype}")
    if a.ndim != ndim or (last is not None and a.shape[-1] not in last):
        want = f"{ndim}-d" + (f" with last dimension in {tuple(last)}" if last is not None else "")
        raise ValueError(f"{path}: field {key!r}: expected {want}, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{path}: field {key!r}: {int((~np.isfinite(a)).sum())} non-finite values (NaN/inf)")
    return a.astype(np.float64)


def _make_sequence(path: Path, key: str, **kw) -> PoseSequence:
    try:
        return PoseSequence(**kw)
    except ValueError as e:
        raise ValueError(f"{path}: {key}: {e}") from e


def body_pose_72(poses: np.ndarray, hands: str = "index1") -> np.ndarray:
    """(T, 72 | 156 | 165) SMPL / SMPL-H / SMPL-X axis-angle -> (T, 72) SMPL.

    The global orientation and the 21 body joints (values 0:66) are shared by the three models. SMPL's
    joints 22/23 (left/right hand, the whole hand as one part) get ``hands='index1'``: the rotation of the
    first index-finger joint of that hand (SMPL-H/X joints left_index1/right_index1, where SMPL's hand
    joints sit), or ``hands='zero'``: no rotation.
    """
    dim = poses.shape[-1]
    if dim == 72:
        return poses.copy()
    if dim not in _HAND_INDEX1:
        raise ValueError(f"pose dimension must be 72 (SMPL), 156 (SMPL-H) or 165 (SMPL-X), got {dim}")
    if hands not in ("index1", "zero"):
        raise ValueError(f"hands: expected 'index1' or 'zero', got {hands!r}")
    out = np.zeros(poses.shape[:-1] + (72,), dtype=poses.dtype)
    out[..., :66] = poses[..., :66]
    if hands == "index1":
        left, right = _HAND_INDEX1[dim]
        out[..., 66:69] = poses[..., left : left + 3]
        out[..., 69:72] = poses[..., right : right + 3]
    return out


def read_amass(path: str | Path, hands: str = "index1") -> AmassMotion:
    """An AMASS ``.npz`` (SMPL-H ``poses`` (T, 156) or SMPL-X (T, 165); also plain SMPL (T, 72)).

    Fields: ``poses``, ``trans`` (T, 3), ``mocap_framerate`` (``mocap_frame_rate`` in SMPL-X releases),
    ``betas``, ``gender``. The body pose is cut to SMPL's 72 values (:func:`body_pose_72`) and the motion
    turned from AMASS's Z-up world to ours (module docstring). name: the file's stem; subject: its folder
    (AMASS lays files out as ``dataset/subject/sequence.npz``).
    """
    path = Path(path)
    data = _open_npz(path)
    with data:
        poses = _numeric(path, "poses", _field(path, data, "poses"), 2, (72, 156, 165))
        trans = _numeric(path, "trans", _field(path, data, "trans"), 2, (3,))
        fps_key = next((k for k in _AMASS_FPS_KEYS if k in data.files), _AMASS_FPS_KEYS[0])
        fps_a = _numeric(path, fps_key, _field(path, data, fps_key).reshape(-1), 1)
        if fps_a.size != 1 or fps_a[0] <= 0:
            raise ValueError(f"{path}: field {fps_key!r}: expected one frame rate > 0, got {fps_a.tolist()}")
        betas = _numeric(path, "betas", _field(path, data, "betas").reshape(-1), 1)
        gender_a = _field(path, data, "gender")
        if gender_a.dtype.kind in "SU" and gender_a.size == 1:
            gender = gender_a.reshape(()).item()
            gender = gender.decode() if isinstance(gender, bytes) else str(gender)
        else:
            raise ValueError(
                f"{path}: field 'gender': expected one string, got {gender_a.dtype} {gender_a.shape}"
            )
    if trans.shape[0] != poses.shape[0]:
        raise ValueError(
            f"{path}: field 'trans': expected {poses.shape[0]} frames (as poses), got {trans.shape}"
        )
    seq = _make_sequence(
        path, "poses", poses=body_pose_72(poses, hands), trans=trans, fps=float(fps_a[0]),
        name=path.stem, source="amass", subject=path.parent.name,
    )  # fmt: skip
    return AmassMotion(rotate_world(seq, Z_UP_TO_Y_UP), betas.astype(np.float32), gender)


def read_amass_npz(path: str | Path, hands: str = "index1") -> PoseSequence:
    """The motion of an AMASS ``.npz`` in our Y-up world (see :func:`read_amass`)."""
    return read_amass(path, hands).sequence


def surreal_subject(sequence_name: str) -> str:
    """CMU subject of a SURREAL sequence name: everything before the last '_' ('01_01' -> '01')."""
    return sequence_name.rsplit("_", 1)[0]


def _check_split(subjects_split: Mapping[str, Sequence[str]]) -> dict[str, str]:
    owner: dict[str, str] = {}
    for split, subjects in subjects_split.items():
        if isinstance(subjects, str):
            raise ValueError(
                f"subjects_split[{split!r}]: expected a list of subjects, got the string {subjects!r}"
            )
        for s in subjects:
            s = str(s)
            if s in owner and owner[s] != split:
                raise ValueError(f"subjects_split: subject {s!r} is in both {owner[s]!r} and {split!r}")
            owner[s] = split
    return owner


def read_surreal_smpl_data(
    path: str | Path,
    subjects_split: Mapping[str, Sequence[str]] | None = None,
    split: str | None = None,
) -> list[PoseSequence]:
    """Every CMU sequence of SURREAL's ``smpl_data.npz`` (``pose_<seq>`` (T, 72), ``trans_<seq>`` (T, 3)).

    120 Hz; name ``<seq>``, subject :func:`surreal_subject`, source 'surreal'; converted to our Y-up world
    (module docstring). ``subjects_split`` maps a split name to its CMU subjects, e.g.
    ``{'train': ['01', '02'], 'test': ['03']}`` (a subject in two splits is an error); with ``split``, only
    the sequences of that split's subjects are returned (``split`` needs ``subjects_split``). Sorted by name.
    """
    path = Path(path)
    owner = None
    if subjects_split is not None:
        owner = _check_split(subjects_split)
        if split is not None and split not in subjects_split:
            raise ValueError(f"split: {split!r} is not a key of subjects_split {sorted(subjects_split)}")
    elif split is not None:
        raise ValueError(f"split={split!r} needs subjects_split")
    data = _open_npz(path)
    out = []
    with data:
        names = sorted(k[len("pose_") :] for k in data.files if k.startswith("pose_"))
        if not names:
            raise ValueError(f"{path}: no 'pose_<seq>' fields (fields: {sorted(data.files)[:20]})")
        for name in names:
            subject = surreal_subject(name)
            if split is not None and owner.get(subject) != split:
                continue
            pk, tk = f"pose_{name}", f"trans_{name}"
            poses = _numeric(path, pk, _field(path, data, pk), 2, (72,))
            trans = _numeric(path, tk, _field(path, data, tk), 2, (3,))
            if trans.shape[0] != poses.shape[0]:
                raise ValueError(
                    f"{path}: field {tk!r}: expected {poses.shape[0]} frames (as {pk!r}), got {trans.shape}"
                )
            seq = _make_sequence(
                path, pk, poses=poses, trans=trans, fps=SURREAL_FPS, name=name, source="surreal",
                subject=subject,
            )  # fmt: skip
            out.append(rotate_world(seq, Z_UP_TO_Y_UP))
    return out


def read_motion_file(
    path: str | Path, sequence: str | None = None, joint_map: Mapping[str, str] | None = None
) -> PoseSequence:
    """One sequence from an AMASS ``.npz``, (with ``sequence`` when it holds several) a SURREAL
    ``smpl_data.npz``, told apart by their fields, or a ``.bvh`` file (``bvh.read_bvh``; ``joint_map``
    for skeletons other than CMU's)."""
    path = Path(path)
    if path.suffix.lower() == ".bvh":
        if sequence is not None:
            raise ValueError(f"{path}: a sequence name applies to SURREAL smpl_data.npz files only")
        return read_bvh(path, joint_map)
    if joint_map is not None:
        raise ValueError(f"{path}: a joint map applies to .bvh files only")
    with _open_npz(path) as data:
        keys = list(data.files)
    if any(k.startswith("pose_") for k in keys):
        seqs = read_surreal_smpl_data(path)
        names = [s.name for s in seqs]
        if sequence is None and len(seqs) > 1:
            raise ValueError(f"{path}: {len(seqs)} sequences, name one (--sequence): {names[:20]}")
        if sequence is not None and sequence not in names:
            raise ValueError(f"{path}: no sequence {sequence!r} (sequences: {names[:20]})")
        return seqs[names.index(sequence) if sequence is not None else 0]
    if "poses" in keys and sequence is not None:
        raise ValueError(f"{path}: a sequence name applies to SURREAL smpl_data.npz files only")
    if "poses" in keys and "fps" in keys:
        return read_motion_npz(path)
    if "poses" in keys:
        return read_amass_npz(path)
    raise ValueError(
        f"{path}: neither ours ('poses', 'trans', 'fps'), AMASS ('poses', 'trans', 'mocap_framerate', ...) "
        f"nor SURREAL ('pose_<seq>', 'trans_<seq>'); fields: {keys[:20]}"
    )


def read_motion_npz(path: str | Path) -> PoseSequence:
    """A sequence in our format (what :func:`write_motion_npz` and ``synthhuman motion import`` write):
    ``poses`` (T, 72), ``trans`` (T, 3) in our Y-up world, ``fps``; the name is the file's stem."""
    path = Path(path)
    with _open_npz(path) as data:
        poses = _numeric(path, "poses", _field(path, data, "poses"), 2, (72,))
        trans = _numeric(path, "trans", _field(path, data, "trans"), 2, (3,))
        fps = _numeric(path, "fps", _field(path, data, "fps").reshape(-1), 1)
    if fps.size != 1:
        raise ValueError(f"{path}: field 'fps': expected one frame rate, got {fps.tolist()}")
    return _make_sequence(
        path, "poses", poses=poses, trans=trans, fps=float(fps[0]), name=path.stem, source="npz"
    )


def write_motion_npz(seq: PoseSequence, path: str | Path) -> Path:
    """Write ``seq`` in our format (``poses`` (T, 72), ``trans`` (T, 3), ``fps``) through a temporary name."""
    path = Path(path)
    with atomic_write(path) as f:
        np.savez(
            f, poses=seq.poses.astype(np.float32), trans=seq.trans.astype(np.float32), fps=np.float32(seq.fps)
        )
    return path
