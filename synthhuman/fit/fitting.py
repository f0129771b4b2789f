"""Fitting bodies to images by analysis-by-synthesis: pose, shape and placement of a body model found by
gradient descent through our differentiable renderer (SMPLify-style, with a rendered part loss).

The body lives in the camera's frame (``X_cam = body(betas, pose, trans)``): ``pose[:3]`` is its orientation
seen from the camera, ``trans`` its placement. Stages:

1. *Placement*: for each of ``orientations`` headings about the body's vertical axis (the body upright,
   facing the camera, turned), the orientation and translation are fitted to the 2D joints (depth
   initialised from the torso's size in pixels); each frame keeps the heading whose joints and parts fit
   best.
2. *Everything*: orientation, body pose, shape (shared by the frames of a group) and translation, against
   the robust 2D joint reprojection error, the rendered part map (:mod:`synthhuman.fit.parts`; its
   background channel is the silhouette), and the priors (:mod:`synthhuman.fit.priors`), plus a temporal
   smoothness term on the 3D joints when the frames are consecutive. Each frame's best few stage-1
   hypotheses descend first on their own (2a); the best goes on (2b), with limb flips in depth
   (:mod:`synthhuman.fit.flips`) tried at its start, middle and end: the discrete search that the 2D
   joints cannot settle and the rendered terms can.

Part maps are rendered in a window around each frame's target (the same size for the batch), so the cost
follows the person's size in pixels, not the image's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from scipy.spatial.transform import Rotation
from torch import Tensor

from synthhuman.body.model import BodyModel
from synthhuman.config import require
from synthhuman.conventions import DEFAULT_JOINT_TOLERANCE, NUM_JOINTS
from synthhuman.fit.flips import LIMB_BONES, flip_bone
from synthhuman.fit.parts import PartMesh, soft_parts_and_depth
from synthhuman.fit.priors import PosePrior, joint_limit_penalty, shape_penalty
from synthhuman.fit.targets import FitTargets
from synthhuman.render import project

TORSO_PAIRS = ((1, 16), (2, 17))
"""Hip to shoulder of each side: their length in pixels sets the initial depth."""


@dataclass(frozen=True)
class FitWeights:
    """Weights of the loss terms. joints: robust 2D reprojection; parts: rendered part map (mean squared
    error per pixel of the window); pose_prior, limits, shape: the priors; smooth: 3D joint motion between
    consecutive frames (metres squared); visibility: joints' depth order against the rendered surface, where
    the targets say which joints are hidden (metres squared)."""

    joints: float = 1.0
    parts: float = 10.0
    pose_prior: float = 0.02
    limits: float = 1.0
    shape: float = 0.01
    smooth: float = 10.0
    visibility: float = 10.0


@dataclass(frozen=True)
class FitConfig:
    """How :func:`fit_bodies` fits. orientations: headings about the vertical the example poses are tried
    at, candidates: starting points per frame kept for stage 1 (:func:`_hypotheses`); placement_steps,
    steps: Adam steps of stages 1 and 2; lr: stage 2's learning rate (stage 1: 2.5x), decayed to a tenth
    by a cosine; joint_sigma: the robust joint loss's scale as a fraction of the person's size in the
    frame (the longer side of its 2D joints' box: the same fit for a near and a far person; a joint farther
    off than that counts less and less); use_parts: False fits the joints and priors only;
    window_margin: the part window's margin around the target, as a fraction of its size; keep: the best
    stage-1 hypotheses of each frame that stage 2 starts from, each descended ``trial_steps`` steps before
    the frame keeps the one with the lowest objective for the remaining ``steps - trial_steps``;
    prior_anneal: the priors' weights start this many times higher and fall to theirs by mid-stage 2 (a
    smoother landscape first, the data's details last); joint_sigma_anneal: the robust joint loss's sigma
    starts (and stage 1 runs) this many times wider, falling to ``joint_sigma`` by mid-stage 2, so that
    joints far from their targets still pull (a near joint's loss is the same at any sigma); flips: try
    each limb bone flipped in depth at the start, middle and end of stage 2b (:mod:`synthhuman.fit.flips`)
    and keep the flips that lower the objective."""

    orientations: int = 12
    candidates: int = 8
    placement_steps: int = 40
    steps: int = 350
    lr: float = 0.02
    joint_sigma: float = 0.1
    use_parts: bool = True
    window_margin: float = 0.25
    keep: int = 3
    trial_steps: int = 40
    prior_anneal: float = 10.0
    joint_sigma_anneal: float = 4.0
    flips: bool = True
    weights: FitWeights = field(default_factory=FitWeights)

    def __post_init__(self) -> None:
        require(self.orientations >= 1, "orientations", ">= 1", self.orientations)
        require(self.candidates >= 1, "candidates", ">= 1", self.candidates)
        require(self.placement_steps >= 0, "placement_steps", ">= 0", self.placement_steps)
        require(self.steps >= 0, "steps", ">= 0", self.steps)
        require(self.lr > 0, "lr", "> 0", self.lr)
        require(self.joint_sigma > 0, "joint_sigma", "> 0", self.joint_sigma)
        require(self.window_margin >= 0, "window_margin", ">= 0", self.window_margin)
        require(1 <= self.keep <= self.candidates, "keep", "1..candidates", self.keep)
        require(0 <= self.trial_steps <= self.steps, "trial_steps", "0..steps", self.trial_steps)
        require(self.prior_anneal >= 1, "prior_anneal", ">= 1", self.prior_anneal)


@dataclass(frozen=True)
class FitResult:
    """The fitted frames: pose (N, 72) axis-angle (camera frame), betas (N, K), trans (N, 3); joints3d
    (N, 24, 3) and vertices (N, V, 3) camera space, metres; loss (N,) the final objective of each frame and
    terms: each term's final value per frame (unweighted); history: the mean objective at every step."""

    pose: Tensor
    betas: Tensor
    trans: Tensor
    joints3d: Tensor
    vertices: Tensor
    loss: Tensor
    terms: dict[str, Tensor]
    history: list[float]


Progress = Callable[[str, int, int, float], None]
"""``progress(stage, step, steps, loss)`` after every optimizer step."""


def fit_bodies(
    targets: FitTargets,
    body: BodyModel,
    prior: PosePrior,
    cfg: FitConfig = FitConfig(),
    progress: Progress | None = None,
) -> FitResult:
    """Fit ``body`` to every frame of ``targets`` (on the body's device) and return the parameters."""
    device, dtype = body.device, body.dtype
    t = _on(targets, device, dtype)
    mesh = PartMesh.of(body.faces, body.part_labels, body.face_labels, dtype)
    prior = prior.to(device)
    window = _windows(t, cfg.window_margin) if (cfg.use_parts and t.parts is not None) else None
    objective = _Objective(t, body, mesh, prior, cfg, window)

    orient, body_pose, trans = _placement(objective, cfg, progress)  # (keep * N, ...) each
    n, keep = t.num_frames, cfg.keep
    history: list[float] = []
    # stage 2a: every kept hypothesis descends on its own (own shape), then each frame keeps its best
    rows = torch.arange(n * keep, device=device)
    trial_targets = replace(t.take(rows % n), group=rows, consecutive=False)
    trial = _Objective(trial_targets, body, mesh, prior, cfg, _take_window(window, rows % n))
    params = _start(orient, body_pose, trans, n * keep, body.num_betas)
    _descend(trial, params, 0, cfg.trial_steps, cfg, history, progress)
    with torch.no_grad():
        score, _ = trial(params)
        best = score.view(keep, n).argmin(0) * n + torch.arange(n, device=device)
    # stage 2b: the chosen hypotheses, shapes shared by groups
    groups = int(t.group.max()) + 1
    betas = torch.zeros(groups, body.num_betas, device=device, dtype=dtype).index_add_(
        0, t.group, params["betas"].detach()[best]
    ) / torch.bincount(t.group, minlength=groups).clamp_min(1)[:, None].to(dtype)
    trans = params["trans"].detach()[best]
    params = _start(params["orient"][best], params["body_pose"][best], trans, groups, 0)
    params["betas"] = betas.requires_grad_()
    # stage 2b, with limb flips tried at its start, middle and end (:mod:`synthhuman.fit.flips`)
    middle = (cfg.trial_steps + cfg.steps) // 2
    for first, last in ((cfg.trial_steps, middle), (middle, cfg.steps), (cfg.steps, None)):
        if cfg.flips:
            _flip_search(objective, params, _anneal(first, cfg))
        if last is not None:
            _descend(objective, params, first, last, cfg, history, progress)
    with torch.no_grad():
        loss, terms = objective(params)
        out = objective.pose(params)
    return FitResult(
        pose=torch.cat([params["orient"], params["body_pose"]], 1).detach(),
        betas=params["betas"].detach()[t.group],
        trans=params["trans"].detach(),
        joints3d=out.joints,
        vertices=out.vertices,
        loss=loss,
        terms=terms,
        history=history,
    )


def _start(
    orient: Tensor, body_pose: Tensor, trans: Tensor, groups: int, num_betas: int
) -> dict[str, Tensor]:
    """Parameters to descend, copied from the given ones; betas zero, one row per group."""
    return {
        "orient": orient.detach().clone().requires_grad_(),
        "body_pose": body_pose.detach().clone().requires_grad_(),
        "betas": orient.new_zeros(groups, num_betas).requires_grad_(),
        "trans": trans.detach().clone().requires_grad_(),
    }


def _descend(
    objective: _Objective,
    params: dict[str, Tensor],
    first: int,
    last: int,
    cfg: FitConfig,
    history: list[float],
    progress: Progress | None,
) -> None:
    """Adam steps ``first .. last - 1`` of stage 2 on ``params`` (in place): the learning rate follows one
    cosine from ``cfg.lr`` to a tenth of it over the whole stage."""
    opt = torch.optim.Adam(list(params.values()), lr=cfg.lr)
    for step in range(first, last):
        for g in opt.param_groups:
            g["lr"] = cfg.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * step / max(cfg.steps, 1))))
        opt.zero_grad()
        loss, _ = objective(params, _anneal(step, cfg))
        loss.mean().backward()
        opt.step()
        history.append(float(loss.detach().mean()))
        if progress:
            progress("fit", step + 1, cfg.steps, history[-1])


