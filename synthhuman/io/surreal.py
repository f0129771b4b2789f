"""SURREAL-compatible clips: the files SURREAL's Blender pipeline wrote, so that its own clients
(``smpl_relations.py``, the Torch7 loaders) read ours unchanged. Their conventions are summarised in
``docs/conventions.md``.

Geometry. A :class:`ClipRecord` lives in our world (+Y up) seen by proper OpenCV cameras ``R`` (one per
frame). SURREAL's camera ``R_s`` is a mirror (det -1); ``R_p = diag(-1, 1, 1) @ R_s`` is a proper rotation.
SURREAL's world is ours rotated by ``Q = R_p^T R`` (no translation), ``R`` the first frame's camera: then
``R_p (Q X - camLoc) = R X + t``, i.e. our camera *is* SURREAL's camera without the mirror, it looks along
SURREAL's -X, and for a level camera (no tilt or roll, SURREAL's and the generator's default) our +Y (up)
becomes SURREAL's -Y (up); a tilted or rolled camera tilts SURREAL's world with it (its up is then ``Q``
times ours), so that SURREAL's clients, which all project with its fixed camera, stay exact.
Consequences, all applied here:

- points (joints3D, camLoc) and world vectors (normals) are multiplied by ``Q``;
- the global orientation ``G`` (``pose[0:3]``) becomes ``Q G`` in SURREAL's world, stored as
  ``pose[0:3] = rotvec(Rz(zrot)^T R90^T Q G)``; ``zrot`` is the clip's heading (``info.headings[0]``);
- SURREAL's image is our image flipped left-right: every image layer is flipped, and a horizontal motion
  ``du`` becomes ``-du``. SURREAL stores ``(-du_surreal, dv)``, which is ``(du, dv)`` of our image:
  ``gtflow`` channel 0 = our ``du``, channel 1 = our ``dv`` of the backward motion (t-1 -> t), flipped;
- pixel centres: ours at integers, SURREAL's at ``j + 0.5``; our column ``c`` is SURREAL's column
  ``W - 1 - c``, so SURREAL's ``K`` for joints2D is ``[[fx, 0, W - 0.5 - cx], [0, fy, cy + 0.5], [0, 0, 1]]``
  from ours: our (f, cx, cy) = (600, 159.5, 119.5) at 320x240 gives SURREAL's (600, 160, 120). SURREAL's
  clients hard-code that K, so they are exact only for records rendered with it (the generator's default);
- depth is the Euclidean distance to the camera centre (planar z times the length of ``K^-1 [u, v, 1]``);
- the SH light is re-expressed in SURREAL's world (our renderer evaluates it at ``Rx(pi)`` of our world
  normal, Blender at SURREAL's world normal ``Q n``; see :func:`light_in_surreal_world`).

Cameras SURREAL cannot describe get extra ``_info`` fields (SURREAL's clients ignore them; our reader
uses them): ``camK`` (3, 3, T) float32, SURREAL's intrinsics per frame (pixel centres at j + 0.5,
mirrored principal point), when ``K`` is not SURREAL's 600 px at 320 wide (:func:`surreal_intrinsics`);
and for a **moving camera** ``camLocs`` (3, T) and ``camRs`` (3, 3, T) float32, each frame's camera centre
and (mirrored, det -1) world-to-camera rotation in SURREAL's world, which stays the one of the first
frame's camera: ``joints2D[:, :, t] = round(camK_t camRs_t (joints3D[:, :, t] - camLocs_t))`` (projected),
``camLoc`` is the first frame's centre and ``camRs[..., 0]`` is ``R_s``. Clients that assume SURREAL's
fixed camera are then exact for the first frame only; depth, segm, gtflow (camera motion included) and
joints2D are exact for every frame.

Other fields: ``shape`` holds the first 10 betas (zero-padded); ``camDist`` is the record's sampled
``camera_distance`` (SURREAL's is about 1 m more than the camera-pelvis distance);
``bg`` and ``cloth`` are the record's background and texture names. Gender: SURREAL knows 0 (female) and
1 (male); a neutral body is written as 2 (SURREAL's clients then take the male model). Single person
only: SURREAL's files describe one body, so a record with P > 1 is refused.

Atomicity: a clip's files are written into a temporary folder under ``root`` and then renamed into the
sequence folder (which holds every clip of that sequence), the mp4 last: a clip is complete when its mp4
exists (:attr:`SurrealClipPaths.complete`), which is also what SURREAL's loader lists. A failure removes the
temporary folder and leaves no file of the clip; a kill between the renames can leave some ``.mat`` files
without the mp4, which a rewrite replaces.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io

try:  # scipy's own MAT 5 variable writer (a private module since scipy 1.8): one variable at a time
    from scipy.io.matlab._mio5 import MatFile5Writer, VarWriter5
except ImportError:  # pragma: no cover  (a scipy that moved it: scipy.io.savemat per variable instead)
    MatFile5Writer = VarWriter5 = None

from synthhuman.atomic import atomic_write
from synthhuman.conventions import NUM_JOINTS
from synthhuman.io.deflate import zlib_bytes
from synthhuman.io.record import ClipRecord, ClipRef, DiskClip, FrameLabels, check_shape, read_clip_video
from synthhuman.io.surreal_geometry import (  # noqa: F401  (the geometry, re-exported here)
    R90,
    SURREAL_FOCAL,
    SURREAL_R,
    SURREAL_R_PROPER,
    SURREAL_SIZE,
    SurrealGeometry,
    default_intrinsics,
    euclidean_depth,
    light_in_surreal_world,
    ray_lengths,
    rot_z,
    surreal_geometry,
    surreal_intrinsics,
    surreal_pose,
    surreal_project,
)
from synthhuman.io.video import DEFAULT_CRF, read_mp4, write_mp4
from synthhuman.io.writer import DatasetWriter

DEPTH_BACKGROUND = 1e10
NUM_BETAS = 10
SPLIT_FOLDERS = {"train": "train", "val": "val", "validation": "val", "test": "test"}
"""SURREAL's split folder (``cmu/<folder>/``) of each split name we accept."""
GENDER_CODES = {"female": 0, "male": 1, "neutral": 2}


