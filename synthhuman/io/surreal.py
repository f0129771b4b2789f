"""SURREAL-compatible clips: the files SURREAL's Blender pipeline wrote, so that its own clients
(``smpl_relations.py``, the Torch7 loaders) read ours unchanged. Their conventions are summarised in
``docs/conventions.md``.

Geometry. A :class:`ClipRecord` lives in our world (+Y up) seen by a proper OpenCV camera ``R`` with no
tilt or roll (its y axis is world -Y). SURREAL's camera ``R_s`` is a mirror (det -1); ``R_p = diag(-1, 1, 1)
@ R_s`` is a proper rotation. SURREAL's world is ours rotated by ``Q = R_p^T R`` (no translation): then
``R_p (Q X - camLoc) = R X + t``, i.e. our camera *is* SURREAL's camera without the mirror, it looks along
SURREAL's -X, and our +Y (up) becomes SURREAL's -Y (up). Consequences, all applied here:

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

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io
import torch
from scipy.spatial.transform import Rotation

from synthhuman.atomic import atomic_write
from synthhuman.conventions import NUM_JOINTS
from synthhuman.io.record import ClipRecord, ClipRef, DiskClip, FrameLabels, check_shape, read_clip_video
from synthhuman.io.video import DEFAULT_CRF, read_mp4, write_mp4
from synthhuman.io.writer import DatasetWriter
from synthhuman.render import sh_irradiance

SURREAL_R = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
"""SURREAL's world-to-camera rotation (det -1)."""
SURREAL_R_PROPER = np.diag([-1.0, 1.0, 1.0]) @ SURREAL_R
"""The proper rotation whose image is SURREAL's image mirrored left-right."""
R90 = Rotation.from_euler("x", 90, degrees=True).as_matrix()
"""SURREAL's ``R90 = Rx(+90 deg)`` in ``R_world = R90 Rz(zrot) rot(pose[0:3])``."""
DEPTH_BACKGROUND = 1e10
NUM_BETAS = 10
SPLIT_FOLDERS = {"train": "train", "val": "val", "validation": "val", "test": "test"}
"""SURREAL's split folder (``cmu/<folder>/``) of each split name we accept."""
GENDER_CODES = {"female": 0, "male": 1, "neutral": 2}
TILT_TOLERANCE = 1e-4
"""Largest deviation of the camera's second row from (0, -1, 0) accepted as 'no tilt or roll'."""


def rot_z(angle: float) -> np.ndarray:
    """(3, 3) ``Rz = [[c, -s, 0], [s, c, 0], [0, 0, 1]]``."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


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


@dataclass(frozen=True)
class SurrealGeometry:
    """How one clip maps into SURREAL's world and camera (float64).

    Q (3, 3): our world -> SURREAL's world. cam_loc (3,): SURREAL's ``camLoc``. K (3, 3): SURREAL's
    intrinsics for joints2D (pixel centres at j + 0.5, mirrored principal point). zrot: radians.
    """

    Q: np.ndarray
    cam_loc: np.ndarray
    K: np.ndarray
    zrot: float


def surreal_geometry(record: ClipRecord) -> SurrealGeometry:
    """The clip's :class:`SurrealGeometry`; ValueError for a camera with tilt or roll or a skewed K."""
    R = record.R.astype(np.float64)
    if not np.allclose(R[1], (0.0, -1.0, 0.0), atol=TILT_TOLERANCE):
        raise ValueError(
            f"{record.info.clip_id}: R: SURREAL's camera has no tilt or roll, so R[1] must be (0, -1, 0) "
            f"within {TILT_TOLERANCE}, got {R[1].tolist()}"
        )
    K = record.K.astype(np.float64)
    if K[0, 1] != 0:
        raise ValueError(f"{record.info.clip_id}: K: expected no skew (K[0, 1] = 0), got {K[0, 1]}")
    Q = SURREAL_R_PROPER.T @ R
    centre = -R.T @ record.t.astype(np.float64)
    w = record.image_size[1]
    K_s = np.array([[K[0, 0], 0.0, w - 0.5 - K[0, 2]], [0.0, K[1, 1], K[1, 2] + 0.5], [0.0, 0.0, 1.0]])
    zrot = float(np.mod(record.info.headings[0], 2 * np.pi))
    return SurrealGeometry(Q, Q @ centre, K_s, zrot)