def _anneal(step: int, cfg: FitConfig) -> float:
    """Where stage 2's ``step`` is in the annealing: 1 at the start, falling to 0 by mid-stage."""
    return max(0.0, 1 - 2 * step / max(cfg.steps, 1))


@torch.no_grad()
def _flip_search(objective: _Objective, params: dict[str, Tensor], anneal: float) -> Tensor:
    """Try each of :data:`LIMB_BONES` flipped in depth (:func:`flip_bone`) on every frame; each frame
    takes the flips that lower its objective, all together when that is lower still, else the best one.
    ``params`` change in place; returns (N,) the number of bones flipped per frame."""
    pose = torch.cat([params["orient"], params["body_pose"]], 1).detach()
    joints = objective.joints(params)
    base, _ = objective(params, anneal)

    def score(candidate: Tensor) -> Tensor:
        return objective(dict(params, orient=candidate[:, :3], body_pose=candidate[:, 3:]), anneal)[0]

    flipped = torch.stack([flip_bone(pose, joints, j, c) for j, c in LIMB_BONES])  # (8, N, 72)
    scores = torch.stack([score(f) for f in flipped])  # (8, N)
    better = scores < base
    # the accepted flips composed, bone after bone (a limb's upper bone before its lower one), each on
    # the joints of the pose so far
    combined = pose
    for k, (j, c) in enumerate(LIMB_BONES):
        if bool(better[k].any()):
            f = flip_bone(
                combined,
                objective.joints(dict(params, orient=combined[:, :3], body_pose=combined[:, 3:])),
                j,
                c,
            )
            combined = torch.where(better[k][:, None], f, combined)
    together = score(combined)
    best_one = scores.argmin(0)
    single = flipped[best_one, torch.arange(pose.shape[0], device=pose.device)]
    several = better.sum(0) > 1
    use_together = several & (together < scores.min(0).values)
    new = torch.where(use_together[:, None], combined, torch.where(better.any(0)[:, None], single, pose))
    params["orient"].copy_(new[:, :3])
    params["body_pose"].copy_(new[:, 3:])
    return torch.where(use_together, better.sum(0), better.any(0).long())


