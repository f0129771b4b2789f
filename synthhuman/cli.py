"""The ``synthhuman`` command line. It only maps flags onto configs and calls the library."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from synthhuman.cli_config import generate_config, run_config_from_flags, scene_flags
from synthhuman.cli_errors import ErrorLines, device_flag, state, usage
from synthhuman.config import ConfigError

app = typer.Typer(
    cls=ErrorLines, add_completion=False, no_args_is_help=True, help="Synthetic humans without Blender."
)


@app.callback()
def main(debug: bool = typer.Option(False, "--debug", help="show the traceback of an error")) -> None:
    """Synthetic humans without Blender."""
    from synthhuman._memory import tune_memory

    state["debug"] = debug
    tune_memory()


@app.command()
def bench(
    device: str = typer.Option("cpu", help="cpu or cuda"),
    batch: int = typer.Option(32, help="frames per batch"),
    height: int = typer.Option(240),
    width: int = typer.Option(320),
    iterations: int = typer.Option(10, help="timed batches"),
    warmup: int = typer.Option(2, help="untimed batches first"),
    no_antialias: bool = typer.Option(False, "--no-antialias", help="skip silhouette anti-aliasing"),
    backend: str = typer.Option("auto", help="auto, warp, torch or pytorch3d [auto: warp where installed]"),
    threads: int = typer.Option(0, help="torch CPU threads (0: torch's default)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON (key 'fps')"),
) -> None:
    """Render throughput of a ~14k-triangle body-like mesh with RGB and every ground-truth layer."""
    from dataclasses import asdict

    from synthhuman.bench import BenchConfig, run_bench
    from synthhuman.pipeline import RenderConfig

    with usage(("device", "batch", "height", "width", "iterations", "warmup", "threads", "backend")):
        cfg = BenchConfig(
            device,
            batch,
            height,
            width,
            iterations,
            warmup,
            threads or None,
            RenderConfig(backend=backend, antialias=not no_antialias),
        )
        device_flag(device)
    res = run_bench(cfg)
    if as_json:
        typer.echo(json.dumps(asdict(res), indent=2))
        return
    typer.echo(
        f"{res.fps:.1f} frames/s with the {res.config['render']['backend']} backend  "
        f"({res.seconds_per_batch * 1e3:.1f} ms per batch of {batch}, "
        f"{width}x{height}, {res.triangles} triangles, {res.covered_pixels_per_frame:.0f} covered px/frame)"
    )
    for name, sec in res.stage_seconds_per_batch.items():
        typer.echo(f"  {name:<13}{sec * 1e3:8.1f} ms/batch  {100 * sec / res.seconds_per_batch:5.1f} %")
    typer.echo(
        f"peak memory {res.peak_memory_mb:.0f} MB on {res.device_name}, {res.threads} threads, "
        f"torch {res.torch_version}"
    )


@app.command("render-test")
def render_test(
    out: Path = typer.Option(Path("preview.png"), help="PNG contact sheet to write"),
    frames: int = typer.Option(4, help="frames shown (rows)"),
    height: int = typer.Option(240),
    width: int = typer.Option(320),
    seed: int = typer.Option(0),
) -> None:
    """Render the built-in test scene and write a contact sheet: RGB, depth, normals, parts, flow, joints."""
    import torch

    from synthhuman import viz
    from synthhuman.demo_scene import demo_clip
    from synthhuman.pipeline import render_frames

    if frames < 1:
        raise ConfigError(f"--frames: expected >= 1, got {frames}")
    clip_len = 8 * frames
    batch, topo = demo_clip(clip_len, (height, width), seed=seed)
    with torch.no_grad():
        res = render_frames(batch, topo)
    rows = [
        viz.layer_panels(
            res.rgb[i],
            res.depth[i],
            res.normals[i],
            res.segm[i],
            res.flow.flow[i],
            res.flow.valid[i],
            res.joints.joints2d[i],
            res.joints.visible[i],
        )  # fmt: skip
        for i in range(0, clip_len, 8)
    ]
    viz.write_png(out, viz.contact_sheet(rows))
    typer.echo(f"wrote {out}: {frames} frames x (rgb, depth, normals, segmentation, flow, joints)")


@app.command()
def generate(
    out: Path = typer.Option(..., "--out", help="output folder"),
    config: Path = typer.Option(None, "--config", help="TOML or YAML file setting any config field"),
    clips: int = typer.Option(None, help="clips in all (train + test) [4]"),
    frames: int = typer.Option(None, help="frames per clip [100]"),
    seed: int = typer.Option(None, help="run seed [0]"),
    height: int = typer.Option(None, help="[240]"),
    width: int = typer.Option(None, help="[320]"),
    device: str = typer.Option(None, help="auto, cpu or cuda [auto]"),
    people: int = typer.Option(None, help="people per scene [1]"),
    fmt: str = typer.Option(None, "--format", help="canonical, surreal or webdataset [canonical]"),
    body: Path = typer.Option(None, help="SMPL-family model file or smplx.create folder [default body]"),
    gender: str = typer.Option(None, help="neutral, male or female: the only gender drawn [female, male]"),
    motion: Path = typer.Option(None, help="motion file or folder (AMASS, SURREAL, BVH, ours) [bundled]"),
    shapes: Path = typer.Option(None, help="SURREAL smpl_data.npz whose shapes to use (with --body)"),
    textures: Path = typer.Option(None, help="texture folder (SURREAL layout or images) [procedural]"),
    backgrounds: str = typer.Option(None, help="image folder, or 'skimage' [procedural]"),
    uv_template: Path = typer.Option(None, help=".obj with the body's UVs"),
    resume: bool = typer.Option(False, "--resume", help="continue a run: skip finished clips"),
    shard: str = typer.Option(None, help="i/n: write clips i, i+n, ... of the run"),
    ray: str = typer.Option(None, help="run on Ray: 'local', 'auto' or a cluster address"),
    png: bool = typer.Option(False, "--png", help="also write lossless PNG frames (canonical)"),
    batch_frames: int = typer.Option(None, help="frames rendered per batch [100]"),
    writers: int = typer.Option(None, help="encoding/writing threads [2]"),
    no_preview: bool = typer.Option(False, "--no-preview", help="skip OUT/preview.png"),
    backend: str = typer.Option(None, help="auto, warp, torch or pytorch3d [auto: warp where installed]"),
    camera: str = typer.Option(
        None, help="surreal (level, static, 600 px), varied (focal, height, roll per clip), moving [surreal]"
    ),
    background_style: str = typer.Option(
        None, help="procedural backgrounds: photo-like or surreal-style [photo-like]"
    ),
    clothing: str = typer.Option(None, help="procedural clothing textures: fabric or surreal-style [fabric]"),
    degrade: str = typer.Option(
        None, help="comma list of blur, defocus, noise, jitter, jpeg, h264; or all, none [none]"
    ),
    occluders: int = typer.Option(None, help="occluders per clip: boxes, cylinders, slabs, poles [0]"),
    ground: bool = typer.Option(False, "--ground", help="the floor as geometry, with contact shadows"),
) -> None:
    """Generate a dataset of rendered clips with every ground-truth layer (see README)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from synthhuman.generate import generate as run

    flags = dict(clips=clips, frames=frames, seed=seed, height=height, width=width, device=device,
                 people=people, format=fmt, body=body, motion=motion, shapes=shapes, textures=textures,
                 backgrounds=backgrounds, uv_template=uv_template, batch_frames=batch_frames,
                 writers=writers, ray=ray, backend=backend,
                 genders=None if gender is None else (gender,))  # fmt: skip
    if resume:
        flags["resume"] = True
    if png:
        flags["png"] = True
    if no_preview:
        flags["preview"] = False
    if shard is not None:
        try:
            i, n = (int(x) for x in shard.split("/"))
        except ValueError:
            raise ConfigError(f"--shard: expected i/n such as 0/4, got {shard!r}") from None
        flags["shard"] = (i, n)
    with usage():
        flags.update(scene_flags(camera, background_style, clothing, degrade, occluders, ground))
        cfg = generate_config(out, config, flags)
        if cfg.ray is None:
            device_flag(cfg.device)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TextColumn("{task.fields[fps]:.1f} frames/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("rendering", total=None, fps=0.0)
        start = time.perf_counter()

        def on_progress(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - start, 1e-9)
            progress.update(task, completed=done, total=total, fps=rate)

        res = run(cfg, on_progress)
    typer.echo(
        f"{res.written} clips written ({res.skipped} already done) to {cfg.out}: {res.frames} frames in "
        f"{res.seconds:.1f} s = {res.fps:.1f} frames/s"
    )
    for name, sec in res.stages.items():
        typer.echo(f"  {name:<16}{sec:8.2f} s")


@app.command()
def preview(
    folder: Path = typer.Argument(..., help="a dataset folder written by `synthhuman generate`"),
    out: Path = typer.Option(None, help="PNG to write [FOLDER/preview.png]"),
    clips: int = typer.Option(2),
    frames: int = typer.Option(4),
) -> None:
    """Contact sheet of a dataset read back from disk: RGB, depth, normals, parts, flow, joints."""
    from synthhuman.overview import preview_dataset

    path = preview_dataset(folder, out or folder / "preview.png", clips, frames)
    typer.echo(f"wrote {path}")


@app.command()
def info(
    folder: Path = typer.Argument(..., help="a dataset folder written by `synthhuman generate`"),
    sample: int = typer.Option(20, help="clips read for value ranges"),
) -> None:
    """Counts, sizes, value ranges and the distributions of the sampled parameters, as JSON."""
    from synthhuman.overview import dataset_info

    typer.echo(json.dumps(dataset_info(folder, sample), indent=1))


@app.command()
def train(
    out: Path = typer.Option(
        ..., "--out", help="run folder (checkpoint.pt, log.jsonl, run.json, metrics.json)"
    ),
    task: str = typer.Option(None, help="segm or depth [segm]"),
    config: Path = typer.Option(None, "--config", help="TOML or YAML file setting any run config field"),
    steps: int = typer.Option(None, help="optimisation steps [60000 = SURREAL's 30 x 2000]"),
    batch: int = typer.Option(None, help="frames per step [6]"),
    stacks: int = typer.Option(None, help="hourglass stacks [8]"),
    features: int = typer.Option(None, help="channels inside the hourglasses [256]"),
    input_size: int = typer.Option(None, help="network input side, a multiple of 64 [256]"),
    lr: float = typer.Option(None, help="RMSprop learning rate [1e-3]"),
    device: str = typer.Option(None, help="auto, cpu or cuda [auto]"),
    data: Path = typer.Option(None, help="train from a dataset written by `generate` [render on the fly]"),
    seed: int = typer.Option(None, help="training stream, augmentation and initialisation seed [0]"),
    eval_clips: int = typer.Option(None, help="test clips evaluated at the end [100]"),
    eval_every: int = typer.Option(None, help="steps between evaluations (0: at the end only) [0]"),
    checkpoint_every: int = typer.Option(None, help="steps between checkpoints [1000]"),
    log_every: int = typer.Option(None, help="steps between log lines [20]"),
    workers: int = typer.Option(None, help="DataLoader processes reading --data [0]"),
    tensorboard: bool = typer.Option(False, "--tensorboard", help="also write TensorBoard events"),
    resume: bool = typer.Option(False, "--resume", help="continue OUT/checkpoint.pt"),
    backend: str = typer.Option(None, help="auto, warp, torch or pytorch3d: renders on-the-fly data [auto]"),
    camera: str = typer.Option(None, help="on-the-fly scenes' camera: surreal, varied or moving [surreal]"),
    background_style: str = typer.Option(None, help="on-the-fly backgrounds: photo-like or surreal-style"),
    clothing: str = typer.Option(None, help="on-the-fly clothing: fabric or surreal-style [fabric]"),
    degrade: str = typer.Option(None, help="on-the-fly image degradations (as generate's) [none]"),
    occluders: int = typer.Option(None, help="on-the-fly occluders per clip [0]"),
    ground: bool = typer.Option(False, "--ground", help="on-the-fly scenes with the floor as geometry"),
) -> None:
    """Train SURREAL's stacked hourglass for part segmentation or quantized depth."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from synthhuman.train.run import train as run

    flags = dict(task=task, steps=steps, batch=batch, stacks=stacks, features=features, input_size=input_size,
                 lr=lr, device=device, data=data, seed=seed, eval_clips=eval_clips, eval_every=eval_every,
                 checkpoint_every=checkpoint_every, log_every=log_every, workers=workers,
                 backend=backend)  # fmt: skip
    if tensorboard:
        flags["tensorboard"] = True
    if resume:
        flags["resume"] = True
    with usage():
        flags.update(scene_flags(camera, background_style, clothing, degrade, occluders, ground))
        cfg = run_config_from_flags(out, config, flags)
        device_flag(cfg.device)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("step {task.completed}/{task.total}"),
        TextColumn("loss {task.fields[loss]:.3f}"),
        TextColumn("data {task.fields[share]:.0%} of step"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as progress:
        bar = progress.add_task(
            f"train {cfg.train.task}", total=cfg.train.steps, loss=float("nan"), share=0.0
        )

        def on_log(entry: dict) -> None:
            if "loss" in entry:
                progress.update(bar, completed=entry["step"], loss=entry["loss"], share=entry["data_share"])
            else:
                progress.console.print(f"step {entry['step']}: test {json.dumps(entry['eval'])}")

        res = run(cfg, on_log)
    typer.echo(
        f"trained steps {res.start}..{res.step} in {res.seconds:.1f} s, {res.data_share:.1%} of it "
        f"waiting for data; last loss {res.loss:.4f}; wrote {cfg.out}/checkpoint.pt"
    )
    typer.echo(f"test ({cfg.eval_clips} clips): {json.dumps(res.metrics)}")


@app.command()
def evaluate(
    checkpoint: Path = typer.Option(..., help="checkpoint.pt written by `synthhuman train`"),
    clips: int = typer.Option(None, help="test clips (one middle frame each) [the run's eval_clips]"),
    data: Path = typer.Option(None, help="evaluate on this dataset's test split [on the fly]"),
    seed: int = typer.Option(None, help="seed of the on-the-fly test set [the run's test_seed]"),
    device: str = typer.Option("auto", help="auto, cpu or cuda"),
    as_json: bool = typer.Option(
        False, "--json", help="print JSON: iou, accuracy, rmse_mm, st_rmse_mm, pose_rmse_mm"
    ),
) -> None:
    """SURREAL's test metrics of a trained model: IoU and accuracy (segm) or depth RMSEs in mm (depth)."""
    import dataclasses

    from synthhuman.train.run import evaluate_model, load_trained, metrics_dict, test_batches

    with usage(("clips", "seed", "data")):
        torch_device = device_flag(device)
        if clips is not None and clips < 1:
            raise ValueError(f"clips: expected >= 1, got {clips}")
    state, cfg = load_trained(checkpoint, torch_device)
    changes = {"device": device}
    if data is not None:
        changes["data"] = str(data)
    if seed is not None:
        changes["test_seed"] = seed
    cfg = dataclasses.replace(cfg, **changes)
    count = clips if clips is not None else cfg.eval_clips
    result = metrics_dict(evaluate_model(state.model, cfg.train.task, test_batches(cfg, count), cfg.augment))
    if as_json:
        typer.echo(json.dumps(result))
        return
    source = cfg.data or f"on the fly, seed {cfg.test_seed}"
    typer.echo(f"{checkpoint} ({cfg.train.task}, step {state.step}) on {count} test clips ({source}):")
    if cfg.train.task == "segm":
        typer.echo(f"  IoU {100 * result['iou']:.2f} %   pixel accuracy {100 * result['accuracy']:.2f} %")
    else:
        typer.echo(
            f"  RMSE {result['rmse_mm']:.1f} mm   st-RMSE {result['st_rmse_mm']:.1f} mm   "
            f"RMSE at the joints {result['pose_rmse_mm']:.1f} mm"
        )


@app.command("predict")
def predict_cmd(
    images: list[Path] = typer.Argument(..., help="image files (PNG, JPEG, ...), real photos included"),
    checkpoint: list[Path] = typer.Option(..., help="checkpoint.pt of a segm or depth run (repeatable)"),
    out: Path = typer.Option(Path("predictions"), help="folder for <image>_<task>.png"),
    box: str = typer.Option(None, help="x0,y0,x1,y1: the person's box in pixels [the whole image]"),
    device: str = typer.Option("auto", help="auto, cpu or cuda"),
) -> None:
    """Segmentation and depth pictures for any image: input, prediction, and the two overlaid."""
    from synthhuman.train.predict import predict_files

    with usage(("box",)):
        torch_device = device_flag(device)
        corners = None
        if box is not None:
            try:
                corners = tuple(float(v) for v in box.split(","))
            except ValueError:
                raise ValueError(f"box: expected x0,y0,x1,y1 numbers, got {box!r}") from None
            if len(corners) != 4:
                raise ValueError(f"box: expected 4 numbers x0,y0,x1,y1, got {box!r}")
    written = predict_files(images, checkpoint, out, corners, torch_device)
    for path, replaced in written:
        typer.echo(f"wrote {path}" + (" (replaced the file there)" if replaced else ""))


@app.command("fit")
def fit_cmd(
    sources: list[Path] = typer.Argument(..., help="a canonical clip folder, or image files"),
    out: Path = typer.Option(..., help="folder for fit.json, overlay pictures and meshes"),
    frames: str = typer.Option("0:100:10", help="clip frames: start:stop:step or a comma list"),
    person: int = typer.Option(0, help="the clip's person to fit"),
    segm_checkpoint: Path = typer.Option(None, help="images: checkpoint.pt of a segmentation run"),
    joints: Path = typer.Option(None, help="images: JSON {file name: 24 [x, y, confidence]} (SMPL order)"),
    focal: float = typer.Option(None, help="images: focal length in pixels [600 per 320 of width]"),
    body: Path = typer.Option(None, help="SMPL-family file or folder [the bundled body]"),
    gender: str = typer.Option(None, help="neutral, male or female [the clip's, else neutral]"),
    motion: Path = typer.Option(None, help="AMASS/SURREAL/BVH motion added to the pose prior's data"),
    mesh: bool = typer.Option(False, "--mesh", help="also write each fitted body as .obj"),
    batch: int = typer.Option(16, help="frames fitted together"),
    steps: int = typer.Option(None, help="optimizer steps of the full fit [FitConfig's: 350]"),
    no_parts: bool = typer.Option(False, "--no-parts", help="fit 2D joints and priors only (ablation)"),
    device: str = typer.Option("cpu", help="auto, cpu or cuda"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Fit bodies to a clip's frames (scored against its truth) or to photos, by differentiable rendering."""
    from dataclasses import replace

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from synthhuman.fit import FitConfig, FitRunConfig, run_fit

    with usage():
        steps = FitConfig().steps if steps is None else steps
        fit = replace(FitConfig(), steps=steps, use_parts=not no_parts, trial_steps=min(40, steps))
        path = lambda p: None if p is None else str(p)  # noqa: E731
        cfg = FitRunConfig(
            tuple(str(s) for s in sources), str(out), frames, person, path(segm_checkpoint), path(joints),
            focal, path(body), gender, path(motion), mesh, batch, device, fit,
        )  # fmt: skip
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("fit", total=None)

        def progress(stage: str, step: int, total: int, loss: float) -> None:
            bar.update(
                task, description=f"{stage} {step}/{total} loss {loss:.4f}", completed=step, total=total
            )

        summary = run_fit(cfg, progress)
    short = {k: v for k, v in summary.items() if k not in ("frames", "config")}
    if as_json:
        typer.echo(json.dumps(short, indent=1))
        return
    typer.echo(f"fitted {len(summary['frames'])} frames in {summary['seconds']:.1f} s -> {out / 'fit.json'}")
    for k, v in summary.get("median", {}).items():
        typer.echo(f"  median {k}: {v:.3f}")


from synthhuman.cli_assets import assets_app, motion_app  # noqa: E402  (sub-commands, after app)

app.add_typer(assets_app, name="assets")
app.add_typer(motion_app, name="motion")


if __name__ == "__main__":
    app()
