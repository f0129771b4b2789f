"""What a fit matches, and what it is scored against: 2D joints and part maps of N frames, from a canonical
clip (with its truth) or from photos through a segmentation network trained by ``synthhuman train``.

Parts are SURREAL's 14 training parts (``conventions.SEGM_24_TO_14``; 0 background): what the network
predicts, and what a clip's 24-part labels map to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from synthhuman.conventions import NUM_JOINTS, SEGM_24_TO_14
from synthhuman.io.canonical import read_canonical_clip

NUM_PARTS = 14
"""SURREAL's training parts; part maps hold 0 (background) .. 14."""

PART_OF_LABEL = torch.tensor((0, *SEGM_24_TO_14))
"""(25,) int64: the 14-part class of each 24-part label (0 stays 0)."""


def parts_from_labels(labels: Tensor) -> Tensor:
    """24-part labels (any shape, 0..24) -> SURREAL's 14 parts (0..14), int64."""
    return PART_OF_LABEL.to(labels.device)[labels.long()]


@dataclass(frozen=True)
class FitTargets:
    """N frames to fit, each showing the person to fit.

    K: (N, 3, 3) float intrinsics (pixels, centres at integers). joints2d: (N, 24, 2) float pixels;
    joints_weight: (N, 24) float >= 0 (0: not known). parts: (N, H, W) int64 in 0..14 (14 SURREAL parts, 0
    background) or None (joints only). image: (N, H, W, 3) float in [0, 1] or None (for pictures only).
    image_size: (H, W). group: (N,) int64, frames of one group share their shape (one person of a clip).
    consecutive: the frames follow each other in time (a smoothness term applies). names: N labels.
    joints_visible: (N, 24) bool or None: which joints no surface hides (the renderer's depth is then held
    to it, with the generator's joint tolerance).
    """

    K: Tensor
    joints2d: Tensor
    joints_weight: Tensor
    image_size: tuple[int, int]
    parts: Tensor | None = None
    image: Tensor | None = None
    group: Tensor | None = None
    consecutive: bool = False
    names: tuple[str, ...] = ()
    joints_visible: Tensor | None = None

    def __post_init__(self) -> None:
        n = self.K.shape[0] if self.K.ndim == 3 else -1
        h, w = self.image_size
        _check("K", self.K, (n, 3, 3))
        _check("joints2d", self.joints2d, (n, NUM_JOINTS, 2))
        _check("joints_weight", self.joints_weight, (n, NUM_JOINTS))
        if n < 1:
            raise ValueError(f"K: expected at least one frame, got shape {tuple(self.K.shape)}")
        bad = ~torch.isfinite(self.joints2d).all(-1) & (self.joints_weight > 0)
        if bool(bad.any()):
            f, j = (int(i) for i in bad.nonzero()[0])
            raise ValueError(
                f"joints2d: frame {f} joint {j} is {self.joints2d[f, j].tolist()} with weight "
                f"{float(self.joints_weight[f, j])}: expected finite pixels (or weight 0)"
            )
        if bool((self.joints_weight < 0).any()) or not bool(torch.isfinite(self.joints_weight).all()):
            raise ValueError("joints_weight: expected finite weights >= 0")
        if self.parts is not None:
            _check("parts", self.parts, (n, h, w))
            if (
                self.parts.dtype != torch.int64
                or int(self.parts.min()) < 0
                or int(self.parts.max()) > NUM_PARTS
            ):
                raise ValueError(
                    f"parts: expected int64 classes 0..{NUM_PARTS}, got {self.parts.dtype} in "
                    f"{int(self.parts.min())}..{int(self.parts.max())}"
                )
        if self.image is not None:
            _check("image", self.image, (n, h, w, 3))
        if self.joints_visible is not None:
            _check("joints_visible", self.joints_visible, (n, NUM_JOINTS))
            object.__setattr__(self, "joints_visible", self.joints_visible.bool())
        group = self.group if self.group is not None else torch.arange(n)
        _check("group", group, (n,))
        object.__setattr__(self, "group", group.long())
        if not self.names:
            object.__setattr__(self, "names", tuple(str(i) for i in range(n)))
        if len(self.names) != n:
            raise ValueError(f"names: expected {n} names, got {len(self.names)}")
        for i in range(n):
            has_parts = self.parts is not None and bool((self.parts[i] > 0).any())
            has_joints = int((self.joints_weight[i] > 0).sum()) >= 2
            if not (has_parts or has_joints):
                raise ValueError(
                    f"frame {self.names[i]}: nothing to fit: no part pixels and fewer than 2 weighted joints"
                )

    @property
    def num_frames(self) -> int:
        return self.K.shape[0]

    def take(self, index: Tensor) -> FitTargets:
        """The frames ``index`` (M,) int64 (their groups kept; consecutive only when all are taken)."""
        pick = lambda t: None if t is None else t[index]  # noqa: E731
        return FitTargets(
            self.K[index], self.joints2d[index], self.joints_weight[index], self.image_size,
            pick(self.parts), pick(self.image), self.group[index],
            self.consecutive and index.numel() == self.num_frames, tuple(self.names[int(i)] for i in index),
            pick(self.joints_visible),
        )  # fmt: skip


