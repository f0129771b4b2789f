"""Backgrounds: procedural ones that need no files, user image folders (LSUN-style) and scikit-image's
bundled CC0 / public-domain photos when that optional package is installed. All return (H, W, 3) float32
in [0, 1] and draw randomness only from an explicit CPU generator.

Two styles of procedural backgrounds (``BackgroundConfig.style``): ``photo-like`` (the default: dead
leaves, fractal scenes and crops of scikit-image's person-free photos, :mod:`.natural`) and
``surreal-style`` (the gradients, noise, shapes and checkered rooms drawn before the photo-like ones
existed, exactly as then: :func:`random_background`)."""

from __future__ import annotations

import importlib.util
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from synthhuman.appearance._util import (
    IMAGE_SUFFIXES,
    check_probabilities,
    hash_split,
    load_image,
    random_crop,
    scan_images,
)
from synthhuman.appearance.natural import (
    PHOTO_LIKE_KINDS,
    PHOTO_LIKE_PHOTOS,
    dead_leaves_background,
    fractal_background,
)
from synthhuman.config import require
from synthhuman.conventions import SPLITS


def procedural_background(height: int, width: int, gen: torch.Generator) -> Tensor:
    """(H, W, 3) float32 in [0, 1]: a floor/wall scene (two vertical gradients split at a horizon) with
    smooth multi-scale noise, so backgrounds have texture at several scales as photos do."""
    if height <= 0 or width <= 0:
        raise ValueError(f"procedural_background: expected positive size, got {(height, width)}")
    wall, floor = torch.rand(2, 3, generator=gen) * 0.6 + 0.2
    horizon = 0.45 + 0.3 * torch.rand((), generator=gen)
    rows = torch.linspace(0, 1, height)[:, None, None]
    shade = 1 - 0.35 * (rows - horizon).abs()
    img = torch.where(rows < horizon, wall, floor) * shade
    img = img.expand(height, width, 3).clone()
    for scale in (4, 16, 64):
        noise = torch.rand(1, 3, max(2, height // scale), max(2, width // scale), generator=gen)
        noise = F.interpolate(noise, (height, width), mode="bilinear", align_corners=False)
        img += 0.08 * (noise[0].permute(1, 2, 0) - 0.5)
    return img.clamp(0, 1)


BACKGROUND_KINDS = ("gradient", "noise", "shapes", "room")
"""The kinds of the surreal-style procedural backgrounds, in the order of ``BackgroundConfig.kind_probs``."""
BACKGROUND_STYLES = ("photo-like", "surreal-style")
"""``BackgroundConfig.style``: which procedural backgrounds a clip without background images gets."""


@dataclass(frozen=True)
class BackgroundConfig:
    """Procedural backgrounds. style: one of ``BACKGROUND_STYLES``; ``photo_like_probs`` weights
    ``natural.PHOTO_LIKE_KINDS`` (dead leaves, fractal, photo; the photo weight counts only where
    scikit-image is installed); ``kind_probs`` weights the surreal-style ``BACKGROUND_KINDS``;
    ``max_zoom`` and ``flip`` are the random crop of image backgrounds (a crop covers 1/max_zoom to all of
    the largest window with the output's aspect ratio; mirrored with probability 1/2 when ``flip``);
    ``photo_max_zoom``: the same for the photo-like kind's crops of scikit-image's photos."""

    kind_probs: tuple[float, float, float, float] = (0.15, 0.25, 0.25, 0.35)
    max_zoom: float = 1.5
    flip: bool = True
    style: str = "photo-like"
    photo_like_probs: tuple[float, float, float] = (0.35, 0.35, 0.3)
    photo_max_zoom: float = 3.0

    def __post_init__(self) -> None:
        check_probabilities("kind_probs", self.kind_probs, len(BACKGROUND_KINDS))
        require(self.max_zoom >= 1, "max_zoom", ">= 1", self.max_zoom)
        require(self.style in BACKGROUND_STYLES, "style", f"one of {BACKGROUND_STYLES}", self.style)
        check_probabilities("photo_like_probs", self.photo_like_probs, len(PHOTO_LIKE_KINDS))
        require(self.photo_max_zoom >= 1, "photo_max_zoom", ">= 1", self.photo_max_zoom)


def _colours(n: int, gen: torch.Generator) -> Tensor:
    """(n, 3) random colours of moderate saturation and brightness (HSV sampled, converted)."""
    h, s, v = torch.rand(3, n, generator=gen)
    s, v = 0.1 + 0.6 * s, 0.2 + 0.7 * v
    k = (torch.tensor([5.0, 3.0, 1.0]) + h[:, None] * 6.0) % 6.0
    return v[:, None] - v[:, None] * s[:, None] * torch.minimum(k, 4.0 - k).clamp(0.0, 1.0)


def _grid(height: int, width: int) -> tuple[Tensor, Tensor]:
    """(H, W) x and y in [0, 1] at pixel centres."""
    y = ((torch.arange(height) + 0.5) / height)[:, None].expand(height, width)
    x = ((torch.arange(width) + 0.5) / width)[None, :].expand(height, width)
    return x, y


def _noise(
    height: int, width: int, gen: torch.Generator, scales: tuple[int, ...], channels: int = 3
) -> Tensor:
    """(H, W, channels) smooth value noise summed over cell sizes ``scales`` (pixels), amplitude ~ scale;
    zero mean, about unit range."""
    total = torch.zeros(height, width, channels)
    weight = 0.0
    for scale in scales:
        cells = torch.rand(
            1, channels, max(2, height // scale + 2), max(2, width // scale + 2), generator=gen
        )
        up = F.interpolate(cells, (height, width), mode="bicubic", align_corners=False)[0].permute(1, 2, 0)
        total += scale**0.5 * (up - 0.5)
        weight += scale**0.5
    return total / weight


def gradient_background(height: int, width: int, gen: torch.Generator) -> Tensor:
    """(H, W, 3) in [0, 1]: a linear gradient through two or three colours in a random direction."""
    x, y = _grid(height, width)
    angle = 2 * math.pi * float(torch.rand((), generator=gen))
    t = (x - 0.5) * math.cos(angle) * width / max(height, width) + (y - 0.5) * math.sin(angle) * height / max(
        height, width
    )
    t = (t - t.min()) / (t.max() - t.min()).clamp_min(1e-6)
    stops = _colours(3, gen)
    mid = 0.3 + 0.4 * float(torch.rand((), generator=gen))
    lo = stops[0] + (stops[1] - stops[0]) * (t / mid).clamp(0, 1)[..., None]
    img = torch.where(
        (t < mid)[..., None], lo, stops[1] + (stops[2] - stops[1]) * ((t - mid) / (1 - mid))[..., None]
    )
    return (img + 0.03 * _noise(height, width, gen, (2, 8))).clamp(0, 1)


def noise_background(height: int, width: int, gen: torch.Generator) -> Tensor:
    """(H, W, 3) in [0, 1]: multi-scale coloured noise between two colours (like foliage, stone, clouds)."""
    a, b = _colours(2, gen)
    octaves = (2, 6, 18, 54)
    t = (0.5 + 1.6 * _noise(height, width, gen, octaves, 1)).clamp(0, 1)
    colour_noise = 0.06 * _noise(height, width, gen, (3, 24))
    return (a + (b - a) * t + colour_noise).clamp(0, 1)


def shapes_background(height: int, width: int, gen: torch.Generator) -> Tensor:
    """(H, W, 3) in [0, 1]: random rectangles, ellipses and stripes over a gradient (clutter, edges)."""
    img = gradient_background(height, width, gen)
    x, y = _grid(height, width)
    aspect = width / height
    count = 6 + int(torch.randint(14, (), generator=gen))
    colours = _colours(count, gen)
    for i in range(count):
        cx, cy, rx, ry, kind, angle = torch.rand(6, generator=gen).tolist()
        rx, ry = 0.03 + 0.25 * rx, 0.03 + 0.25 * ry
        c, s = math.cos(math.pi * angle), math.sin(math.pi * angle)
        dx, dy = (x - cx) * aspect, y - cy
        u, v = (c * dx + s * dy) / rx, (-s * dx + c * dy) / ry
        if kind < 0.4:
            mask = (u.abs() < 1) & (v.abs() < 1)
        elif kind < 0.8:
            mask = u * u + v * v < 1
        else:  # a band across the whole image
            mask = v.abs() < 0.3
        shade = 1 + 0.15 * (v.clamp(-1, 1)[..., None])  # a little shading so shapes are not flat
        img = torch.where(mask[..., None], colours[i] * shade, img)
    return (img + 0.03 * _noise(height, width, gen, (2, 8))).clamp(0, 1)


def room_background(height: int, width: int, gen: torch.Generator) -> Tensor:
    """(H, W, 3) in [0, 1]: a wall over a floor seen by a level camera: the floor carries a checker or plank
    pattern in perspective (rendered at 2x and box-filtered so it does not alias), the wall noise and a
    skirting line."""
    sh, sw = 2 * height, 2 * width
    x, y = _grid(sh, sw)
    horizon = 0.3 + 0.3 * float(torch.rand((), generator=gen))
    wall, floor_a, floor_b, skirting = _colours(4, gen)
    eye_height, focal = 1.0 + 0.8 * float(torch.rand((), generator=gen)), 1.0
    below = (y - horizon).clamp_min(1e-3)
    depth = eye_height * focal / below  # metres along the floor
    lateral = (x - 0.5) * (sw / sh) * depth / focal
    tile = 0.6 + 1.4 * float(torch.rand((), generator=gen))
    yaw = math.pi * float(torch.rand((), generator=gen))
    fx = math.cos(yaw) * lateral + math.sin(yaw) * depth
    fz = -math.sin(yaw) * lateral + math.cos(yaw) * depth
    if bool(torch.rand((), generator=gen) < 0.5):  # checker
        pattern = ((fx / tile).floor() + (fz / tile).floor()) % 2
    else:  # planks: long boards with staggered joints
        row = (fz / (0.3 * tile)).floor()
        pattern = ((fx / (2 * tile) + 0.37 * row).floor() + row) % 2 * 0.5
    fade = 1 / (1 + depth / 30)  # far floor fades to its mean colour
    floor = floor_a + (floor_b - floor_a) * (0.5 + (pattern - 0.5) * fade)[..., None]
    shade = 1 - 0.3 * (y - horizon).abs()[..., None]
    img = torch.where((y < horizon)[..., None], wall * shade, floor)
    band = (y < horizon) & (y > horizon - 0.02)
    img = torch.where(band[..., None], skirting, img)
    img = F.avg_pool2d(img.permute(2, 0, 1)[None], 2)[0].permute(1, 2, 0)
    return (img + 0.06 * _noise(height, width, gen, (2, 8, 32))).clamp(0, 1)


_KIND_FUNCTIONS = {
    "gradient": gradient_background,
    "noise": noise_background,
    "shapes": shapes_background,
    "room": room_background,
}


def random_background(
    height: int, width: int, gen: torch.Generator, cfg: BackgroundConfig = BackgroundConfig()
) -> Tensor:
    """(H, W, 3) float32 in [0, 1]: a procedural background of a kind drawn from ``cfg.kind_probs``."""
    require(height > 0 and width > 0, "size", "positive (H, W)", (height, width))
    kind = int(torch.multinomial(torch.tensor(cfg.kind_probs, dtype=torch.float64), 1, generator=gen))
    return _KIND_FUNCTIONS[BACKGROUND_KINDS[kind]](height, width, gen).float().contiguous()


def skip_random_background(height: int, width: int, gen: torch.Generator, cfg: BackgroundConfig) -> None:
    """Advance ``gen`` exactly as :func:`random_background` would, without painting anything (cheap: the
    same draws of the same shapes, in the same order). A clip with a photo-like background calls it so
    that what the clip's generator draws next (the camera) is what it was with surreal-style ones."""
    kind = BACKGROUND_KINDS[
        int(torch.multinomial(torch.tensor(cfg.kind_probs, dtype=torch.float64), 1, generator=gen))
    ]

    def noise(scales: tuple[int, ...], channels: int = 3) -> None:
        for scale in scales:
            torch.rand(1, channels, max(2, height // scale + 2), max(2, width // scale + 2), generator=gen)

    def gradient() -> None:
        torch.rand((), generator=gen), torch.rand(3, 3, generator=gen), torch.rand((), generator=gen)
        noise((2, 8))

    if kind == "gradient":
        gradient()
    elif kind == "noise":
        torch.rand(3, 2, generator=gen)
        noise((2, 6, 18, 54), 1)
        noise((3, 24))
    elif kind == "shapes":
        gradient()
        count = 6 + int(torch.randint(14, (), generator=gen))
        torch.rand(3, count, generator=gen)
        for _ in range(count):
            torch.rand(6, generator=gen)
        noise((2, 8))
    else:  # room
        torch.rand((), generator=gen), torch.rand(3, 4, generator=gen)
        for _ in range(4):
            torch.rand((), generator=gen)
        noise((2, 8, 32))


def photo_like_background(
    height: int,
    width: int,
    gen: torch.Generator,
    cfg: BackgroundConfig = BackgroundConfig(),
    photos: ImageListBackgrounds | None = None,
) -> tuple[Tensor, str]:
    """((H, W, 3) float32 in [0, 1], its name): a photo-like background of a kind drawn from
    ``cfg.photo_like_probs``: "procedural/dead_leaves", "procedural/fractal" or "skimage/<photo>" (only
    with ``photos``, e.g. :func:`photo_like_photos`; without, the photo weight is dropped)."""
    require(height > 0 and width > 0, "size", "positive (H, W)", (height, width))
    probs = list(cfg.photo_like_probs)
    if photos is None:
        probs[PHOTO_LIKE_KINDS.index("photo")] = 0.0
    require(sum(probs) > 0, "photo_like_probs", "a positive weight on a kind available here", probs)
    kind = PHOTO_LIKE_KINDS[
        int(torch.multinomial(torch.tensor(probs, dtype=torch.float64), 1, generator=gen))
    ]
    if kind == "dead_leaves":
        return dead_leaves_background(height, width, gen), "procedural/dead_leaves"
    if kind == "fractal":
        return fractal_background(height, width, gen), "procedural/fractal"
    image, name = photos.sample_named(height, width, gen)
    return image, f"skimage/{name}"


class ImageListBackgrounds:
    """Backgrounds cropped from a list of image files. Unreadable files are skipped with one warning each.

    ``sample(height, width, gen)`` draws a file uniformly (probing forward past unreadable ones, so the
    result depends only on the generator's state) and returns a random crop scaled to (H, W);
    ``sample_named`` returns the file's name too (relative to ``root`` when given, else its file name).
    """

    def __init__(
        self,
        paths: list[Path],
        source: str,
        cfg: BackgroundConfig = BackgroundConfig(),
        root: Path | None = None,
    ) -> None:
        if not paths:
            raise ValueError(f"{source}: no image files")
        self.paths = list(paths)
        self.source = source
        self.cfg = cfg
        self.root = root
        self._unreadable: set[int] = set()

    def __len__(self) -> int:
        return len(self.paths)

    def name(self, index: int) -> str:
        """File ``index`` as recorded in a clip's info: relative to ``root`` (POSIX), else its name."""
        path = self.paths[index]
        if self.root is not None:
            try:
                return path.relative_to(self.root).as_posix()
            except ValueError:
                pass
        return path.name

    def check(self) -> None:
        """Raise ValueError now (before any work) when no file of the list can be read."""
        for index, path in enumerate(self.paths):
            if index in self._unreadable:
                continue
            try:
                load_image(path)
                return
            except ValueError as exc:
                self._unreadable.add(index)
                warnings.warn(f"skipping unreadable background image: {exc}", stacklevel=2)
        raise ValueError(
            f"{self.source}: no readable image among {len(self.paths)} files; add readable JPEG/PNG "
            "images, or drop --backgrounds for procedural ones"
        )

    def sample(self, height: int, width: int, gen: torch.Generator) -> Tensor:
        """(H, W, 3) float32 in [0, 1]."""
        return self.sample_named(height, width, gen)[0]

    def sample_named(self, height: int, width: int, gen: torch.Generator) -> tuple[Tensor, str]:
        """((H, W, 3) float32 in [0, 1], the file's name as :meth:`name` gives it)."""
        require(height > 0 and width > 0, "size", "positive (H, W)", (height, width))
        n = len(self.paths)
        start = int(torch.randint(n, (), generator=gen))
        for k in range(n):
            index = (start + k) % n
            if index in self._unreadable:
                continue
            try:
                image = load_image(self.paths[index])
            except ValueError as exc:
                self._unreadable.add(index)
                warnings.warn(f"skipping unreadable background image: {exc}", stacklevel=2)
                continue
            crop = random_crop(image, (height, width), gen, self.cfg.max_zoom, self.cfg.flip)
            return crop, self.name(index)
        raise ValueError(
            f"{self.source}: no readable image among {n} files; add readable JPEG/PNG images, or drop "
            "--backgrounds for procedural ones"
        )


class ImageFolderBackgrounds(ImageListBackgrounds):
    """Background photos from a user folder (LSUN-style), split train/test deterministically.

    The split's files are those listed in ``root/{split}_img.txt`` (SURREAL's background lists: one path per
    line, relative to ``root``) when that file exists; otherwise every image under ``root`` (recursive;
    jpg, png, webp, ...), with a file in the test split when a hash of its relative path falls below
    ``test_fraction``, so the split never depends on scan order or on which other files exist. When no
    file falls in ``split`` (a folder of a few images), the split uses every image of the folder, with a
    warning: both splits then share them.
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        test_fraction: float = 0.2,
        cfg: BackgroundConfig = BackgroundConfig(),
    ) -> None:
        root = Path(root)
        require(split in SPLITS, "split", f"one of {SPLITS}", split)
        require(0 <= test_fraction <= 1, "test_fraction", "a fraction in [0, 1]", test_fraction)
        if not root.is_dir():
            raise ValueError(f"{root}: background folder does not exist or is not a folder")
        listing = root / f"{split}_img.txt"
        if listing.is_file():
            names = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
            source = str(listing)
            if not names:
                raise ValueError(f"{listing}: lists no image; add one relative path per line, or remove it")
        else:
            every = scan_images(root)
            if not every:
                raise ValueError(
                    f"{root}: no image files (looked for {', '.join(IMAGE_SUFFIXES)}); add images, or drop "
                    "--backgrounds for procedural ones"
                )
            names = [p for p in every if hash_split(p, test_fraction) == split]
            source = f"{root} ({split} split)"
            if not names:
                warnings.warn(
                    f"{root}: none of its {len(every)} images falls in the {split} split (test_fraction "
                    f"{test_fraction}); both splits share them; add images (or {split}_img.txt) to keep the "
                    "splits apart",
                    stacklevel=2,
                )
                names = every
        super().__init__([root / name for name in names], source, cfg, root)


SKIMAGE_PHOTOS = (
    "astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "grass.png", "gravel.png",
    "rocket.jpg",
)  # fmt: skip
"""scikit-image's bundled photos that are CC0 or public domain (per its ``skimage.data`` docstrings), read
from the installed package's data folder: never downloaded."""


def skimage_backgrounds(cfg: BackgroundConfig = BackgroundConfig()) -> ImageListBackgrounds | None:
    """Backgrounds from scikit-image's bundled CC0 / public-domain photos, or None when scikit-image is not
    installed (it is an optional extra)."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "data"
    paths = [folder / name for name in SKIMAGE_PHOTOS if (folder / name).is_file()]
    return ImageListBackgrounds(paths, str(folder), cfg, folder) if paths else None


def photo_like_photos(cfg: BackgroundConfig = BackgroundConfig()) -> ImageListBackgrounds | None:
    """The photo-like style's photos: scikit-image's bundled person-free ones (``PHOTO_LIKE_PHOTOS``) that
    load here, cropped with zooms up to ``cfg.photo_max_zoom``; None without scikit-image."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "data"
    paths = []
    for name in PHOTO_LIKE_PHOTOS:
        try:
            load_image(folder / name)
        except ValueError:
            continue
        paths.append(folder / name)
    crop = BackgroundConfig(max_zoom=cfg.photo_max_zoom, flip=cfg.flip)
    return ImageListBackgrounds(paths, str(folder), crop, folder) if paths else None
