"""What SURREAL's experiments learn from, one batch of single frames, whatever the source (rendered on the
fly, or read from a dataset on disk), and the shared plan that cuts a training stream into batches.

The plan: the stream is a sequence of chunks; chunk k holds ``clips_per_chunk`` clips, from each of which
``frames_per_clip`` frames are drawn; the chunk's frames are shuffled and cut into batches. Loading or
posing a clip once for several frames amortises its cost, and the shuffle keeps the frames of one clip
apart (a batch of 6 from a chunk of 32 clips rarely holds two frames of one clip). Everything is drawn
from generators seeded by (seed, chunk) and (seed, clip), so batch n of a stream is the same on every
run, and a resumed run can start at any batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from synthhuman.config import require
from synthhuman.conventions import NUM_JOINTS
from synthhuman.rng import derived_generator


@dataclass(frozen=True)
class LabeledFrames:
    """B single frames with their labels, one person of interest per frame (SURREAL has one person).

    image: (B, H, W, 3) float32 RGB in [0, 1].
    depth: (B, H, W) float32 planar depth in metres (camera z), 0 on the background.
    segm: (B, H, W) uint8 24-part labels (0 background, part k = SMPL joint k - 1), every person.
    joints2d: (B, 24, 2) float32 pixels of the person of interest (x = column, pixel centres at integers).
    joints3d: (B, 24, 3) float32 camera-space metres of that person (x right, y down, z forward).
    clip_ids: B names of the clips (e.g. ``"train/000012"``); frame: (B,) int64 frame indices in them.
    """

    image: Tensor
    depth: Tensor
    segm: Tensor
    joints2d: Tensor
    joints3d: Tensor
    clip_ids: tuple[str, ...]
    frame: Tensor

    def __post_init__(self) -> None:
        if self.image.ndim != 4 or self.image.shape[-1] != 3 or self.image.dtype != torch.float32:
            raise ValueError(
                f"image: expected a (B, H, W, 3) float32 tensor, got {tuple(self.image.shape)} "
                f"{self.image.dtype}"
            )
        b, h, w, _ = self.image.shape
        expected = {
            "depth": ((b, h, w), torch.float32),
            "segm": ((b, h, w), torch.uint8),
            "joints2d": ((b, NUM_JOINTS, 2), torch.float32),
            "joints3d": ((b, NUM_JOINTS, 3), torch.float32),
            "frame": ((b,), torch.int64),
        }
        for name, (shape, dtype) in expected.items():
            x = getattr(self, name)
            if tuple(x.shape) != shape or x.dtype != dtype:
                raise ValueError(f"{name}: expected {shape} {dtype}, got {tuple(x.shape)} {x.dtype}")
        if len(self.clip_ids) != b:
            raise ValueError(f"clip_ids: expected {b} names, got {len(self.clip_ids)}")

    def __len__(self) -> int:
        return self.image.shape[0]

    def to(self, device: torch.device | str) -> LabeledFrames:
        """The same frames on ``device`` (``frame`` stays on the CPU)."""
        return LabeledFrames(
            self.image.to(device), self.depth.to(device), self.segm.to(device),
            self.joints2d.to(device), self.joints3d.to(device), self.clip_ids, self.frame,
        )  # fmt: skip

    def take(self, index: Tensor) -> LabeledFrames:
        """Frames ``index`` ((N,) int64, CPU) in that order."""
        on = index.to(self.image.device)
        return LabeledFrames(
            self.image[on], self.depth[on], self.segm[on], self.joints2d[on], self.joints3d[on],
            tuple(self.clip_ids[i] for i in index.tolist()), self.frame[index],
        )  # fmt: skip

    @staticmethod
    def cat(parts: list[LabeledFrames]) -> LabeledFrames:
        """One batch of the frames of ``parts``, in order (all on one device, one image size)."""
        if not parts:
            raise ValueError("parts: expected at least one LabeledFrames, got none")
        return LabeledFrames(
            *(torch.cat([getattr(p, name) for p in parts]) for name in ("image", "depth", "segm",
                                                                         "joints2d", "joints3d")),
            tuple(c for p in parts for c in p.clip_ids),
            torch.cat([p.frame for p in parts]),
        )  # fmt: skip


@dataclass(frozen=True)
class StreamConfig:
    """How a training stream is cut into batches (see the module's docstring).

    batch: frames per batch (SURREAL: 6). clips_per_chunk, frames_per_clip: a chunk's clips and the frames
    drawn from each; their product must be a multiple of ``batch``.
    """

    batch: int = 6
    clips_per_chunk: int = 32
    frames_per_clip: int = 6

    def __post_init__(self) -> None:
        for name in ("batch", "clips_per_chunk", "frames_per_clip"):
            require(getattr(self, name) >= 1, name, ">= 1", getattr(self, name))
        frames = self.clips_per_chunk * self.frames_per_clip
        require(
            frames % self.batch == 0,
            "clips_per_chunk * frames_per_clip",
            f"a multiple of batch = {self.batch}",
            frames,
        )

    @property
    def batches_per_chunk(self) -> int:
        return self.clips_per_chunk * self.frames_per_clip // self.batch


def clip_frames(seed: int, clip: int, num_frames: int, count: int) -> Tensor:
    """(min(count, num_frames),) int64: distinct frames drawn from a clip of ``num_frames`` frames, sorted,
    seeded by (seed, clip); the same whichever chunk or run asks."""
    gen = derived_generator(seed, "frames", clip)
    return torch.randperm(num_frames, generator=gen)[:count].sort().values


def chunk_order(seed: int, chunk: int, size: int) -> Tensor:
    """(size,) int64: the shuffle of chunk ``chunk``'s frames, seeded by (seed, chunk)."""
    return torch.randperm(size, generator=derived_generator(seed, "chunk", chunk))


def middle_frame(num_frames: int) -> int:
    """The frame SURREAL tests on: the middle one (0-based ``num_frames // 2``)."""
    return num_frames // 2
