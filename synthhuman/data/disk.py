"""Datasets written by ``synthhuman generate`` read back as :class:`LabeledFrames` batches, so SURREAL's
experiments train from disk exactly as from on-the-fly data: the same batches, cut by the same stream plan
(:mod:`synthhuman.data.frames`).

Formats: canonical (``<root>/<split>/<clip_id>/{rgb.mp4, labels.npz, info.json}``) and SURREAL's
(``<root>/cmu/<split>/run<r>/<seq>/<seq>_cNNNN{.mp4, _info.mat, _depth.mat, _segm.mat}``, ours or
SURREAL's own; see SURREAL_FORMAT.md). SURREAL's frames are read in its own image, which is the mirror
image of the world: image and segm as stored, depth made planar, joints2d moved to our integer pixel
centres, joints3d in the camera frame of that mirrored image (x to its right); labels stay anatomical. A
SURREAL clip written from a record is thus the left-right mirror of the canonical clip of that record,
with camera-space x negated.

Train: an endless stream. The sorted clips are visited epoch after epoch, each epoch in a fresh order
(``torch.randperm`` seeded by (seed, "epoch", e)); chunk k takes the next ``clips_per_chunk`` clips of
that endless sequence and ``frames_per_clip`` frames of each (:func:`clip_frames` seeded by the clip's
index and epoch, so a clip seen again gets other frames), shuffles them (:func:`chunk_order`) and cuts them
into batches. A clip shorter than ``frames_per_clip`` gives all its frames: its chunk then holds fewer
frames and yields only the full batches they make, the frames left over after the shuffle dropped.
Test: each clip's middle frame once, clips in sorted order, then the iteration ends.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.io
import torch
from torch import Tensor
from torch.utils.data import IterableDataset, get_worker_info

from synthhuman.config import require
from synthhuman.conventions import NUM_JOINTS
from synthhuman.data.frames import LabeledFrames, StreamConfig, chunk_order, clip_frames, middle_frame
from synthhuman.io.surreal import ray_lengths
from synthhuman.io.video import read_mp4
from synthhuman.rng import SPLITS, derived_generator

FORMATS = ("canonical", "surreal")
SURREAL_SIZE = (240, 320)
"""(H, W) of SURREAL's images, for which its intrinsics are written."""
SURREAL_FOCAL = 600.0
"""SURREAL's focal length in pixels at 320x240; its principal point (160, 120) is the image centre in its
pixel-corner convention (pixel j covers [j, j + 1)), i.e. (159.5, 119.5) with pixel centres at integers."""
SURREAL_BODY_DEPTH = 1e3
"""Metres: SURREAL's loaders take depth <= this as body (its background is 1e10)."""
SURREAL_INFO_FIELDS = {"joints2D": (2, NUM_JOINTS), "joints3D": (3, NUM_JOINTS)}
"""``_info.mat`` fields read as frames, with their leading dimensions (the last one is T)."""


@dataclass(frozen=True)
class DiskConfig:
    """A dataset on disk read as one split.

    root: the folder ``synthhuman generate`` wrote (or SURREAL's data folder). split: "train" (an endless
    stream) or "test" (the middle frame of every clip). seed: draws the stream (epoch orders, frames,
    people, chunk shuffles). stream: batch size and chunking (test uses only ``stream.batch``).
    format: "auto" (from ``manifest.json``, else from the files found), "canonical" or "surreal".
    """

    root: str
    split: str = "train"
    seed: int = 0
    stream: StreamConfig = field(default_factory=StreamConfig)
    format: str = "auto"

    def __post_init__(self) -> None:
        require(bool(self.root), "root", "a dataset folder", self.root)
        require(self.split in SPLITS, "split", f"one of {SPLITS}", self.split)
        require(self.format in ("auto", *FORMATS), "format", f"one of {('auto', *FORMATS)}", self.format)


