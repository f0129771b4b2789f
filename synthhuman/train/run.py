"""``synthhuman train`` / ``evaluate`` / ``predict``: SURREAL's experiments end to end.

A run trains one task (segmentation or quantized depth) from on-the-fly data (the default) or from a
dataset written by ``synthhuman generate``, writes ``OUT/run.json`` (the resolved config), ``OUT/log.jsonl``
(loss; seconds spent waiting for data and in all, and their ratio ``data_share``; on the fly, seconds spent
rendering, ``render_share``, which counts the background thread's prefetching too; evaluations) and
``OUT/checkpoint.pt`` (atomically, every ``checkpoint_every`` steps and at the end), and evaluates on the
fixed test split at the end (``OUT/metrics.json``). A resumed run continues the same data stream and
augmentation draws, so it ends where an uninterrupted run would.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from synthhuman.atomic import atomic_write
from synthhuman.config import check_device, from_mapping, require, resolve_device
from synthhuman.data.frames import LabeledFrames, StreamConfig
from synthhuman.pipeline import RenderConfig
from synthhuman.rng import derived_generator, derived_seed
from synthhuman.scene import AssetConfig, SceneAssets, SceneConfig
from synthhuman.train.augment import AugmentConfig, CropBatch, crop_batch, crop_centre_inside
from synthhuman.train.hourglass import StackedHourglass
from synthhuman.train.loop import (
    TrainConfig,
    TrainState,
    build,
    checkpoint_run,
    load_checkpoint,
    model_input,
    predict,
    save_checkpoint,
    train_step,
)
from synthhuman.train.metrics import MetricsAccumulator, MetricsResult
from synthhuman.train.targets import depth_classes, segm_classes

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class RunConfig:
    """One ``synthhuman train`` run.

    out: the run folder. train: task, steps, batch, network, optimiser. data: None to render on the fly,
    or a dataset folder written by ``generate`` (canonical or SURREAL format). seed: the training stream,
    augmentation and initialisation. test_seed: the on-the-fly test set (fixed across runs by default).
    device: 'auto' | 'cpu' | 'cuda[:N]' (training and on-the-fly rendering). eval_clips: test clips
    evaluated (one middle frame each; for a dataset on disk, at most its test clips). eval_every: steps
    between evaluations (0: only at the end). checkpoint_every, log_every: steps. tensorboard: also write
    TensorBoard events (needs the ``tensorboard`` package). resume: continue ``out/checkpoint.pt``.
    workers: DataLoader processes reading a dataset on disk (0: in the main process).
    clips_per_chunk, frames_per_clip: the stream's chunking (``data.frames.StreamConfig``).
    """

    out: str
    train: TrainConfig = field(default_factory=TrainConfig)
    data: str | None = None
    seed: int = 0
    test_seed: int = 0
    device: str = "auto"
    eval_clips: int = 100
    eval_every: int = 0
    checkpoint_every: int = 1000
    log_every: int = 20
    tensorboard: bool = False
    resume: bool = False
    workers: int = 0
    clips_per_chunk: int = 32
    frames_per_clip: int = 6
    scene: SceneConfig = field(default_factory=SceneConfig)
    assets: AssetConfig = field(default_factory=AssetConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        require(bool(self.out), "out", "a run folder", self.out)
        require(
            self.data is None or Path(self.data).is_dir(), "data", "an existing dataset folder", self.data
        )
        check_device(self.device)
        require(self.eval_clips >= 1, "eval_clips", ">= 1", self.eval_clips)
        for name in ("eval_every", "workers"):
            require(getattr(self, name) >= 0, name, ">= 0", getattr(self, name))
        for name in ("checkpoint_every", "log_every"):
            require(getattr(self, name) >= 1, name, ">= 1", getattr(self, name))
        require(
            self.augment.input_size == self.train.input_size,
            "augment.input_size",
            f"the network's input_size {self.train.input_size}",
            self.augment.input_size,
        )
        require(
            self.augment.output_size == self.train.hourglass.output_size,
            "augment.output_size",
            f"the network's output size {self.train.hourglass.output_size}",
            self.augment.output_size,
        )
        _ = self.stream  # validates the chunking against the batch

    @property
    def stream(self) -> StreamConfig:
        return StreamConfig(self.train.batch, self.clips_per_chunk, self.frames_per_clip)


def run_config(data: dict, where: str | None = "config", names: dict[str, str] | None = None) -> RunConfig:
    """A :class:`RunConfig` from a (nested) mapping; the crop sizes follow the network's unless given.
    ``where`` and ``names`` as :func:`~synthhuman.config.from_mapping` takes them."""
    data = dict(data)
    net = from_mapping(TrainConfig, data.get("train", {}), where, names, "train.")
    augment = data.get("augment", {})
    if isinstance(augment, dict):
        augment = dict(augment)
        augment.setdefault("input_size", net.input_size)
        augment.setdefault("output_size", net.hourglass.output_size)
    data["augment"] = augment
    return from_mapping(RunConfig, data, where, names)


# --- data -----------------------------------------------------------------------------------------------


def task_batch(
    frames: LabeledFrames,
    task: str,
    augment: AugmentConfig,
    *,
    train: bool,
    gen: torch.Generator | None = None,
) -> CropBatch:
    """The network's batch for ``task`` from labelled frames: class maps at full resolution (24 -> 14
    parts, or depth bins around the person's pelvis), then SURREAL's crop (augmented with ``train``)."""
    if task == "segm":
        labels = segm_classes(frames.segm)
    else:
        labels = depth_classes(frames.depth, frames.joints3d[:, 0, 2])
    return crop_batch(frames.image, labels, frames.joints2d, augment, train=train, gen=gen)


def train_batches(
    cfg: RunConfig, start: int, assets: SceneAssets | None
) -> tuple[Iterator[LabeledFrames], Callable[[], float] | None]:
    """The training stream from batch ``start``, and (on the fly) a reader of the seconds spent rendering."""
    if cfg.data is None:
        from synthhuman.data.onthefly import OnTheFlyConfig, SyntheticHumans

        ds = SyntheticHumans(
            OnTheFlyConfig("train", cfg.seed, cfg.device, cfg.stream, scene=cfg.scene, assets=cfg.assets,
                           render=cfg.render),
            start=start,
            assets=assets,
        )  # fmt: skip
        return iter(ds), lambda: ds.seconds
    from synthhuman.data.disk import DiskConfig, DiskFrames

    ds = DiskFrames(DiskConfig(cfg.data, "train", cfg.seed, cfg.stream), start=start)
    if cfg.workers == 0:
        return iter(ds), None
    loader = torch.utils.data.DataLoader(
        ds, batch_size=None, num_workers=cfg.workers, persistent_workers=True
    )
    return iter(loader), None


def test_batches(cfg: RunConfig, clips: int, assets: SceneAssets | None = None) -> Iterable[LabeledFrames]:
    """The fixed test set: the middle frame of ``clips`` test clips, on the fly (seed ``test_seed``) or
    the first ``clips`` test clips of the dataset on disk."""
    if cfg.data is None:
        from synthhuman.data.onthefly import OnTheFlyConfig, SyntheticHumans

        return SyntheticHumans(
            OnTheFlyConfig("test", cfg.test_seed, cfg.device, cfg.stream, clips, scene=cfg.scene,
                           assets=cfg.assets, render=cfg.render),
            assets=assets,
        )  # fmt: skip
    from synthhuman.data.disk import DiskConfig, DiskFrames

    batches = DiskFrames(DiskConfig(cfg.data, "test", cfg.test_seed, cfg.stream))
    return _first_frames(batches, clips)


def _first_frames(batches: Iterable[LabeledFrames], count: int) -> Iterator[LabeledFrames]:
    left = count
    for frames in batches:
        if left <= 0:
            return
        yield frames if len(frames) <= left else frames.take(torch.arange(left))
        left -= len(frames)


# --- evaluation -----------------------------------------------------------------------------------------


def evaluate_model(
    model: StackedHourglass, task: str, batches: Iterable[LabeledFrames], augment: AugmentConfig
) -> MetricsResult:
    """SURREAL's test metrics of ``model`` (its last stack) over ``batches``, cropped without augmentation:
    segmentation IoU and accuracy, or depth RMSE, st-RMSE and RMSE at the joints."""
    device = next(model.parameters()).device
    acc = MetricsAccumulator()
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for frames in batches:
            batch = task_batch(frames.to(device), task, augment, train=False)
            pred = predict(model(model_input(batch.image)))
            if task == "segm":
                acc.add_segmentation(pred, batch.labels)
            else:
                acc.add_depth(pred, batch.labels, batch.joints)
    model.train(was_training)
    return acc.result()


def metrics_dict(result: MetricsResult) -> dict[str, float | None]:
    """The five scores under the names ``evaluate --json`` prints (fractions and millimetres); None for
    the other task's (NaN) scores."""
    keys = ("iou", "accuracy", "rmse_mm", "st_rmse_mm", "pose_rmse_mm")
    return {k: (None if math.isnan(v := getattr(result, k)) else v) for k in keys}


