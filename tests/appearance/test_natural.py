"""Photo-like backgrounds: natural-image statistics (1/f^2 power spectrum), ranges, determinism, kinds,
and the surreal-style draws that a photo-like clip replays without painting."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from synthhuman.appearance.backgrounds import (
    BACKGROUND_KINDS,
    BackgroundConfig,
    photo_like_background,
    photo_like_photos,
    random_background,
    skip_random_background,
)
from synthhuman.appearance.natural import (
    PHOTO_LIKE_PHOTOS,
    dead_leaves_background,
    fractal_background,
    fractal_noise,
    gaussian_blur,
)

H, W = 128, 160


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def spectrum_slope(image: torch.Tensor) -> float:
    """Least-squares slope of log power against log frequency of the radially averaged power spectrum of
    the grey image (H, W, 3), over the mid frequencies (4 cycles per image to a quarter of Nyquist's)."""
    grey = image.double().mean(-1)
    grey = grey - grey.mean()
    h, w = grey.shape
    window = torch.hann_window(h, dtype=torch.float64)[:, None] * torch.hann_window(w, dtype=torch.float64)
    power = torch.fft.fft2(grey * window).abs() ** 2
    fy = torch.fft.fftfreq(h, dtype=torch.float64)[:, None]
    fx = torch.fft.fftfreq(w, dtype=torch.float64)[None, :]
    f = (fx * fx + fy * fy).sqrt()
    edges = torch.logspace(torch.log10(torch.tensor(4.0 / min(h, w))), torch.log10(torch.tensor(0.125)), 12)
    xs, ys = [], []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        band = (f >= lo) & (f < hi)
        xs.append(torch.log(f[band].mean()))
        ys.append(torch.log(power[band].mean()))
    x, y = torch.stack(xs), torch.stack(ys)
    return float(((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum())


@pytest.mark.parametrize("make", [dead_leaves_background, fractal_background])
def test_procedural_backgrounds_have_natural_image_statistics(make):
    slopes = []
    for seed in range(6):
        img = make(H, W, _gen(seed))
        assert img.shape == (H, W, 3) and img.dtype == torch.float32
        assert float(img.min()) >= 0 and float(img.max()) <= 1
        assert float(img.std()) > 0.03, "not a flat image"
        slopes.append(spectrum_slope(img))
    mean = sum(slopes) / len(slopes)
    assert -3.2 < mean < -1.4, slopes  # natural images: about -2
    assert all(-4.0 < s < -0.8 for s in slopes), slopes


def test_a_checkerboard_is_not_natural_by_this_measure():  # the slope measure can fail
    y, x = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    board = ((x // 4 + y // 4) % 2).float()[..., None].expand(H, W, 3)
    white = torch.rand(H, W, 3, generator=_gen(0))
    assert not -3.2 < spectrum_slope(white) < -1.4
    assert spectrum_slope(board) > -1.4 or spectrum_slope(board) < -3.2


def test_deterministic_per_seed_and_different_across_seeds():
    for make in (dead_leaves_background, fractal_background):
        assert torch.equal(make(48, 64, _gen(3)), make(48, 64, _gen(3)))
        assert not torch.equal(make(48, 64, _gen(3)), make(48, 64, _gen(4)))


def test_fractal_noise_is_normalised_with_the_asked_spectrum():
    field = fractal_noise(128, 128, _gen(0), 2.0, 2)
    assert field.shape == (2, 128, 128)
    assert torch.allclose(field.mean(dim=(1, 2)), torch.zeros(2), atol=1e-5)
    assert torch.allclose(field.std(dim=(1, 2)), torch.ones(2), atol=1e-4)
    slope = spectrum_slope(field[0, ..., None].expand(128, 128, 3))
    assert -2.4 < slope < -1.6


def test_gaussian_blur_keeps_constants_and_smooths():
    flat = torch.full((20, 30, 3), 0.3)
    assert torch.allclose(gaussian_blur(flat, 1.5), flat, atol=1e-6)
    noise = torch.rand(40, 40, 3, generator=_gen(1))
    assert float(gaussian_blur(noise, 1.5).std()) < 0.5 * float(noise.std())


def test_photo_like_kinds_and_names():
    names = {photo_like_background(32, 48, _gen(s))[1] for s in range(30)}  # no photos given
    assert names == {"procedural/dead_leaves", "procedural/fractal"}
    only = BackgroundConfig(photo_like_probs=(0.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="photo_like_probs"):
        photo_like_background(32, 48, _gen(0), only)  # only photos asked for, none available


@pytest.mark.skipif(importlib.util.find_spec("skimage") is None, reason="scikit-image not installed")
def test_photo_crops_come_from_person_free_bundled_photos():
    photos = photo_like_photos()
    assert photos is not None and {p.name for p in photos.paths} <= set(PHOTO_LIKE_PHOTOS)
    assert not {"astronaut.png", "camera.png"} & {p.name for p in photos.paths}
    only = BackgroundConfig(photo_like_probs=(0.0, 0.0, 1.0))
    img, name = photo_like_background(60, 80, _gen(2), only, photos)
    assert name.startswith("skimage/") and img.shape == (60, 80, 3)
    assert float(img.min()) >= 0 and float(img.max()) <= 1


@pytest.mark.parametrize("size", [(48, 64), (240, 320), (17, 90)])
def test_skipping_a_surreal_style_background_advances_the_generator_as_painting_it(size):
    seen = set()
    for seed in range(40):
        cfg = BackgroundConfig()
        a, b = _gen(seed), _gen(seed)
        random_background(*size, a, cfg)
        skip_random_background(*size, b, cfg)
        assert torch.equal(a.get_state(), b.get_state()), seed
        kind = torch.multinomial(torch.tensor(cfg.kind_probs, dtype=torch.float64), 1, generator=_gen(seed))
        seen.add(BACKGROUND_KINDS[int(kind)])
    assert seen == set(BACKGROUND_KINDS)


def test_bad_style_names_the_field():
    with pytest.raises(ValueError, match="style: expected one of"):
        BackgroundConfig(style="checkerboard")


def test_front_leaves_kernel_equals_the_every_pair_reference():
    from synthhuman.appearance.natural import front_leaves_reference
    from synthhuman.render.kernels import front_leaves, warp_available

    if not warp_available():
        pytest.skip("warp-lang does not import here")
    gen = torch.Generator().manual_seed(4)
    H, W, n = 37, 53, 300
    cx, cy = torch.rand(n, generator=gen) * 70 - 8, torch.rand(n, generator=gen) * 50 - 6
    angle = torch.rand(n, generator=gen) * 3.2
    r = 1 + torch.rand(n, generator=gen) * 12
    c, s = torch.cos(angle), torch.sin(angle)
    box = torch.stack(
        [(cx - r).floor(), (cx + r).ceil() + 1, (cy - r).floor(), (cy + r).ceil() + 1], -1
    ).long()
    box[:, :2], box[:, 2:] = box[:, :2].clamp(0, W), box[:, 2:].clamp(0, H)  # clipped, some empty
    rect = (torch.rand(n, generator=gen) < 0.4).float()
    shape = torch.stack([cx, cy, c, s, 1 / r, 2 / r, rect], -1).float()
    assert torch.equal(front_leaves(box, shape, H, W), front_leaves_reference(box, shape, H, W))
    none = front_leaves(box[:0], shape[:0], H, W)
    assert torch.equal(none, torch.zeros(H * W, dtype=torch.int64))  # no leaf: "n" = 0 everywhere


def test_dead_leaves_with_and_without_the_kernel_are_the_same_image(monkeypatch):
    from synthhuman.appearance import natural

    fast = natural.dead_leaves_background(48, 64, torch.Generator().manual_seed(2))
    monkeypatch.setattr(natural, "warp_available", lambda: False)
    slow = natural.dead_leaves_background(48, 64, torch.Generator().manual_seed(2))
    assert torch.equal(fast, slow)