@dataclass(frozen=True)
class DiskClip:
    """One finished clip on disk.

    format: "canonical" or "surreal". clip_id: its name prefixed by the split: ``"train/000012"``
    (canonical) or ``"train/run0/01_01/01_01_c0001"`` (SURREAL: the clip's path under the split folder,
    since SURREAL's runs reuse clip names). folder: the folder holding its files; name: the clip folder's
    name (canonical) or SURREAL's file prefix ``<seq>_cNNNN``. num_frames: T; num_people: P (SURREAL: 1).
    """

    format: str
    clip_id: str
    folder: Path
    name: str
    num_frames: int
    num_people: int

    def path(self, part: str) -> Path:
        """The file holding ``part``: 'video' or 'info'; 'labels' (canonical); 'depth' or 'segm' (SURREAL)."""
        if self.format == "canonical":
            files = {"video": "rgb.mp4", "info": "info.json", "labels": "labels.npz"}
        else:
            files = {"video": f"{self.name}.mp4"}
            files.update({p: f"{self.name}_{p}.mat" for p in ("info", "depth", "segm")})
        if part not in files:
            raise ValueError(f"part: expected one of {sorted(files)} for a {self.format} clip, got {part!r}")
        return self.folder / files[part]


# --- listing --------------------------------------------------------------------------------------------


def detect_format(root: str | os.PathLike, format: str = "auto") -> str:
    """'canonical' or 'surreal': ``format`` checked against ``manifest.json`` when there is one; for
    'auto', the manifest's "format", else canonical when ``<root>/<split>/<clip>/info.json`` exists, else
    SURREAL when a ``*_info.mat`` lies anywhere under ``root``."""
    require(format in ("auto", *FORMATS), "format", f"one of {('auto', *FORMATS)}", format)
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: dataset folder not found")
    manifest = root / "manifest.json"
    if manifest.is_file():
        try:
            found = json.loads(manifest.read_text()).get("format")
        except ValueError as exc:
            raise ValueError(f"{manifest}: unreadable manifest ({exc})") from exc
        if found not in FORMATS:
            raise ValueError(
                f"{manifest}: format: expected one of {FORMATS} to read from disk, got {found!r}"
            )
        if format not in ("auto", found):
            raise ValueError(f"format: {manifest} says {found!r}, got {format!r}")
        return found
    if format != "auto":
        return format
    if any(not p.parent.name.startswith(".") for s in SPLITS for p in (root / s).glob("*/info.json")):
        return "canonical"
    if next(root.rglob("*_info.mat"), None) is not None:
        return "surreal"
    raise ValueError(
        f"{root}: dataset format not recognised: looked for manifest.json, <split>/<clip>/info.json "
        "(canonical) and *_info.mat files (SURREAL)"
    )


def list_clips(root: str | os.PathLike, split: str, format: str = "auto") -> list[DiskClip]:
    """The finished clips of ``split`` under ``root``, sorted by clip id.

    Canonical: the folders ``<root>/<split>/<clip_id>/`` holding ``info.json`` (a clip folder is renamed
    into place when complete); T from the shape of ``labels.npz``'s segm, P from its joints2d (only their
    headers are read). SURREAL: the ``*_info.mat`` files under a folder named ``split`` (``root`` itself or
    below it, any depth) whose ``.mp4`` exists (written last: the clip is complete); T = numel(zrot).
    Folders and files whose names start with '.' (temporaries) are skipped."""
    require(split in SPLITS, "split", f"one of {SPLITS}", split)
    root = Path(root)
    format = detect_format(root, format)
    if format == "canonical":
        clips = _canonical_clips(root, split)
        looked = f"{root / split}/<clip>/info.json"
    else:
        clips = _surreal_clips(root, split)
        looked = f"*_info.mat with its .mp4 under a folder named {split!r}"
    if not clips:
        raise ValueError(f"{root}: no finished {format} clip of split {split!r} (looked for {looked})")
    return sorted(clips, key=lambda c: c.clip_id)


def _canonical_clips(root: Path, split: str) -> list[DiskClip]:
    clips = []
    for info in (root / split).glob("*/info.json"):
        folder = info.parent
        if folder.name.startswith("."):
            continue
        labels = folder / "labels.npz"
        T = _npz_shape(labels, "segm")[0]
        P = _npz_shape(labels, "joints2d")[1]
        clips.append(DiskClip("canonical", f"{split}/{folder.name}", folder, folder.name, T, P))
    return clips