@dataclass(frozen=True)
class SurrealClipPaths:
    """Where the files of clip ``name`` (``<sequence>_c%04d``) go: ``folder/<name><suffix>``."""

    folder: Path
    name: str

    def file(self, suffix: str) -> Path:
        return self.folder / f"{self.name}{suffix}"

    @property
    def mp4(self) -> Path:
        return self.file(".mp4")

    @property
    def info(self) -> Path:
        return self.file("_info.mat")

    @property
    def complete(self) -> bool:
        """The mp4 is renamed into place last: a clip with its mp4 has all its files."""
        return self.mp4.is_file()


def surreal_clip_paths(
    root: str | os.PathLike, sequence: str, clip_no: int, split: str, run: int = 0
) -> SurrealClipPaths:
    """Paths of a clip under ``<root>/cmu/<split>/run<run>/<sequence>/`` (split 'train', 'val' or 'test')."""
    if split not in SPLIT_FOLDERS:
        raise ValueError(f"split: expected one of {sorted(SPLIT_FOLDERS)}, got {split!r}")
    if not sequence or sequence.startswith(".") or any(c in sequence for c in "/\\"):
        raise ValueError(f"sequence: expected a plain folder name such as '01_01', got {sequence!r}")
    if run < 0:
        raise ValueError(f"run: expected >= 0, got {run}")
    if not 0 <= clip_no <= 255:
        raise ValueError(f"clip_no: expected 0..255 (stored as uint8 'clipNo'), got {clip_no}")
    folder = Path(root) / "cmu" / SPLIT_FOLDERS[split] / f"run{run}" / sequence
    return SurrealClipPaths(folder, f"{sequence}_c{clip_no:04d}")


