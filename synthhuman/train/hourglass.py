"""Stacked hourglass network (Newell et al., ECCV 2016), the architecture SURREAL trained.

Layout, as in SURREAL's ``models/hg.lua``: a stem (7x7 stride-2 convolution, residual blocks and a 2x2
max-pool) brings the input to a quarter of its size; then ``num_stacks`` hourglasses, each followed by a
residual block, a 1x1 convolution + batch norm + ReLU and a 1x1 classifier. Every stack's logits are
returned (intermediate supervision) and, except after the last, mapped back by 1x1 convolutions and added
to the features the next stack reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from synthhuman.config import require

STEM_CHANNELS = (64, 128)
"""Widths of the stem's first convolution and residual blocks (fixed in Newell's and SURREAL's code)."""


@dataclass(frozen=True)
class HourglassConfig:
    """Architecture of :class:`StackedHourglass`.

    num_stacks: hourglasses in sequence, each supervised (SURREAL: 8).
    features: channels inside the hourglasses (SURREAL: 256).
    num_classes: output channels (15 for segmentation, 20 for depth).
    input_size: side of the square input; outputs are ``input_size // 4`` (SURREAL: 256 -> 64).
    depth: halvings inside each hourglass (4); ``input_size`` must be a multiple of ``4 * 2**depth``.
    """

    num_stacks: int = 8
    features: int = 256
    num_classes: int = 15
    input_size: int = 256
    depth: int = 4

    def __post_init__(self) -> None:
        for name in ("num_stacks", "depth"):
            require(getattr(self, name) >= 1, name, ">= 1", getattr(self, name))
        require(
            self.features >= 2 and self.features % 2 == 0, "features", "an even number >= 2", self.features
        )
        require(self.num_classes >= 2, "num_classes", ">= 2", self.num_classes)
        multiple = 4 * 2**self.depth
        require(
            self.input_size >= multiple and self.input_size % multiple == 0,
            "input_size",
            f"a multiple of 4 * 2**depth = {multiple}",
            self.input_size,
        )

    @property
    def output_size(self) -> int:
        return self.input_size // 4


def _bn_relu_conv(c_in: int, c_out: int, kernel: int) -> list[nn.Module]:
    return [nn.BatchNorm2d(c_in), nn.ReLU(inplace=True), nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2)]


class Residual(nn.Module):
    """Pre-activation bottleneck: (BN, ReLU, conv) x 3 with 1x1, 3x3, 1x1 kernels at half width in the
    middle, plus the input (through a 1x1 convolution when the width changes)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        mid = c_out // 2
        self.body = nn.Sequential(
            *_bn_relu_conv(c_in, mid, 1), *_bn_relu_conv(mid, mid, 3), *_bn_relu_conv(mid, c_out, 1)
        )
        self.skip = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + self.skip(x)


class Hourglass(nn.Module):
    """One hourglass of ``depth`` levels: at each level a residual branch at the current resolution, and
    a max-pooled branch that recurses one level down and is upsampled (nearest) back and added."""

    def __init__(self, depth: int, features: int) -> None:
        super().__init__()
        self.skip = Residual(features, features)
        self.down = nn.Sequential(nn.MaxPool2d(2), Residual(features, features))
        self.inner = Hourglass(depth - 1, features) if depth > 1 else Residual(features, features)
        self.up = nn.Sequential(Residual(features, features), nn.Upsample(scale_factor=2, mode="nearest"))

    def forward(self, x: Tensor) -> Tensor:
        return self.skip(x) + self.up(self.inner(self.down(x)))


class _Head(nn.Module):
    """What follows each hourglass: residual block, 1x1 conv + BN + ReLU (features), 1x1 classifier."""

    def __init__(self, features: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            Residual(features, features),
            nn.Conv2d(features, features, 1),
            nn.BatchNorm2d(features),
            nn.ReLU(inplace=True),
        )
        self.classify = nn.Conv2d(features, num_classes, 1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        f = self.features(x)
        return f, self.classify(f)


class StackedHourglass(nn.Module):
    """(B, 3, S, S) float image (channels-first, as torch convolutions want) -> list of ``num_stacks``
    (B, num_classes, S/4, S/4) logits, first stack first; predict from the last."""

    def __init__(self, config: HourglassConfig = HourglassConfig()) -> None:
        super().__init__()
        self.config = config
        c1, c2 = STEM_CHANNELS
        f, k = config.features, config.num_classes
        self.stem = nn.Sequential(
            nn.Conv2d(3, c1, 7, stride=2, padding=3),
            nn.BatchNorm2d(c1),
            nn.ReLU(inplace=True),
            Residual(c1, c2),
            nn.MaxPool2d(2),
            Residual(c2, c2),
            Residual(c2, f),
        )
        self.hourglasses = nn.ModuleList(Hourglass(config.depth, f) for _ in range(config.num_stacks))
        self.heads = nn.ModuleList(_Head(f, k) for _ in range(config.num_stacks))
        # 1x1 maps of the features and the logits back into the next stack's input (none after the last)
        self.remap_features = nn.ModuleList(nn.Conv2d(f, f, 1) for _ in range(config.num_stacks - 1))
        self.remap_logits = nn.ModuleList(nn.Conv2d(k, f, 1) for _ in range(config.num_stacks - 1))

    def forward(self, image: Tensor) -> list[Tensor]:
        s = self.config.input_size
        if image.ndim != 4 or image.shape[1:] != (3, s, s):
            raise ValueError(f"image: expected shape (B, 3, {s}, {s}), got {tuple(image.shape)}")
        x = self.stem(image)
        outputs = []
        for i, (hourglass, head) in enumerate(zip(self.hourglasses, self.heads, strict=True)):
            features, logits = head(hourglass(x))
            outputs.append(logits)
            if i < len(self.remap_features):
                x = x + self.remap_features[i](features) + self.remap_logits[i](logits)
        return outputs