# --- training -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainResult:
    """What a run did: steps taken now (after ``start``), the final step, the mean loss of the last log
    interval, seconds waiting for data and in all, and the final test scores."""

    start: int
    step: int
    loss: float
    data_seconds: float
    seconds: float
    metrics: dict[str, float | None]

    @property
    def data_share(self) -> float:
        return self.data_seconds / self.seconds if self.seconds > 0 else 0.0


def _start_state(cfg: RunConfig, device: torch.device) -> TrainState:
    """A fresh model (initialised from the run seed, without touching torch's global generator) or, with
    ``resume``, the checkpoint of a run with the same config up to ``steps`` and the schedules."""
    path = Path(cfg.out) / CHECKPOINT
    if path.exists():
        if not cfg.resume:
            raise ValueError(
                f"{path}: a run is already there; pass --resume to continue it or pick another --out"
            )
        saved, mine = _flat(checkpoint_run(path) or {}), _flat(dataclasses.asdict(cfg))
        free = {"train.steps", "resume", "eval_clips", "eval_every", "checkpoint_every", "log_every",
                "tensorboard", "workers", "device"}  # fmt: skip
        differ = [k for k, v in mine.items() if k not in free and saved.get(k) != v]
        if differ:
            raise ValueError(
                f"{path}: saved by a run with other settings ({', '.join(differ)}); cannot resume"
            )
        return load_checkpoint(path, device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derived_seed(cfg.seed, "init"))
        return build(cfg.train, device)


