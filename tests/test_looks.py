"""Scene looks (issue 17, parts 4 and 5): the surreal-style looks are exactly today's, and neither the
photo-like backgrounds and fabric clothes nor the image degradations change a label of a clip."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from synthhuman.appearance.backgrounds import BackgroundConfig
from synthhuman.appearance.degrade import DEGRADATIONS, DegradeConfig
from synthhuman.appearance.textures import TextureConfig
from synthhuman.data.frames import StreamConfig
from synthhuman.data.onthefly import OnTheFlyConfig, SyntheticHumans
from synthhuman.generate import GenerateConfig, generate
from synthhuman.scene import SceneAssets, SceneConfig, sample_clip
from tests.cli_helpers import assert_generate_refuses

OLD = dict(background=BackgroundConfig(style="surreal-style"), texture=TextureConfig(style="surreal-style"))
SCENE = SceneConfig(frames=12, height=96, width=128, people=2)

# sample_clip(seed 0, train, index) of SCENE with the surreal-style looks, as the code drew it before the
# photo-like looks existed: (camera distance, first beta of each person, shape rows, headings, texture
# means, background mean, sum of the placement draws).
BEFORE = {
    0: (5.9233033657073975, [1.0349208, -0.1454791], [1020, 326], [4.551605781, 0.151108468],
        [0.4923998, 0.4119902], 0.4097667, 68.97426623),
    1: (7.5160470604896545, [-0.1726528, -1.7562667], [887, 728], [0.880802285, 2.965807987],
        [0.5502424, 0.6414083], 0.4440763, 66.565227889),
}  # fmt: skip


@pytest.fixture(scope="module")
def old_assets() -> SceneAssets:
    return SceneAssets(replace(SCENE, **OLD))


@pytest.fixture(scope="module")
def new_assets() -> SceneAssets:
    return SceneAssets(SCENE)


def test_surreal_style_looks_draw_what_they_drew_before(old_assets):
    for index, (distance, betas, rows, headings, textures, background, placement) in BEFORE.items():
        p = sample_clip(old_assets, 0, "train", index)
        assert p.distance == distance and [x.shape_row for x in p.people] == rows
        assert [float(x.betas[0]) for x in p.people] == pytest.approx(betas, abs=1e-6)
        assert [x.heading for x in p.people] == pytest.approx(headings, abs=1e-8)
        assert [float(x.texture.double().mean()) for x in p.people] == pytest.approx(textures, abs=1e-5)
        assert float(p.background.double().mean()) == pytest.approx(background, abs=1e-5)
        assert float(p.placement.sum()) == pytest.approx(placement, abs=1e-8)
        assert p.background_name == "procedural" and {x.texture_name for x in p.people} == {"procedural"}


def test_new_looks_change_only_the_looks(old_assets, new_assets):
    for index in range(3):
        a, b = sample_clip(old_assets, 0, "train", index), sample_clip(new_assets, 0, "train", index)
        assert a.distance == b.distance and torch.equal(a.placement, b.placement)
        for x, y in zip(a.people, b.people, strict=True):
            assert (x.gender, x.motion, x.motion_start, x.mirrored, x.speed, x.heading) == (
                y.gender, y.motion, y.motion_start, y.mirrored, y.speed, y.heading)  # fmt: skip
            assert torch.equal(x.betas, y.betas) and torch.equal(x.light, y.light)
            assert np.array_equal(x.pose, y.pose) and np.array_equal(x.trans, y.trans)
            assert not torch.equal(x.texture, y.texture) and y.texture_name == "procedural/fabric"
        assert not torch.equal(a.background, b.background)
        assert b.background_name.split("/")[0] in ("procedural", "skimage")


def _labels(root: Path) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for folder in sorted(root.glob("*/*/labels.npz")):
        with np.load(folder) as z:
            out[str(folder.parent.relative_to(root))] = {k: z[k] for k in z.files}
    return out


def test_labels_are_the_same_whatever_the_looks_and_degradations(tmp_path):
    scene = replace(SCENE, frames=6, height=48, width=64, people=1)
    old = generate(GenerateConfig(out=str(tmp_path / "old"), clips=2, device="cpu", preview=False,
                                  scene=replace(scene, **OLD)))  # fmt: skip
    on = DegradeConfig(effects=DEGRADATIONS, blur_prob=1, defocus_prob=1, noise_prob=1, jpeg_prob=1)
    every = replace(scene, degrade=on)
    new = generate(
        GenerateConfig(out=str(tmp_path / "new"), clips=2, device="cpu", preview=False, scene=every)
    )
    assert old.written == new.written == 2
    a, b = _labels(tmp_path / "old"), _labels(tmp_path / "new")
    assert a.keys() == b.keys() and len(a) == 2
    for clip in a:
        for name in ("depth", "segm", "joints2d", "joints3d", "joints_visible", "normals", "flow", "K", "R"):
            assert np.array_equal(a[clip][name], b[clip][name]), (clip, name)
        info = json.loads((tmp_path / "new" / clip / "info.json").read_text())
        assert {"exposure", "radius", "gain", "quality", "crf"} <= set(info["extra"]["degrade"])
        assert "degrade" not in json.loads((tmp_path / "old" / clip / "info.json").read_text())["extra"]
    manifest = json.loads((tmp_path / "new" / "manifest.json").read_text())
    assert manifest["config"]["scene"]["degrade"]["effects"][0] == "blur"
    assert manifest["config"]["scene"]["background"]["style"] == "photo-like"


def test_on_the_fly_degrades_images_and_not_labels(new_assets):
    stream = StreamConfig(batch=2, clips_per_chunk=2, frames_per_clip=1)

    def first_batch(scene: SceneConfig):
        assets = new_assets if scene == SCENE else SceneAssets(scene)
        cfg = OnTheFlyConfig(split="test", device="cpu", stream=stream, test_clips=2, scene=scene)
        return next(iter(SyntheticHumans(cfg, assets=assets)))

    degrade = DegradeConfig(effects=("blur", "noise", "jitter"), blur_prob=1, noise_prob=1, jitter_prob=1)
    plain, degraded = first_batch(SCENE), first_batch(replace(SCENE, degrade=degrade))
    for name in ("depth", "segm", "joints2d", "joints3d"):
        assert torch.equal(getattr(plain, name), getattr(degraded, name)), name
    assert float((plain.image - degraded.image).abs().mean()) > 0.005
    assert float(degraded.image.min()) >= 0 and float(degraded.image.max()) <= 1
    with pytest.raises(ValueError, match="h264"):
        OnTheFlyConfig(scene=replace(SCENE, degrade=DegradeConfig(effects=("h264",))))


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--degrade", "sharpen"], "--degrade: expected a comma list of distinct blur, defocus"),
        (["--background-style", "checkers"], "--background-style: expected one of"),
        (["--clothing", "velvet"], "--clothing: expected one of"),
        (["--degrade", "h264", "--format", "webdataset"], "--format: expected canonical or surreal"),
    ],
)
def test_bad_flags_give_one_line_naming_the_flag(tmp_path, flags, expected):
    assert_generate_refuses(tmp_path, flags, expected)
