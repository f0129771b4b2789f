"""Stacked hourglass: output shapes, intermediate supervision, configuration checks."""

from __future__ import annotations

import pytest
import torch

from synthhuman.train.hourglass import HourglassConfig, StackedHourglass


@pytest.mark.parametrize("stacks", [1, 2])
def test_output_shapes(stacks, device):
    torch.manual_seed(0)
    cfg = HourglassConfig(num_stacks=stacks, features=32, num_classes=20, input_size=64)
    model = StackedHourglass(cfg).to(device)
    outputs = model(torch.rand(2, 3, 64, 64, device=device))
    assert len(outputs) == stacks
    for out in outputs:
        assert out.shape == (2, 20, 16, 16) and out.device.type == device.type
    if stacks == 2:  # the second stack reads the first's logits: different outputs
        assert not torch.allclose(outputs[0], outputs[1])


def test_default_is_surreals_network():
    cfg = HourglassConfig()
    assert (cfg.num_stacks, cfg.features, cfg.num_classes, cfg.input_size, cfg.output_size) == (
        8,
        256,
        15,
        256,
        64,
    )
    model = StackedHourglass(HourglassConfig(num_stacks=2))
    n = sum(p.numel() for p in model.parameters())
    # per stack: 10 + 3 residuals (256 -> 128 -> 128 -> 256, ~0.218 M each) and 1x1 layers
    assert 6.0e6 < n < 7.0e6
    out = model.eval()(torch.rand(1, 3, 256, 256))
    assert [o.shape for o in out] == [(1, 15, 64, 64)] * 2


def test_gradients_reach_the_first_layer_from_every_stack():
    torch.manual_seed(0)
    model = StackedHourglass(HourglassConfig(num_stacks=2, features=16, num_classes=3, input_size=64))
    for out in model(torch.rand(2, 3, 64, 64)):
        model.zero_grad()
        out.sum().backward(retain_graph=True)
        assert model.stem[0].weight.grad.abs().sum() > 0


def test_bad_config_and_input_name_the_values():
    with pytest.raises(
        ValueError, match="input_size: expected a multiple of 4 \\* 2\\*\\*depth = 64, got 100"
    ):
        HourglassConfig(input_size=100)
    with pytest.raises(ValueError, match="features"):
        HourglassConfig(features=31)
    model = StackedHourglass(HourglassConfig(num_stacks=1, features=16, input_size=64))
    with pytest.raises(ValueError, match=r"expected shape \(B, 3, 64, 64\), got \(1, 64, 64, 3\)"):
        model(torch.rand(1, 64, 64, 3))
