"""Training core of SURREAL's experiments: config, loss, one optimisation step, checkpoints and resume.

SURREAL (``training/train.lua``, ``opts.lua``, ``model.lua``): a cross-entropy per stack (cuDNN's
spatial cross-entropy, a mean over pixels and batch), summed over the stacks; Torch7's
``optim.rmsprop`` with learning rate 1e-3, alpha 0.99, epsilon 1e-8, no momentum, no weight decay;
batch 6; 30 epochs of 2,000 batches. Torch7's rmsprop keeps ``m = alpha m + (1 - alpha) g^2`` from
``m = 0`` and steps ``-lr g / (sqrt(m) + eps)``, which is exactly ``torch.optim.RMSprop`` with
``centered=False``. No dataset code here: a step takes a :class:`CropBatch`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from synthhuman.atomic import atomic_write
from synthhuman.config import require
from synthhuman.train.augment import CropBatch
from synthhuman.train.hourglass import HourglassConfig, StackedHourglass
from synthhuman.train.targets import NUM_DEPTH_CLASSES, NUM_SEGM_CLASSES

TASK_CLASSES = {"segm": NUM_SEGM_CLASSES, "depth": NUM_DEPTH_CLASSES}
"""Output classes of each task."""


@dataclass(frozen=True)
class TrainConfig:
    """One training run (SURREAL's values by default).

    task: "segm" (15 classes) or "depth" (20 classes).
    steps: optimisation steps (SURREAL: 30 epochs x 2,000 batches); batch: samples per step.
    stacks, features, input_size: the network (:class:`HourglassConfig`).
    lr, rmsprop_alpha, rmsprop_eps: RMSprop (Torch7 ``optim.rmsprop`` semantics).
    amp: bfloat16 autocast on CUDA (needs an Ampere or newer GPU); ignored on CPU.
    """

    task: str = "segm"
    steps: int = 60_000
    batch: int = 6
    stacks: int = 8
    features: int = 256
    input_size: int = 256
    lr: float = 1e-3
    rmsprop_alpha: float = 0.99
    rmsprop_eps: float = 1e-8
    amp: bool = True

    def __post_init__(self) -> None:
        require(self.task in TASK_CLASSES, "task", f"one of {tuple(TASK_CLASSES)}", self.task)
        for name in ("steps", "batch"):
            require(getattr(self, name) >= 1, name, ">= 1", getattr(self, name))
        require(self.lr > 0, "lr", "> 0", self.lr)
        require(0 <= self.rmsprop_alpha < 1, "rmsprop_alpha", "in [0, 1)", self.rmsprop_alpha)
        require(self.rmsprop_eps > 0, "rmsprop_eps", "> 0", self.rmsprop_eps)
        _ = self.hourglass  # validates stacks, features, input_size

    @property
    def hourglass(self) -> HourglassConfig:
        return HourglassConfig(self.stacks, self.features, TASK_CLASSES[self.task], self.input_size)


@dataclass(frozen=True)
class TrainState:
    """What a checkpoint restores: the model and optimizer (on the requested device), the number of
    steps already taken and the run's config."""

    model: StackedHourglass
    optimizer: torch.optim.Optimizer
    step: int
    config: TrainConfig


def build(config: TrainConfig, device: torch.device | str = "cpu") -> TrainState:
    """A fresh model on ``device`` (torch's default initialisation, the same uniform bounds as Torch7's)
    and its RMSprop, at step 0. Seed torch's global RNG first for a reproducible initialisation."""
    model = StackedHourglass(config.hourglass).to(device)
    optimizer = torch.optim.RMSprop(
        model.parameters(), lr=config.lr, alpha=config.rmsprop_alpha, eps=config.rmsprop_eps
    )
    return TrainState(model, optimizer, 0, config)


def loss_fn(outputs: list[Tensor], target: Tensor) -> Tensor:
    """Sum over stacks of the pixel-mean cross-entropy of (B, C, h, w) logits against (B, h, w) classes."""
    if not outputs:
        raise ValueError("outputs: expected one (B, C, h, w) logits tensor per stack, got none")
    for logits in outputs:
        if logits.ndim != 4 or logits.shape[:1] + logits.shape[2:] != target.shape:
            raise ValueError(
                f"outputs, target: expected (B, C, h, w) logits and (B, h, w) classes, got "
                f"{tuple(logits.shape)} and {tuple(target.shape)}"
            )
    return sum(F.cross_entropy(logits.float(), target) for logits in outputs)


def model_input(image: Tensor) -> Tensor:
    """(B, S, S, 3) channels-last image -> (B, 3, S, S) for the network."""
    return image.permute(0, 3, 1, 2)


def predict(outputs: list[Tensor]) -> Tensor:
    """(B, h, w) int64 classes: argmax of the last stack's logits (what SURREAL evaluates)."""
    return outputs[-1].argmax(1)


def train_step(
    model: StackedHourglass, optimizer: torch.optim.Optimizer, batch: CropBatch, amp: bool = False
) -> float:
    """One RMSprop step on ``batch`` (moved to the model's device), in training mode; returns the loss.

    amp: bfloat16 autocast when the model is on CUDA (the loss itself is computed in float32).
    """
    device = next(model.parameters()).device
    model.train()
    image, target = model_input(batch.image).to(device), batch.labels.to(device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp and device.type == "cuda"):
        outputs = model(image)
    loss = loss_fn(outputs, target)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def save_checkpoint(path: str | os.PathLike, state: TrainState, run: dict | None = None) -> None:
    """Write model, optimizer, step and config (and ``run``, the whole run's resolved config, when given)
    to ``path`` atomically: a crash never leaves a half-written checkpoint under ``path``."""
    payload = {
        "model": state.model.state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "step": state.step,
        "config": dataclasses.asdict(state.config),
        "run": run,
    }
    with atomic_write(path) as f:
        torch.save(payload, f)


CHECKPOINT_KEYS = ("model", "optimizer", "step", "config")


def read_checkpoint(path: str | os.PathLike, device: torch.device | str = "cpu") -> dict:
    """The payload :func:`save_checkpoint` wrote, checked: ValueError naming the file (and the field) when
    it is missing, truncated, corrupt, or not a checkpoint of ``synthhuman train``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: checkpoint not found (expected a file written by synthhuman train)")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # torch raises many types for truncated, corrupt or foreign files
        first = " ".join(str(exc).split()).split(". ")[0][:200]
        raise ValueError(
            f"{path}: not a readable checkpoint of synthhuman train ({type(exc).__name__}: {first})"
        ) from None
    if not isinstance(payload, dict):
        raise ValueError(f"{path}: not a checkpoint of synthhuman train (holds a {type(payload).__name__})")
    missing = [k for k in CHECKPOINT_KEYS if k not in payload]
    if missing:
        raise ValueError(f"{path}: not a checkpoint of synthhuman train (no field {', '.join(missing)})")
    for key, kind in (("model", dict), ("optimizer", dict), ("config", dict), ("step", int)):
        if not isinstance(payload[key], kind) or isinstance(payload[key], bool):
            raise ValueError(
                f"{path}: field {key}: expected a {kind.__name__}, got {type(payload[key]).__name__}"
            )
    if payload.get("run") is not None and not isinstance(payload["run"], dict):
        raise ValueError(f"{path}: field run: expected a mapping, got {type(payload['run']).__name__}")
    return payload


def load_checkpoint(path: str | os.PathLike, device: torch.device | str = "cpu") -> TrainState:
    """Resume: rebuild the model and optimizer from the checkpoint's config on ``device``, load their
    states, and return them with the step reached. Errors name the file and the field."""
    from synthhuman.config import from_mapping

    payload = read_checkpoint(path, device)
    try:
        config = from_mapping(TrainConfig, payload["config"], f"{path}: field config")
    except ValueError as exc:  # the file's fault, not the command line's
        raise ValueError(str(exc)) from None
    state = build(config, device)
    for key, target in (("model", state.model), ("optimizer", state.optimizer)):
        try:
            target.load_state_dict(payload[key])
        except Exception as exc:  # mismatched shapes or keys
            first = " ".join(str(exc).split()).split(". ")[0][:200]
            raise ValueError(f"{path}: field {key}: does not fit its config ({first})") from None
    return dataclasses.replace(state, step=payload["step"])


def checkpoint_run(path: str | os.PathLike) -> dict | None:
    """The run config stored with a checkpoint by :func:`save_checkpoint` (None if it has none)."""
    return read_checkpoint(path).get("run")