def _npz_shape(path: Path, name: str) -> tuple[int, ...]:
    """The shape of array ``name`` of an ``.npz``, from its header only (nothing else is decompressed)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (not a finished canonical clip)")
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    with zipfile.ZipFile(path) as zf:
        if f"{name}.npy" not in zf.namelist():
            raise ValueError(f"{path}: {name}: array missing")
        with zf.open(f"{name}.npy") as member:
            version = np.lib.format.read_magic(member)
            if version not in readers:
                raise ValueError(f"{path}: {name}: unsupported .npy format version {version}")
            shape, _, _ = readers[version](member)
    return shape


def _surreal_clips(root: Path, split: str) -> list[DiskClip]:
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
            T = _load_mat(Path(folder) / f, ["zrot"])["zrot"].size
            clip_id = "/".join((split, *under_split, name))
            clips.append(DiskClip("surreal", clip_id, Path(folder), name, T, 1))
    return clips


def _load_mat(path: Path, keys: list[str]) -> dict[str, np.ndarray]:
    """Variables ``keys`` of a MAT file (only those are decompressed); errors name the file and key."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing")
    mat = scipy.io.loadmat(path, variable_names=keys)
    missing = [k for k in keys if k not in mat]
    if missing:
        raise ValueError(f"{path}: {missing[0]}: field missing ({len(missing)} of the {len(keys)} needed)")
    return mat


# --- frames ---------------------------------------------------------------------------------------------


def load_frames(clip: DiskClip, frames: Tensor, people: Tensor | None = None) -> LabeledFrames:
    """Frames ``frames`` ((N,) int64, any order, repeats allowed) of ``clip``, on the CPU, each with the
    joints of person ``people`` ((N,) int64, default 0). Each file is read once; the video is decoded
    whole (clips are short)."""
    if frames.ndim != 1 or frames.dtype != torch.int64:
        raise ValueError(f"frames: expected an (N,) int64 tensor, got {tuple(frames.shape)} {frames.dtype}")
    people = torch.zeros_like(frames) if people is None else people
    if people.shape != frames.shape or people.dtype != torch.int64:
        raise ValueError(
            f"people: expected a {tuple(frames.shape)} int64 tensor, got {tuple(people.shape)} {people.dtype}"
        )
    for name, x, n in (("frames", frames, clip.num_frames), ("people", people, clip.num_people)):
        if x.numel() and (x.min() < 0 or x.max() >= n):
            raise ValueError(f"{name}: expected values in 0..{n - 1} for {clip.clip_id}, got {x.tolist()}")
    f, p = frames.cpu().numpy(), people.cpu().numpy()
    video = clip.path("video")
    if not video.is_file():
        raise FileNotFoundError(f"{video}: missing (clip {clip.clip_id})")
    rgb = read_mp4(video)
    _check_shape(video, "frames", rgb, (clip.num_frames, None, None, 3))
    size = rgb.shape[1:3]
    read = _canonical_labels if clip.format == "canonical" else _surreal_labels
    depth, segm, joints2d, joints3d = read(clip, f, p, size)
    return LabeledFrames(
        image=torch.from_numpy(rgb[f]).float() / 255,
        depth=torch.from_numpy(np.ascontiguousarray(depth, np.float32)),
        segm=torch.from_numpy(np.ascontiguousarray(segm, np.uint8)),
        joints2d=torch.from_numpy(np.ascontiguousarray(joints2d, np.float32)),
        joints3d=torch.from_numpy(np.ascontiguousarray(joints3d, np.float32)),
        clip_ids=(clip.clip_id,) * len(f),
        frame=frames.cpu().clone(),
    )


def _check_shape(path: Path, name: str, a: np.ndarray, shape: tuple[int | None, ...]) -> None:
    """ValueError naming the file and the field unless ``a`` has ``shape`` (None: any size)."""
    if a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape, strict=True)):
        expected = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{path}: {name}: expected shape {expected}, got {a.shape}")


def _canonical_labels(
    clip: DiskClip, f: np.ndarray, p: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, ...]:
    """depth (N, H, W), segm (N, H, W), joints2d (N, 24, 2), joints3d (N, 24, 3) from ``labels.npz``."""
    path = clip.path("labels")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (clip {clip.clip_id})")
    T, P = clip.num_frames, clip.num_people
    expected = {
        "depth": (T, *size),
        "segm": (T, *size),
        "joints2d": (T, P, NUM_JOINTS, 2),
        "joints3d": (T, P, NUM_JOINTS, 3),
    }
    out = []
    with np.load(path, allow_pickle=False) as labels:
        for name, shape in expected.items():
            if name not in labels.files:
                raise ValueError(f"{path}: {name}: array missing")
            a = labels[name]
            _check_shape(path, name, a, shape)
            out.append(a[f] if a.ndim == 3 else a[f, p])
    return tuple(out)


