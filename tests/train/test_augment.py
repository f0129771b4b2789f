"""SURREAL's crop and augmentation: box geometry, image/label/joint alignment, determinism."""

from __future__ import annotations

import math

import pytest
import torch

from synthhuman.train.augment import (
    BOX_JOINTS,
    AugmentConfig,
    crop_batch,
    crop_boxes,
    sample_augmentation,
)

H, W = 240, 320
S, O = 256, 64  # input and label-map sides


def random_joints(b: int, seed: int, lo=(110.0, 70.0), hi=(210.0, 170.0)) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.tensor(lo) + torch.rand(b, 24, 2, generator=gen) * (torch.tensor(hi) - torch.tensor(lo))


def blobs(centres: torch.Tensor, sigma: float = 2.0) -> torch.Tensor:
    """(B, H, W, 3) images, each a Gaussian blob at its (B, 2) centre (pixel centres at integers)."""
    y, x = torch.meshgrid(
        torch.arange(H, dtype=torch.float64), torch.arange(W, dtype=torch.float64), indexing="ij"
    )
    d2 = (x - centres[:, 0, None, None]) ** 2 + (y - centres[:, 1, None, None]) ** 2
    return torch.exp(-d2 / (2 * sigma**2)).float()[..., None].expand(-1, -1, -1, 3).contiguous()


def centroid(image: torch.Tensor) -> torch.Tensor:
    """(B, 2) intensity centroid (x, y) of (B, S, S, 3) images, in their pixels."""
    w = image[..., 0].double()
    idx = torch.arange(image.shape[1], dtype=torch.float64)
    total = w.sum((1, 2))
    return torch.stack([(w.sum(1) * idx).sum(1) / total, (w.sum(2) * idx).sum(1) / total], -1)


def to_input_pixels(joints: torch.Tensor) -> torch.Tensor:
    return (joints.double() + 0.5) * (S / O) - 0.5


def test_box_is_surreals():
    joints = torch.zeros(1, 24, 2)
    joints[0, list(BOX_JOINTS)] = torch.tensor([100.0, 50.0])
    joints[0, BOX_JOINTS[0]] = torch.tensor([139.0, 50.0])  # width 40 px (pixels 100..139)
    joints[0, BOX_JOINTS[1]] = torch.tensor([100.0, 149.0])  # height 100 px (pixels 50..149)
    joints[0, 3] = torch.tensor([0.0, 0.0])  # spine: not in SURREAL's box joints
    centre, side = crop_boxes(joints)
    # enlarged box: x in [99.5 - 10, 139.5 + 10], y in [49.5 - 35, 149.5 + 25]
    torch.testing.assert_close(centre, torch.tensor([[119.5, 94.5]]))
    torch.testing.assert_close(side, torch.tensor([160 * 200 / 240]))


def test_test_mode_puts_the_box_centre_at_the_crop_centre():
    joints = random_joints(3, seed=0)
    centre, side = crop_boxes(joints.double())
    image = blobs(centre)
    out = crop_batch(image, torch.zeros(3, H, W, dtype=torch.int64), joints.double(), train=False)
    assert (
        out.image.shape == (3, S, S, 3) and out.labels.shape == (3, O, O) and out.joints.shape == (3, 24, 2)
    )
    torch.testing.assert_close(
        centroid(out.image), torch.full((3, 2), (S - 1) / 2, dtype=torch.float64), atol=0.05, rtol=0
    )
    # the box joints' extremes: centred horizontally, 5% of the box height lower vertically
    box = out.joints[:, list(BOX_JOINTS)].double()
    mid = (box.amin(1) + box.amax(1)) / 2
    height_out = box[..., 1].amax(1) - box[..., 1].amin(1) + O / side  # box height + 1 source px
    torch.testing.assert_close(mid[:, 0], torch.full((3,), (O - 1) / 2, dtype=torch.float64))
    torch.testing.assert_close(mid[:, 1], (O - 1) / 2 + 0.05 * height_out)
    # at O / side label pixels per source pixel
    src = joints[:, list(BOX_JOINTS)].double()
    torch.testing.assert_close(box.amax(1) - box.amin(1), (src.amax(1) - src.amin(1)) * (O / side)[:, None])


@pytest.mark.parametrize("rotate", [0.0, 1.0])
def test_joints_follow_the_image_under_augmentation(rotate):
    joints = random_joints(6, seed=1)
    image = blobs(joints[:, 9].double())  # one blob per sample, at joint 9 (spine2, not a box joint)
    cfg = AugmentConfig(rotate_prob=rotate, gain_range=(1.0, 1.0))
    out = crop_batch(
        image,
        torch.zeros(6, H, W, dtype=torch.int64),
        joints,
        cfg,
        train=True,
        gen=torch.Generator().manual_seed(3),
    )
    torch.testing.assert_close(centroid(out.image), to_input_pixels(out.joints[:, 9]), atol=0.05, rtol=0)


