"""Training images for the plate detector: labelled photos composed the way frames look.

The development frames are 12 MP street scenes with several plates each, most of them 20-125
pixels wide once the frame is letterboxed to the detector's 640 input (median 45). The training
scenes are 416 x 416 close-ups (stretched by their publisher) with one plate of ~125 px. So each
training image is *composed*:

* `mosaic`: scenes shrunk so their plates take a width drawn from the frame-like range, packed
  in rows over a blurred background (many small plates per image, each with its car around it);
* `close`: one scene at a larger scale (big plates must stay found), cropped to the input;
* `frame`: a labelled full frame (officer-confirmed frames from `etle training export`,
  `--extra`) letterboxed as the service does, with a scale jitter, cropped to the input;
* `synthetic`: rendered plates (training/synth, both colour schemes) pasted on scenes
  (`synthetic.py`).

Black (older) plates are rarer in the photos than on the road: a plate's box is inverted in
place with some probability (white on black, its car untouched), and sometimes a whole tile.
Every random choice comes from one `numpy.random.Generator`, so a seed fixes the data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Boxes = npt.NDArray[np.float32]  # (n, 4) x1, y1, x2, y2 in pixels
SUFFIXES = (".jpg", ".jpeg", ".png")

# Plate widths (pixels in the 640 input) the mosaic draws from, log-uniform: the development
# frames span 23-125 px; a margin on both sides.
MOSAIC_WIDTHS = (14.0, 150.0)
CLOSE_WIDTHS = (60.0, 260.0)


@dataclass(frozen=True)
class Scene:
    image: Image
    boxes: Boxes


@dataclass(frozen=True)
class Sample:
    image: Image  # BGR, size x size
    boxes: Boxes


def read_yolo_folder(folder: Path, *, limit: int = 0) -> list[Scene]:
    """Images with YOLO labels (`class cx cy w h [TEXT]`, normalised), either beside each image
    (`etle training export`) or in a sibling `labels/` folder of an `images/` folder."""
    images_dir = folder / "images" if (folder / "images").is_dir() else folder
    labels_dir = folder / "labels" if (folder / "labels").is_dir() else folder
    scenes = []
    for path in sorted(images_dir.iterdir()):
        if path.suffix.lower() not in SUFFIXES:
            continue
        label = labels_dir / f"{path.stem}.txt"
        if not label.is_file():
            continue
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{path}: not a decodable image")
        h, w = image.shape[:2]
        rows = []
        for line in label.read_text().splitlines():
            parts = line.split()
            if len(parts) < 5:
                continue
            cx, cy, bw, bh = (float(v) for v in parts[1:5])
            rows.append(
                ((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h)
            )
        if rows:
            scenes.append(Scene(cast(Image, image), np.array(rows, dtype=np.float32)))
        if limit and len(scenes) >= limit:
            break
    if not scenes:
        raise ValueError(f"{folder}: no image with a YOLO label file")
    return scenes


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def jitter_colour(rng: np.random.Generator, image: Image) -> Image:
    """Brightness, contrast and sometimes grey: day, dusk, glare, cheap sensors."""
    alpha = rng.uniform(0.6, 1.4)
    beta = rng.uniform(-40, 40)
    out = cv2.convertScaleAbs(image, alpha=alpha, beta=beta)
    if rng.random() < 0.15:
        out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    return cast(Image, out)


def invert_plates(rng: np.random.Generator, image: Image, boxes: Boxes, p: float) -> None:
    """White-on-black plates from black-on-white ones: invert each box in place with
    probability p (the box is tight, so the car around it stays as it was)."""
    h, w = image.shape[:2]
    for x1, y1, x2, y2 in boxes:
        if rng.random() >= p:
            continue
        a, b = max(0, int(x1)), max(0, int(y1))
        c, d = min(w, int(math.ceil(x2))), min(h, int(math.ceil(y2)))
        if c > a and d > b:
            image[b:d, a:c] = 255 - image[b:d, a:c]


def _resize(image: Image, width: int, height: int) -> Image:
    shrink = width < image.shape[1]
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cast(Image, cv2.resize(image, (width, height), interpolation=interpolation))


def background(rng: np.random.Generator, scenes: list[Scene], size: int) -> Image:
    """A scene blown up and blurred: road-like colours, no readable plate."""
    scene = scenes[rng.integers(len(scenes))]
    big = _resize(scene.image, size, size)
    sigma = rng.uniform(6, 14)
    return jitter_colour(rng, cast(Image, cv2.GaussianBlur(big, (0, 0), sigma)))


def mosaic(rng: np.random.Generator, scenes: list[Scene], size: int, inverted: float) -> Sample:
    """Scenes shrunk to frame-like plate sizes, packed in rows (no overlap) over a background."""
    canvas = background(rng, scenes, size)
    boxes: list[Boxes] = []
    width = _log_uniform(rng, *MOSAIC_WIDTHS)
    y = int(rng.integers(-size // 8, size // 8 + 1))
    while y < size:
        x = int(rng.integers(-size // 8, size // 8 + 1))
        row_height = 0
        while x < size:
            scene = scenes[rng.integers(len(scenes))]
            tile, tboxes = _tile(rng, scene, width * rng.uniform(0.7, 1.4), inverted)
            th, tw = tile.shape[:2]
            _paste(canvas, tile, tboxes + np.array([x, y, x, y], np.float32), x, y, boxes)
            x += tw + int(rng.integers(0, max(1, tw // 4)))
            row_height = max(row_height, th)
        y += max(8, row_height + int(rng.integers(0, max(1, row_height // 4))))
    return Sample(canvas, _stack(boxes))


def close(rng: np.random.Generator, scenes: list[Scene], size: int, inverted: float) -> Sample:
    """One scene large, cropped to the input around its plate."""
    canvas = background(rng, scenes, size)
    scene = scenes[rng.integers(len(scenes))]
    tile, tboxes = _tile(rng, scene, _log_uniform(rng, *CLOSE_WIDTHS), inverted)
    # Any offset that keeps the first plate inside the canvas.
    x1, y1, x2, y2 = (float(v) for v in tboxes[0])
    x = round(rng.uniform(min(-x1, size - x2), max(-x1, size - x2)))
    y = round(rng.uniform(min(-y1, size - y2), max(-y1, size - y2)))
    boxes: list[Boxes] = []
    _paste(canvas, tile, tboxes + np.array([x, y, x, y], np.float32), x, y, boxes)
    return Sample(canvas, _stack(boxes))


def frame(rng: np.random.Generator, frames: list[Scene], size: int, inverted: float) -> Sample:
    """A labelled full frame letterboxed to 640 as the service does (scale jittered), cropped."""
    scene = frames[rng.integers(len(frames))]
    h, w = scene.image.shape[:2]
    scale = 640 / max(h, w) * _log_uniform(rng, 0.75, 1.6)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    image = jitter_colour(rng, _resize(scene.image, nw, nh))
    boxes = scene.boxes * scale
    invert_plates(rng, image, boxes, inverted)
    canvas = np.zeros((size, size, 3), np.uint8)
    x = int(rng.integers(min(0, size - nw), max(0, size - nw) + 1))
    y = int(rng.integers(min(0, size - nh), max(0, size - nh) + 1))
    out: list[Boxes] = []
    _paste(canvas, image, boxes + np.array([x, y, x, y], np.float32), x, y, out)
    return Sample(canvas, _stack(out))


def _tile(
    rng: np.random.Generator, scene: Scene, plate_width: float, inverted: float
) -> tuple[Image, Boxes]:
    """The scene scaled so its first plate is `plate_width` wide, its aspect ratio jittered
    (the photos were stretched to a square by their publisher)."""
    x1, _, x2, _ = scene.boxes[0]
    aspect = _log_uniform(rng, 0.7, 1.4)
    sx = plate_width / max(1.0, float(x2 - x1))
    sy = sx / aspect
    h, w = scene.image.shape[:2]
    tw, th = max(2, round(w * sx)), max(2, round(h * sy))
    tile = _resize(scene.image, tw, th)
    boxes = scene.boxes * np.array([tw / w, th / h, tw / w, th / h], np.float32)
    if rng.random() < 0.1:
        tile = 255 - tile
    else:
        tile = jitter_colour(rng, tile)
        invert_plates(rng, tile, boxes, inverted)
    return tile, boxes


def _paste(
    canvas: Image, tile: Image, boxes: Boxes, x: int, y: int, out: list[Boxes], keep: float = 0.6
) -> None:
    """Paste with clipping; a box stays labelled when most of it is inside the canvas."""
    size_y, size_x = canvas.shape[:2]
    th, tw = tile.shape[:2]
    cx1, cy1 = max(0, x), max(0, y)
    cx2, cy2 = min(size_x, x + tw), min(size_y, y + th)
    if cx2 <= cx1 or cy2 <= cy1:
        return
    canvas[cy1:cy2, cx1:cx2] = tile[cy1 - y : cy2 - y, cx1 - x : cx2 - x]
    clipped = boxes.copy()
    clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(cx1, cx2)
    clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(cy1, cy2)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    inside = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    good = (inside >= keep * np.maximum(area, 1e-6)) & (clipped[:, 2] - clipped[:, 0] >= 4)
    out.append(clipped[good])


def _stack(boxes: list[Boxes]) -> Boxes:
    return np.concatenate(boxes) if boxes else np.zeros((0, 4), np.float32)


def degrade(rng: np.random.Generator, sample: Sample) -> Sample:
    """Camera and transport: blur, noise, JPEG, as a whole image."""
    image = sample.image
    if rng.random() < 0.3:
        image = cast(Image, cv2.GaussianBlur(image, (0, 0), rng.uniform(0.4, 1.2)))
    if rng.random() < 0.3:
        noise = rng.normal(0, rng.uniform(2, 8), image.shape)
        image = np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        quality = int(rng.integers(35, 90))
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            image = cast(Image, cv2.imdecode(buf, cv2.IMREAD_COLOR))
    if rng.random() < 0.3:
        image = np.ascontiguousarray(image[:, ::-1])
        boxes = sample.boxes.copy()
        w = image.shape[1]
        boxes[:, [0, 2]] = w - sample.boxes[:, [2, 0]]
        return Sample(image, boxes)
    return Sample(image, sample.boxes)


Maker = Callable[[np.random.Generator, int], Sample]
