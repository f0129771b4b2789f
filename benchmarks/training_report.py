"""The training experiment's page: ``docs/training.md`` with curves and example predictions.

Reads the run folders written by ``synthhuman train`` (one segmentation run, one depth run): their
``log.jsonl`` (loss, data share, evaluations) and ``checkpoint.pt``; renders a few test frames on the fly
(the runs' own fixed test split) and predicts them with both models; predicts a real photo (scikit-image's
``astronaut``, public domain, when scikit-image is installed).

    python benchmarks/training_report.py --segm RUN_SEGM --depth RUN_DEPTH --command "..." [--out docs]
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np
import torch

from synthhuman import viz
from synthhuman.data.frames import LabeledFrames
from synthhuman.train.loop import model_input, predict
from synthhuman.train.metrics import MetricsAccumulator
from synthhuman.train.predict import depth_classes_image, predict_image, prediction_picture
from synthhuman.train.run import load_trained, metrics_dict, task_batch, test_batches

PAPER = {"iou": 69.13, "accuracy": 80.61, "rmse_mm": 72.9, "st_rmse_mm": 56.3}
"""SURREAL's results on its test set (CVPR 2017, training on SURREAL, testing on SURREAL)."""
PAPER_PARAMS = 25.4e6
"""Parameters of SURREAL's network (8 stacks of 256 features; ``StackedHourglass`` at its defaults)."""


def read_log(run: Path) -> tuple[list[dict], list[dict]]:
    lines = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    return [x for x in lines if "loss" in x], [x for x in lines if "eval" in x]