def _take_window(window: _Window | None, index: Tensor) -> _Window | None:
    return None if window is None else _Window(window.K[index], window.size, window.target[index])


def _on(t: FitTargets, device: torch.device, dtype: torch.dtype) -> FitTargets:
    move = lambda x: None if x is None else x.to(device)  # noqa: E731
    return FitTargets(
        t.K.to(device, dtype), t.joints2d.to(device, dtype), t.joints_weight.to(device, dtype), t.image_size,
        move(t.parts), None, t.group.to(device), t.consecutive, t.names, move(t.joints_visible),
    )  # fmt: skip


@dataclass(frozen=True)
class _Window:
    """Per-frame part windows: K (N, 3, 3) of the window; size (h, w); target (N, h, w) int64 parts 0..14."""

    K: Tensor
    size: tuple[int, int]
    target: Tensor


def _windows(t: FitTargets, margin: float) -> _Window:
    """A window per frame around its part pixels and weighted joints, all of the batch's largest size."""
    h, w = t.image_size
    boxes = []
    for i in range(t.num_frames):
        pts = [t.joints2d[i][t.joints_weight[i] > 0]]
        ys, xs = torch.nonzero(t.parts[i] > 0, as_tuple=True)
        pts.append(torch.stack([xs, ys], 1).to(t.joints2d))
        p = torch.cat(pts)
        lo, hi = p.amin(0), p.amax(0)
        boxes.append(torch.cat([lo, hi]))
    box = torch.stack(boxes)  # (N, 4) x0 y0 x1 y1
    size = (box[:, 2:] - box[:, :2]) * (1 + 2 * margin) + 16
    win_w = int(min(w, math.ceil(float(size[:, 0].max()))))
    win_h = int(min(h, math.ceil(float(size[:, 1].max()))))
    centre = (box[:, :2] + box[:, 2:]) / 2
    x0 = (centre[:, 0] - win_w / 2).round().clamp(0, w - win_w).long()
    y0 = (centre[:, 1] - win_h / 2).round().clamp(0, h - win_h).long()
    K = t.K.clone()
    K[:, 0, 2] -= x0.to(K)
    K[:, 1, 2] -= y0.to(K)
    rows = y0[:, None] + torch.arange(win_h, device=y0.device)
    cols = x0[:, None] + torch.arange(win_w, device=x0.device)
    n = torch.arange(t.num_frames, device=y0.device)[:, None, None]
    return _Window(K, (win_h, win_w), t.parts[n, rows[:, :, None], cols[:, None, :]])


