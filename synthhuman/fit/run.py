"""``synthhuman fit``: bodies fitted to the frames of a canonical clip (and scored against its truth) or to
photos (parts from a segmentation network trained by ``synthhuman train``, 2D joints when the user has
them), written as ``fit.json``, overlay pictures and, optionally, meshes."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from synthhuman import viz
from synthhuman.atomic import atomic_write
from synthhuman.body.default_body import load_default_body
from synthhuman.body.model import BodyModel
from synthhuman.config import check_device, require, resolve_device
from synthhuman.conventions import GENDERS, NUM_JOINTS
from synthhuman.fit import metrics
from synthhuman.fit.fitting import FitConfig, FitResult, Progress, fit_bodies
from synthhuman.fit.parts import PartMesh, hard_parts
from synthhuman.fit.priors import library_pose_prior
from synthhuman.fit.targets import FitTargets, FitTruth, clip_targets, parse_frames, read_joints_file
from synthhuman.io.canonical import npz_shape, read_clip_info
from synthhuman.render import Fragments, rasterize, vertex_normals
from synthhuman.scene import BUNDLED_TEST_MOTIONS
from synthhuman.train.predict import predict_image, read_image
from synthhuman.train.run import load_trained

SURREAL_FOCAL_PER_WIDTH = 600.0 / 320.0
"""Default focal of a photo, in pixels per pixel of width: SURREAL's camera (600 px at 320 wide)."""


@dataclass(frozen=True)
class FitRunConfig:
    """A ``synthhuman fit`` run.

    sources: one canonical clip folder, or image files. out: the output folder. frames: the clip's frames
    (``start:stop:step`` or a comma list). person: the clip's person. segm_checkpoint: a segmentation
    model (``synthhuman train --task segm``) for images. joints: a JSON file of 2D joints for images
    (:func:`synthhuman.fit.targets.read_joints_file`). focal: pixels (images; default SURREAL's 600 at
    320 wide, scaled with the width). body: an SMPL-family file or folder (default: the bundled body);
    gender: its gender (default: the clip's, else neutral). motion: the user's motion (AMASS, ...) added to
    the pose prior's data. mesh: write each fitted body as ``.obj``. batch: frames fitted together.
    device: 'auto' | 'cpu' | 'cuda[:N]'.
    """

    sources: tuple[str, ...]
    out: str
    frames: str = "0:100:10"
    person: int = 0
    segm_checkpoint: str | None = None
    joints: str | None = None
    focal: float | None = None
    body: str | None = None
    gender: str | None = None
    motion: str | None = None
    mesh: bool = False
    batch: int = 16
    device: str = "cpu"
    fit: FitConfig = field(default_factory=FitConfig)

    def __post_init__(self) -> None:
        require(len(self.sources) >= 1, "sources", "a clip folder or image files", self.sources)
        for s in self.sources:
            require(Path(s).exists(), "sources", "existing clip folders or image files", s)
        clip = Path(self.sources[0]).is_dir()
        require(
            not clip or len(self.sources) == 1, "sources", "one clip folder (or image files)", self.sources
        )
        if not clip:
            require(self.segm_checkpoint is not None, "segm_checkpoint", "a checkpoint to fit images", None)
        for name in ("segm_checkpoint", "joints", "body", "motion"):
            value = getattr(self, name)
            require(value is None or Path(value).exists(), name, "an existing path", value)
        require(self.person >= 0, "person", ">= 0", self.person)
        require(self.focal is None or self.focal > 0, "focal", "> 0 pixels", self.focal)
        require(self.gender is None or self.gender in GENDERS, "gender", f"one of {GENDERS}", self.gender)
        require(self.batch >= 1, "batch", ">= 1", self.batch)
        check_device(self.device)


def load_body(path: str | None, gender: str, device: torch.device) -> BodyModel:
    """The bundled default body of ``gender``, or the user's SMPL-family file or folder."""
    if path is None:
        return load_default_body(gender).to(device)
    source = Path(path)
    return BodyModel(source, gender=gender if source.is_dir() else None).to(device)


