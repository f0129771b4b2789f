"""Training from WebDataset shards: the frames read back from shards equal the canonical dataset's labels
(same seed and config), and ``train --data`` runs on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from synthhuman.data.disk import list_clips, load_frames
from tests.data.test_disk import make


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("wds")
    return make(root / "canonical"), make(root / "shards", "webdataset")


def test_shards_read_back_as_the_canonical_labels(pair):
    canonical, shards = pair
    for split in ("train", "test"):
        a, b = list_clips(canonical, split), list_clips(shards, split)
        assert [c.clip_id for c in a] == [c.clip_id for c in b] and b[0].format == "webdataset"
        assert [(c.num_frames, c.num_people) for c in a] == [(c.num_frames, c.num_people) for c in b]
        frames = torch.tensor([5, 0, 2, 2])
        for ca, cb in zip(a, b, strict=True):
            fa, fb = load_frames(ca, frames), load_frames(cb, frames)
            assert torch.equal(fa.segm, fb.segm) and torch.equal(fa.depth, fb.depth)
            assert torch.equal(fa.joints2d, fb.joints2d) and torch.equal(fa.joints3d, fb.joints3d)
            assert (fa.image - fb.image).abs().mean() < 0.05  # H.264 against lossless PNG


def test_train_from_shards(pair, tmp_path):
    from typer.testing import CliRunner

    from synthhuman.cli import app

    args = ["train", "--out", str(tmp_path / "run"), "--data", str(pair[1]), "--steps", "2", "--batch", "2"]
    args += [
        "--stacks",
        "1",
        "--features",
        "16",
        "--input-size",
        "64",
        "--eval-clips",
        "2",
        "--device",
        "cpu",
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "run" / "checkpoint.pt").is_file() and np.isfinite(
        float(res.output.split("last loss ")[1].split(";")[0])
    )