def surreal_info(
    record: ClipRecord, geom: SurrealGeometry, name: str, clip_no: int, stride: int
) -> dict[str, object]:
    """The fields of ``_info.mat`` (SURREAL's shapes and dtypes, in the order of the
    released files)."""
    info, T = record.info, record.num_frames
    joints3d = (record.joints3d_world[:, 0].astype(np.float64) @ geom.Q.T).astype(np.float32)  # (T, 24, 3)
    cam_loc = geom.cam_loc.astype(np.float32)
    # joints2D from the values as stored, so a client recomputing them from the file gets the same.
    if geom.moving:
        cam_locs, cam_rs = geom.cam_locs.astype(np.float32), geom.cam_rs.astype(np.float32)
        joints2d = np.round(
            surreal_project(
                joints3d.astype(np.float64),
                cam_locs[:, None].astype(np.float64),
                geom.Ks[:, None].astype(np.float32).astype(np.float64),
                cam_rs[:, None].astype(np.float64),
            )
        )
    elif default_intrinsics(record):
        joints2d = np.round(surreal_project(joints3d.astype(np.float64), cam_loc.astype(np.float64), geom.K))
    else:  # the intrinsics as stored in camK
        Ks = geom.Ks.astype(np.float32).astype(np.float64)[:, None]
        joints2d = np.round(surreal_project(joints3d.astype(np.float64), cam_loc.astype(np.float64), Ks))
    betas = np.zeros(NUM_BETAS, np.float32)
    n = min(NUM_BETAS, record.betas.shape[1])
    betas[:n] = record.betas[0, :n]
    gender = str(record.gender[0])
    if gender not in GENDER_CODES:
        raise ValueError(f"{info.clip_id}: gender: expected one of {sorted(GENDER_CODES)}, got {gender!r}")
    light = light_in_surreal_world(record.light[0], geom.Q).astype(np.float32)
    fields = {
        "sequence": name,
        "clipNo": np.array([[clip_no]], np.uint8),
        "source": "cmu",
        "bg": _cell([info.background] * T),
        "gender": np.full((T, 1), GENDER_CODES[gender], np.uint8),
        "light": np.repeat(light[:, None], T, 1),
        "stride": np.array([[stride]], np.uint8),
        "camDist": np.array([[info.camera_distance]], np.float32),
        "camLoc": cam_loc[:, None],
        "joints2D": joints2d.astype(np.float32).transpose(2, 1, 0),
        "joints3D": joints3d.transpose(2, 1, 0),
        "pose": surreal_pose(record.pose[:, 0], geom.Q, geom.zrot).astype(np.float32).T,
        "zrot": np.full((T, 1), geom.zrot, np.float32),
        "cloth": _cell([info.textures[0]] * T),
        "shape": np.repeat(betas[:, None], T, 1),
    }
    if not default_intrinsics(record):
        fields["camK"] = geom.Ks.astype(np.float32).transpose(1, 2, 0)
    if geom.moving:
        fields["camLocs"] = geom.cam_locs.astype(np.float32).T
        fields["camRs"] = geom.cam_rs.astype(np.float32).transpose(1, 2, 0)
    return fields


def _cell(strings: list[str]) -> np.ndarray:
    """(1, N) MATLAB cell of char arrays."""
    out = np.empty((1, len(strings)), dtype=object)
    out[0, :] = strings
    return out


