"""SURREAL's crop around the person and its training augmentation, batched, on any device.

The crop (SURREAL's ``getTightBox``/``getScale``/``getCenter``): the tight box of the 2D joints, enlarged
by 25% of its size left, right and below and 35% above; a square centred on that box whose side is
``side_factor`` times the box's longer side (SURREAL: ``200 * max(h, w) / 240`` pixels, pose-hg's 200 px
reference over its 240; kept as it trained). Train augmentation: side times ``2**clip(N(0, .25), +-.5)``,
rotation ``clip(N(0, 30), +-60)`` degrees with probability 0.4 (else 0), colour gain per channel
U[0.6, 1.4] then clipped to [0, 1].

One affine map per sample takes output positions to source positions; the image (bilinear, at
``input_size``) and the labels (nearest, at ``output_size``) are both sampled through it, so they stay
aligned whatever their resolutions. Outside the source image: 0 (black, background).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from synthhuman.config import require
from synthhuman.conventions import NUM_JOINTS

BOX_JOINTS = (7, 4, 1, 2, 5, 8, 0, 6, 12, 15, 20, 18, 16, 17, 19, 21)
"""SMPL joints whose box SURREAL crops around (its ``jointsIx``, 0-based): no spine, spine2, toes,
collars, hand tips."""


@dataclass(frozen=True)
class AugmentConfig:
    """Crop geometry and augmentation ranges (SURREAL's values by default).

    input_size / output_size: sides of the cropped image and label map (256 and 64).
    pad_side / pad_top: box enlargement, fractions of its size (bottom uses pad_side).
    side_factor: crop side over the enlarged box's longer side.
    scale_sigma: std of log2 of the crop-side factor, clipped at +-2 sigma.
    rotate_sigma_deg: std of the rotation in degrees, clipped at +-2 sigma; rotate_prob: how often.
    gain_range: per-channel colour gain bounds.
    """

    input_size: int = 256
    output_size: int = 64
    pad_side: float = 0.25
    pad_top: float = 0.35
    side_factor: float = 200 / 240
    scale_sigma: float = 0.25
    rotate_sigma_deg: float = 30.0
    rotate_prob: float = 0.4
    gain_range: tuple[float, float] = (0.6, 1.4)

    def __post_init__(self) -> None:
        for name in ("input_size", "output_size"):
            require(getattr(self, name) >= 1, name, ">= 1", getattr(self, name))
        for name in ("pad_side", "pad_top", "scale_sigma", "rotate_sigma_deg"):
            require(getattr(self, name) >= 0, name, ">= 0", getattr(self, name))
        require(self.side_factor > 0, "side_factor", "> 0", self.side_factor)
        require(0 <= self.rotate_prob <= 1, "rotate_prob", "in [0, 1]", self.rotate_prob)
        lo, hi = self.gain_range
        require(0 <= lo <= hi, "gain_range", "(lo, hi) with 0 <= lo <= hi", self.gain_range)


@dataclass(frozen=True)
class Augmentation:
    """Per-sample draws: scale (B,) crop-side factor, rotation (B,) radians, gain (B, 3); CPU float64."""

    scale: Tensor
    rotation: Tensor
    gain: Tensor


@dataclass(frozen=True)
class CropBatch:
    """A network-ready batch.

    image: (B, input_size, input_size, 3) float in [0, 1], channels-last.
    labels: (B, output_size, output_size) int64 classes.
    joints: (B, 24, 2) float, the joints in label-map pixels (pixel centres at integers).
    """

    image: Tensor
    labels: Tensor
    joints: Tensor


def crop_boxes(
    joints2d: Tensor, cfg: AugmentConfig = AugmentConfig(), box_joints: tuple[int, ...] = BOX_JOINTS
) -> tuple[Tensor, Tensor]:
    """Centre (B, 2) and side (B,) in source pixels of the square crop around (B, J, 2) joints.

    A pixel's centre is at its integer coordinates, so the box of joints spanning columns x0..x1 covers
    [x0 - 0.5, x1 + 0.5] (SURREAL's ``x1 - x0 + 1`` width).
    """
    pts = joints2d[:, list(box_joints)]
    lo, hi = pts.amin(1) - 0.5, pts.amax(1) + 0.5
    size = hi - lo
    x0 = lo[:, 0] - cfg.pad_side * size[:, 0]
    x1 = hi[:, 0] + cfg.pad_side * size[:, 0]
    y0 = lo[:, 1] - cfg.pad_top * size[:, 1]
    y1 = hi[:, 1] + cfg.pad_side * size[:, 1]
    centre = torch.stack([(x0 + x1) / 2, (y0 + y1) / 2], -1)
    side = cfg.side_factor * torch.maximum(x1 - x0, y1 - y0)
    return centre, side


def crop_centre_inside(
    joints2d: Tensor, image_size: tuple[int, int], cfg: AugmentConfig = AugmentConfig()
) -> Tensor:
    """(B,) bool: whether the centre of each frame's crop box (from (B, 24, 2) joints, pixels) lies inside
    an image of (H, W) pixels. SURREAL's loader skips the frames where it does not (a person walking out
    of the picture); ``generate`` keeps people in frame, but SURREAL's own clips do not."""
    centre, _ = crop_boxes(joints2d.to(torch.float64), cfg)
    h, w = image_size
    x, y = centre[:, 0], centre[:, 1]
    return (x >= -0.5) & (x < w - 0.5) & (y >= -0.5) & (y < h - 0.5)


def sample_augmentation(n: int, gen: torch.Generator, cfg: AugmentConfig = AugmentConfig()) -> Augmentation:
    """Draw ``n`` samples' augmentation from ``gen`` (a CPU generator), in a fixed order."""
    if gen.device.type != "cpu":
        raise ValueError(f"gen: expected a CPU generator, got one on {gen.device}")
    opts = {"generator": gen, "dtype": torch.float64}
    log2_scale = (torch.randn(n, **opts) * cfg.scale_sigma).clamp(-2 * cfg.scale_sigma, 2 * cfg.scale_sigma)
    sigma = math.radians(cfg.rotate_sigma_deg)
    rotation = (torch.randn(n, **opts) * sigma).clamp(-2 * sigma, 2 * sigma)
    rotation = torch.where(torch.rand(n, **opts) < cfg.rotate_prob, rotation, torch.zeros_like(rotation))
    lo, hi = cfg.gain_range
    gain = lo + (hi - lo) * torch.rand(n, 3, **opts)
    return Augmentation(2.0**log2_scale, rotation, gain)


def crop_thetas(centre: Tensor, side: Tensor, rotation: Tensor, image_size: tuple[int, int]) -> Tensor:
    """(B, 2, 3) ``F.affine_grid`` matrices (align_corners=False) from crop coordinates to the source.

    Output point n in [-1, 1]^2 (any resolution) lies at source pixel ``centre + R(rotation) n side / 2``;
    rotation in radians (positive turns the crop window clockwise on screen, +y down).
    """
    h, w = image_size
    cos, sin = torch.cos(rotation), torch.sin(rotation)
    half = side / 2
    to_norm = centre.new_tensor([2.0 / w, 2.0 / h])
    linear = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)  # (B, 2, 2)
    linear = linear * (half[:, None, None] * to_norm[None, :, None])
    shift = (2 * centre + 1) / centre.new_tensor([w, h]) - 1
    return torch.cat([linear, shift[..., None]], -1)


