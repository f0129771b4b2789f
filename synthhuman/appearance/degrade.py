"""Image degradations applied to rendered RGB after rendering, before writing: labels are never touched.

Effects (``DEGRADATIONS``), each switched on by name in ``DegradeConfig.effects`` and then applied to a
clip with its own probability and strengths drawn once per clip (one camera per clip):

- ``blur``: motion blur along the exact forward flow of each pixel (the renderer's ``flow``): the mean of
  ``taps`` bilinear samples of the frame along the segment ``p + s * flow(p)``, ``s`` in
  ``[-e/2, e/2]`` with ``e`` the exposure (a fraction of the frame interval). Pixels without flow (the
  background under a static camera, and every pixel of a clip's last frame, which has no forward flow)
  stay sharp.
- ``defocus``: a disc (pillbox) blur; with ``defocus_depth`` its radius grows with the distance from a
  focus plane at the person (``r = R |1 - z_focus / z|``, background at infinity gets ``R``), else ``R``
  everywhere.
- ``noise``: Poisson-Gaussian sensor noise, signal dependent: variance ``gain * x + read^2``.
- ``jitter``: colour jitter: white balance (per-channel gain), brightness, contrast, saturation, hue
  rotation, gamma.
- ``jpeg``: JPEG encode and decode of each frame (Pillow) at a quality drawn per clip.
- ``h264``: the H.264 quality of the clip's video: a CRF drawn per clip that the mp4 writers use (the
  canonical and SURREAL formats); it does not change the frames in memory.

Randomness: per clip from ``derived_generator(clip seed, "degrade")``, per frame (noise) from
``derived_generator(clip seed, "degrade", frame)``: the same frame of the same clip degrades the same way
on disk and on the fly, whatever the batching or the thread count. Images are (B, H, W, 3) float32 in
[0, 1] throughout.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from synthhuman.appearance._util import check_range
from synthhuman.config import require
from synthhuman.rng import derived_generator

DEGRADATIONS = ("blur", "defocus", "noise", "jitter", "jpeg", "h264")
"""Every effect, in the order they apply (h264 applies when the video is written)."""


@dataclass(frozen=True)
class DegradeConfig:
    """Which degradations are on (``effects``, names from ``DEGRADATIONS``; empty: none, the default) and,
    per effect, the probability that a clip gets it and the (lo, hi) ranges its strengths are drawn from,
    uniformly, once per clip.

    blur: exposure (fraction of the frame interval the shutter is open), taps (samples along the flow).
    defocus: radius in pixels at 320 px of width (scaled with the width), depth dependence.
    noise: gain (Poisson variance per unit of signal) and read (Gaussian standard deviation).
    jitter: white_balance, brightness and contrast (factors), saturation (factor), hue (turns), gamma.
    jpeg: quality 1..95. h264: the CRF 0..51 of the clip's video."""

    effects: tuple[str, ...] = ()
    blur_prob: float = 0.5
    blur_exposure: tuple[float, float] = (0.3, 1.0)
    blur_taps: int = 9
    defocus_prob: float = 0.3
    defocus_radius: tuple[float, float] = (0.5, 2.5)
    defocus_depth: bool = True
    noise_prob: float = 0.7
    noise_gain: tuple[float, float] = (0.0005, 0.01)
    noise_read: tuple[float, float] = (0.002, 0.015)
    jitter_prob: float = 0.8
    white_balance: tuple[float, float] = (0.9, 1.1)
    brightness: tuple[float, float] = (0.8, 1.2)
    contrast: tuple[float, float] = (0.8, 1.2)
    saturation: tuple[float, float] = (0.7, 1.3)
    hue: tuple[float, float] = (-0.04, 0.04)
    gamma: tuple[float, float] = (0.85, 1.2)
    jpeg_prob: float = 0.5
    jpeg_quality: tuple[float, float] = (30.0, 90.0)
    h264_prob: float = 1.0
    h264_crf: tuple[float, float] = (23.0, 35.0)

    def __post_init__(self) -> None:
        bad = [e for e in self.effects if e not in DEGRADATIONS]
        require(not bad and len(set(self.effects)) == len(self.effects), "effects",
                f"distinct names among {DEGRADATIONS}", self.effects)  # fmt: skip
        for name in ("blur_prob", "defocus_prob", "noise_prob", "jitter_prob", "jpeg_prob", "h264_prob"):
            require(0 <= getattr(self, name) <= 1, name, "a probability in [0, 1]", getattr(self, name))
        check_range("blur_exposure", self.blur_exposure, 0.0, 4.0)
        require(2 <= self.blur_taps <= 64, "blur_taps", "an int in [2, 64]", self.blur_taps)
        check_range("defocus_radius", self.defocus_radius, 0.0, 20.0)
        check_range("noise_gain", self.noise_gain, 0.0, 1.0)
        check_range("noise_read", self.noise_read, 0.0, 1.0)
        for name in ("white_balance", "brightness", "contrast", "saturation", "gamma"):
            check_range(name, getattr(self, name), 0.0, 10.0)
        check_range("hue", self.hue, -0.5, 0.5)
        check_range("jpeg_quality", self.jpeg_quality, 1.0, 95.0)
        check_range("h264_crf", self.h264_crf, 0.0, 51.0)


