"""The skinning kernel against the PyTorch blend: the same vertices bit for bit, in both precisions, and the
body model's posed vertices the same with the kernel as without it."""

from __future__ import annotations

import pytest
import torch

from synthhuman.body import model
from synthhuman.render.kernels import apply_blended_transforms, warp_available

pytestmark = pytest.mark.skipif(not warp_available(), reason="warp-lang does not import here")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kernel_equals_the_torch_blend_bit_for_bit(device, dtype):
    gen = torch.Generator().manual_seed(0)
    V, J, B = 1000, 24, 5
    weights = torch.rand(V, J, generator=gen, dtype=dtype)
    weights[weights < 0.8] = 0  # sparse, as skinning weights are
    weights /= weights.sum(1, keepdim=True).clamp_min(1e-9)
    transforms = torch.randn(B, J, 12, generator=gen, dtype=dtype)
    rest = torch.randn(1, V, 3, generator=gen, dtype=dtype)
    rest[:, :7] = 0.0  # zero rest coordinates: the sums' signed zeros as in torch
    rest = rest.expand(B, -1, -1)  # one shape for every frame, read in place
    weights, transforms, rest = weights.to(device), transforms.to(device), rest.to(device)
    want = model._blend(weights, transforms, rest)
    got = apply_blended_transforms(torch.matmul(weights, transforms), rest)
    assert torch.equal(got, want) and torch.equal(got.signbit(), want.signbit())
    # an empty batch and an output given by the caller
    assert apply_blended_transforms(transforms[:0, :0], rest[:0]).shape == (0, V, 3)
    out = torch.full_like(want, 7.0)
    assert apply_blended_transforms(torch.matmul(weights, transforms), rest, out) is out
    assert torch.equal(out, want)


def test_posed_bodies_are_the_same_with_and_without_the_kernel(monkeypatch):
    from synthhuman.body.default_body import load_default_body

    body = load_default_body("female")
    gen = torch.Generator().manual_seed(1)
    pose = 0.4 * torch.randn(19, 72, generator=gen)  # not a multiple of the chunk of frames
    betas = torch.randn(1, body.num_betas, generator=gen).expand(19, -1)
    with torch.no_grad():
        fast = body(betas, pose, normals=False).vertices
        monkeypatch.setattr(model, "_skin_kernel", lambda rest: None)
        slow = body(betas, pose, normals=False).vertices
    assert torch.equal(fast, slow)