def curves(runs: dict[str, Path], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for task, run in runs.items():
        steps, evals = read_log(run)
        axes[0].plot([x["step"] for x in steps], [x["loss"] for x in steps], label=task)
        if task == "segm":
            axes[1].plot(
                [x["step"] for x in evals], [100 * x["eval"]["iou"] for x in evals], "o-", label="IoU"
            )
            axes[1].plot(
                [x["step"] for x in evals],
                [100 * x["eval"]["accuracy"] for x in evals],
                "o-",
                label="accuracy",
            )
        else:
            for key, name in (
                ("rmse_mm", "RMSE"),
                ("st_rmse_mm", "st-RMSE"),
                ("pose_rmse_mm", "RMSE at joints"),
            ):
                axes[2].plot([x["step"] for x in evals], [x["eval"][key] for x in evals], "o-", label=name)
    axes[0].set(title="training loss (sum over stacks, mean per log interval)", xlabel="step", yscale="log")
    axes[1].set(title="segmentation, test set", xlabel="step", ylabel="%")
    axes[2].set(title="depth, test set", xlabel="step", ylabel="mm")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def _upsample(classes: torch.Tensor, size: int) -> torch.Tensor:
    """(h, w) class map repeated up to (size, size) (nearest), to sit beside the input crop."""
    return classes.repeat_interleave(size // classes.shape[0], 0).repeat_interleave(
        size // classes.shape[1], 1
    )


def _cell(value: float | None, scale: float = 1.0, fmt: str = ".1f") -> str:
    return "-" if value is None else format(scale * value, fmt)


def examples(runs: dict[str, Path], count: int, out: Path) -> None:
    """Rows: test frames (input crop, ground truth and prediction for each task), then the photo."""
    models = {task: load_trained(run / "checkpoint.pt") for task, run in runs.items()}
    _, cfg = models["segm"]
    frames = LabeledFrames.cat(list(test_batches(cfg, count)))
    rows = []
    size = cfg.augment.input_size
    for task, (state, run_cfg) in models.items():
        batch = task_batch(frames, task, run_cfg.augment, train=False)
        with torch.no_grad():
            pred = predict(state.model(model_input(batch.image)))
        for i in range(len(frames)):
            if task == "segm":
                rows.append([viz.rgb_image(batch.image[i])])
            colour = viz.labels_image if task == "segm" else depth_classes_image
            rows[i] += [colour(_upsample(batch.labels[i], size)), colour(_upsample(pred[i], size))]
    sheet = viz.contact_sheet(rows)
    viz.write_png(out / "training_examples.png", sheet)
    try:
        from skimage import data as skdata
    except ImportError:
        return
    photo = torch.from_numpy(skdata.astronaut()[::2, ::2].astype(np.float32) / 255)  # 256 x 256
    pictures = [
        prediction_picture(photo, predict_image(state.model, photo), task)
        for task, (state, _) in models.items()
    ]
    viz.write_png(out / "training_photo.png", np.concatenate(pictures, 0))


def comparison(runs: dict[str, Path], baseline: dict[str, float]) -> str:
    """What the table can and cannot say, from the runs themselves: network size and steps against the
    paper's, how the test scores moved between the first and the last evaluation, and whether they beat
    the silhouette baseline."""
    state, _ = load_trained(runs["segm"] / "checkpoint.pt")
    params = sum(p.numel() for p in state.model.parameters())
    segm, depth = read_log(runs["segm"])[1], read_log(runs["depth"])[1]
    s0, s1, d0, d1 = segm[0]["eval"], segm[-1]["eval"], depth[0]["eval"], depth[-1]["eval"]
    segm_verdict = "above" if s1["iou"] > baseline["iou"] else "not above"
    ratio = d1["st_rmse_mm"] / baseline["st_rmse_mm"]
    depth_verdict = "below" if ratio < 0.95 else "above" if ratio > 1.05 else "within 5 % of"
    return " ".join([
        f"Not comparable as scores: this network has {params / 1e6:.2f} M parameters (the paper's",
        f"{PAPER_PARAMS / 1e6:.1f} M), trained {segm[-1]['step']} (segmentation) and {depth[-1]['step']}",
        "(depth) steps (the paper's 60,000), and our test",
        f"set is not SURREAL's. Segmentation, from the first evaluation (step {segm[0]['step']}) to the",
        f"last (step {segm[-1]['step']}): test IoU {100 * s0['iou']:.2f} % -> {100 * s1['iou']:.2f} %,",
        f"accuracy {100 * s0['accuracy']:.2f} % -> {100 * s1['accuracy']:.2f} %, {segm_verdict} the",
        f"silhouette baseline's {100 * baseline['iou']:.2f} % IoU. Depth, step {depth[0]['step']} ->",
        f"{depth[-1]['step']}: RMSE {d0['rmse_mm']:.1f} -> {d1['rmse_mm']:.1f} mm, st-RMSE",
        f"{d0['st_rmse_mm']:.1f} -> {d1['st_rmse_mm']:.1f} mm, {depth_verdict} the baseline's st-RMSE",
        f"{baseline['st_rmse_mm']:.1f} mm.",
    ])  # fmt: skip


def silhouette_baselines(run: Path) -> dict[str, float]:
    """Scores of a model that knows the true silhouette and nothing else, on the run's test set: every
    body pixel one part (the best single part for IoU) and one depth bin (the best for RMSE)."""
    _, cfg = load_trained(run / "checkpoint.pt")
    frames = LabeledFrames.cat(list(test_batches(cfg, cfg.eval_clips)))
    scores: dict[str, float] = {}
    for task, classes in (("segm", range(1, 15)), ("depth", range(1, 20))):
        batch = task_batch(frames, task, cfg.augment, train=False)
        body = batch.labels > 0
        results = []
        for c in classes:
            acc = MetricsAccumulator()
            guess = torch.where(body, c, 0)
            if task == "segm":
                acc.add_segmentation(guess, batch.labels)
            else:
                acc.add_depth(guess, batch.labels, batch.joints)
            results.append(metrics_dict(acc.result()))
        if task == "segm":
            scores.update(max(results, key=lambda r: r["iou"]))
        else:
            best = min(results, key=lambda r: r["rmse_mm"])
            scores.update({k: best[k] for k in ("rmse_mm", "st_rmse_mm", "pose_rmse_mm")})
    return scores


def page(runs: dict[str, Path], command: str, remarks: list[str], out: Path) -> str:
    finals = {task: json.loads((run / "metrics.json").read_text()) for task, run in runs.items()}
    steps = {task: read_log(run)[0] for task, run in runs.items()}
    run_cfgs = {task: json.loads((run / "run.json").read_text()) for task, run in runs.items()}
    s, d = finals["segm"], finals["depth"]
    b = silhouette_baselines(runs["segm"])
    cfg = run_cfgs["segm"]
    t = cfg["train"]
    lines = [
        "# Learning from synthetic humans: training on our data",
        "",
        "Regenerate this page: train the two runs, then `python benchmarks/training_report.py --segm RUN "
        "--depth RUN --command '...'` (curves, example predictions and the table below from the runs' logs).",
        "",
        "## What was run",
        "",
        f"Machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, CPU only "
        "(no GPU was available to this work). Both runs rendered their training data on the fly "
        "(`synthhuman.data.onthefly.SyntheticHumans`: the default body, bundled motions, procedural "
        "clothing and backgrounds, the same "
        "sampler and seeds as `synthhuman generate`), and were tested on the fixed on-the-fly test split "
        f"(the middle frame of {cfg['eval_clips']} test clips, seed {cfg['test_seed']}: test motions, "
        "shapes, textures and backgrounds).",
        "",
        "```",
        command,
        "```",
        "",
        *(f"- {r}" for r in remarks),
        *([""] if remarks else []),
        f"Network: stacked hourglass with {t['stacks']} stacks of {t['features']} features at input "
        f"{t['input_size']} (SURREAL: 8 x 256 at 256), batch {t['batch']}, RMSprop lr {t['lr']}, "
        f"{finals['segm']['step']} (segmentation) and {finals['depth']['step']} (depth) steps "
        "(SURREAL: 60,000 steps of 6, 30 epochs on 55k clips). Crop and augmentation as "
        "SURREAL's; 320x240 renders.",
        "",
        "## Results",
        "",
        "| | IoU % | accuracy % | depth RMSE mm | st-RMSE mm | RMSE at joints mm |",
        "|---|---|---|---|---|---|",
        f"| SURREAL (paper, full network, 60k steps, GPU) | {PAPER['iou']} | {PAPER['accuracy']} | "
        f"{PAPER['rmse_mm']} | {PAPER['st_rmse_mm']} | - |",
        f"| ours, this CPU run (step {s['step']} / {d['step']}) | {100 * s['iou']:.2f} | "
        f"{100 * s['accuracy']:.2f} | {d['rmse_mm']:.1f} | {d['st_rmse_mm']:.1f} | {d['pose_rmse_mm']:.1f} |",
        f"| baseline: the true silhouette, one part / one depth bin for all of it | {100 * b['iou']:.2f} | "
        f"{100 * b['accuracy']:.2f} | {b['rmse_mm']:.1f} | {b['st_rmse_mm']:.1f} | {b['pose_rmse_mm']:.1f} |",
        "",
        comparison(runs, b),
        "",
        "Test scores as training went on:",
        "",
        "| step | IoU % | accuracy % | RMSE mm | st-RMSE mm | RMSE at joints mm |",
        "|---|---|---|---|---|---|",
    ]
    evals = {task: {x["step"]: x["eval"] for x in read_log(run)[1]} for task, run in runs.items()}
    for step in sorted(set(evals["segm"]) | set(evals["depth"])):
        a, b = evals["segm"].get(step, {}), evals["depth"].get(step, {})
        lines.append(
            f"| {step} | {_cell(a.get('iou'), 100, '.2f')} | {_cell(a.get('accuracy'), 100, '.2f')} | "
            f"{_cell(b.get('rmse_mm'))} | {_cell(b.get('st_rmse_mm'))} | {_cell(b.get('pose_rmse_mm'))} |"
        )
    lines += [
        "",
        "## Share of each step spent producing data",
        "",
        "Sums over each run's log (`log.jsonl`): the loop's wait for data, and the time the prefetching "
        "thread spent sampling, posing and rasterizing, against the wall time of the steps.",
        "",
    ]
    for task, entries in steps.items():
        total = sum(x["step_s"] for x in entries)
        n = sum(x["steps"] for x in entries)
        wait = sum(x["data_s"] for x in entries) / total
        render = sum(x.get("render_s", 0.0) for x in entries) / total
        lines.append(
            f"- {task}: {n} steps, {1000 * total / n:.0f} ms per step; the loop waited for data "
            f"**{100 * wait:.1f} %** of the time; rendering took **{100 * render:.0f} %** of the wall time "
            "(goal on a GPU: < 10 %)."
        )
    lines += [
        "",
        "On a CPU the rendering thread and the training share the same cores: the thread's share is its "
        "wall time under that contention, and prefetching hides the wait but shortens a step only as far "
        "as idle cores allow. The goal is about a GPU, where rendering runs on the GPU and sampling on "
        "the CPU beside it; not measured here (no GPU).",
        "",
        "![loss and test scores against steps](training_curves.png)",
        "",
        "## Example predictions",
        "",
        "Test frames (the network's crop): input, then segmentation ground truth and prediction "
        "(15 classes), then depth ground truth and prediction (19 bins of 45 mm around the pelvis; near "
        "bright, far dark).",
        "",
        "![test frames: input, segmentation truth and prediction, depth truth and prediction]"
        "(training_examples.png)",
        "",
    ]
    if (out / "training_photo.png").exists():
        lines += [
            "A real photo (scikit-image's `astronaut`, public domain), `synthhuman predict` on the whole "
            "image: input, prediction, overlay; segmentation above, depth below.",
            "",
            "![predictions on a real photo](training_photo.png)",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segm", type=Path, required=True)
    parser.add_argument("--depth", type=Path, required=True)
    parser.add_argument("--command", required=True, help="the commands that trained the runs, for the page")
    parser.add_argument("--remark", action="append", default=[], help="a line on how the runs were made")
    parser.add_argument("--examples", type=int, default=6)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    runs = {"segm": args.segm, "depth": args.depth}
    curves(runs, args.out / "training_curves.png")
    examples(runs, args.examples, args.out)
    (args.out / "training.md").write_text(page(runs, args.command, args.remark, args.out))
    print(f"wrote {args.out / 'training.md'}")


if __name__ == "__main__":
    main()
