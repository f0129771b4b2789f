"""Training core: loss over stacks, a tiny network overfits one batch, checkpoints resume exactly."""

from __future__ import annotations

import dataclasses
import os

import pytest
import torch
import torch.nn.functional as F

from synthhuman.train.augment import CropBatch
from synthhuman.train.loop import (
    TrainConfig,
    build,
    load_checkpoint,
    loss_fn,
    predict,
    save_checkpoint,
    train_step,
)

TINY = TrainConfig(task="segm", steps=60, batch=2, stacks=2, features=32, input_size=64)


def one_batch(cfg: TrainConfig, seed: int = 0) -> CropBatch:
    """Blocky class maps and an image whose colours follow the classes (so the batch is learnable)."""
    gen = torch.Generator().manual_seed(seed)
    k, s = cfg.hourglass.num_classes, cfg.hourglass.output_size
    labels = torch.randint(0, k, (cfg.batch, s // 4, s // 4), generator=gen)
    labels = labels.repeat_interleave(4, 1).repeat_interleave(4, 2)
    palette = torch.rand(k, 3, generator=gen)
    image = palette[labels].permute(0, 3, 1, 2)
    image = F.interpolate(image, size=cfg.input_size, mode="nearest").permute(0, 2, 3, 1)
    return CropBatch(image.contiguous(), labels, torch.zeros(cfg.batch, 24, 2))


def test_loss_is_the_sum_of_per_stack_cross_entropies():
    target = torch.randint(0, 5, (2, 8, 8))
    a, b = torch.randn(2, 5, 8, 8), torch.randn(2, 5, 8, 8)
    expected = F.cross_entropy(a, target) + F.cross_entropy(b, target)
    torch.testing.assert_close(loss_fn([a, b], target), expected)
    with pytest.raises(ValueError, match=r"got \(2, 5, 4, 4\) and \(2, 8, 8\)"):
        loss_fn([a[..., :4, :4]], target)


def test_defaults_are_surreals():
    cfg = TrainConfig()
    assert (cfg.stacks, cfg.features, cfg.input_size, cfg.batch, cfg.steps) == (8, 256, 256, 6, 60_000)
    state = build(dataclasses.replace(cfg, stacks=1, features=16))
    group = state.optimizer.param_groups[0]
    assert isinstance(state.optimizer, torch.optim.RMSprop)
    assert (group["lr"], group["alpha"], group["eps"], group["momentum"], group["centered"]) == (
        1e-3, 0.99, 1e-8, 0, False
    )  # fmt: skip
    assert TrainConfig(task="depth").hourglass.num_classes == 20
    with pytest.raises(ValueError, match="task: expected one of \\('segm', 'depth'\\), got 'pose'"):
        TrainConfig(task="pose")


@pytest.mark.parametrize("task", ["segm", "depth"])
def test_tiny_network_overfits_one_batch(task):
    cfg = dataclasses.replace(TINY, task=task)
    torch.manual_seed(0)
    state = build(cfg)
    batch = one_batch(cfg)
    losses = [train_step(state.model, state.optimizer, batch) for _ in range(cfg.steps)]
    # seed 0: 5.73 -> 1.32 (segm), 6.21 -> 2.07 (depth); 1.5 s each on one core
    assert sum(losses[-5:]) / 5 < 0.5 * losses[0], losses
    state.model.eval()
    with torch.no_grad():
        accuracy = (predict(state.model(batch.image.permute(0, 3, 1, 2))) == batch.labels).double().mean()
    assert accuracy > 0.95  # with running batch-norm statistics


def test_checkpoint_round_trip_resumes_with_the_same_next_loss(tmp_path):
    torch.manual_seed(0)
    state = build(TINY)
    batch, nxt = one_batch(TINY, 0), one_batch(TINY, 1)
    for _ in range(3):
        train_step(state.model, state.optimizer, batch)
    state = dataclasses.replace(state, step=3)
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, state)
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # no temporary left behind
    expected = [train_step(state.model, state.optimizer, nxt) for _ in range(2)]

    resumed = load_checkpoint(path)
    assert resumed.step == 3 and resumed.config == TINY
    assert [train_step(resumed.model, resumed.optimizer, nxt) for _ in range(2)] == expected


def test_failed_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    torch.manual_seed(0)
    state = build(TINY)
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, state)
    before = path.read_bytes()

    def broken(obj, f):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, dataclasses.replace(state, step=9))
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.pt"]