def run_fit(cfg: FitRunConfig, progress: Progress | None = None) -> dict:
    """Fit, write ``fit.json``, the pictures and meshes under ``cfg.out``; returns fit.json's content."""
    device = resolve_device(cfg.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {cfg.device} asked for, but no CUDA device is available")
    prior = library_pose_prior(cfg.motion, exclude=BUNDLED_TEST_MOTIONS)
    if Path(cfg.sources[0]).is_dir():
        targets, truth, gender = _clip(cfg)
    else:
        targets, truth, gender = _images(cfg, device), None, cfg.gender or "neutral"
    body = load_body(cfg.body, gender, device)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results = []
    for first in range(0, targets.num_frames, cfg.batch):
        index = torch.arange(first, min(first + cfg.batch, targets.num_frames))
        results.append(fit_bodies(targets.take(index), body, prior, cfg.fit, progress))
    seconds = time.perf_counter() - start
    result = _cat(results)
    mesh = PartMesh.of(body.faces, body.part_labels, body.face_labels, body.dtype)
    verts = result.vertices
    K = targets.K.to(verts)
    parts = hard_parts(mesh, verts, K, targets.image_size).cpu()
    frames = _frame_records(targets, result, parts, truth)
    summary = {
        "frames": frames,
        "seconds": seconds,
        "seconds_per_frame": seconds / targets.num_frames,
        "body": str(body.data.path),
        "gender": gender,
        "prior_frames": prior.frames,
        "config": asdict(cfg),
    }
    if truth is not None:
        summary["median"] = {
            k: float(np.median([f[k] for f in frames]))
            for k in ("mpjpe_mm", "pa_mpjpe_mm", "part_iou", "silhouette_iou")
        }
    for i, name in enumerate(targets.names):
        stem = name.replace("/", "_")
        if targets.image is not None:
            viz.write_png(out / f"overlay_{stem}.png", overlay(targets.image[i], verts[i], body, K[i]))
        if cfg.mesh:
            _write_obj(out / f"mesh_{stem}.obj", verts[i], body.faces)
    with atomic_write(out / "fit.json") as f:
        f.write(json.dumps(summary, indent=1).encode())
    return summary


def _clip(cfg: FitRunConfig) -> tuple[FitTargets, FitTruth, str]:
    folder = Path(cfg.sources[0])
    info = read_clip_info(folder)
    frames = parse_frames(cfg.frames, npz_shape(folder / "labels.npz", "segm")[0])
    targets, truth = clip_targets(folder, frames, cfg.person)
    genders = info.genders
    gender = cfg.gender or (genders[cfg.person] if cfg.person < len(genders) else "neutral")
    return targets, truth, gender


def _images(cfg: FitRunConfig, device: torch.device) -> FitTargets:
    paths = [Path(p) for p in cfg.sources]
    images = [read_image(p) for p in paths]
    sizes = {tuple(im.shape[:2]) for im in images}
    if len(sizes) != 1:
        raise ValueError(
            f"sources: expected images of one size (fit them in separate runs), got sizes {sizes}"
        )
    h, w = images[0].shape[:2]
    state, train_cfg = load_trained(Path(cfg.segm_checkpoint), device)
    if train_cfg.train.task != "segm":
        raise ValueError(
            f"{cfg.segm_checkpoint}: expected a segmentation model, got task {train_cfg.train.task!r}"
        )
    n = len(paths)
    if cfg.joints is not None:
        joints2d, weight = read_joints_file(cfg.joints, paths)
    else:
        joints2d, weight = torch.zeros(n, NUM_JOINTS, 2, dtype=torch.float64), torch.zeros(n, NUM_JOINTS)
    parts = []
    for i, image in enumerate(images):
        known = weight[i] > 0
        box = None
        if int(known.sum()) >= 2:
            lo, hi = joints2d[i][known].amin(0), joints2d[i][known].amax(0)
            box = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
        parts.append(predict_image(state.model, image, box).long())
    f = cfg.focal or SURREAL_FOCAL_PER_WIDTH * w
    K = torch.tensor([[f, 0.0, (w - 1) / 2], [0.0, f, (h - 1) / 2], [0.0, 0.0, 1.0]], dtype=torch.float64)
    return FitTargets(
        K=K.expand(n, 3, 3).clone(),
        joints2d=joints2d.double(),
        joints_weight=weight.double(),
        image_size=(h, w),
        parts=torch.stack(parts),
        image=torch.stack(images),
        names=tuple(p.stem for p in paths),
    )


def _cat(results: list[FitResult]) -> FitResult:
    cat = lambda name: torch.cat([getattr(r, name) for r in results])  # noqa: E731
    terms = {k: torch.cat([r.terms[k] for r in results]) for k in results[0].terms}
    history = [h for r in results for h in r.history]
    names = ("pose", "betas", "trans", "joints3d", "vertices", "loss")
    return FitResult(*(cat(n) for n in names), terms, history)


def _frame_records(
    targets: FitTargets, result: FitResult, parts: Tensor, truth: FitTruth | None
) -> list[dict]:
    rows = []
    scores = {}
    if truth is not None:
        j = result.joints3d.double().cpu()
        scores = {
            "mpjpe_mm": metrics.mpjpe(j, truth.joints3d) * 1e3,
            "pa_mpjpe_mm": metrics.pa_mpjpe(j, truth.joints3d) * 1e3,
            "part_iou": metrics.part_iou(parts, truth.parts),
            "silhouette_iou": metrics.silhouette_iou(parts > 0, truth.silhouette),
        }
    for i, name in enumerate(targets.names):
        row = {
            "frame": name,
            "pose": result.pose[i].tolist(),
            "betas": result.betas[i].tolist(),
            "trans": result.trans[i].tolist(),
            "joints3d": result.joints3d[i].tolist(),
            "loss": float(result.loss[i]),
            "terms": {k: float(v[i]) for k, v in result.terms.items()},
        }
        row.update({k: float(v[i]) for k, v in scores.items()})
        rows.append(row)
    return rows


def overlay(image: Tensor, verts: Tensor, body: BodyModel, K: Tensor) -> np.ndarray:
    """Image | the fitted body shaded over it | its 24-part map, side by side. image: (H, W, 3) in [0, 1];
    verts: (V, 3) camera space; K: (3, 3)."""
    h, w = image.shape[:2]
    with torch.no_grad():
        frags: Fragments = rasterize(verts[None], body.faces, K[None], (h, w), cull_backfaces=True)
        normals = vertex_normals(verts[None], body.faces)[0]
        n = normals[body.faces[frags.face]].mean(1)
        shade = (0.25 + 0.75 * (-n[:, 2] / n.norm(dim=-1).clamp_min(1e-9)).clamp(0, 1))[:, None]
        grey = frags.to_dense(shade.expand(-1, 3).contiguous())[0].cpu()
        labels = frags.to_dense(body.face_labels[frags.face], fill=0)[0].cpu()
    covered = (labels > 0)[..., None]
    tint = torch.tensor([0.9, 0.75, 0.6]) * grey
    blended = torch.where(covered, 0.35 * image + 0.65 * tint, image)
    return viz.contact_sheet([[viz.rgb_image(image), viz.rgb_image(blended), viz.labels_image(labels)]])


def _write_obj(path: Path, verts: Tensor, faces: Tensor) -> None:
    import trimesh

    mesh = trimesh.Trimesh(verts.detach().cpu().numpy(), faces.cpu().numpy(), process=False)
    with atomic_write(path) as f:
        f.write(trimesh.exchange.obj.export_obj(mesh).encode())


__all__ = ["FitRunConfig", "load_body", "overlay", "run_fit"]