def test_labels_stay_aligned_with_the_image_under_rotation_and_scale():
    # colours encode the source position (linear, so bilinear sampling is exact) and a 1 marking the image
    # (0 in the padding); labels encode the source pixel
    b = 4
    y, x = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    labels = (y * W + x + 1).expand(b, -1, -1)  # 0 is left for the padding
    image = torch.stack([x / W, y / H, torch.ones_like(x, dtype=torch.float32)], -1).expand(b, -1, -1, -1)
    cfg = AugmentConfig(rotate_prob=1.0, gain_range=(1.0, 1.0))
    joints = random_joints(b, seed=2, lo=(30.0, 30.0), hi=(290.0, 210.0))  # crops reach past the border
    out = crop_batch(image.float(), labels, joints, cfg, train=True, gen=torch.Generator().manual_seed(5))
    # the image at each label pixel's centre: the mean of the 2x2 input pixels around it (4i+1, 4i+2)
    windows = out.image[:, 1:, 1:].unfold(1, 2, 4).unfold(2, 2, 4).double()  # (B, O, O, 3, 2, 2)
    src = windows[..., :2, :, :].mean((-1, -2)) * torch.tensor([W, H], dtype=torch.float64)  # source x, y
    inside = windows[..., 2, :, :].amin((-1, -2)) > 1 - 1e-6  # no sample touched the padding
    assert inside.double().mean() > 0.5 and (out.labels == 0).any()  # padding: background in both
    col, row = (out.labels - 1) % W, (out.labels - 1) // W
    # nearest sampling picked the source pixel whose centre is nearest to the label pixel's centre
    assert (col - src[..., 0])[inside].abs().max() <= 0.5 + 1e-3
    assert (row - src[..., 1])[inside].abs().max() <= 0.5 + 1e-3
    outside = windows[..., 2, :, :].amax((-1, -2)) == 0
    assert outside.any() and (out.labels[outside] == 0).all()


def test_colour_gain_per_channel():
    joints = random_joints(2, seed=4)
    image = torch.full((2, H, W, 3), 0.6)
    labels = torch.zeros(2, H, W, dtype=torch.int64)
    plain = crop_batch(
        image,
        labels,
        joints,
        AugmentConfig(gain_range=(1.0, 1.0)),
        train=True,
        gen=torch.Generator().manual_seed(7),
    )
    gained = crop_batch(image, labels, joints, train=True, gen=torch.Generator().manual_seed(7))
    inside = plain.image[..., 0] > 0.59  # away from the zero padding
    ratio = gained.image[inside] / plain.image[inside]  # (N, 3)
    assert ratio.min() >= 0.6 - 1e-6 and gained.image.max() <= 1.0
    # one gain per channel and sample (clipped at 1: 0.6 * gain > 1 for gain > 1.67 never happens here)
    for i in range(2):
        r = gained.image[i][inside[i]] / plain.image[i][inside[i]]
        assert (r.amax(0) - r.amin(0)).max() < 1e-5
    torch.testing.assert_close(plain.labels, gained.labels)  # same geometry: gains are drawn last


def test_draws_follow_surreals_distributions():
    aug = sample_augmentation(20000, torch.Generator().manual_seed(0))
    log2 = aug.scale.log2()
    assert log2.abs().max() <= 0.5 + 1e-12 and abs(log2.std().item() - 0.25) < 0.03
    rotated = aug.rotation != 0
    assert abs(rotated.double().mean().item() - 0.4) < 0.02
    assert aug.rotation.abs().max() <= math.radians(60) + 1e-12
    assert aug.gain.min() >= 0.6 and aug.gain.max() <= 1.4 and abs(aug.gain.mean().item() - 1.0) < 0.01


def test_determinism_per_seed(device):
    joints = random_joints(2, seed=6).to(device)
    image = torch.rand(2, H, W, 3, generator=torch.Generator().manual_seed(0)).to(device)
    labels = torch.randint(0, 15, (2, H, W), generator=torch.Generator().manual_seed(1)).to(device)
    runs = [
        crop_batch(image, labels, joints, train=True, gen=torch.Generator().manual_seed(s)) for s in (0, 0, 1)
    ]
    assert torch.equal(runs[0].image, runs[1].image) and torch.equal(runs[0].labels, runs[1].labels)
    assert not torch.equal(runs[0].image, runs[2].image)
    assert runs[0].image.device.type == device.type
    gen = torch.Generator().manual_seed(0)
    crop_batch(image, labels, joints, train=False, gen=gen)
    assert torch.equal(
        gen.get_state(), torch.Generator().manual_seed(0).get_state()
    )  # test mode draws nothing


def test_bad_inputs_name_the_values():
    image, labels, joints = (
        torch.rand(2, H, W, 3),
        torch.zeros(2, H, W, dtype=torch.int64),
        random_joints(2, 0),
    )
    with pytest.raises(
        ValueError, match=r"image: expected a \(B, H, W, 3\) float tensor, got \(2, 3, 240, 320\)"
    ):
        crop_batch(image.permute(0, 3, 1, 2), labels, joints, train=False)
    with pytest.raises(ValueError, match=r"labels: expected a \(2, 240, 320\) integer tensor"):
        crop_batch(image, labels.float(), joints, train=False)
    with pytest.raises(ValueError, match=r"joints2d: expected shape \(2, 24, 2\), got \(2, 16, 2\)"):
        crop_batch(image, labels, joints[:, :16], train=False)
    with pytest.raises(ValueError, match="gen"):
        crop_batch(image, labels, joints, train=True)


def test_crop_centre_inside_follows_the_padded_box_centre():
    from synthhuman.train.augment import crop_centre_inside

    joints = torch.zeros(3, 24, 2)
    joints[0] = torch.tensor([50.0, 40.0])  # all joints at one pixel: box centre there, minus the top pad
    joints[1] = torch.tensor([330.0, 40.0])  # beyond the right border of a 320-wide image
    joints[2, :, 0], joints[2, 0, 0] = -10.0, 8.0  # box [-10.5, 8.5], padded evenly: centre x = -1, outside
    joints[2, :, 1] = 100.0
    assert crop_centre_inside(joints, (240, 320)).tolist() == [True, False, False]