@dataclass(frozen=True)
class FitTruth:
    """What the fitted frames really were (a clip knows): joints3d (N, 24, 3) camera space, metres; parts
    (N, H, W) int64 0..14 and silhouette (N, H, W) bool of the person."""

    joints3d: Tensor
    parts: Tensor
    silhouette: Tensor


def _check(name: str, t: object, shape: tuple[int, ...]) -> None:
    if (
        not isinstance(t, Tensor)
        or t.ndim != len(shape)
        or any(s != -1 and s != d for s, d in zip(shape, t.shape, strict=True))
    ):
        got = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
        want = "(" + ", ".join("N" if s == -1 else str(s) for s in shape) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {got}")


def parse_frames(spec: str, num_frames: int) -> list[int]:
    """Frames of a clip from ``start:stop:step`` (Python slice syntax, any part may be empty), one index
    or a comma list; every index must lie in 0..num_frames - 1."""
    try:
        if ":" in spec:
            parts = [int(p) if p.strip() else None for p in spec.split(":")]
            if len(parts) > 3:
                raise ValueError
            picked = list(range(num_frames))[slice(*parts)]
        else:
            picked = [int(p) for p in spec.split(",")]
    except ValueError:
        raise ValueError(
            f"--frames: expected start:stop:step or a comma list of frames, got {spec!r}"
        ) from None
    bad = [f for f in picked if not 0 <= f < num_frames]
    if bad or not picked:
        raise ValueError(f"--frames: expected frames in 0..{num_frames - 1}, got {bad or spec!r}")
    return picked


def clip_targets(
    folder: str | Path, frames: list[int], person: int = 0, hidden_weight: float = 0.3
) -> tuple[FitTargets, FitTruth]:
    """Targets and truth of ``frames`` of person ``person`` of a canonical clip folder: the true 14-part
    map of that person (its instance's pixels), its 2D joints (weight 1 where visible, ``hidden_weight``
    where hidden by a surface, 0 outside the image), K, and the frames' RGB."""
    c = read_canonical_clip(folder)
    people = c.num_people
    if not 0 <= person < people:
        raise ValueError(f"--person: expected 0..{people - 1} for {folder}, got {person}")
    f = np.asarray(frames)
    h, w = c.image_size
    mine = torch.from_numpy(c.instance[f] == person + 1)
    parts = torch.where(mine, parts_from_labels(torch.from_numpy(c.segm[f])), 0)
    j2d = torch.from_numpy(c.joints2d[f, person]).double()
    inside = (
        (j2d[..., 0] >= -0.5) & (j2d[..., 0] <= w - 0.5) & (j2d[..., 1] >= -0.5) & (j2d[..., 1] <= h - 0.5)
    )
    visible = torch.from_numpy(c.joints_visible[f, person])
    weight = torch.where(visible, 1.0, hidden_weight) * inside
    steps = np.diff(f)
    targets = FitTargets(
        K=torch.from_numpy(c.K[f]).double(),
        joints2d=j2d,
        joints_weight=weight.double(),
        image_size=(h, w),
        parts=parts,
        image=torch.from_numpy(c.require_rgb()[f]).float() / 255,
        group=torch.zeros(len(f), dtype=torch.int64),
        consecutive=len(f) > 1 and bool((steps == 1).all()),
        names=tuple(f"{c.info.split}/{c.info.clip_id}/{k}" for k in frames),
        joints_visible=visible,
    )
    truth = FitTruth(torch.from_numpy(c.joints3d[f, person]).double(), parts, mine)
    return targets, truth


def read_joints_file(path: str | Path, images: list[Path]) -> tuple[Tensor, Tensor]:
    """2D joints of ``images`` from a JSON file: an object mapping each image's file name to 24
    ``[x, y, confidence]`` triples in SMPL's joint order (pixels, centres at integers; confidence 0 for an
    unknown joint). Returns (N, 24, 2) and (N, 24) float64."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object mapping image file names to joints")
    joints, weights = [], []
    for image in images:
        if image.name not in data:
            raise ValueError(f"{path}: no joints for {image.name!r} (keys: {sorted(data)[:5]})")
        a = np.asarray(data[image.name], dtype=np.float64)
        if a.shape != (NUM_JOINTS, 3):
            raise ValueError(
                f"{path}: {image.name}: expected 24 [x, y, confidence] triples, got shape {a.shape}"
            )
        joints.append(a[:, :2])
        weights.append(np.clip(a[:, 2], 0, None))
    return torch.from_numpy(np.stack(joints)), torch.from_numpy(np.stack(weights))
