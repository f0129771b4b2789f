"""Our PNG encoder: every decoder's pixels are the image's, for grey and RGB, every filter and level."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from synthhuman.io.png import FILTERS, encode_png


@pytest.mark.parametrize("filter", sorted(FILTERS))
@pytest.mark.parametrize("level", [0, 1, 3, 6])
@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (24, 33, 3), (1, 9, 3), (9, 1, 3)])
def test_pil_decodes_the_image(filter, level, shape):
    rng = np.random.default_rng(sum(shape) + level)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    image[: shape[0] // 2] = 255 - image[: shape[0] // 2]  # wrap-around differences in both directions
    png = encode_png(image, level, filter)
    with Image.open(io.BytesIO(png)) as decoded:
        decoded.load()
        assert decoded.mode == ("L" if len(shape) == 2 else "RGB")
        np.testing.assert_array_equal(np.asarray(decoded), image)


def test_a_label_map_stays_small():
    segm = np.zeros((240, 320), np.uint8)
    segm[60:200, 120:180] = 7
    assert len(encode_png(segm, 1, "none")) < 1000


@pytest.mark.parametrize(
    ("image", "kw", "match"),
    [
        (np.zeros((4, 4), np.float32), {}, "uint8"),
        (np.zeros((4, 4, 4), np.uint8), {}, r"\(H, W, 3\)"),
        (np.zeros((0, 4), np.uint8), {}, "at least one pixel"),
        (np.zeros((4, 4), np.uint8), {"level": 10}, "level: expected 0..9, got 10"),
        (np.zeros((4, 4), np.uint8), {"filter": "paeth"}, "filter: expected one of"),
    ],
)
def test_bad_input_is_named(image, kw, match):
    with pytest.raises(ValueError, match=match):
        encode_png(image, **kw)
