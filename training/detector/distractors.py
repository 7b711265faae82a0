"""Things that are not plates, pasted unlabelled: what the fine-tuned detector boxed wrongly.

On the development frames, after fine-tuning on plates alone, most boxes on no labelled plate
were shop signs, road signs, lettering on trucks and buses, and brake lights: street text and
red lamps the close-up training photos hardly show. An image gets a few such patches where no
plate is, so the model learns what sets a plate apart (black or white ground, its proportions,
its border), not "letters".

Signs get coloured grounds or, on white or black grounds, proportions no plate has (tall,
several lines, long banners): a white patch with one line of black letters at a plate's
proportions would be a plate and is never drawn.
"""

from __future__ import annotations

import string
from typing import cast

import cv2
import numpy as np

from training.detector import data

FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_PLAIN,
)
LETTERS = string.ascii_uppercase + string.ascii_lowercase + string.digits + "  .-"


def paste_distractors(
    rng: np.random.Generator, image: data.Image, boxes: data.Boxes, count: int
) -> None:
    """`count` patches where they touch no labelled plate (in place)."""
    size_y, size_x = image.shape[:2]
    taken = [b for b in boxes]
    for _ in range(count):
        patch = _lamp(rng) if rng.random() < 0.25 else _sign(rng)
        scale = float(np.exp(rng.uniform(np.log(16), np.log(160)))) / patch.shape[1]
        ph = max(4, round(patch.shape[0] * scale))
        pw = max(4, round(patch.shape[1] * scale))
        if pw >= size_x or ph >= size_y:
            continue
        patch = cast(data.Image, cv2.resize(patch, (pw, ph), interpolation=cv2.INTER_AREA))
        for _ in range(8):
            x = int(rng.integers(0, size_x - pw))
            y = int(rng.integers(0, size_y - ph))
            box = np.array([x, y, x + pw, y + ph], np.float32)
            if not any(_touches(box, other) for other in taken):
                image[y : y + ph, x : x + pw] = patch
                taken.append(box)
                break


def _sign(rng: np.random.Generator) -> data.Image:
    lines = int(rng.integers(1, 4))
    font = FONTS[int(rng.integers(len(FONTS)))]
    texts = [
        "".join(rng.choice(list(LETTERS), size=int(rng.integers(3, 14)))).strip() or "SALE"
        for _ in range(lines)
    ]
    scale, thickness = 1.0, int(rng.integers(1, 4))
    sizes = [cv2.getTextSize(t, font, scale, thickness)[0] for t in texts]
    line_h = max(s[1] for s in sizes) + 10
    width = max(s[0] for s in sizes) + 2 * int(rng.integers(4, 30))
    height = line_h * lines + 2 * int(rng.integers(4, 20))
    plain_ground = rng.random() < 0.35
    if plain_ground:
        ground = np.array([235, 235, 235] if rng.random() < 0.5 else [20, 20, 20], np.float64)
        if lines == 1 and 2.0 <= width / height <= 5.5:
            # One line at a plate's proportions on white or black would be a plate: make it a
            # banner or a tall panel instead.
            width = int(height * rng.choice([7.0, 9.0])) if rng.random() < 0.5 else width
            height = int(width * rng.uniform(0.8, 1.6)) if width / height < 6 else height
    else:
        hue = (rng.integers(0, 180), rng.integers(120, 256), rng.integers(90, 256))
        hsv = np.array([[hue]], dtype=np.uint8)
        ground = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float64)
    patch = np.empty((height, width, 3), np.uint8)
    patch[:] = ground
    ink = tuple(int(v) for v in (255 - ground if rng.random() < 0.7 else rng.integers(0, 256, 3)))
    y = (height - line_h * lines) // 2 + line_h - 6
    for text, (tw, _) in zip(texts, sizes, strict=True):
        x = max(2, (width - tw) // 2 + int(rng.integers(-5, 6)))
        cv2.putText(patch, text, (x, y), font, scale, ink, thickness, cv2.LINE_AA)
        y += line_h
    return patch


def _lamp(rng: np.random.Generator) -> data.Image:
    """A brake or tail lamp: a glowing red bar."""
    height = int(rng.integers(12, 40))
    width = int(height * rng.uniform(1.5, 6))
    patch = np.zeros((height, width, 3), np.uint8)
    patch[:] = (int(rng.integers(0, 40)), int(rng.integers(0, 40)), int(rng.integers(60, 140)))
    cx, cy = width // 2, height // 2
    axes = (
        max(2, int(width * rng.uniform(0.25, 0.45))),
        max(2, int(height * rng.uniform(0.2, 0.4))),
    )
    cv2.ellipse(patch, (cx, cy), axes, 0, 0, 360, (60, 60, 255), -1)
    return cast(data.Image, cv2.GaussianBlur(patch, (0, 0), max(1.0, height / 8)))


def _touches(a: data.Boxes, b: data.Boxes, margin: float = 4.0) -> bool:
    return not (
        a[2] + margin < b[0] or b[2] + margin < a[0] or a[3] + margin < b[1] or b[3] + margin < a[1]
    )