def parse_effects(text: str, flag: str = "--degrade") -> tuple[str, ...]:
    """The effects named by a flag's text: a comma list of ``DEGRADATIONS``, or ``all`` / ``none``;
    ValueError naming ``flag`` and the accepted values otherwise."""
    words = [w.strip() for w in text.split(",")]
    if words == ["all"]:
        return DEGRADATIONS
    if words == ["none"]:
        return ()
    if not all(w in DEGRADATIONS for w in words) or len(set(words)) != len(words):
        raise ValueError(
            f"{flag}: expected a comma list of distinct {', '.join(DEGRADATIONS)}, or all or none, "
            f"got {text!r}"
        )
    return tuple(e for e in DEGRADATIONS if e in words)


@dataclass(frozen=True)
class ClipDegradation:
    """What one clip gets, drawn by :func:`sample_degradation`; None for an effect it does not get. seed:
    the clip's seed (per-frame noise); exposure (blur), radius (defocus, pixels at this width), gain and
    read (noise), jitter (white balance r, g, b, brightness, contrast, saturation, hue, gamma), quality
    (jpeg), crf (h264)."""

    seed: int
    exposure: float | None = None
    taps: int = 9
    radius: float | None = None
    depth_dependent: bool = True
    gain: float | None = None
    read: float | None = None
    jitter: tuple[float, ...] | None = None
    quality: int | None = None
    crf: int | None = None

    def record(self) -> dict:
        """The effects this clip got and their strengths (for its info), without the unused ones."""
        names = ("exposure", "radius", "gain", "read", "jitter", "quality", "crf")
        return {
            k: (list(v) if isinstance(v, tuple) else v) for k in names if (v := getattr(self, k)) is not None
        }


def sample_degradation(cfg: DegradeConfig, seed: int, width: int = 320) -> ClipDegradation:
    """Draw clip ``seed``'s degradations (see the module docstring) for images ``width`` pixels wide. Every
    effect's draws are made whether or not it is on, so switching one effect never changes another's."""
    gen = derived_generator(seed, "degrade")

    def draw(prob: float, *ranges: tuple[float, float]) -> tuple[bool, list[float]]:
        u = torch.rand(1 + len(ranges), generator=gen, dtype=torch.float64).tolist()
        return u[0] < prob, [lo + (hi - lo) * x for (lo, hi), x in zip(ranges, u[1:], strict=True)]

    on = set(cfg.effects)
    blur, (exposure,) = draw(cfg.blur_prob, cfg.blur_exposure)
    defocus, (radius,) = draw(cfg.defocus_prob, cfg.defocus_radius)
    noise, (gain, read) = draw(cfg.noise_prob, cfg.noise_gain, cfg.noise_read)
    wb = cfg.white_balance
    jitter, values = draw(cfg.jitter_prob, wb, wb, wb, cfg.brightness, cfg.contrast, cfg.saturation, cfg.hue,
                          cfg.gamma)  # fmt: skip
    jpeg, (quality,) = draw(cfg.jpeg_prob, cfg.jpeg_quality)
    h264, (crf,) = draw(cfg.h264_prob, cfg.h264_crf)
    return ClipDegradation(
        seed=seed,
        exposure=exposure if blur and "blur" in on else None,
        taps=cfg.blur_taps,
        radius=radius * width / 320 if defocus and "defocus" in on else None,
        depth_dependent=cfg.defocus_depth,
        gain=gain if noise and "noise" in on else None,
        read=read if noise and "noise" in on else None,
        jitter=tuple(values) if jitter and "jitter" in on else None,
        quality=round(quality) if jpeg and "jpeg" in on else None,
        crf=round(crf) if h264 and "h264" in on else None,
    )


