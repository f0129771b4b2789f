"""What a plausible body is, as penalties on its parameters: a pose prior fitted to motion capture,
joint-angle limits (knees and elbows bend one way), and a shape regularizer.

All three return one value per frame, so a fit can report and weigh them per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from synthhuman.conventions import NUM_JOINTS
from synthhuman.motion.deepmimic import read_bundled_library
from synthhuman.motion.library import read_motion_folder
from synthhuman.motion.sequence import PoseSequence, mirror

BODY_POSE_DIM = 3 * (NUM_JOINTS - 1)
"""Axis-angle of joints 1..23 (the body pose: everything but the global orientation)."""

JOINT_LIMITS = ((4, 0, 1.0), (5, 0, 1.0), (18, 1, -1.0), (19, 1, 1.0))
"""(SMPL joint, axis-angle component, sign of a bend): the knees (4, 5) bend about +x, the left elbow (18)
about -y and the right elbow (19) about +y; the other sign is hyper-extension. Read off the bundled motion
library, where every knee and elbow angle has that sign (as SMPLify's limits)."""


@dataclass(frozen=True)
class PosePrior:
    """A Gaussian over the 69-d body pose (joints 1..23, axis-angle). mean: (69,); whiten: (69, 69), with
    ``(x - mean) @ whiten`` standard normal under the prior. Calling it gives, for (N, 69) poses, (N,) the
    squared Mahalanobis distance divided by 69 (about 1 for a typical pose of the data it was fitted to).
    examples: (M, 72) poses of that data, global orientation included (a fit starts from those whose joints,
    turned about the vertical, match its targets)."""

    mean: Tensor
    whiten: Tensor
    frames: int
    examples: Tensor | None = None

    def __call__(self, body_pose: Tensor) -> Tensor:
        if body_pose.ndim != 2 or body_pose.shape[1] != BODY_POSE_DIM:
            raise ValueError(f"body_pose: expected (N, {BODY_POSE_DIM}), got {tuple(body_pose.shape)}")
        z = (body_pose - self.mean.to(body_pose)) @ self.whiten.to(body_pose)
        return (z * z).mean(1)

    def to(self, device: torch.device | str) -> PosePrior:
        examples = None if self.examples is None else self.examples.to(device)
        return PosePrior(self.mean.to(device), self.whiten.to(device), self.frames, examples)


def fit_pose_prior(
    sequences: list[PoseSequence], *, mirrored: bool = True, min_std: float = 0.1, max_examples: int = 4000
) -> PosePrior:
    """The Gaussian of the body poses of every frame of ``sequences`` (and of their mirror images, so
    left and right are alike), each direction's standard deviation at least ``min_std`` radians (clips that
    never move a joint about some axis would otherwise forbid it outright); at most about ``max_examples``
    of the poses (evenly spaced) are kept as examples."""
    if not sequences:
        raise ValueError("sequences: expected at least one motion sequence to fit the pose prior to")
    seqs = list(sequences) + ([mirror(s) for s in sequences] if mirrored else [])
    full = np.concatenate([s.poses for s in seqs]).astype(np.float64)
    poses = full[:, 3:]
    mean = poses.mean(0)
    cov = np.cov(poses, rowvar=False) if len(poses) > 1 else np.zeros((BODY_POSE_DIM, BODY_POSE_DIM))
    values, vectors = np.linalg.eigh(cov)
    std = np.sqrt(np.maximum(values, min_std**2))
    whiten = vectors / std  # columns scaled: (x - mean) @ whiten is white
    examples = torch.from_numpy(full[:: max(1, len(full) // max_examples)]).float()
    return PosePrior(torch.from_numpy(mean).float(), torch.from_numpy(whiten).float(), len(poses), examples)


def library_pose_prior(motion: str | None = None, exclude: tuple[str, ...] = ()) -> PosePrior:
    """The pose prior of the bundled motion library (without the clips named in ``exclude``, e.g. the
    test split's), plus the user's motion file or folder ``motion`` (AMASS, SURREAL, BVH or ours) when
    given."""
    seqs = [s for s in read_bundled_library() if s.name not in exclude]
    if motion is not None:
        seqs += read_motion_folder(motion)
    return fit_pose_prior(seqs)


def joint_limit_penalty(pose: Tensor) -> Tensor:
    """(N, 72) axis-angle -> (N,): the squared angle (radians) by which knees and elbows bend the wrong
    way (:data:`JOINT_LIMITS`), summed."""
    aa = pose.reshape(pose.shape[0], NUM_JOINTS, 3)
    out = pose.new_zeros(pose.shape[0])
    for joint, axis, sign in JOINT_LIMITS:
        out = out + torch.relu(-sign * aa[:, joint, axis]) ** 2
    return out


def shape_penalty(betas: Tensor) -> Tensor:
    """(N, K) betas -> (N,) mean squared beta (betas are in standard deviations of the body's shapes)."""
    return (betas * betas).mean(1)
