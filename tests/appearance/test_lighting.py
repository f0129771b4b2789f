"""SH light sampling: SURREAL's ranges by default, configurable ranges, errors naming fields."""

from __future__ import annotations

import pytest
import torch

from synthhuman.appearance.lighting import LightConfig, sample_light


def test_default_ranges_are_surreals():
    c = sample_light(LightConfig(), 4000, torch.Generator().manual_seed(0))
    assert c.shape == (4000, 9) and c.dtype == torch.float32
    assert 0.5 <= float(c[:, 0].min()) and float(c[:, 0].max()) <= 1.4
    assert -0.7 <= float(c[:, 1].min()) and float(c[:, 1].max()) <= 0.0
    assert float(c[:, 2:].abs().max()) <= 0.7 and float(c[:, 2:].abs().max()) > 0.69
    assert torch.equal(c, sample_light(LightConfig(), 4000, torch.Generator().manual_seed(0)))


def test_configured_ranges_and_determinism():
    cfg = LightConfig(ambient=(1.0, 1.0), vertical=(-0.2, -0.1), spread=0.0)
    c = sample_light(cfg, 50, torch.Generator().manual_seed(1))
    assert torch.equal(c[:, 0], torch.ones(50)) and torch.equal(c[:, 2:], torch.zeros(50, 7))
    assert -0.2 <= float(c[:, 1].min()) and float(c[:, 1].max()) <= -0.1
    assert torch.equal(c, sample_light(cfg, 50, torch.Generator().manual_seed(1)))


def test_bad_config_names_the_field():
    with pytest.raises(ValueError, match="ambient"):
        LightConfig(ambient=(1.0, 0.5))
    with pytest.raises(ValueError, match="spread"):
        LightConfig(spread=-1)