class _Objective:
    """The per-frame objective (N,) and its terms for a set of parameters."""

    def __init__(
        self, t: FitTargets, body: BodyModel, mesh: PartMesh, prior: PosePrior, cfg: FitConfig, window
    ) -> None:
        self.t, self.body, self.mesh, self.prior, self.cfg, self.window = t, body, mesh, prior, cfg, window
        self.sigma2 = (cfg.joint_sigma * _person_size(t)) ** 2  # (N,)

    def pose(self, p: dict[str, Tensor], index: Tensor | None = None):
        index = torch.arange(self.t.num_frames, device=p["trans"].device) if index is None else index
        pose = torch.cat([p["orient"], p["body_pose"]], 1)
        if "betas" not in p:
            return self.body(None, pose, p["trans"], normals=False)
        group = self.t.group[index % self.t.num_frames]
        return self.body(p["betas"], pose, p["trans"], normals=False, shape_index=group)

    def joints(self, p: dict[str, Tensor]) -> Tensor:
        """(M, 24, 3) the joints alone (no vertices: much cheaper)."""
        pose = torch.cat([p["orient"], p["body_pose"]], 1)
        betas = p["betas"][self.t.group] if "betas" in p else None
        return self.body.posed_joints(pose, betas) + p["trans"][:, None].to(self.body.dtype)

    def joints_term(self, joints3d: Tensor, frames: Tensor, anneal: float = 0.0) -> Tensor:
        """(M,) robust (Geman-McClure) mean squared reprojection error, in units of the joint sigma; the
        sigma is ``cfg.joint_sigma_anneal`` times larger at ``anneal`` = 1 (the loss of a near joint
        unchanged, a far one still pulled)."""
        k = (1 + (self.cfg.joint_sigma_anneal - 1) * anneal) ** 2
        uv = project(joints3d, self.t.K[frames])
        d2 = ((uv - self.t.joints2d[frames]) ** 2).sum(-1) / self.sigma2[frames, None]
        rho = k * d2 / (k + d2)
        w = self.t.joints_weight[frames]
        return (w * rho).sum(1) / w.sum(1).clamp_min(1e-9)

    def rendered_terms(self, verts: Tensor, joints: Tensor, frames: Tensor) -> dict[str, Tensor]:
        """The terms that need a rendering (none without a part window), each (M,): ``parts``, the mean
        squared error of the soft part map over the window; with the targets' visibility, ``visibility``,
        the squared depth (metres) by which the rendered surface at a joint's pixel contradicts its flag (a
        visible joint with a surface more than the joint tolerance in front of it; a hidden one without).
        verts: (M, V, 3), joints: (M, 24, 3) camera space."""
        win = self.window
        if win is None:
            return {}
        pred, depth, covered = soft_parts_and_depth(self.mesh, verts, win.K[frames], win.size)
        # the squared distance to the target's one-hot vector, without making it: |p|^2 - 2 p[target] + 1
        hit = pred.gather(-1, win.target[frames, ..., None])[..., 0]
        terms = {"parts": ((pred * pred).sum(-1) - 2 * hit + 1).mean((1, 2))}
        if self.t.joints_visible is None:
            return terms
        h, w = win.size
        uv = project(joints, win.K[frames]).detach().round().long()
        col, row = uv[..., 0], uv[..., 1]
        inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        flat = (torch.arange(len(frames), device=uv.device)[:, None] * (h * w) + row.clamp(0, h - 1) * w
                + col.clamp(0, w - 1))  # fmt: skip
        surface = depth.flatten()[flat]
        hit = covered.flatten()[flat] & inside
        gap = joints[..., 2] - DEFAULT_JOINT_TOLERANCE - surface  # > 0: a surface hides the joint
        visible = self.t.joints_visible[frames]
        wrong = torch.where(visible, torch.relu(gap), torch.relu(-gap)) * hit
        terms["visibility"] = (wrong**2).mean(1)
        return terms

    def __call__(self, p: dict[str, Tensor], anneal: float = 0.0) -> tuple[Tensor, dict[str, Tensor]]:
        """(N,) objective and its unweighted terms, at ``anneal`` in [0, 1] (1: the start of stage 2,
        priors ``cfg.prior_anneal`` times heavier and the joints' sigma ``cfg.joint_sigma_anneal`` times
        wider; 0: the weights as they are)."""
        n = self.t.num_frames
        frames = torch.arange(n, device=p["trans"].device)
        out = self.pose(p)
        wts = self.cfg.weights
        terms = {"joints": self.joints_term(out.joints, frames, anneal)}
        terms.update(self.rendered_terms(out.vertices, out.joints, frames))
        terms["pose_prior"] = self.prior(p["body_pose"])
        terms["limits"] = joint_limit_penalty(torch.cat([p["orient"], p["body_pose"]], 1))
        if "betas" in p:
            terms["shape"] = shape_penalty(p["betas"])[self.t.group]
        if self.t.consecutive and n > 1:
            step = ((out.joints[1:] - out.joints[:-1]) ** 2).sum(-1).mean(-1)
            terms["smooth"] = torch.cat([step, step.new_zeros(1)]) + torch.cat([step.new_zeros(1), step])
        prior_scale = 1 + (self.cfg.prior_anneal - 1) * anneal
        scale = {"pose_prior": prior_scale, "shape": prior_scale}
        total = sum(getattr(wts, k) * scale.get(k, 1.0) * v for k, v in terms.items())
        return total, {k: v.detach() for k, v in terms.items()}