def surreal_project(points: np.ndarray, cam_loc: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(..., 3) SURREAL world points -> (..., 2) SURREAL pixels ``K R_s (X - camLoc)`` (not rounded)."""
    cam = (points - cam_loc) @ SURREAL_R.T
    return cam[..., :2] / cam[..., 2:] * np.diag(K)[:2] + K[:2, 2]


def surreal_pose(pose: np.ndarray, Q: np.ndarray, zrot: float) -> np.ndarray:
    """(T, 72) SMPL pose in our world -> SURREAL's: ``pose[0:3] = rotvec(Rz(zrot)^T R90^T Q G)``, the
    body pose unchanged (joint rotations are relative to their parents)."""
    G = Rotation.from_rotvec(pose[:, :3].astype(np.float64)).as_matrix()
    out = pose.astype(np.float64)
    out[:, :3] = Rotation.from_matrix(rot_z(zrot).T @ R90.T @ Q @ G).as_rotvec()
    return out


def light_in_surreal_world(coeffs: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """(9,) SH coefficients as our renderer uses them -> the coefficients giving the same irradiance in
    SURREAL's world. Our shading evaluates ``E(Rx(pi) n)`` at our world normal n; Blender evaluates
    ``E'(Q n)``. Solved by least squares on sphere samples (the 9 basis functions are independent),
    through :func:`sh_irradiance` itself, so it follows its convention whatever it is."""
    n = torch.as_tensor(_sphere_points(64))
    rx_pi = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64))
    m = n @ torch.as_tensor(Q).T @ rx_pi  # Rx(pi) Q n, what sh_irradiance must see for E'(Q n)
    basis = sh_irradiance(m[:, None, :], torch.eye(9, dtype=torch.float64)[None])  # (N, 9)
    target = sh_irradiance(n, torch.as_tensor(coeffs, dtype=torch.float64).expand(n.shape[0], 9))
    return torch.linalg.lstsq(basis, target[:, None]).solution[:, 0].numpy()


def _sphere_points(n: int) -> np.ndarray:
    """(n, 3) float64 unit vectors spread over the sphere (Fibonacci lattice)."""
    k = np.arange(n) + 0.5
    z = 1 - 2 * k / n
    phi = np.pi * (1 + 5**0.5) * k
    r = np.sqrt(1 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], -1)


def ray_lengths(height: int, width: int, K: np.ndarray) -> np.ndarray:
    """(H, W) float64 ``|K^-1 [u, v, 1]|`` at our pixel centres (u, v integers): Euclidean distance over
    planar depth at each pixel."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    rays = np.stack([u, v, np.ones_like(u)], -1) @ np.linalg.inv(K.astype(np.float64)).T
    return np.linalg.norm(rays, axis=-1)


def euclidean_depth(depth: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(T, H, W) planar depth -> float32 distance from the camera centre: ``z |K^-1 [u, v, 1]|``."""
    return depth.astype(np.float32) * ray_lengths(*depth.shape[1:], K).astype(np.float32)


def surreal_info(
    record: ClipRecord, geom: SurrealGeometry, name: str, clip_no: int, stride: int
) -> dict[str, object]:
    """The fields of ``_info.mat`` (SURREAL's shapes and dtypes, in the order of the
    released files)."""
    info, T = record.info, record.num_frames
    joints3d = (record.joints3d_world[:, 0].astype(np.float64) @ geom.Q.T).astype(np.float32)  # (T, 24, 3)
    cam_loc = geom.cam_loc.astype(np.float32)
    # joints2D from the values as stored, so a client recomputing them from the file gets the same.
    joints2d = np.round(surreal_project(joints3d.astype(np.float64), cam_loc.astype(np.float64), geom.K))
    betas = np.zeros(NUM_BETAS, np.float32)
    n = min(NUM_BETAS, record.betas.shape[1])
    betas[:n] = record.betas[0, :n]
    gender = str(record.gender[0])
    if gender not in GENDER_CODES:
        raise ValueError(f"{info.clip_id}: gender: expected one of {sorted(GENDER_CODES)}, got {gender!r}")
    light = light_in_surreal_world(record.light[0], geom.Q).astype(np.float32)
    return {
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


def _cell(strings: list[str]) -> np.ndarray:
    """(1, N) MATLAB cell of char arrays."""
    out = np.empty((1, len(strings)), dtype=object)
    out[0, :] = strings
    return out


def surreal_layers(record: ClipRecord, normals: bool) -> dict[str, np.ndarray]:
    """The per-frame layers in SURREAL's mirrored image, (T, H, W, ...) float32 / uint8: 'depth' (Euclidean,
    1e10 background), 'segm', 'gtflow' ((our du, dv) of the backward motion; 0 on frame 1 and background),
    and 'normal' (SURREAL world axes, 0 background) when ``normals``."""
    if record.flow_backward is None:
        raise ValueError(
            f"{record.info.clip_id}: flow_backward: SURREAL's gtflow needs the backward flow; the record "
            "has none (render it with flow_backward for the surreal writer)"
        )
    body = record.segm > 0
    depth = np.where(body, euclidean_depth(record.depth, record.K), np.float32(DEPTH_BACKGROUND))
    flow = np.where(body[..., None], record.flow_backward, np.float32(0))
    flow[0] = 0.0
    out = {"depth": depth, "segm": record.segm, "gtflow": flow}
    if normals:
        # camera axes -> SURREAL's world: Q R^T = R_p^T (as one (N, 3) @ (3, 3) product)
        world = record.normals.reshape(-1, 3).astype(np.float32) @ SURREAL_R_PROPER.astype(np.float32)
        out["normal"] = np.where(body[..., None], world.reshape(record.normals.shape), np.float32(0))
    return {key: np.ascontiguousarray(a[:, :, ::-1]) for key, a in out.items()}


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
        for key, frames in layers.items():
            mdict = {f"{key}_{k + 1}": frame for k, frame in enumerate(frames)}
            written.append(_savemat(tmp / paths.file(f"_{key}.mat").name, mdict))
        rgb = np.ascontiguousarray(record.require_rgb()[:, :, ::-1])
        crf = record.info.extra.get("degrade", {}).get("crf", DEFAULT_CRF)  # the h264 degradation's quality
        written.append(write_mp4(tmp / paths.mp4.name, rgb, fps=record.info.fps, crf=crf))
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


def _savemat(path: Path, mdict: dict[str, object]) -> Path:
    with atomic_write(path) as f:
        scipy.io.savemat(f, mdict, do_compression=True, format="5", oned_as="column")
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

SURREAL_SIZE = (240, 320)
"""(H, W) of SURREAL's images, for which its intrinsics are written."""
SURREAL_FOCAL = 600.0
"""SURREAL's focal length in pixels at 320x240; its principal point (160, 120) is the image centre in its
pixel-corner convention (pixel j covers [j, j + 1)), i.e. (159.5, 119.5) with pixel centres at integers."""
SURREAL_BODY_DEPTH = 1e3
"""Metres: SURREAL's loaders take depth <= this as body (its background is 1e10)."""
SURREAL_INFO_FIELDS = {"joints2D": (2, NUM_JOINTS), "joints3D": (3, NUM_JOINTS)}
"""``_info.mat`` fields read as frames, with their leading dimensions (the last one is T)."""


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


def surreal_intrinsics(height: int, width: int) -> np.ndarray:
    """(3, 3) float64 intrinsics of a SURREAL clip of ``height`` x ``width`` in our convention (pixel
    centres at integers). At 320x240, SURREAL's K with its pixel corners moved to our centres: focal 600,
    principal point (159.5, 119.5). SURREAL stores no K: other sizes (only our generator writes them) keep
    the principal point at the image centre and scale the focal with the width, as the generator's
    ``CameraConfig.focal`` does (exact for its default focal only)."""
    f = SURREAL_FOCAL * width / SURREAL_SIZE[1]
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


def read_surreal_frames(clip: DiskClip, frames: np.ndarray, people: np.ndarray) -> FrameLabels:
    """Frames ``frames`` (N,) of a SURREAL clip (ours or SURREAL's own; one person, so ``people`` is all
    0) in SURREAL's own image, which is the mirror image of the world: image and segm as stored, depth made
    planar, joints2d moved to our integer pixel centres, joints3d in the camera frame of that mirrored
    image (x to its right); labels stay anatomical. Each file is read once, the video decoded whole."""
    rgb = read_clip_video(clip)
    size = rgb.shape[1:3]
    T = clip.num_frames
    path = clip.path("info")
    info = load_mat(path, ["zrot", "camLoc", *SURREAL_INFO_FIELDS])
    check_shape(path, "zrot", info["zrot"].reshape(-1), (T,))
    for name, lead in SURREAL_INFO_FIELDS.items():
        check_shape(path, name, info[name], (*lead, T))
    check_shape(path, "camLoc", info["camLoc"].reshape(-1), (3,))
    cam_x, cam_y, cam_z = info["camLoc"].reshape(3).astype(np.float64)
    joints2d = info["joints2D"][:, :, frames].transpose(2, 1, 0) - 0.5  # pixel corners -> our centres
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

    ray = ray_lengths(*size, surreal_intrinsics(*size))
    euclidean = layers["depth"].astype(np.float64)
    depth = np.where(euclidean <= SURREAL_BODY_DEPTH, euclidean / ray, 0.0)
    return FrameLabels(rgb[frames], depth, layers["segm"], joints2d, joints3d)