def motion_blur(image: Tensor, flow: Tensor, exposure: float, taps: int = 9) -> Tensor:
    """(B, H, W, 3): ``image`` (B, H, W, 3) averaged over ``taps`` bilinear samples at ``p + s flow(p)``,
    ``s`` evenly spaced in ``[-exposure/2, exposure/2]``; flow (B, H, W, 2) pixels (du, dv), 0 where a
    pixel has none (those pixels are copied, untouched). Samples outside the image take the nearest
    border pixel. Only moving pixels are sampled (a person is a small part of most frames)."""
    b, h, w, _ = image.shape
    out = image.clone()
    frame, row, col = (flow != 0).any(-1).nonzero(as_tuple=True)
    if frame.numel() == 0:
        return out
    f = flow[frame, row, col].to(image.dtype)
    flat = image.reshape(b * h * w, 3)
    base = frame * (h * w)
    total = torch.zeros(frame.shape[0], 3, dtype=image.dtype, device=image.device)
    for s in torch.linspace(-exposure / 2, exposure / 2, taps).tolist():
        u = (col + s * f[:, 0]).clamp(0, w - 1)
        v = (row + s * f[:, 1]).clamp(0, h - 1)
        u0, v0 = u.floor(), v.floor()
        du, dv = (u - u0)[:, None], (v - v0)[:, None]
        x0, y0 = u0.long(), v0.long()
        x1, y1 = (x0 + 1).clamp(max=w - 1), (y0 + 1).clamp(max=h - 1)
        top = flat[base + y0 * w + x0] * (1 - du) + flat[base + y0 * w + x1] * du
        bottom = flat[base + y1 * w + x0] * (1 - du) + flat[base + y1 * w + x1] * du
        total += top * (1 - dv) + bottom * dv
    out[frame, row, col] = total / taps
    return out


def _disc(radius: float, device: torch.device) -> Tensor:
    """(k, k) pillbox kernel of ``radius`` pixels, its edge pixels weighted by coverage, summing to 1."""
    k = math.ceil(radius)
    x = torch.arange(-k, k + 1, dtype=torch.float32, device=device)
    d = (x[:, None] ** 2 + x[None, :] ** 2).sqrt()
    kernel = (radius + 0.5 - d).clamp(0, 1)
    return kernel / kernel.sum()


def disc_blur(image: Tensor, radius: float) -> Tensor:
    """(B, H, W, 3): ``image`` (B, H, W, 3) convolved with a disc of ``radius`` pixels (reflected
    borders, so the mean is kept up to border effects)."""
    if radius <= 0:
        return image
    kernel = _disc(radius, image.device).to(image.dtype)
    k = kernel.shape[0] // 2
    b, h, w, c = image.shape
    x = image.permute(0, 3, 1, 2).reshape(b * c, 1, h, w)  # channels as batch: a plain convolution
    pad = min(k, h - 1, w - 1)
    x = F.pad(x, (pad, pad, pad, pad), mode="reflect") if pad else x
    if pad < k:
        x = F.pad(x, (k - pad,) * 4, mode="replicate")
    out = F.conv2d(x, kernel[None, None])
    return out.reshape(b, c, h, w).permute(0, 2, 3, 1).contiguous()


def defocus(image: Tensor, radius: float, depth: Tensor | None = None) -> Tensor:
    """(B, H, W, 3) defocus blur of ``image`` (B, H, W, 3). Without ``depth`` a disc of ``radius`` pixels
    everywhere; with ``depth`` (B, H, W) metres (0 = background, at infinity) the radius at each pixel is
    ``radius * |1 - z_focus / z|`` clipped to ``radius``, focused at the median depth of each frame's
    covered pixels; the blurred image is blended from discs of radius 0, R/3, 2R/3 and R."""
    if depth is None:
        return disc_blur(image, radius)
    covered = depth > 0
    focus = torch.stack(
        [z[m].median() if bool(m.any()) else z.new_tensor(1.0) for z, m in zip(depth, covered, strict=True)]
    )[:, None, None]
    r = torch.where(covered, (1 - focus / depth.clamp_min(1e-6)).abs() * radius, depth.new_tensor(radius))
    r = (r.clamp(0, radius) / max(radius, 1e-9) * 3).to(image.dtype)  # in units of the levels
    levels = torch.stack([disc_blur(image, radius * k / 3) for k in range(4)])  # (4, B, H, W, 3)
    lo = r.floor().long().clamp(max=2)
    t = (r - lo)[..., None]
    index = lo[None, ..., None].expand(1, *lo.shape, 3)
    return levels.gather(0, index)[0] * (1 - t) + levels.gather(0, index + 1)[0] * t


