"""Does variety help? (not a timed test): two segmentation runs trained with the same budget, one on
SURREAL-style scenes and one on varied scenes, each evaluated on both test sets; writes the section
"Does variety help?" of docs/training.md and its example picture.

    synthhuman train --out RUNS/surreal --task segm --steps 2000 ... --camera surreal \\
        --background-style surreal-style --clothing surreal-style
    synthhuman train --out RUNS/varied --task segm --steps 2000 ... --camera moving --occluders 2
    python benchmarks/variety_bench.py --surreal RUNS/surreal --varied RUNS/varied [--clips 100]

Test sets (on the fly, the runs' fixed test split: test motions, shapes, textures, seed 0, the middle
frame of each clip): *SURREAL-style* (SURREAL's level static camera at ~8 m, the older gradient/room
backgrounds and flat clothing) and *hard* (moving cameras with focal lengths of 300-1500 px, two
occluders per clip, photo-like backgrounds, fabric clothing).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
from pathlib import Path

import torch

from synthhuman import viz
from synthhuman.config import from_mapping
from synthhuman.data.frames import LabeledFrames
from synthhuman.scene import SceneConfig
from synthhuman.train.loop import model_input, predict
from synthhuman.train.run import evaluate_model, load_trained, metrics_dict, task_batch, test_batches

ROOT = Path(__file__).resolve().parents[1]
TEST_SCENES = {
    "SURREAL-style": {"camera": {"mode": "surreal"}, "background": {"style": "surreal-style"},
                      "texture": {"style": "surreal-style"}},
    "hard": {"camera": {"mode": "moving"}, "occluders": {"count": 2}},
}  # fmt: skip
BEGIN, END = "<!-- variety: begin -->", "<!-- variety: end -->"


def upsample(classes: torch.Tensor, size: int) -> torch.Tensor:
    return classes.repeat_interleave(size // classes.shape[0], 0).repeat_interleave(
        size // classes.shape[1], 1
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--surreal", type=Path, required=True, help="run trained on SURREAL-style scenes")
    ap.add_argument("--varied", type=Path, required=True, help="run trained on varied scenes")
    ap.add_argument("--clips", type=int, default=100, help="test clips per test set")
    ap.add_argument("--examples", type=int, default=4, help="hard test frames in the picture")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "training.md")
    args = ap.parse_args()
    runs = {"SURREAL-style": args.surreal, "varied": args.varied}
    models = {name: load_trained(run / "checkpoint.pt") for name, run in runs.items()}
    scores: dict[str, dict[str, dict]] = {}
    for test, scene in TEST_SCENES.items():
        for name, (state, cfg) in models.items():
            test_cfg = dataclasses.replace(cfg, scene=from_mapping(SceneConfig, scene, None, {}))
            result = evaluate_model(state.model, "segm", test_batches(test_cfg, args.clips), cfg.augment)
            scores.setdefault(name, {})[test] = metrics_dict(result)
            print(name, "on", test, json.dumps(scores[name][test]), flush=True)
    # example picture: hard test frames, input crop | truth | each model's prediction
    state, cfg = models["varied"]
    hard_cfg = dataclasses.replace(cfg, scene=from_mapping(SceneConfig, TEST_SCENES["hard"], None, {}))
    frames = LabeledFrames.cat(list(test_batches(hard_cfg, args.examples)))
    batch = task_batch(frames, "segm", cfg.augment, train=False)
    size = cfg.augment.input_size
    rows = [[viz.rgb_image(batch.image[i]), viz.labels_image(upsample(batch.labels[i], size))] for i in
            range(len(frames))]  # fmt: skip
    for state, _ in models.values():
        with torch.no_grad():
            pred = predict(state.model(model_input(batch.image)))
        for i in range(len(frames)):
            rows[i].append(viz.labels_image(upsample(pred[i], size)))
    viz.write_png(args.doc.parent / "training_variety.png", viz.contact_sheet(rows))
    write_section(args, runs, models, scores)


def write_section(args, runs: dict[str, Path], models: dict, scores: dict) -> None:
    steps = {name: state.step for name, (state, _) in models.items()}
    commands = {name: json.loads((run / "run.json").read_text()) for name, run in runs.items()}
    train = commands["varied"]["train"]
    lines = [
        BEGIN,
        "## Does variety help?",
        "",
        "Regenerate: train the two runs, then `python benchmarks/variety_bench.py --surreal RUN --varied "
        f"RUN --clips {args.clips}` ({platform.machine()}, torch {torch.__version__}, CPU). Two segmentation "
        f"runs with the same budget ({train['stacks']}-stack, {train['features']}-feature hourglass at "
        f"input {train['input_size']}, batch {train['batch']}, {steps['varied']} steps each, seed 0, data "
        "rendered on the fly): one on **SURREAL-style** scenes (`--camera surreal --background-style "
        "surreal-style --clothing surreal-style`), one on **varied** scenes (`--camera moving --occluders "
        "2`, photo-like backgrounds and fabric clothing). Each is tested on "
        f"{args.clips} test clips (middle frames) of two fixed test sets: SURREAL-style scenes, and a "
        "**hard** set (moving cameras with focal lengths 300-1500 px, two occluders per clip, photo-like "
        "backgrounds, fabric clothing).",
        "",
        "| trained on | IoU % (SURREAL-style test) | accuracy % (SURREAL-style test) | IoU % (hard test) "
        "| accuracy % (hard test) |",
        "|---|---|---|---|---|",
    ]
    for name in runs:
        s, h = scores[name]["SURREAL-style"], scores[name]["hard"]
        lines.append(
            f"| {name} | {100 * s['iou']:.2f} | {100 * s['accuracy']:.2f} | {100 * h['iou']:.2f} | "
            f"{100 * h['accuracy']:.2f} |"
        )
    lines += [
        "",
        "Hard test frames (`training_variety.png`; input crop | truth | trained on SURREAL-style | "
        "trained on varied):",
        "",
        "![variety](training_variety.png)",
        "",
        "<!-- remarks -->",
        END,
    ]
    section = "\n".join(lines)
    text = args.doc.read_text()
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        old = rest.split(END, 1)
        remarks = old[0].split("<!-- remarks -->", 1)[1] if "<!-- remarks -->" in old[0] else "\n"
        section = section.replace("<!-- remarks -->", "<!-- remarks -->" + remarks.rstrip("\n") + "\n", 1)
        text = head + section + old[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    args.doc.write_text(text)
    print(section)


if __name__ == "__main__":
    main()