def _person_size(t: FitTargets) -> Tensor:
    """(N,) each frame's person size in pixels: the longer side of its weighted 2D joints' box (the
    image's longer side where fewer than two joints are known), at least one pixel."""
    known = t.joints_weight > 0
    inf = torch.tensor(float("inf"), dtype=t.joints2d.dtype, device=t.joints2d.device)
    lo = torch.where(known[..., None], t.joints2d, inf).amin(1)
    hi = torch.where(known[..., None], t.joints2d, -inf).amax(1)
    extent = torch.where(known.sum(1) >= 2, (hi - lo).amax(-1), float(max(t.image_size)))
    return extent.clamp_min(1.0)


def _headings(count: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """(count, 3, 3) orientations: the body upright, facing the camera (Rx(pi): its +Y up to the camera's
    -Y, its front +Z to -Z), turned by 2 pi k / count about its vertical axis."""
    turns = [
        Rotation.from_euler("x", math.pi) * Rotation.from_euler("y", 2 * math.pi * k / count)
        for k in range(count)
    ]
    return torch.tensor(np.stack([r.as_matrix() for r in turns]), dtype=dtype, device=device)


def _hypotheses(objective: _Objective, cfg: FitConfig) -> tuple[Tensor, Tensor]:
    """Stage 1's starting points, ``cfg.candidates`` per frame: (N * C, 3, 3) orientations and (N * C, 69)
    body poses, hypothesis c of frame i at row c * N + i. From the prior's example poses (their own root
    orientation kept: lying and crouching bodies too; and each rolled half a turn about its spine) turned
    to each of ``cfg.orientations`` headings about the vertical, those whose joints, seen orthographically
    at the best scale and offset, lie nearest the frame's 2D joints (weighted); frames with fewer than 4
    weighted joints, or a prior without examples, start from the mean pose upright at evenly spread
    headings."""
    t, prior, body = objective.t, objective.prior, objective.body
    n, c = t.num_frames, cfg.candidates
    device, dtype = t.K.device, t.K.dtype
    heads = _headings(cfg.orientations, dtype, device)  # (H, 3, 3)
    spread = heads[torch.arange(c, device=device) * cfg.orientations // c]  # (C, 3, 3)
    orient = spread.repeat_interleave(n, 0)
    pose = prior.mean.to(device, dtype).expand(n * c, -1).clone()
    if prior.examples is None:
        return orient, pose
    examples = prior.examples.to(device, dtype)  # (M, 72), each with its own root orientation
    rest = body.posed_joints(examples)  # (M, 24, 3), body frame
    roots = Rotation.from_rotvec(examples[:, :3].double().cpu().numpy()).as_matrix()
    roots = torch.as_tensor(roots).to(heads)
    # each example also rolled half a turn about its own spine (pelvis to neck): a body lying face up
    # becomes one lying face down (for a standing one, this is another heading)
    spine = torch.nn.functional.normalize(rest[:, 12] - rest[:, 0], dim=-1)
    roll = 2 * spine[:, :, None] * spine[:, None, :] - torch.eye(3, dtype=dtype, device=device)
    rest = torch.cat([rest, (rest - rest[:, :1]) @ roll.transpose(1, 2)])  # (2M, 24, 3)
    roots = torch.cat([roots, roll @ roots])
    examples = torch.cat([examples, examples])
    m = examples.shape[0]
    seen = torch.einsum("hab,mjb->hmja", heads, rest)[..., :2].reshape(-1, NUM_JOINTS, 2)  # (H * M, 24, 2)
    for i in range(n):
        w = t.joints_weight[i]
        if int((w > 0).sum()) < 4:
            continue
        y = t.joints2d[i]
        yc = y - (w[:, None] * y).sum(0) / w.sum()
        xc = seen - (w[:, None] * seen).sum(1, keepdim=True) / w.sum()
        scale = (w[:, None] * xc * yc).sum((1, 2)) / (w[:, None] * xc * xc).sum((1, 2)).clamp_min(1e-12)
        residual = (w[:, None] * (scale[:, None, None] * xc - yc) ** 2).sum((1, 2))
        residual = torch.where(scale > 0, residual, torch.full_like(residual, float("inf")))
        best = residual.topk(c, largest=False).indices
        orient[i::n] = heads[best // m] @ roots[best % m]
        pose[i::n] = examples[best % m, 3:]
    return orient, pose


def _initial_translation(objective: _Objective) -> Tensor:
    """(N, 3): the pelvis at the depth where the mean body's torso has its size in pixels, under the
    pelvis joint (or the part pixels' centre); the mean body's rest pelvis subtracted (``trans`` moves the
    body, whose pelvis sits at its rest position)."""
    t, body = objective.t, objective.body
    with torch.no_grad():
        rest = body(None, torch.zeros(1, 72, dtype=body.dtype, device=body.device), normals=False)
    joints = rest.joints[0]
    height = float(rest.vertices[0, :, 1].max() - rest.vertices[0, :, 1].min())
    f = t.K[:, 0, 0]
    out = []
    for i in range(t.num_frames):
        w = t.joints_weight[i]
        pairs = [(a, b) for a, b in TORSO_PAIRS if w[a] > 0 and w[b] > 0]
        if pairs:
            px = sum(float((t.joints2d[i, a] - t.joints2d[i, b]).norm()) for a, b in pairs)
            metres = sum(float((joints[a] - joints[b]).norm()) for a, b in pairs)
            z = float(f[i]) * metres / max(px, 1.0)
        else:
            ys = torch.nonzero(t.parts[i] > 0, as_tuple=True)[0].to(f) if t.parts is not None else None
            span = float(ys.max() - ys.min()) + 1 if ys is not None and ys.numel() else max(t.image_size) / 2
            z = float(f[i]) * height / span
        if w[0] > 0:
            u, v = t.joints2d[i, 0]
        else:
            ys, xs = torch.nonzero(t.parts[i] > 0, as_tuple=True)
            u, v = xs.to(f).mean(), ys.to(f).mean()
        x = (float(u) - float(t.K[i, 0, 2])) * z / float(f[i])
        y = (float(v) - float(t.K[i, 1, 2])) * z / float(f[i])
        out.append(torch.tensor([x, y, z], dtype=f.dtype, device=f.device) - joints[0])
    return torch.stack(out)


def _placement(
    objective: _Objective, cfg: FitConfig, progress: Progress | None
) -> tuple[Tensor, Tensor, Tensor]:
    """Stage 1: (keep * N, 3) orientation, (keep * N, 69) body pose and (keep * N, 3) translation of each
    frame's ``cfg.keep`` best hypotheses (:func:`_hypotheses`; row k * N + i is frame i's k-th best), their
    orientation and translation fitted to the 2D joints."""
    t, n, c = objective.t, objective.t.num_frames, cfg.candidates
    device = t.K.device
    rot, body_pose = _hypotheses(objective, cfg)
    p = {
        "orient": _axis_angle(rot).requires_grad_(),
        "body_pose": body_pose,
        "trans": _initial_translation(objective).repeat(c, 1).requires_grad_(),
    }
    frames = torch.arange(n * c, device=device) % n
    opt = torch.optim.Adam([p["orient"], p["trans"]], lr=2.5 * cfg.lr)
    for step in range(cfg.placement_steps):
        opt.zero_grad()
        joints = objective.joints(p)
        loss = objective.joints_term(joints, frames, 1.0)
        loss.mean().backward()
        opt.step()
        if progress:
            progress("placement", step + 1, cfg.placement_steps, float(loss.detach().mean()))
    with torch.no_grad():
        out = objective.pose(p, frames)
        w = cfg.weights
        score = w.joints * objective.joints_term(out.joints, frames) + w.pose_prior * objective.prior(
            body_pose
        )
        for name, term in objective.rendered_terms(out.vertices, out.joints, frames).items():
            score = score + getattr(w, name) * term
        order = score.view(c, n).argsort(0)[: cfg.keep]  # (keep, N) hypotheses, best first
        best = (order * n + torch.arange(n, device=device)).flatten()  # row k * N + i: frame i's k-th
    return p["orient"].detach()[best], body_pose[best], p["trans"].detach()[best]


def _axis_angle(R: Tensor) -> Tensor:
    """(N, 3, 3) rotations -> (N, 3) axis-angle (through scipy: exact at every angle)."""
    rotvec = Rotation.from_matrix(R.detach().double().cpu().numpy()).as_rotvec()
    return torch.as_tensor(rotvec, dtype=R.dtype, device=R.device)