def surreal_layers(record: ClipRecord, normals: bool) -> dict[str, Callable[[int], np.ndarray]]:
    """The per-frame layers in SURREAL's mirrored image, frame t of each computed when asked ((H, W, ...)
    float32 / uint8 views; a clip's layers made at once were some 200 MB of fresh memory per clip): 'depth'
    (Euclidean, 1e10 background), 'segm', 'gtflow' ((our du, dv) of the backward motion; 0 on frame 1 and
    background), and 'normal' (SURREAL world axes, 0 background) when ``normals``."""
    if record.flow_backward is None:
        raise ValueError(
            f"{record.info.clip_id}: flow_backward: SURREAL's gtflow needs the backward flow; the record "
            "has none (render it with flow_backward for the surreal writer)"
        )
    K = record.K
    rays = None  # one K for every frame: its ray lengths once
    if K.ndim == 2 or bool((K == K[:1]).all()):
        rays = ray_lengths(*record.depth.shape[1:], K.reshape(-1, 3, 3)[0]).astype(np.float32)

    def depth(t: int) -> np.ndarray:
        if rays is None:
            z = euclidean_depth(record.depth[t : t + 1], K[t])[0]
        else:  # as euclidean_depth computes it
            z = record.depth[t].astype(np.float32) * rays
        return np.where(record.segm[t] > 0, z, np.float32(DEPTH_BACKGROUND))[:, ::-1]

    def gtflow(t: int) -> np.ndarray:
        back = record.flow_backward[t]
        if t == 0:
            flow = np.zeros(back.shape, np.float32)
        elif back.dtype == np.float32 and back.flags.c_contiguous:
            # each pixel's (du, dv) as one 8-byte word: one unbroadcast where, 3x faster, the same bytes
            pairs = np.where(record.segm[t] > 0, back.view(np.int64)[..., 0], np.int64(0))
            flow = pairs.view(np.float32).reshape(back.shape)
        else:
            flow = np.where((record.segm[t] > 0)[..., None], back, np.float32(0))
        return flow[:, ::-1]

    out = {"depth": depth, "segm": lambda t: record.segm[t][:, ::-1], "gtflow": gtflow}
    if normals:
        body = record.segm > 0
        if record.static_camera:
            # camera axes -> SURREAL's world: Q R^T = R_p^T (as one (N, 3) @ (3, 3) product)
            world = record.normals.reshape(-1, 3).astype(np.float32) @ SURREAL_R_PROPER.astype(np.float32)
        else:  # frame t: Q R_t^T, as row vectors n @ R_t Q^T
            Q = SURREAL_R_PROPER.T @ record.R[0].astype(np.float64)
            M = (record.R.astype(np.float64) @ Q.T).astype(np.float32)
            world = record.normals.astype(np.float32).reshape(record.num_frames, -1, 3) @ M
        normal = np.where(body[..., None], world.reshape(record.normals.shape), np.float32(0))
        out["normal"] = lambda t: normal[t][:, ::-1]
    return out