def sensor_noise(image: Tensor, gain: float, read: float, gens: list[torch.Generator]) -> Tensor:
    """(B, H, W, 3): ``image`` (B, H, W, 3) plus Poisson-Gaussian noise of variance ``gain * x + read^2``
    (Gaussian approximation), drawn on the CPU from ``gens`` (one generator per frame), clamped to [0, 1]."""
    normal = torch.stack([torch.randn(image.shape[1:], generator=g) for g in gens]).to(
        image.device, image.dtype
    )
    std = (gain * image.clamp_min(0) + read * read).sqrt()
    return (image + std * normal).clamp(0, 1)


def colour_jitter(image: Tensor, jitter: tuple[float, ...]) -> Tensor:
    """(B, H, W, 3): ``image`` (B, H, W, 3) with white balance (r, g, b gains), brightness, contrast
    (about each frame's mean grey), saturation, hue (rotation in turns about the grey axis) and gamma.

    The steps before gamma are affine: ``y = c R S D x + (1 - c) m`` with D the gains, c the contrast, m the
    frame's mean grey after D, S the saturation and R the hue rotation (both keep grey), so they run as one
    3 x 3 matrix and an offset."""
    wr, wg, wb, brightness, contrast, saturation, hue, gamma = jitter
    opts = dict(dtype=image.dtype, device=image.device)
    gains = torch.tensor([wr, wg, wb], **opts) * brightness
    eye = torch.eye(3, **opts)
    grey = torch.full_like(eye, 1 / 3)
    sat = saturation * eye + (1 - saturation) * grey
    angle = 2 * math.pi * hue  # Rodrigues rotation about the (1, 1, 1) axis
    c, s, a = math.cos(angle), math.sin(angle), 1 / math.sqrt(3)
    k = torch.tensor([[0, -a, a], [a, 0, -a], [-a, a, 0]], **opts)
    rot = c * eye + s * k + (1 - c) * grey
    matrix = contrast * rot @ sat @ torch.diag(gains)
    mean = (image * gains).mean(dim=(1, 2, 3))[:, None, None, None]
    x = image @ matrix.T + (1 - contrast) * mean
    return x.clamp(0, 1) ** gamma


def jpeg(image: Tensor, quality: int) -> Tensor:
    """(B, H, W, 3): each frame of ``image`` (B, H, W, 3) encoded as JPEG at ``quality`` (Pillow, 4:2:0)
    and decoded; values are quantised to uint8 steps as a stored frame is."""
    from PIL import Image

    frames = (image.detach().clamp(0, 1) * 255 + 0.5).to(torch.uint8).cpu().numpy()
    out = []
    for frame in frames:
        buffer = io.BytesIO()
        Image.fromarray(frame).save(buffer, format="JPEG", quality=int(quality))
        out.append(np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")))
    return torch.from_numpy(np.stack(out)).to(image.device, image.dtype) / 255


def degrade_frames(
    image: Tensor,
    params: ClipDegradation,
    frames: Tensor,
    flow: Tensor | None = None,
    depth: Tensor | None = None,
) -> Tensor:
    """(B, H, W, 3) float32 in [0, 1]: frames ``frames`` (B,) int64 (their indices in the clip) of one clip,
    ``image`` (B, H, W, 3), with the clip's degradations ``params`` in the order blur, defocus, noise,
    jitter, jpeg. flow (B, H, W, 2) pixels (the forward flow; needed for blur), depth (B, H, W) metres, 0
    background (for depth-dependent defocus)."""
    require(image.dim() == 4 and image.shape[-1] == 3, "image", "(B, H, W, 3)", tuple(image.shape))
    require(
        tuple(frames.shape) == image.shape[:1], "frames", f"shape ({image.shape[0]},)", tuple(frames.shape)
    )
    x = image
    if params.exposure is not None:
        require(flow is not None, "flow", "the forward flow for motion blur", None)
        x = motion_blur(x, flow.to(x.dtype), params.exposure, params.taps)
    if params.radius is not None:
        x = defocus(x, params.radius, depth if params.depth_dependent else None)
    if params.gain is not None:
        gens = [derived_generator(params.seed, "degrade", int(f)) for f in frames.tolist()]
        x = sensor_noise(x, params.gain, params.read, gens)
    if params.jitter is not None:
        x = colour_jitter(x, params.jitter)
    if params.quality is not None:
        x = jpeg(x, params.quality)
    return x.clamp(0, 1)
