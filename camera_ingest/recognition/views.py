"""Views of a frame for the detector: the same pixels, shown the way the model knows plates.

The offline detector was trained on Chinese plates: dark characters on yellow, green or white,
or white characters on blue. Indonesian plates are black on white (since 2022) or white on
black (older, still most of the traffic). Measured on the development photos
(docs/recognition.md), the model finds more of them when it is shown

* `inverted`: the negative (white-on-black plates become black-on-white), and
* `yellow`: the grey level painted yellow, so a black-on-white plate looks like a Chinese
  yellow plate; `yellow-inverted` does the same to the negative.

Each view is applied to the already resized, unpadded model input, so it costs little.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import cv2
import numpy as np

from camera_ingest.recognition.framing import Image

# Grey level (ITU-R 601 weights, as OpenCV's BGR2GRAY) painted yellow, as one colour matrix
# applied by `cv2.transform` in a single pass: rows are the output B, G, R; columns the input
# B, G, R and a constant. The inverted variant paints 255 - grey.
_GREY = np.array([0.114, 0.587, 0.299], dtype=np.float32)
_TINT = np.array([0.0, 215.0 / 255.0, 1.0], dtype=np.float32)
_YELLOW = np.hstack([np.outer(_TINT, _GREY), np.zeros((3, 1), np.float32)])
_YELLOW_INVERTED = np.hstack([-np.outer(_TINT, _GREY), 255.0 * _TINT[:, np.newaxis]])


def _plain(image: Image) -> Image:
    return image


def _inverted(image: Image) -> Image:
    return cast(Image, cv2.bitwise_not(image))


def _yellow(image: Image) -> Image:
    return cast(Image, cv2.transform(image, _YELLOW))


def _yellow_inverted(image: Image) -> Image:
    return cast(Image, cv2.transform(image, _YELLOW_INVERTED))


VIEWS: dict[str, Callable[[Image], Image]] = {
    "plain": _plain,
    "inverted": _inverted,
    "yellow": _yellow,
    "yellow-inverted": _yellow_inverted,
}
