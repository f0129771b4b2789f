"""Photo-like backgrounds: procedural images with the statistics of natural images, and crops of
scikit-image's bundled photos.

Natural images have a power spectrum falling about as 1/f^2, edges and occlusions at every scale, and
textured surfaces. Two generators reproduce that without any file:

- **dead leaves** (:func:`dead_leaves_background`): opaque shapes (ellipses and rotated rectangles) stacked
  front to back, radii drawn from a power law ``p(r) ~ r^-3`` (the scale-invariant distribution that gives
  the 1/f^2 spectrum), each with its own colour from a palette, its own fractal texture and a shading ramp;
  optionally out of focus.
- **fractal scenes** (:func:`fractal_background`): 1/f^a noise (``a`` around 2) mapped through plausible
  palettes (foliage, earth, stone, sky, walls), usually split at a horizon into a backdrop and a ground
  seen in perspective whose texture recedes and blurs with distance.

With scikit-image installed, **photo** crops (random windows, zooms and mirroring) of its bundled
person-free CC0 / public-domain photos are mixed in (never downloaded; without scikit-image only the
procedural kinds are drawn). Every function returns (H, W, 3) float32 in [0, 1] and draws randomness only
from the explicit CPU generator it is given.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from synthhuman.config import require
from synthhuman.render.kernels import front_leaves, warp_available

PHOTO_LIKE_KINDS = ("dead_leaves", "fractal", "photo")
"""The kinds of the photo-like style, in the order of ``BackgroundConfig.photo_like_probs``."""

PHOTO_LIKE_PHOTOS = ("brick.png", "chelsea.png", "coffee.png", "grass.png", "gravel.png", "rocket.jpg")
"""scikit-image's bundled CC0 / public-domain photos without people (its astronaut and cameraman photos
show people, whom a segmentation network must not learn to call background)."""

_PALETTES = (
    ((0.10, 0.16, 0.06), (0.22, 0.34, 0.12), (0.45, 0.52, 0.22), (0.70, 0.72, 0.45)),  # foliage
    ((0.18, 0.12, 0.08), (0.38, 0.27, 0.17), (0.58, 0.46, 0.32), (0.78, 0.70, 0.56)),  # earth, wood
    ((0.20, 0.20, 0.21), (0.40, 0.39, 0.37), (0.60, 0.58, 0.55), (0.82, 0.80, 0.77)),  # stone, concrete
    ((0.35, 0.50, 0.72), (0.55, 0.68, 0.85), (0.78, 0.85, 0.93), (0.95, 0.96, 0.97)),  # sky, haze
    ((0.55, 0.45, 0.36), (0.75, 0.66, 0.55), (0.88, 0.82, 0.72), (0.96, 0.93, 0.87)),  # warm walls
    ((0.25, 0.30, 0.36), (0.45, 0.52, 0.58), (0.66, 0.71, 0.75), (0.85, 0.87, 0.88)),  # cool walls, glass
    ((0.30, 0.08, 0.06), (0.55, 0.22, 0.12), (0.75, 0.45, 0.25), (0.92, 0.78, 0.55)),  # brick, autumn
    ((0.62, 0.55, 0.40), (0.78, 0.70, 0.52), (0.88, 0.82, 0.66), (0.95, 0.92, 0.82)),  # sand, straw
)
_BACKDROPS = (0, 2, 3, 4, 5, 6)  # palettes for a backdrop above a horizon (walls, sky, trees, brick)
_GROUNDS = (0, 1, 2, 7)  # palettes for a ground (grass, earth, paving, sand)


def fractal_noise(
    height: int, width: int, gen: torch.Generator, exponent: float, channels: int = 1
) -> Tensor:
    """(channels, H, W) float32 periodic noise with power spectrum ~ 1/f^exponent (Gaussian white noise
    shaped in the Fourier domain), zero mean and unit standard deviation per channel."""
    require(height > 0 and width > 0, "size", "positive (H, W)", (height, width))
    white = torch.randn(channels, height, width, generator=gen)
    fy = torch.fft.fftfreq(height)[:, None]
    fx = torch.fft.rfftfreq(width)[None, :]
    f = (fx * fx + fy * fy).sqrt()
    f[0, 0] = 1.0
    amplitude = f ** (-exponent / 2)
    amplitude[0, 0] = 0.0
    field = torch.fft.irfft2(torch.fft.rfft2(white) * amplitude, s=(height, width))
    field = field - field.mean(dim=(1, 2), keepdim=True)
    return (field / field.std(dim=(1, 2), keepdim=True).clamp_min(1e-8)).float()


def _palette(index: int, gen: torch.Generator) -> Tensor:
    """(4, 3) palette ``index`` with a random brightness gain and a slight per-channel tint."""
    base = torch.tensor(_PALETTES[index])
    gain = 0.75 + 0.5 * torch.rand((), generator=gen)
    tint = 1 + 0.12 * (torch.rand(3, generator=gen) - 0.5)
    return (base * gain * tint).clamp(0, 1)


def _map_palette(t: Tensor, palette: Tensor) -> Tensor:
    """(..., 3): values ``t`` (...) in [0, 1] through the piecewise-linear ramp of ``palette``: (k, 3),
    or (..., k, 3) one palette per value."""
    k = palette.shape[-2]
    x = t.clamp(0, 1) * (k - 1)
    lo = x.floor().long().clamp(max=k - 2)
    w = (x - lo)[..., None]
    if palette.dim() == 2:
        return palette[lo] * (1 - w) + palette[lo + 1] * w
    index = lo[..., None, None].expand(*lo.shape, 1, 3)
    return palette.gather(-2, index)[..., 0, :] * (1 - w) + palette.gather(-2, index + 1)[..., 0, :] * w


def gaussian_blur(image: Tensor, sigma: float) -> Tensor:
    """(H, W, C) image blurred by a separable Gaussian of ``sigma`` pixels (reflected borders)."""
    if sigma <= 0:
        return image
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    k = k / k.sum()
    c = image.shape[-1]
    img = image.permute(2, 0, 1)[None]
    pad_h, pad_w = min(radius, image.shape[0] - 1), min(radius, image.shape[1] - 1)
    img = F.pad(img, (pad_w, pad_w, pad_h, pad_h), mode="reflect") if pad_h and pad_w else img
    kx = k[radius - pad_w : radius + pad_w + 1] if pad_w else k[radius : radius + 1]
    ky = k[radius - pad_h : radius + pad_h + 1] if pad_h else k[radius : radius + 1]
    img = F.conv2d(img, (kx / kx.sum()).view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    img = F.conv2d(img, (ky / ky.sum()).view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return img[0].permute(1, 2, 0).contiguous()


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen))


def dead_leaves_background(height: int, width: int, gen: torch.Generator, leaves: int = 2000) -> Tensor:
    """(H, W, 3) float32 in [0, 1]: a dead-leaves image of ``leaves`` shapes (see the module docstring).

    Leaf 0 is in front; a pixel shows the first leaf covering it. Radii run from 1 % to 50 % of the
    image's larger side with density ~ r^-3; pixels no leaf covers (a fraction of a percent) show a
    fractal ground."""
    require(height > 0 and width > 0, "size", "positive (H, W)", (height, width))
    n, side = leaves, max(height, width)
    rmin, rmax = 0.01 * side, 0.5 * side
    u, cx, cy, aspect, angle, kind, tone, amp, shade, shade_dir = torch.rand(10, n, generator=gen)
    r = (rmin**-2 - u * (rmin**-2 - rmax**-2)) ** -0.5
    cx, cy = cx * 1.2 * width - 0.1 * width, cy * 1.2 * height - 0.1 * height
    stretch = torch.exp(0.8 * (aspect - 0.5))
    ra, rb = r * stretch, r / stretch
    angle, shade_dir = math.pi * angle, 2 * math.pi * shade_dir
    rect = kind < 0.35
    palettes = torch.stack(
        [_palette(int(i), gen) for i in torch.randint(len(_PALETTES), (3,), generator=gen)]
    )
    which = torch.randint(3, (n,), generator=gen)
    colour = _map_palette(tone, palettes[which])
    colour = colour * (1 + 0.15 * (torch.rand(n, 3, generator=gen) - 0.5))
    fields = fractal_noise(height, width, gen, 1.6, 2)  # leaf textures (fine and coarse)
    field_of = torch.randint(2, (n,), generator=gen)
    ground = fractal_noise(height, width, gen, 2.2)[0]
    sigma = _uniform(gen, 0.4, 0.8) if bool(torch.rand((), generator=gen) < 0.6) else _uniform(gen, 0.8, 2.5)

    # Every (leaf, pixel) pair of each leaf's clipped bounding box, then the front-most covering leaf.
    c, s = torch.cos(angle), torch.sin(angle)
    half_w = (ra * c).abs() + (rb * s).abs()  # the bounding box of the rotated rectangle (or ellipse)
    half_h = (ra * s).abs() + (rb * c).abs()
    x0 = (cx - half_w).floor().clamp(0, width).long()
    x1 = (cx + half_w).ceil().add(1).clamp(0, width).long()
    y0 = (cy - half_h).floor().clamp(0, height).long()
    y1 = (cy + half_h).ceil().add(1).clamp(0, height).long()
    box = torch.stack([x0, x1, y0, y1], -1)
    shape = torch.stack([cx, cy, c, s, 1 / ra, 1 / rb, rect.float()], -1)
    if warp_available():
        winner = front_leaves(box, shape, height, width)
    else:
        winner = front_leaves_reference(box, shape, height, width)

    covered = winner < n
    w = winner.clamp(max=n - 1)
    flat = torch.arange(height * width)
    gx, gy = (flat % width).float() - cx[w], (flat // width).float() - cy[w]
    ramp = (gx * torch.cos(shade_dir[w]) + gy * torch.sin(shade_dir[w])) / r[w]
    texture = fields[field_of[w], flat // width, flat % width]
    lit = colour[w] * (1 + 0.25 * amp[w, None] * texture[:, None] + 0.2 * shade[w, None] * ramp[:, None])
    base = _map_palette(0.5 + 0.18 * ground.flatten(), palettes[0])
    img = torch.where(covered[:, None], lit, base).view(height, width, 3)
    return gaussian_blur(img, sigma).clamp(0, 1).contiguous()


def front_leaves_reference(box: Tensor, shape: Tensor, height: int, width: int) -> Tensor:
    """(H * W,) int64: at each pixel the first leaf covering it, ``n`` where none does, from every (leaf,
    pixel) pair of the leaves' boxes (the reference of the kernel
    :func:`synthhuman.render.kernels.front_leaves`, which takes the same arguments: box (n, 4) int64 x0,
    x1, y0, y1; shape (n, 7) float32 centre x, y, cos, sin, 1 / half-length, 1 / half-width, rectangle
    flag)."""
    n = box.shape[0]
    x0, x1, y0, y1 = box.unbind(-1)
    bw = (x1 - x0).clamp_min(0)
    count = bw * (y1 - y0).clamp_min(0)
    leaf = torch.repeat_interleave(torch.arange(n), count)
    ints = torch.stack([x0, y0, bw, torch.cumsum(count, 0) - count], -1).index_select(0, leaf)
    local = torch.arange(leaf.shape[0]) - ints[:, 3]
    px, py = ints[:, 0] + local % ints[:, 2], ints[:, 1] + local // ints[:, 2]
    floats = shape.index_select(0, leaf)
    dx, dy = px.float() - floats[:, 0], py.float() - floats[:, 1]
    a = (floats[:, 2] * dx + floats[:, 3] * dy) * floats[:, 4]
    b = (floats[:, 2] * dy - floats[:, 3] * dx) * floats[:, 5]
    inside = torch.where(floats[:, 6] > 0, torch.maximum(a.abs(), b.abs()) < 1, a * a + b * b < 1)
    front = torch.where(inside, leaf, n)
    return torch.full((height * width,), n).scatter_reduce_(0, py * width + px, front, "amin")


def fractal_background(height: int, width: int, gen: torch.Generator) -> Tensor:
    """(H, W, 3) float32 in [0, 1]: a fractal scene (see the module docstring). With probability 0.75 a
    backdrop above a horizon and a ground below it whose periodic texture is seen in perspective (its
    scale shrinks toward the horizon and it blurs with distance); else one fractal texture throughout."""
    require(height > 0 and width > 0, "size", "positive (H, W)", (height, width))
    backdrop = _palette(_BACKDROPS[int(torch.randint(len(_BACKDROPS), (), generator=gen))], gen)
    field = fractal_noise(height, width, gen, _uniform(gen, 1.8, 2.8), 2)
    contrast = _uniform(gen, 0.15, 0.3)
    img = _map_palette(0.5 + contrast * field[0], backdrop) * (1 + 0.1 * field[1])[..., None]
    if bool(torch.rand((), generator=gen) < 0.75):
        ground_palette = _palette(_GROUNDS[int(torch.randint(len(_GROUNDS), (), generator=gen))], gen)
        size = 256
        tex = fractal_noise(size, size, gen, _uniform(gen, 1.6, 2.3), 2)
        tex = torch.cat(
            [tex, F.avg_pool2d(tex[None], 8, 8)[0].repeat_interleave(8, 1).repeat_interleave(8, 2)]
        )
        horizon = _uniform(gen, 0.3, 0.65)
        eye, scale = _uniform(gen, 1.0, 2.0), _uniform(gen, 0.1, 0.4)  # eye height, texture repeats/metre
        yaw = _uniform(gen, 0, 2 * math.pi)
        rows = (torch.arange(height, dtype=torch.float32) + 0.5) / height
        cols = (torch.arange(width, dtype=torch.float32) + 0.5) / width
        below = (rows - horizon).clamp_min(1e-3)[:, None]
        depth = eye / below  # ground distance (focal = the image height)
        lateral = (cols[None, :] - 0.5) * (width / height) * depth
        gx = math.cos(yaw) * lateral + math.sin(yaw) * depth
        gz = -math.sin(yaw) * lateral + math.cos(yaw) * depth
        grid = torch.stack([(gx * scale) % 1 * 2 - 1, (gz * scale) % 1 * 2 - 1], -1)
        sampled = F.grid_sample(tex[None], grid[None], mode="bilinear", align_corners=False)[0]
        far = (depth / (depth + 8 * eye)).clamp(0, 1)  # 0 near, 1 at the horizon
        value = sampled[0] * (1 - far) + sampled[2] * far
        detail = sampled[1] * (1 - far) + sampled[3] * far
        ground = _map_palette(0.5 + 0.25 * value, ground_palette) * (1 + 0.12 * detail)[..., None]
        haze = (0.6 * far**2)[..., None]  # aerial perspective toward the backdrop's mean colour
        ground = ground * (1 - haze) + backdrop.mean(0) * haze
        edge = ((rows[:, None] - horizon) * height / 1.5).sigmoid()[..., None]
        img = img * (1 - edge) + ground * edge
    light = 1 + 0.12 * fractal_noise(height, width, gen, 3.0)[0, ..., None]  # uneven illumination
    img = img * light
    return gaussian_blur(img, _uniform(gen, 0.3, 1.2)).clamp(0, 1).contiguous()