def sample_crop(x: Tensor, theta: Tensor, size: int, mode: str) -> Tensor:
    """(B, C, size, size) samples of (B, C, H, W) ``x`` through (B, 2, 3) ``crop_thetas`` maps; 0 outside."""
    grid = F.affine_grid(theta, [x.shape[0], x.shape[1], size, size], align_corners=False)
    return F.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)


def crop_batch(
    image: Tensor,
    labels: Tensor,
    joints2d: Tensor,
    cfg: AugmentConfig = AugmentConfig(),
    *,
    train: bool,
    gen: torch.Generator | None = None,
) -> CropBatch:
    """Crop a batch around its people; with ``train``, augment it with draws from ``gen``.

    image: (B, H, W, 3) float in [0, 1], channels-last.
    labels: (B, H, W) integer class map (``targets.segm_classes`` or ``targets.depth_classes``).
    joints2d: (B, 24, 2) float pixels (x = column, y = row), pixel centres at integer coordinates.
    gen: CPU generator, required when ``train``; test mode (``train=False``) draws nothing.
    Runs on the inputs' device.
    """
    if image.ndim != 4 or image.shape[-1] != 3 or not image.dtype.is_floating_point:
        raise ValueError(
            f"image: expected a (B, H, W, 3) float tensor, got {tuple(image.shape)} {image.dtype}"
        )
    b, h, w, _ = image.shape
    if labels.shape != (b, h, w) or labels.dtype.is_floating_point:
        raise ValueError(
            f"labels: expected a ({b}, {h}, {w}) integer tensor, got {tuple(labels.shape)} {labels.dtype}"
        )
    if joints2d.shape != (b, NUM_JOINTS, 2):
        raise ValueError(f"joints2d: expected shape ({b}, {NUM_JOINTS}, 2), got {tuple(joints2d.shape)}")
    if labels.device != image.device or joints2d.device != image.device:
        raise ValueError(
            f"image, labels, joints2d: expected one device, got {image.device}, {labels.device}, "
            f"{joints2d.device}"
        )
    if train and gen is None:
        raise ValueError("gen: train=True needs a torch.Generator for the augmentation")
    dev = image.device
    centre, side = crop_boxes(joints2d.to(torch.float64), cfg)
    rotation = torch.zeros_like(side)
    gain = None
    if train:
        aug = sample_augmentation(b, gen, cfg)
        side = side * aug.scale.to(dev)
        rotation, gain = aug.rotation.to(dev), aug.gain.to(dev)
    theta = crop_thetas(centre, side, rotation, (h, w))

    out_image = sample_crop(image.permute(0, 3, 1, 2), theta.to(image.dtype), cfg.input_size, "bilinear")
    out_image = out_image.permute(0, 2, 3, 1)
    if gain is not None:
        out_image = (out_image * gain.to(image.dtype)[:, None, None, :]).clamp(0, 1)
    # integer labels below 2**24 are exact in float32; nearest sampling never mixes two of them
    out_labels = sample_crop(labels[:, None].float(), theta.float(), cfg.output_size, "nearest")[:, 0]

    # joints: invert the map, n = R^T (p - centre) / (side / 2), then n -> label-map pixels
    cos, sin = torch.cos(rotation)[:, None], torch.sin(rotation)[:, None]
    d = joints2d.to(torch.float64) - centre[:, None]
    n = torch.stack([cos * d[..., 0] + sin * d[..., 1], -sin * d[..., 0] + cos * d[..., 1]], -1)
    n = n / (side / 2)[:, None, None]
    joints = (n + 1) * (cfg.output_size / 2) - 0.5
    return CropBatch(out_image.contiguous(), out_labels.round().long(), joints.to(joints2d.dtype))
