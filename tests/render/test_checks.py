"""The input checks' reduction: the same extrema (NaN and inf included) whichever library reads them."""

from __future__ import annotations

import math

import pytest
import torch

from synthhuman.render.checks import check_finite, extrema


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64])
def test_extrema_equal_torchs(device, dtype):
    t = (torch.randn(5, 7, generator=torch.Generator().manual_seed(0)) * 50).to(dtype).to(device)
    lo, hi = torch.aminmax(t)
    assert extrema(t) == (lo.item(), hi.item())
    assert extrema(t[:, :1].expand(5, 7)) == tuple(v.item() for v in torch.aminmax(t[:, :1]))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("grad", [False, True])
def test_non_finite_values_are_found(device, value, grad):
    t = torch.zeros(4, 3, device=device, requires_grad=grad)
    check_finite("t", t)
    bad = t.detach().clone()
    bad[2, 1] = value
    assert not all(math.isfinite(v) for v in extrema(bad.requires_grad_(grad)))
    with pytest.raises(ValueError, match=r"^t: 1 non-finite"):
        check_finite("t", bad)