def surreal_intrinsics(height: int, width: int) -> np.ndarray:
    """(3, 3) float64 intrinsics of a SURREAL clip of ``height`` x ``width`` in our convention (pixel
    centres at integers). At 320x240, SURREAL's K with its pixel corners moved to our centres: focal 600,
    principal point (159.5, 119.5). SURREAL stores no K: other sizes (only our generator writes them) keep
    the principal point at the image centre and scale the focal with the width, as the generator's
    ``CameraConfig.focal`` does (exact for its default focal only)."""
    f = SURREAL_FOCAL * width / SURREAL_SIZE[1]
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


def _surreal_labels(
    clip: DiskClip, f: np.ndarray, p: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, ...]:
    """depth (N, H, W) planar, segm (N, H, W), joints2d (N, 24, 2), joints3d (N, 24, 3) from the
    ``_info``, ``_depth`` and ``_segm`` files, in SURREAL's (mirrored) image."""
    T = clip.num_frames
    path = clip.path("info")
    info = _load_mat(path, ["zrot", "camLoc", *SURREAL_INFO_FIELDS])
    _check_shape(path, "zrot", info["zrot"].reshape(-1), (T,))
    for name, lead in SURREAL_INFO_FIELDS.items():
        _check_shape(path, name, info[name], (*lead, T))
    _check_shape(path, "camLoc", info["camLoc"].reshape(-1), (3,))
    cam_x, cam_y, cam_z = info["camLoc"].reshape(3).astype(np.float64)
    joints2d = info["joints2D"][:, :, f].transpose(2, 1, 0) - 0.5  # pixel corners -> our pixel centres
    X, Y, Z = info["joints3D"][:, :, f].astype(np.float64)  # each (24, N)
    joints3d = np.stack([cam_z - Z, Y - cam_y, cam_x - X]).transpose(2, 1, 0)  # R_s (X - camLoc)

    unique, inverse = np.unique(f, return_inverse=True)
    layers = {}
    for layer in ("depth", "segm"):
        path = clip.path(layer)
        keys = [f"{layer}_{k + 1}" for k in unique]  # 1-based keys
        mat = _load_mat(path, keys)
        for key in keys:
            _check_shape(path, key, mat[key], size)
        layers[layer] = np.stack([mat[key] for key in keys])[inverse]

    ray = ray_lengths(*size, surreal_intrinsics(*size))
    euclidean = layers["depth"].astype(np.float64)
    depth = np.where(euclidean <= SURREAL_BODY_DEPTH, euclidean / ray, 0.0)
    return depth, layers["segm"], joints2d, joints3d


# --- the dataset ----------------------------------------------------------------------------------------


