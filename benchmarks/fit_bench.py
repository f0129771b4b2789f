"""Fitting benchmark (not a timed test): bodies fitted to generated test frames, scored against their truth,
and a real photo; writes docs/fitting.md and its pictures.

    python benchmarks/fit_bench.py --segm-checkpoint runs/segm/checkpoint.pt [--clips 30] [--work DIR]

Frames: every test clip of a ``generate`` run with a fixed seed (default body and motions, SURREAL's
distances), frames 5, 15, ..., 95 of each. Fitted in batches of 16 frames (the frames of one clip share
their shape), with the clip's body gender. Three sets of targets: the true part maps and true 2D joints;
the same joints with priors only (no rendered loss: the ablation); the parts predicted by the segmentation
network (``--segm-checkpoint``, cropped around the true joints as SURREAL's test protocol) with the true
joints. The photo: scikit-image's astronaut, parts from the network, no joints.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from synthhuman import viz
from synthhuman.body.default_body import load_default_body
from synthhuman.fit import (
    FitConfig,
    FitTargets,
    FitTruth,
    PartMesh,
    clip_targets,
    fit_bodies,
    hard_parts,
    library_pose_prior,
    mpjpe,
    pa_mpjpe,
    part_iou,
    silhouette_iou,
)
from synthhuman.fit.run import overlay
from synthhuman.generate import GenerateConfig, generate
from synthhuman.io.canonical import finished_clips, read_clip_info
from synthhuman.scene import BUNDLED_TEST_MOTIONS

ROOT = Path(__file__).resolve().parents[1]
FRAMES = list(range(5, 100, 10))


def cat_targets(parts: list[tuple[FitTargets, FitTruth]]) -> tuple[FitTargets, FitTruth]:
    ts = [t for t, _ in parts]
    group = torch.cat([torch.full((t.num_frames,), g) for g, t in enumerate(ts)])
    cat = lambda name: torch.cat([getattr(t, name) for t in ts])  # noqa: E731
    targets = FitTargets(
        cat("K"), cat("joints2d"), cat("joints_weight"), ts[0].image_size, cat("parts"), cat("image"), group,
        False, tuple(n for t in ts for n in t.names), cat("joints_visible"),
    )  # fmt: skip
    truth = FitTruth(
        *(torch.cat([getattr(tr, k) for _, tr in parts]) for k in ("joints3d", "parts", "silhouette"))
    )
    return targets, truth


def network_parts(targets: FitTargets, checkpoint: Path) -> torch.Tensor:
    from synthhuman.train.predict import predict_image
    from synthhuman.train.run import load_trained

    state, _ = load_trained(checkpoint, torch.device("cpu"))
    out = []
    for i in range(targets.num_frames):
        j = targets.joints2d[i]
        box = (float(j[:, 0].min()), float(j[:, 1].min()), float(j[:, 0].max()), float(j[:, 1].max()))
        out.append(predict_image(state.model, targets.image[i], box).long())
    return torch.stack(out)


def run(
    targets: FitTargets, truth: FitTruth, bodies: dict, genders: list[str], prior, cfg: FitConfig
) -> dict:
    """Fit in batches of at most 16 frames of one gender; per-frame scores and seconds per frame."""
    scores: dict[str, list[float]] = {"mpjpe_mm": [], "pa_mpjpe_mm": [], "part_iou": [], "silhouette_iou": []}
    seconds, pictures = 0.0, []
    for gender in sorted(set(genders)):
        rows = torch.tensor([i for i, g in enumerate(genders) if g == gender])
        body = bodies[gender]
        mesh = PartMesh.of(body.faces, body.part_labels, body.face_labels, body.dtype)
        for first in range(0, len(rows), 16):
            index = rows[first : first + 16]
            batch = targets.take(index)
            start = time.perf_counter()
            res = fit_bodies(batch, body, prior, cfg)
            seconds += time.perf_counter() - start
            K = batch.K.float()
            parts = hard_parts(mesh, res.vertices, K, batch.image_size)
            j, true_j = res.joints3d.double(), truth.joints3d[index]
            scores["mpjpe_mm"] += (mpjpe(j, true_j) * 1e3).tolist()
            scores["pa_mpjpe_mm"] += (pa_mpjpe(j, true_j) * 1e3).tolist()
            scores["part_iou"] += part_iou(parts, truth.parts[index]).tolist()
            scores["silhouette_iou"] += silhouette_iou(parts > 0, truth.silhouette[index]).tolist()
            if len(pictures) < 3:
                pictures.append(overlay(batch.image[0], res.vertices[0], body, K[0]))
    n = targets.num_frames
    summary = {k: statistics.median(v) for k, v in scores.items()}
    summary["seconds_per_frame"] = seconds / n
    summary["frames"] = n
    return {"median": summary, "per_frame": scores, "pictures": pictures}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--segm-checkpoint", type=Path, required=True)
    ap.add_argument("--clips", type=int, default=30, help="generated clips (a fifth are test clips)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--work", type=Path, default=Path("/tmp/fitbench"))
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "fitting.md")
    args = ap.parse_args()
    torch.manual_seed(0)
    data = args.work / "data"
    if not (data / "manifest.json").is_file():
        generate(GenerateConfig(out=str(data), clips=args.clips, seed=args.seed, device="cpu", preview=False))
    clips = finished_clips(data, ("test",))
    parts = [clip_targets(c, FRAMES) for c in clips]
    genders = [read_clip_info(c).genders[0] for c in clips for _ in FRAMES]
    targets, truth = cat_targets(parts)
    bodies = {g: load_default_body(g) for g in set(genders)}
    prior = library_pose_prior(exclude=BUNDLED_TEST_MOTIONS)
    cfg = FitConfig()
    results = {
        "parts + joints (true)": run(targets, truth, bodies, genders, prior, cfg),
        "joints + priors only (ablation)": run(
            targets, truth, bodies, genders, prior, replace(cfg, use_parts=False)
        ),
    }
    predicted = replace(targets, parts=network_parts(targets, args.segm_checkpoint))
    results["parts from the network + true joints"] = run(predicted, truth, bodies, genders, prior, cfg)
    write_doc(args, results, clips, targets.num_frames)


def astronaut(checkpoint: Path, out: Path) -> Path | None:
    try:
        from skimage import data
    except ImportError:
        print("scikit-image does not import here: the photo was not fitted (pip install scikit-image)")
        return None
    from synthhuman.fit import FitRunConfig, run_fit

    photo = viz.write_png(out / "astronaut.png", data.astronaut())
    summary = run_fit(
        FitRunConfig((str(photo),), str(out / "astronaut_fit"), segm_checkpoint=str(checkpoint))
    )
    return out / "astronaut_fit" / f"overlay_{summary['frames'][0]['frame']}.png"


def write_doc(args, results: dict, clips: list[Path], frames: int) -> None:
    docs = args.doc.parent
    sheet = [p for r in results.values() for p in r["pictures"][:2]]
    viz.write_png(docs / "fitting_examples.png", np.concatenate(sheet, 0))
    photo = astronaut(args.segm_checkpoint, args.work)
    if photo is not None:
        (docs / "fitting_astronaut.png").write_bytes(photo.read_bytes())
    full, ablation = (
        results["parts + joints (true)"]["median"],
        results["joints + priors only (ablation)"]["median"],
    )
    gain = 1 - full["pa_mpjpe_mm"] / ablation["pa_mpjpe_mm"]
    lines = [
        "# Fitting bodies to images through the renderer",
        "",
        "Regenerate: `python benchmarks/fit_bench.py --segm-checkpoint runs/segm/checkpoint.pt` "
        f"(here: {args.clips} generated clips, seed {args.seed}, {len(clips)} test clips x frames "
        f"5, 15, ..., 95 = {frames} frames; batches of 16 frames; {platform.machine()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU).",
        "",
        "| targets | median MPJPE (mm) | median PA-MPJPE (mm) | median part IoU | median silhouette IoU "
        "| s / frame |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        m = r["median"]
        lines.append(
            f"| {name} | {m['mpjpe_mm']:.0f} | {m['pa_mpjpe_mm']:.0f} | {m['part_iou']:.3f} | "
            f"{m['silhouette_iou']:.3f} | {m['seconds_per_frame']:.2f} |"
        )
    lines += ["", f"The rendered terms change the median PA-MPJPE by **{-100 * gain:+.0f} %** against joints "
              "and priors alone (negative: better).", ""]  # fmt: skip
    (args.work / "results.json").write_text(
        json.dumps(
            {k: {"median": v["median"], "per_frame": v["per_frame"]} for k, v in results.items()}, indent=1
        )
    )
    args.doc.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
