"""Image degradations: analytic checks of each effect, per-clip draws, flag parsing."""

from __future__ import annotations

import pytest
import torch

from synthhuman.appearance.degrade import (
    DEGRADATIONS,
    ClipDegradation,
    DegradeConfig,
    colour_jitter,
    defocus,
    degrade_frames,
    disc_blur,
    jpeg,
    motion_blur,
    parse_effects,
    sample_degradation,
    sensor_noise,
)
from synthhuman.rng import derived_generator


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_noise_variance_grows_with_the_signal():
    levels = torch.tensor([0.1, 0.4, 0.8])
    image = levels.view(3, 1, 1, 1).expand(3, 64, 64, 3).contiguous()
    out = sensor_noise(image, gain=0.01, read=0.005, gens=[_gen(i) for i in range(3)])
    var = (out - image).var(dim=(1, 2, 3))
    expected = 0.01 * levels + 0.005**2
    assert torch.allclose(var, expected, rtol=0.1)
    assert bool((var[1:] > var[:-1]).all())


def test_motion_blur_of_a_constant_image_is_identity():
    image = torch.full((2, 20, 30, 3), 0.37)
    flow = torch.randn(2, 20, 30, 2, generator=_gen(0)) * 5
    assert torch.allclose(motion_blur(image, flow, 1.0, 9), image, atol=1e-6)


def test_motion_blur_spreads_a_moving_edge_along_the_flow_only():
    h, w = 32, 48
    image = torch.zeros(1, h, w, 3)
    image[:, :, w // 2 :] = 1.0  # a vertical edge
    flow = torch.zeros(1, h, w, 2)
    flow[..., 0] = 8.0  # everything moves 8 px to the right
    horizontal = motion_blur(image, flow, 1.0, 17)
    row = horizontal[0, h // 2, :, 0]
    ramp = ((row > 0.02) & (row < 0.98)).sum()
    assert 6 <= int(ramp) <= 9  # the edge spreads over the 8 px travelled
    assert torch.allclose(horizontal[0], horizontal[0, :1].expand(h, w, 3), atol=1e-6)  # rows unchanged
    flow_v = torch.zeros(1, h, w, 2)
    flow_v[..., 1] = 8.0  # motion along the edge: nothing changes
    assert torch.allclose(motion_blur(image, flow_v, 1.0, 17), image, atol=1e-6)
    assert torch.equal(motion_blur(image, torch.zeros_like(flow), 1.0, 17), image)  # no flow: sharp


def test_defocus_preserves_the_mean_and_blurs():
    image = torch.rand(2, 40, 50, 3, generator=_gen(1))
    for radius in (0.7, 2.0, 4.5):
        out = disc_blur(image, radius)
        assert out.shape == image.shape
        assert torch.allclose(out.mean(dim=(1, 2)), image.mean(dim=(1, 2)), atol=4e-3)
        assert float(out.std()) < float(image.std())
    depth = torch.zeros(2, 40, 50)
    depth[:, 10:30, 15:35] = 5.0  # one plane at 5 m, background at infinity
    out = defocus(image, 3.0, depth)
    assert torch.allclose(out[:, 12:28, 17:33], image[:, 12:28, 17:33], atol=1e-6)  # in focus: sharp
    assert torch.allclose(out[:, :, :8], disc_blur(image, 3.0)[:, :, :8], atol=1e-6)  # background: R
    assert torch.allclose(out.mean(dim=(1, 2)), image.mean(dim=(1, 2)), atol=1e-2)


def test_jitter_with_neutral_values_is_identity_and_changes_colour_otherwise():
    image = torch.rand(2, 8, 9, 3, generator=_gen(2))
    neutral = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0)
    assert torch.allclose(colour_jitter(image, neutral), image, atol=1e-5)
    grey = colour_jitter(image, (1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0))  # saturation 0
    assert torch.allclose(grey, grey.mean(-1, keepdim=True).expand_as(grey), atol=1e-5)
    warm = colour_jitter(image, (1.1, 1.0, 0.9, 1.0, 1.0, 1.0, 0.0, 1.0))
    assert float(warm[..., 0].mean()) > float(image[..., 0].mean())


def test_lower_jpeg_quality_gives_larger_errors():
    image = torch.rand(1, 48, 64, 3, generator=_gen(3))
    image = disc_blur(image, 1.5)  # some structure, not only noise
    errors = [float((jpeg(image, q) - image).abs().mean()) for q in (90, 50, 10)]
    assert errors[0] < errors[1] < errors[2]


def test_nothing_on_is_identity():
    image = torch.rand(2, 8, 8, 3, generator=_gen(4))
    params = sample_degradation(DegradeConfig(), 7)
    assert params.record() == {}
    assert torch.equal(degrade_frames(image, params, torch.arange(2)), image)


def test_draws_are_per_clip_reproducible_and_effects_independent():
    every = DegradeConfig(effects=DEGRADATIONS, blur_prob=1, defocus_prob=1, noise_prob=1, jitter_prob=1,
                          jpeg_prob=1)  # fmt: skip
    a, b = sample_degradation(every, 11), sample_degradation(every, 11)
    assert a == b and a != sample_degradation(every, 12)
    only_noise = sample_degradation(DegradeConfig(effects=("noise",), noise_prob=1), 11)
    assert (only_noise.gain, only_noise.read) == (a.gain, a.read)  # other effects draw what they draw
    assert set(a.record()) == {"exposure", "radius", "gain", "read", "jitter", "quality", "crf"}
    assert 23 <= a.crf <= 35 and 30 <= a.quality <= 90


def test_noise_of_a_frame_depends_only_on_the_clip_and_the_frame():
    params = ClipDegradation(seed=5, gain=0.01, read=0.01)
    image = torch.full((3, 6, 6, 3), 0.5)
    together = degrade_frames(image, params, torch.tensor([4, 5, 6]))
    alone = degrade_frames(image[1:2], params, torch.tensor([5]))
    assert torch.equal(together[1:2], alone)
    noise = torch.randn(6, 6, 3, generator=derived_generator(5, "degrade", 5))
    assert torch.allclose(alone[0], (0.5 + (0.01 * 0.5 + 1e-4) ** 0.5 * noise).clamp(0, 1))


def test_blur_needs_the_flow():
    with pytest.raises(ValueError, match="flow"):
        degrade_frames(torch.zeros(1, 4, 4, 3), ClipDegradation(seed=0, exposure=1.0), torch.arange(1))


def test_flag_values():
    assert parse_effects("all") == DEGRADATIONS
    assert parse_effects("none") == ()
    assert parse_effects("jpeg, blur") == ("blur", "jpeg")  # in the order they apply
    for bad in ("blurr", "all,jpeg", "", "jpeg,jpeg"):
        with pytest.raises(ValueError, match="--degrade: expected a comma list") as err:
            parse_effects(bad)
        assert "\n" not in str(err.value)


def test_bad_config_values_name_the_field():
    with pytest.raises(ValueError, match="effects"):
        DegradeConfig(effects=("sharpen",))
    with pytest.raises(ValueError, match="jpeg_quality"):
        DegradeConfig(jpeg_quality=(50.0, 120.0))
    with pytest.raises(ValueError, match="noise_prob"):
        DegradeConfig(noise_prob=1.5)