class DiskFrames(IterableDataset):
    """Batches of :class:`LabeledFrames` (``cfg.stream.batch`` frames, on the CPU) read from a dataset on
    disk, cut as the module's docstring says. The clips are listed here, so a bad root fails early.

    start: the first batch to yield (a resumed training run continues its stream); whole chunks before it
    are skipped without being read. ``len`` is the number of test batches; the train stream is endless.

    DataLoader workers (``batch_size=None``): test: worker w of n yields batches start + w, start + w + n,
    ...; the DataLoader takes one batch from each worker in turn, so the order is exactly the
    single-process one. Train: worker w of n reads chunks k0 + w, k0 + w + n, ... (k0: the chunk holding
    batch ``start``), each chunk read once; the DataLoader's turn-taking then interleaves the batches of the
    n chunks read at a time (2 workers: chunk k0's first batch, chunk k0 + 1's first, chunk k0's second,
    ...): every batch of the single-process stream comes once, in that interleaved order.
    """

    def __init__(self, cfg: DiskConfig, start: int = 0) -> None:
        require(start >= 0, "start", ">= 0", start)
        self.cfg, self.start = cfg, start
        self.clips = list_clips(cfg.root, cfg.split, cfg.format)
        s = cfg.stream
        shortest = min(c.num_frames for c in self.clips)
        if cfg.split == "train":
            require(
                s.clips_per_chunk * min(s.frames_per_clip, shortest) >= s.batch,
                "stream",
                f"clips_per_chunk * min(frames_per_clip, shortest clip: {shortest} frames) >= batch, so "
                "that every chunk fills a batch",
                s,
            )
        self._epoch: tuple[int, Tensor] | None = None

    def __len__(self) -> int:
        if self.cfg.split == "train":
            raise TypeError("the train split is an endless stream: it has no length")
        return max(0, -(-len(self.clips) // self.cfg.stream.batch) - self.start)

    def __iter__(self) -> Iterator[LabeledFrames]:
        worker = get_worker_info()
        w, n = (worker.id, worker.num_workers) if worker is not None else (0, 1)
        return self._train(w, n) if self.cfg.split == "train" else self._test(w, n)

    def epoch_order(self, epoch: int) -> Tensor:
        """(len(clips),) int64: the order in which epoch ``epoch`` visits the sorted clips."""
        if self._epoch is None or self._epoch[0] != epoch:
            gen = derived_generator(self.cfg.seed, "epoch", epoch)
            self._epoch = (epoch, torch.randperm(len(self.clips), generator=gen))
        return self._epoch[1]

    def chunk_picks(self, k: int) -> list[tuple[int, Tensor, Tensor]]:
        """Train chunk ``k``'s plan, nothing read: per clip taken, (index in ``clips``, (n,) int64 frames,
        (n,) int64 person of interest per frame), in the order taken."""
        s, N = self.cfg.stream, len(self.clips)
        picks = []
        for position in range(k * s.clips_per_chunk, (k + 1) * s.clips_per_chunk):
            epoch, rank = divmod(position, N)
            i = int(self.epoch_order(epoch)[rank])
            visit = epoch * N + i  # this clip in this epoch: the same frames whatever the chunk
            frames = clip_frames(self.cfg.seed, visit, self.clips[i].num_frames, s.frames_per_clip)
            picks.append((i, frames, self._people("train", visit, self.clips[i], frames.shape[0])))
        return picks

    def chunk_batches(self, k: int) -> int:
        """How many batches train chunk ``k`` yields (fewer than ``batches_per_chunk`` when it takes clips
        shorter than ``frames_per_clip``)."""
        return sum(frames.shape[0] for _, frames, _ in self.chunk_picks(k)) // self.cfg.stream.batch

    def chunk(self, k: int) -> LabeledFrames:
        """The frames of train chunk ``k`` that make its batches, shuffled: batch b is frames
        ``b * batch ... (b + 1) * batch - 1``. Each clip's files are read once."""
        by_clip: dict[int, list[tuple[Tensor, Tensor]]] = {}
        for i, frames, people in self.chunk_picks(k):
            by_clip.setdefault(i, []).append((frames, people))
        parts = [
            load_frames(self.clips[i], torch.cat([f for f, _ in fp]), torch.cat([p for _, p in fp]))
            for i, fp in by_clip.items()
        ]
        frames = LabeledFrames.cat(parts)
        kept = len(frames) // self.cfg.stream.batch * self.cfg.stream.batch
        return frames.take(chunk_order(self.cfg.seed, k, len(frames))[:kept])

    def locate(self, batch: int) -> tuple[int, int]:
        """(chunk, batch within it) of train batch ``batch``, from the plan alone."""
        s = self.cfg.stream
        if min(c.num_frames for c in self.clips) >= s.frames_per_clip:
            return divmod(batch, s.batches_per_chunk)
        k = 0
        while batch >= (n := self.chunk_batches(k)):
            batch -= n
            k += 1
        return k, batch

    def _people(self, split: str, visit: int, clip: DiskClip, count: int) -> Tensor:
        """(count,) int64: the person of interest of each frame of one visit of ``clip``."""
        if clip.num_people == 1:
            return torch.zeros(count, dtype=torch.int64)
        gen = derived_generator(self.cfg.seed, "person", split, visit)
        return torch.randint(clip.num_people, (count,), generator=gen)

    def _train(self, worker: int, workers: int) -> Iterator[LabeledFrames]:
        B = self.cfg.stream.batch
        first, skip = self.locate(self.start)
        k = first + worker
        while True:
            frames = self.chunk(k)
            for b in range(skip if k == first else 0, len(frames) // B):
                yield frames.take(torch.arange(b * B, (b + 1) * B))
            k += workers

    def _test(self, worker: int, workers: int) -> Iterator[LabeledFrames]:
        B = self.cfg.stream.batch
        for b in range(self.start + worker, self.start + len(self), workers):
            parts = []
            for i in range(b * B, min((b + 1) * B, len(self.clips))):
                clip = self.clips[i]
                middle = torch.tensor([middle_frame(clip.num_frames)])
                parts.append(load_frames(clip, middle, self._people("test", i, clip, 1)))
            yield LabeledFrames.cat(parts)