def write_surreal_clip(
    record: ClipRecord,
    root: str | os.PathLike,
    sequence: str,
    clip_no: int,
    split: str,
    run: int = 0,
    stride: int = 50,
    normals: bool = False,
) -> list[Path]:
    """Write ``record`` as SURREAL clip ``<sequence>_c%04d`` under
    ``<root>/cmu/<split>/run<run>/<sequence>/``: the mp4 and ``_info``, ``_depth``, ``_segm``, ``_gtflow``
    (and ``_normal`` when ``normals``) ``.mat`` files. Returns their paths, the mp4 last. Needs
    ``record.flow_backward`` and one person."""
    paths = surreal_clip_paths(root, sequence, clip_no, split, run)
    if record.num_people != 1:
        raise ValueError(
            f"{record.info.clip_id}: SURREAL's files describe one person per clip, the record has "
            f"{record.num_people}"
        )
    if not 0 <= stride <= 255:
        raise ValueError(f"stride: expected 0..255 (stored as uint8 'stride'), got {stride}")
    geom = surreal_geometry(record)
    info = surreal_info(record, geom, paths.name, clip_no, stride)
    layers = surreal_layers(record, normals)

    Path(root).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{paths.name}.", suffix=".tmp", dir=root))
    try:
        written = [_savemat(tmp / paths.info.name, info)]
        for key, frame in layers.items():  # one frame at a time, each a variable ('depth_1', ...)
            frames = ((f"{key}_{t + 1}", frame(t)) for t in range(record.num_frames))
            written.append(_savemat(tmp / paths.file(f"_{key}.mat").name, frames))
        crf = record.info.extra.get("degrade", {}).get("crf", DEFAULT_CRF)  # the h264 degradation's quality
        rgb = record.require_rgb()  # SURREAL's mirrored image: flipped by ffmpeg
        written.append(write_mp4(tmp / paths.mp4.name, rgb, fps=record.info.fps, crf=crf, mirror=True))
        paths.folder.mkdir(parents=True, exist_ok=True)
        for f in written:  # the mp4 last: it marks the clip complete
            os.replace(f, paths.folder / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [paths.folder / f.name for f in written]


class SurrealWriter(DatasetWriter):
    """SURREAL's layout: clip ``<clip_id>_c0001`` of sequence ``<clip_id>`` under ``<root>/cmu/<split>/run0/``
    (:func:`write_surreal_clip`)."""

    def done(self, ref: ClipRef) -> bool:
        return surreal_clip_paths(self.root, ref.clip_id, 1, ref.split).complete

    def write(self, record: ClipRecord) -> None:
        with self.timer("surreal files"):
            write_surreal_clip(record, self.root, record.info.clip_id, 1, record.info.split)


_MAT_HEADER = 128
_MI_COMPRESSED = 15


def _savemat(path: Path, mdict: Mapping[str, object] | Iterable[tuple[str, object]], level: int = 1) -> Path:
    """A MAT 5 file of ``mdict``, each variable a compressed element, as ``scipy.io.savemat(...,
    do_compression=True)`` writes, but deflated at ``level`` by ISA-L (``deflate.zlib_bytes``) instead of
    zlib's level 6: much faster, a little larger; ``loadmat`` (and MATLAB) read the same arrays. scipy's
    variable writer serialises one variable at a time into a small buffer that is reused and deflated and
    written at once (a clip's layer is a hundred frames of up to 1 MB each: one buffer of the whole file,
    grown and copied, made fresh memory that cost more in page faults than the deflating). ``mdict``: a
    mapping, or (name, value) pairs made as they are written."""
    header = io.BytesIO()
    scipy.io.savemat(header, {}, format="5")
    order = "<" if header.getvalue()[126:128] == b"IM" else ">"  # the header's endian indicator
    variables = None if VarWriter5 is None else VarWriter5(MatFile5Writer(header, oned_as="column"))
    element = io.BytesIO()
    with atomic_write(path) as f:
        f.write(header.getvalue()[:_MAT_HEADER])
        for name, value in mdict.items() if isinstance(mdict, Mapping) else mdict:
            element.seek(0)
            element.truncate()
            if variables is None:
                scipy.io.savemat(element, {name: value}, format="5", oned_as="column")
                raw = element.getbuffer()[_MAT_HEADER:]
            else:
                variables.file_stream = element
                variables.write_top(value, name.encode("latin1"), False)
                raw = element.getbuffer()
            data = zlib_bytes(raw, level)
            del raw  # the buffer may not be resized while a view of it lives
            f.write(struct.pack(order + "II", _MI_COMPRESSED, len(data)))
            f.write(data)
    return path


@dataclass(frozen=True)
class SurrealClip:
    """A SURREAL clip as its files hold it, in SURREAL's own conventions (its mirrored image and world,
    Euclidean depth with 1e10 background, the backward flow; module docstring). T = ``numel(zrot)``, as
    SURREAL's loader takes it.

    info: every ``_info.mat`` field as stored (e.g. ``joints2D`` (2, 24, T) float32, ``camLoc`` (3, 1)).
    sequence, source: str. bg, cloth: (T,) str. rgb (T, H, W, 3) uint8; depth (T, H, W) float32; segm
    (T, H, W) uint8; gtflow (T, H, W, 2) float32; normal (T, H, W, 3) float32, or None without the file.
    """

    info: dict[str, np.ndarray]
    sequence: str
    source: str
    bg: np.ndarray
    cloth: np.ndarray
    rgb: np.ndarray
    depth: np.ndarray
    segm: np.ndarray
    gtflow: np.ndarray
    normal: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return int(self.info["zrot"].size)


def read_surreal_clip(path: str | os.PathLike) -> SurrealClip:
    """Read a SURREAL clip back (ours or SURREAL's own): ``path`` is its ``_info.mat``, its mp4, or a folder
    holding exactly one clip. (Frames in our conventions, for training: :func:`read_surreal_frames`.)"""
    paths = _clip_of(Path(path))
    info = scipy.io.loadmat(paths.info)
    fields = {k: v for k, v in info.items() if not k.startswith("__")}
    names = {key: np.array([str(c[0]) if c.size else "" for c in info[key][0]]) for key in ("bg", "cloth")}
    T = info["zrot"].size
    layers: dict[str, np.ndarray] = {}
    for key in ("depth", "segm", "gtflow", "normal"):
        file = paths.file(f"_{key}.mat")
        if key == "normal" and not file.exists():
            continue
        mat = scipy.io.loadmat(file)
        missing = [f"{key}_{k}" for k in range(1, T + 1) if f"{key}_{k}" not in mat]
        if missing:
            raise ValueError(
                f"{file}: keys {missing[:3]}... missing (expected {key}_1..{key}_{T}, T from zrot)"
            )
        layers[key] = np.stack([mat[f"{key}_{k}"] for k in range(1, T + 1)])
    return SurrealClip(
        info=fields,
        sequence=str(info["sequence"][0]),
        source=str(info["source"][0]),
        rgb=read_mp4(paths.mp4),
        **names,
        **layers,
    )


def _clip_of(path: Path) -> SurrealClipPaths:
    if path.is_dir():
        infos = sorted(path.glob("*_info.mat"))
        if len(infos) != 1:
            raise ValueError(f"{path}: expected exactly one *_info.mat, found {[p.name for p in infos]}")
        path = infos[0]
    for suffix in ("_info.mat", ".mp4"):
        if path.name.endswith(suffix):
            return SurrealClipPaths(path.parent, path.name[: -len(suffix)])
    raise ValueError(f"{path}: expected a clip's _info.mat, its .mp4 or a folder holding one clip")


# --- reading frames back into our conventions ------------------------------------------------------------

SURREAL_BODY_DEPTH = 1e3
"""Metres: SURREAL's loaders take depth <= this as body (its background is 1e10)."""
SURREAL_INFO_FIELDS = {"joints2D": (2, NUM_JOINTS), "joints3D": (3, NUM_JOINTS)}
"""``_info.mat`` fields read as frames, with their leading dimensions (the last one is T)."""
SURREAL_CAMERA_FIELDS = {"camK": (3, 3), "camLocs": (3,), "camRs": (3, 3)}
"""Our extra ``_info.mat`` camera fields (absent from SURREAL's own files), with their leading dimensions."""


def surreal_clips(root: Path, split: str) -> list[DiskClip]:
    """The ``*_info.mat`` files under a folder named ``split`` (``root`` itself or below it, any depth)
    whose ``.mp4`` exists (written last: the clip is complete); T = numel(zrot). Folders and files whose
    names start with '.' (temporaries) are skipped."""
    clips = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        parts = (root.name, *Path(folder).relative_to(root).parts)
        if split not in parts:
            continue
        under_split = parts[len(parts) - parts[::-1].index(split) :]
        names = set(files)
        for f in files:
            name = f.removesuffix("_info.mat")
            if name == f or f.startswith(".") or f"{name}.mp4" not in names:
                continue
            T = load_mat(Path(folder) / f, ["zrot"])["zrot"].size
            clip_id = "/".join((split, *under_split, name))
            clips.append(DiskClip("surreal", clip_id, Path(folder), name, T, 1))
    return clips


def load_mat(path: Path, keys: list[str]) -> dict[str, np.ndarray]:
    """Variables ``keys`` of a MAT file (only those are decompressed); errors name the file and key."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing")
    try:
        mat = scipy.io.loadmat(path, variable_names=keys)
    except Exception as exc:  # scipy raises many types for files that are not MAT files
        raise ValueError(f"{path}: not a readable MAT file ({type(exc).__name__}: {exc})") from None
    missing = [k for k in keys if k not in mat]
    if missing:
        raise ValueError(f"{path}: {missing[0]}: field missing ({len(missing)} of the {len(keys)} needed)")
    return mat


def read_surreal_frames(clip: DiskClip, frames: np.ndarray, people: np.ndarray) -> FrameLabels:
    """Frames ``frames`` (N,) of a SURREAL clip (ours or SURREAL's own; one person, so ``people`` is all
    0) in SURREAL's own image, which is the mirror image of the world: image and segm as stored, depth made
    planar, joints2d moved to our integer pixel centres, joints3d in the camera frame of that mirrored
    image (x to its right); labels stay anatomical. Each file is read once, the video decoded whole.
    Our files' extra camera fields are used where present (``camK``: the intrinsics; ``camLocs``,
    ``camRs``: a moving camera; module docstring)."""
    rgb = read_clip_video(clip)
    size = rgb.shape[1:3]
    T = clip.num_frames
    path = clip.path("info")
    info = load_mat(path, ["zrot", "camLoc", *SURREAL_INFO_FIELDS])
    extra = scipy.io.loadmat(path, variable_names=list(SURREAL_CAMERA_FIELDS))
    check_shape(path, "zrot", info["zrot"].reshape(-1), (T,))
    for name, lead in (*SURREAL_INFO_FIELDS.items(), *SURREAL_CAMERA_FIELDS.items()):
        if name in info or name in extra:
            check_shape(path, name, {**info, **extra}[name], (*lead, T))
    check_shape(path, "camLoc", info["camLoc"].reshape(-1), (3,))
    joints2d = info["joints2D"][:, :, frames].transpose(2, 1, 0) - 0.5  # pixel corners -> our centres
    if "camRs" in extra and "camLocs" in extra:  # R_s,t (X - camLoc_t) per frame
        X = info["joints3D"][:, :, frames].astype(np.float64) - extra["camLocs"][:, None, frames]
        joints3d = np.einsum("ijn,jkn->nki", extra["camRs"][:, :, frames].astype(np.float64), X)
    else:
        cam_x, cam_y, cam_z = info["camLoc"].reshape(3).astype(np.float64)
        X, Y, Z = info["joints3D"][:, :, frames].astype(np.float64)  # each (24, N)
        joints3d = np.stack([cam_z - Z, Y - cam_y, cam_x - X]).transpose(2, 1, 0)  # R_s (X - camLoc)

    unique, inverse = np.unique(frames, return_inverse=True)
    layers = {}
    for layer in ("depth", "segm"):
        path = clip.path(layer)
        keys = [f"{layer}_{k + 1}" for k in unique]  # 1-based keys
        mat = load_mat(path, keys)
        for key in keys:
            check_shape(path, key, mat[key], size)
        layers[layer] = np.stack([mat[key] for key in keys])[inverse]

    if "camK" in extra:  # SURREAL's pixel corners -> our centres, in its mirrored image
        Ks = extra["camK"][:, :, frames].transpose(2, 0, 1).astype(np.float64)
        Ks[:, :2, 2] -= 0.5
        ray = np.stack([ray_lengths(*size, k) for k in Ks])
    else:
        ray = ray_lengths(*size, surreal_intrinsics(*size))
    euclidean = layers["depth"].astype(np.float64)
    depth = np.where(euclidean <= SURREAL_BODY_DEPTH, euclidean / ray, 0.0)
    return FrameLabels(rgb[frames], depth, layers["segm"], joints2d, joints3d)
