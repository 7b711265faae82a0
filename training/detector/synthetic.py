"""Synthetic plates in real scenes: the renderer of `training.synth` (issue 15) on our composites.

The photos show few plate designs (mostly one province's, few new black-on-white plates with
their date line) and the development frames many. So a composed image (`data.mosaic` or
`data.close`) gets rendered plates of both colour schemes:

* *in place*: a labelled plate is painted over with a rendered one of the same size, so the
  plate sits on a real car, at the real angle of its box;
* *free*: plates pasted at a slant somewhere that holds no labelled plate (the road, a wall, a
  car's side), at frame-like sizes, so the model learns the plate, not the bumper around it.

The renderer's files are taken from its branch as they are (`git checkout issue-15 --
training/synth`); this wrapper is the only place the detector depends on them.
"""

from __future__ import annotations

import math
from typing import cast

import cv2
import numpy as np

from training.detector import data
from training.synth import random_plate

IN_PLACE = 0.5  # probability a labelled plate is painted over
FREE = (0, 4)  # free plates per image, inclusive range
# Rendering a plate costs more than a training step's share of time: render a pool once (from
# the run's seed) and draw from it; each use is resized, lit and warped anew.
POOL = 400
POOL_HEIGHT = 64


class SyntheticPlates:
    def __init__(
        self,
        scenes: list[data.Scene],
        size: int,
        inverted: float,
        rng: np.random.Generator,
        pool: int = POOL,
    ) -> None:
        self.scenes = scenes
        self.size = size
        self.inverted = inverted
        self.pool = [random_plate(rng, height=POOL_HEIGHT).image for _ in range(pool)]

    def sample(self, rng: np.random.Generator) -> data.Sample:
        if rng.random() < 0.75:
            base = data.mosaic(rng, self.scenes, self.size, self.inverted)
        else:
            base = data.close(rng, self.scenes, self.size, self.inverted)
        image = base.image.copy()
        boxes = [b for b in base.boxes]
        for box in boxes:
            if rng.random() < IN_PLACE:
                _in_place(rng, image, box, self.pool)
        low, high = data.MOSAIC_WIDTHS
        width = math.exp(rng.uniform(math.log(low), math.log(high)))
        for _ in range(int(rng.integers(FREE[0], FREE[1] + 1))):
            placed = _free(rng, image, width * rng.uniform(0.7, 1.4), boxes, self.pool)
            if placed is not None:
                boxes.append(placed)
        return data.Sample(image, np.array(boxes, np.float32).reshape(-1, 4))


def _plate(
    rng: np.random.Generator, width: float, height: float, pool: list[data.Image]
) -> data.Image:
    rendered = pool[int(rng.integers(len(pool)))]
    return cast(
        data.Image,
        cv2.resize(
            rendered, (max(2, round(width)), max(2, round(height))), interpolation=cv2.INTER_AREA
        ),
    )


def _in_place(
    rng: np.random.Generator, image: data.Image, box: data.Boxes, pool: list[data.Image]
) -> None:
    h, w = image.shape[:2]
    x1, y1 = max(0, int(round(box[0]))), max(0, int(round(box[1])))
    x2, y2 = min(w, int(round(box[2]))), min(h, int(round(box[3])))
    if x2 - x1 < 6 or y2 - y1 < 3:
        return
    plate = _plate(rng, x2 - x1, y2 - y1, pool).astype(np.float32)
    # Take on the scene's light: scale the plate to the brightness of what it covers.
    under = image[y1:y2, x1:x2].astype(np.float32)
    gain = np.clip((under.mean() + 20) / max(1.0, plate.mean()), 0.5, 1.3)
    image[y1:y2, x1:x2] = np.clip(plate * gain, 0, 255).astype(np.uint8)


def _free(
    rng: np.random.Generator,
    image: data.Image,
    width: float,
    boxes: list[data.Boxes],
    pool: list[data.Image],
) -> data.Boxes | None:
    """A rendered plate, slanted and sheared a little, where it covers no labelled plate."""
    aspect = rng.uniform(2.6, 3.6)  # width / height of Indonesian plates with the date line
    plate = _plate(rng, width, width / aspect, pool)
    ph, pw = plate.shape[:2]
    angle = math.radians(rng.uniform(-8, 8))
    shear = rng.uniform(-0.15, 0.15)
    corners = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    centre = corners.mean(0)
    rot = np.array(
        [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]], np.float32
    ) @ np.array([[1, shear], [0, 1]], np.float32)
    moved = (corners - centre) @ rot.T
    lo = moved.min(0)
    size_y, size_x = image.shape[:2]
    span = moved.max(0) - lo
    if span[0] >= size_x - 2 or span[1] >= size_y - 2:
        return None
    for _ in range(10):
        ox = rng.uniform(-lo[0], size_x - span[0] - lo[0])
        oy = rng.uniform(-lo[1], size_y - span[1] - lo[1])
        quad = moved + np.array([ox, oy], np.float32)
        box = np.array([*quad.min(0), *quad.max(0)], np.float32)
        if not any(_overlaps(box, other) for other in boxes):
            break
    else:
        return None
    # Warp into the box's own window only: the whole canvas would cost 20 times more.
    left, top = int(box[0]), int(box[1])
    right, bottom = min(size_x, int(math.ceil(box[2])) + 1), min(size_y, int(math.ceil(box[3])) + 1)
    local = (quad - np.array([left, top], np.float32)).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(corners, local)
    window = (right - left, bottom - top)
    warped = cv2.warpPerspective(plate, matrix, window, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), matrix, window)
    inside = mask > 127
    image[top:bottom, left:right][inside] = warped[inside]
    return box


def _overlaps(a: data.Boxes, b: data.Boxes, margin: float = 4.0) -> bool:
    return not (
        a[2] + margin < b[0] or b[2] + margin < a[0] or a[3] + margin < b[1] or b[3] + margin < a[1]
    )
