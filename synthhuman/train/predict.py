"""``synthhuman predict``: a trained model's segmentation or depth for any image, a real photo included.

The network sees a square crop (around a given person box, enlarged as SURREAL enlarges its joint box, or
the whole image), and its output is mapped back onto every pixel of the image.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch
from torch import Tensor

from synthhuman import viz
from synthhuman.train.augment import AugmentConfig, crop_boxes, crop_thetas, sample_crop
from synthhuman.train.hourglass import StackedHourglass
from synthhuman.train.loop import predict
from synthhuman.train.targets import NUM_DEPTH_CLASSES


def crop_square(
    image_size: tuple[int, int], box: tuple[float, float, float, float] | None, cfg: AugmentConfig
) -> tuple[Tensor, Tensor]:
    """Centre (1, 2) and side (1,) float64 pixels of the network's crop of an image of (H, W) pixels:
    around ``box`` (x0, y0, x1, y1, pixel centres at integers) as SURREAL crops around its joint box, or,
    without a box, the whole image (a square of its longer side, centred)."""
    h, w = image_size
    if box is None:
        return torch.tensor([[(w - 1) / 2, (h - 1) / 2]], dtype=torch.float64), torch.tensor(
            [float(max(h, w))], dtype=torch.float64
        )
    x0, y0, x1, y1 = box
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"box: expected x0 < x1 and y0 < y1, got {box}")
    corners = torch.tensor([[[x0, y0], [x1, y1]]], dtype=torch.float64)
    return crop_boxes(corners, cfg, box_joints=(0, 1))


def predict_image(
    model: StackedHourglass, image: Tensor, box: tuple[float, float, float, float] | None = None
) -> Tensor:
    """(H, W) int64 classes of the model's task for an (H, W, 3) float image in [0, 1]; pixels outside
    the crop are background (0). Runs on the model's device."""
    if image.ndim != 3 or image.shape[-1] != 3 or not image.dtype.is_floating_point:
        raise ValueError(f"image: expected an (H, W, 3) float tensor, got {tuple(image.shape)} {image.dtype}")
    h, w, _ = image.shape
    hg = model.config
    device = next(model.parameters()).device
    centre, side = crop_square((h, w), box, AugmentConfig(hg.input_size, hg.output_size))
    theta = crop_thetas(centre, side, torch.zeros(1, dtype=torch.float64), (h, w)).float().to(device)
    crop = sample_crop(image.permute(2, 0, 1)[None].float().to(device), theta, hg.input_size, "bilinear")
    with torch.no_grad():
        classes = predict(model(crop))[0].cpu()  # (s, s)
    # every image pixel -> its cell of the (s, s) output: the inverse of the crop map (no rotation)
    s = hg.output_size
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij"
    )
    normalized = (torch.stack([xs, ys], -1) - centre[0]) / (side[0] / 2)
    cell = ((normalized + 1) * s / 2 - 0.5).round().long()
    inside = ((cell >= 0) & (cell < s)).all(-1)
    cell = cell.clamp(0, s - 1)
    out = classes[cell[..., 1], cell[..., 0]]
    return torch.where(inside, out, torch.zeros_like(out))


def depth_classes_image(classes: Tensor) -> Tensor:
    """(H, W) depth classes -> (H, W, 3) uint8: near bins bright yellow, far bins dark blue, background
    black."""
    t = (classes.double() - 1) / (NUM_DEPTH_CLASSES - 2)  # 0 nearest .. 1 farthest
    rgb = viz.hsv_to_rgb(0.15 + 0.5 * t, torch.full_like(t, 0.9), 1.0 - 0.6 * t)
    rgb = torch.where((classes > 0)[..., None], rgb, torch.zeros_like(rgb))
    return (rgb.clamp(0, 1) * 255 + 0.5).to(torch.uint8)


def prediction_picture(image: Tensor, classes: Tensor, task: str) -> np.ndarray:
    """Input | prediction | the two blended (50 % where the prediction is not background), side by side.
    image: (H, W, 3) float in [0, 1]; classes: (H, W) int64."""
    rgb = viz.rgb_image(image)
    colours = viz.labels_image(classes) if task == "segm" else depth_classes_image(classes)
    fg = (classes > 0)[..., None]
    blend = torch.where(fg, (rgb.float() + colours.float()) / 2, rgb.float()).round().to(torch.uint8)
    return viz.contact_sheet([[rgb, colours, blend]])


def read_image(path: Path) -> Tensor:
    """(H, W, 3) float32 in [0, 1] from an image file (grey expanded, alpha dropped)."""
    try:
        pixels = np.asarray(iio.imread(path))
    except Exception as exc:  # imageio's errors vary by plugin
        raise ValueError(f"{path}: not a readable image ({exc})") from None
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, -1)
    if pixels.ndim != 3 or pixels.shape[-1] not in (3, 4):
        raise ValueError(f"{path}: expected an RGB or grey image, got an array of shape {pixels.shape}")
    scale = np.iinfo(pixels.dtype).max if pixels.dtype.kind in "ui" else 1.0
    return torch.from_numpy(pixels[..., :3].astype(np.float32) / scale)


def output_stems(images: list[Path]) -> list[str]:
    """A distinct output name per image: its stem (``a`` for ``a.png``); images sharing a stem get their
    suffix too (``a_png``, ``a_jpg``), then a number (``a_png_2``) if still alike, so no picture of this
    run overwrites another."""
    stems = [Path(p).stem for p in images]
    named = [
        f"{Path(p).stem}_{Path(p).suffix.lstrip('.').lower()}" if stems.count(stem) > 1 else stem
        for p, stem in zip(images, stems, strict=True)
    ]
    seen: dict[str, int] = {}
    out = []
    for name in named:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def predict_files(
    images: list[Path],
    checkpoints: list[Path],
    out: Path,
    box: tuple[float, float, float, float] | None,
    device: torch.device,
) -> list[tuple[Path, bool]]:
    """For every image and checkpoint, ``out/<name>_<task>.png`` (see :func:`prediction_picture`; names
    from :func:`output_stems`, never two alike). Returns each path written and whether it replaced a file
    that was there before."""
    from synthhuman.train.run import load_trained

    models = [load_trained(c, device) for c in checkpoints]
    tasks = [cfg.train.task for _, cfg in models]
    if len(set(tasks)) != len(tasks):
        raise ValueError(f"checkpoint: expected at most one per task, got tasks {tasks} from {checkpoints}")
    pictures = [read_image(Path(p)) for p in images]  # every image checked before anything is written
    written = []
    for name, image in zip(output_stems(images), pictures, strict=True):
        for (state, _), task in zip(models, tasks, strict=True):
            classes = predict_image(state.model, image, box)
            target = out / f"{name}_{task}.png"
            existed = target.exists()
            written.append((viz.write_png(target, prediction_picture(image, classes, task)), existed))
    return written
