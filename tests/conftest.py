"""Shared fixtures: devices (cpu always, cuda when present), dtypes, tolerances; the ``gpu`` marker."""

from __future__ import annotations

import pytest
import torch

CUDA = torch.cuda.is_available()


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords and not CUDA:
            item.add_marker(skip_gpu)


@pytest.fixture(
    params=["cpu", pytest.param("cuda", marks=[pytest.mark.gpu])],
    ids=["cpu", "cuda"],
)
def device(request) -> torch.device:
    """Every test taking ``device`` runs on CPU, and on CUDA when present (skipped otherwise)."""
    return torch.device(request.param)


@pytest.fixture(params=[torch.float32, torch.float64], ids=["f32", "f64"])
def dtype(request) -> torch.dtype:
    return request.param


def tolerance(dtype: torch.dtype) -> float:
    """Absolute tolerance for quantities of order 1 computed in ``dtype``."""
    return {torch.float64: 1e-9, torch.float32: 1e-4, torch.float16: 1e-2}[dtype]


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)
