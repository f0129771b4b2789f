"""Scene geometry (issue 17, parts 2 and 3) end to end: with the options off every label is what it was
before they existed; occluders on disk (info.json, the instance layer, the SURREAL writer); bad flag
values give one line naming the flag."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from synthhuman.appearance.textures import TextureConfig
from synthhuman.generate import GenerateConfig, generate
from synthhuman.pipeline import RenderConfig, render_frames
from synthhuman.scene import SceneAssets, SceneConfig, build_clip, frame_batch, sample_clip, segments
from synthhuman.scene.config import CameraConfig
from synthhuman.scene.occluders import OccluderConfig
from tests.cli_helpers import assert_generate_refuses

SCENE = SceneConfig(frames=4, height=48, width=64, people=2, texture=TextureConfig(size=64))

# labels of SCENE's clips (seed 0, train) rendered by the PyTorch path before occluders and the ground
# existed: depth sum, segm sum, segm pixels, joints2d sum, visible joints, |flow| sum.
BEFORE = {
    ("surreal", 0): (6859.479102134705, 5795, 701, 10391.97285938263, 150, 288.62733459472656),
    ("surreal", 1): (7837.245255947113, 13329, 1502, 10107.28611946106, 169, 336.9615783691406),
    ("moving", 0): (10427.602840423584, 2834, 336, 10498.01930141449, 152, 1593.1349411010742),
    ("moving", 1): (5335.323461055756, 12804, 1416, 10085.773774147034, 165, 415.49275398254395),
}


@pytest.mark.parametrize("mode", ["surreal", "moving"])
def test_labels_with_the_options_off_are_as_before(mode):
    assets = SceneAssets(replace(SCENE, camera=CameraConfig(mode=mode)))
    for index in range(2):
        clip = build_clip(assets, sample_clip(assets, 0, "train", index))
        batch = frame_batch(segments(clip, 100, False), assets, False)
        with torch.no_grad():
            o = render_frames(batch, assets.topology, RenderConfig(backend="torch"))
        depth, segm, pixels, joints, visible, flow = BEFORE[(mode, index)]
        assert float(o.depth.double().sum()) == pytest.approx(depth, rel=1e-6)
        assert int(o.segm.long().sum()) == segm and int((o.segm > 0).sum()) == pixels
        assert float(o.joints.joints2d.double().sum()) == pytest.approx(joints, rel=1e-6)
        assert int(o.joints.visible.sum()) == visible
        assert float(o.flow.flow.double().abs().sum()) == pytest.approx(flow, rel=1e-4)
        assert int(o.instance.max()) <= SCENE.people


def test_occluders_on_disk(tmp_path):
    scene = replace(SCENE, occluders=OccluderConfig(count=2))
    res = generate(GenerateConfig(out=str(tmp_path / "c"), clips=2, device="cpu", preview=False, scene=scene))
    assert res.written == 2
    for folder in sorted((tmp_path / "c").glob("*/*/labels.npz")):
        info = json.loads((folder.parent / "info.json").read_text())
        listed = info["extra"]["occluders"]
        assert [o["instance"] for o in listed] == [3, 4]
        with np.load(folder) as z:
            instance, segm = z["instance"], z["segm"]
        assert set(np.unique(instance).tolist()) <= {0, 1, 2, 3, 4}
        assert not segm[instance > 2].any()  # segmentation 0 on occluders
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["config"]["scene"]["occluders"]["count"] == 2
    # SURREAL's files have no instance layer: occluders are segm 0 there, with their depth
    one = replace(scene, people=1, frames=3)
    res = generate(
        GenerateConfig(
            out=str(tmp_path / "s"), clips=1, device="cpu", preview=False, scene=one, format="surreal"
        )
    )
    assert res.written == 1


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--occluders", "-1"], "--occluders: expected an int in 0..64, got -1"),
        (["--occluders", "many"], "'--occluders'"),
    ],
)
def test_bad_flags_give_one_line_naming_the_flag(tmp_path, flags, expected):
    assert_generate_refuses(tmp_path, flags, expected)
