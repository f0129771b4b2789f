"""Datasets written by ``synthhuman generate`` read back as :class:`LabeledFrames` batches, so SURREAL's
experiments train from disk exactly as from on-the-fly data: the same batches, cut by the same stream plan
(:mod:`synthhuman.data.frames`).

Formats: canonical (``<root>/<split>/<clip_id>/{rgb.mp4, labels.npz, info.json}``) and SURREAL's
(``<root>/cmu/<split>/run<r>/<seq>/<seq>_cNNNN{.mp4, _info.mat, _depth.mat, _segm.mat}``, ours or
SURREAL's own), listed and read by :mod:`synthhuman.io.formats`. SURREAL's frames are read in its own
image, which is the mirror image of the world: image and segm as stored, depth made planar, joints2d moved
to our integer pixel centres, joints3d in the camera frame of that mirrored image (x to its right); labels
stay anatomical. A SURREAL clip written from a record is thus the left-right mirror of the canonical clip
of that record, with camera-space x negated.

Train: an endless stream. The sorted clips are visited epoch after epoch, each epoch in a fresh order
(``torch.randperm`` seeded by (seed, "epoch", e)); chunk k takes the next ``clips_per_chunk`` clips of
that endless sequence and ``frames_per_clip`` frames of each (:func:`clip_frames` seeded by the clip's
index and epoch, so a clip seen again gets other frames), shuffles them (:func:`chunk_order`) and cuts them
into batches. A clip shorter than ``frames_per_clip`` gives all its frames: its chunk then holds fewer
frames and yields only the full batches they make, the frames left over after the shuffle dropped.
Test: each clip's middle frame once, clips in sorted order, then the iteration ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import IterableDataset, get_worker_info

from synthhuman.config import require
from synthhuman.conventions import SPLITS
from synthhuman.data.frames import LabeledFrames, StreamConfig, chunk_order, clip_frames, middle_frame
from synthhuman.io.formats import READ_FORMATS, list_clips, read_frames
from synthhuman.io.record import DiskClip
from synthhuman.rng import derived_generator


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
        require(
            self.format in ("auto", *READ_FORMATS), "format", f"one of {('auto', *READ_FORMATS)}", self.format
        )


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
    got = read_frames(clip, frames.cpu().numpy(), people.cpu().numpy())
    return LabeledFrames(
        image=torch.from_numpy(got.image).float() / 255,
        depth=torch.from_numpy(np.ascontiguousarray(got.depth, np.float32)),
        segm=torch.from_numpy(np.ascontiguousarray(got.segm, np.uint8)),
        joints2d=torch.from_numpy(np.ascontiguousarray(got.joints2d, np.float32)),
        joints3d=torch.from_numpy(np.ascontiguousarray(got.joints3d, np.float32)),
        clip_ids=(clip.clip_id,) * len(frames),
        frame=frames.cpu().clone(),
    )


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
