"""Scene sampling: every clip is determined by its seed, split and index alone."""

from __future__ import annotations

import numpy as np
import torch

from synthhuman.scene import sample_clip


def test_sample_is_deterministic_per_clip(assets):
    a, b = sample_clip(assets, 0, "train", 3), sample_clip(assets, 0, "train", 3)
    other = sample_clip(assets, 0, "train", 4)
    for pa, pb in zip(a.people, b.people, strict=True):
        assert np.array_equal(pa.pose, pb.pose) and torch.equal(pa.texture, pb.texture)
        assert pa.motion == pb.motion and pa.heading == pb.heading
    assert torch.equal(a.background, b.background) and a.distance == b.distance
    assert a.people[0].heading != other.people[0].heading
    assert sample_clip(assets, 1, "train", 3).people[0].heading != a.people[0].heading
