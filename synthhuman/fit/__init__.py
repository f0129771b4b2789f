"""Bodies fitted to images through the differentiable renderer (analysis-by-synthesis), and scored
against known truth: :func:`fit_bodies` takes :class:`FitTargets` (2D joints, part maps) and a body model
and returns the fitted parameters; ``synthhuman fit`` (:func:`run_fit`) runs it on a canonical clip or on
photos. The rendered part loss (:func:`soft_parts`) is usable on its own, e.g. as a loss in training.
"""

from synthhuman.fit.fitting import FitConfig, FitResult, FitWeights, fit_bodies
from synthhuman.fit.metrics import mpjpe, pa_mpjpe, part_iou, procrustes, silhouette_iou
from synthhuman.fit.parts import PartMesh, hard_parts, soft_parts
from synthhuman.fit.priors import (
    PosePrior,
    fit_pose_prior,
    joint_limit_penalty,
    library_pose_prior,
    shape_penalty,
)
from synthhuman.fit.run import FitRunConfig, run_fit
from synthhuman.fit.targets import FitTargets, FitTruth, clip_targets, parts_from_labels, read_joints_file

__all__ = [
    "FitConfig",
    "FitResult",
    "FitRunConfig",
    "FitTargets",
    "FitTruth",
    "FitWeights",
    "PartMesh",
    "PosePrior",
    "clip_targets",
    "fit_bodies",
    "fit_pose_prior",
    "hard_parts",
    "joint_limit_penalty",
    "library_pose_prior",
    "mpjpe",
    "pa_mpjpe",
    "part_iou",
    "parts_from_labels",
    "procrustes",
    "read_joints_file",
    "run_fit",
    "shape_penalty",
    "silhouette_iou",
    "soft_parts",
]