def _flat(d: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


class _Log:
    """``log.jsonl`` lines (appended: a resumed run continues the file) and optional TensorBoard scalars."""

    def __init__(self, out: Path, tensorboard: bool) -> None:
        self.path = out / "log.jsonl"
        self.board = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as err:
                raise ValueError(
                    f"tensorboard: needs the tensorboard package (pip install tensorboard): {err}"
                ) from None
            self.board = SummaryWriter(str(out / "tensorboard"))

    def write(self, entry: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(entry) + "\n")
        if self.board is not None:
            for k, v in _flat(entry).items():
                if k != "step" and isinstance(v, int | float):
                    self.board.add_scalar(k.replace(".", "/"), v, entry["step"])

    def close(self) -> None:
        if self.board is not None:
            self.board.close()


def train(cfg: RunConfig, on_log: Callable[[dict], None] | None = None) -> TrainResult:
    """Run ``cfg`` (see the module's docstring); ``on_log(entry)`` sees each log and evaluation entry."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    device = resolve_device(cfg.device)
    state = _start_state(cfg, device)
    with atomic_write(out / "run.json") as f:
        f.write(json.dumps(dataclasses.asdict(cfg), indent=1).encode())
    assets = SceneAssets(cfg.scene, cfg.assets) if cfg.data is None else None
    batches, render_seconds = train_batches(cfg, state.step, assets)
    log = _Log(out, cfg.tensorboard)
    start, step = state.step, state.step
    losses: list[float] = []
    data_total = step_total = interval_data = interval_step = 0.0
    rendered_before = 0.0
    out_of_view = 0  # frames skipped because their crop centre left the image (SURREAL's rule)
    loss = math.nan
    metrics: dict[str, float | None] = {}

    def evaluate_now() -> None:
        nonlocal metrics
        result = evaluate_model(
            state.model, cfg.train.task, test_batches(cfg, cfg.eval_clips, assets), cfg.augment
        )
        metrics = metrics_dict(result)
        entry = {"step": step, "eval": metrics, "eval_clips": cfg.eval_clips}
        log.write(entry)
        if on_log:
            on_log(entry)

    try:
        while step < cfg.train.steps:
            t0 = time.perf_counter()
            frames = next(batches).to(device)
            t1 = time.perf_counter()
            in_view = crop_centre_inside(frames.joints2d, frames.segm.shape[1:], cfg.augment).cpu()
            if not bool(in_view.all()):
                out_of_view += int((~in_view).sum())
                frames = frames.take(in_view.nonzero()[:, 0])
            if len(frames):  # else a step without an update: the stream stays aligned with the steps
                gen = derived_generator(cfg.seed, "augment", step)
                batch = task_batch(frames, cfg.train.task, cfg.augment, train=True, gen=gen)
                losses.append(train_step(state.model, state.optimizer, batch, cfg.train.amp))
            t2 = time.perf_counter()
            step += 1
            interval_data += t1 - t0
            interval_step += t2 - t0
            if step % cfg.log_every == 0 or step == cfg.train.steps:
                loss = float(np.mean(losses)) if losses else math.nan
                entry = {
                    "step": step, "loss": loss, "data_s": interval_data, "step_s": interval_step,
                    "data_share": interval_data / interval_step, "steps": len(losses),
                    "frames_out_of_view": out_of_view,
                }  # fmt: skip
                if render_seconds is not None:  # on the fly: time spent rendering, prefetching included
                    rendered = render_seconds()
                    entry["render_s"] = rendered - rendered_before
                    entry["render_share"] = entry["render_s"] / interval_step
                    rendered_before = rendered
                log.write(entry)
                if on_log:
                    on_log(entry)
                data_total, step_total = data_total + interval_data, step_total + interval_step
                losses, interval_data, interval_step = [], 0.0, 0.0
            if step % cfg.checkpoint_every == 0 or step == cfg.train.steps:
                state = dataclasses.replace(state, step=step)
                save_checkpoint(out / CHECKPOINT, state, dataclasses.asdict(cfg))
            if cfg.eval_every and step % cfg.eval_every == 0 and step < cfg.train.steps:
                evaluate_now()
        evaluate_now()
        with atomic_write(out / "metrics.json") as f:
            f.write(json.dumps({"step": step, **metrics}, indent=1).encode())
    finally:
        log.close()
    return TrainResult(start, step, loss, data_total, step_total, metrics)


# --- loading a trained model ----------------------------------------------------------------------------


OLD_RASTERIZERS = {"synthhuman": "torch", "pytorch3d": "pytorch3d"}
"""Checkpoints written before the Warp kernels name ``render.rasterizer``; it maps to ``render.backend``."""


def load_trained(checkpoint: str | Path, device: torch.device | str = "cpu") -> tuple[TrainState, RunConfig]:
    """A checkpoint's model (in eval mode) and the run config it was trained with."""
    path = Path(checkpoint)
    saved = checkpoint_run(path)
    if saved is None:
        raise ValueError(f"{path}: no run config inside (not written by synthhuman train)")
    data = dict(saved)
    data["data"] = data["data"] if isinstance(data.get("data"), str) and Path(data["data"]).is_dir() else None
    render = data.get("render")
    if isinstance(render, dict) and "rasterizer" in render:  # written before RenderConfig.backend existed
        render = {k: v for k, v in render.items() if k != "rasterizer"}
        data["render"] = render | {"backend": OLD_RASTERIZERS.get(saved["render"]["rasterizer"], "auto")}
    try:
        cfg = run_config(data, f"{path}: field run")
    except ValueError as exc:  # the file's fault, not the command line's
        raise ValueError(str(exc)) from None
    state = load_checkpoint(path, device)
    state.model.eval()
    return state, cfg
