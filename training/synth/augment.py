"""Camera effects for synthetic (and real) images: what a roadside camera does to a plate.

Each function takes a BGR uint8 image and a `numpy.random.Generator` and returns a new BGR
uint8 image; the same generator state gives the same result. `augment` chains them with the
probabilities the reader trainer uses; a detector trainer can call the pieces on whole scenes
(`perspective_matrix` gives the warp, to move boxes with it).

    surround(plate, rng, margin=(0.15, 0.1))   # the plate on a car-like background
    augment(image, rng)                         # perspective, resolution, blur, light, noise, JPEG
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Matrix = npt.NDArray[np.float64]


def to_uint8(values: npt.NDArray[np.floating] | npt.NDArray[np.integer]) -> Image:
    return cast(Image, np.clip(values, 0, 255).astype(np.uint8))


def surround(
    plate: Image, rng: np.random.Generator, *, margin: tuple[float, float] = (0.15, 0.1)
) -> Image:
    """The plate on a background that stands for the vehicle around it: a random colour with a
    gradient, noise and a few edges, `margin` (fractions of the plate's width and height) on
    every side."""
    height, width = plate.shape[:2]
    mx, my = round(margin[0] * width), round(margin[1] * height)
    out_h, out_w = height + 2 * my, width + 2 * mx
    # Mostly greys and muted colours, as car paint and bumpers are.
    base = rng.uniform(0, 255) + rng.uniform(-40, 40, 3)
    ys, xs = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    ramp = (xs / out_w - 0.5) * rng.uniform(-80, 80) + (ys / out_h - 0.5) * rng.uniform(-80, 80)
    canvas = base[None, None, :] + ramp[..., None] + rng.normal(0, 6, (out_h, out_w, 1))
    for _ in range(int(rng.integers(0, 4))):
        # Bumper lines, grille bars, lamp edges.
        y = int(rng.integers(out_h))
        colour = rng.uniform(0, 255, 3).tolist()
        thickness = int(rng.integers(1, max(2, out_h // 8)))
        cv2.line(canvas, (0, y), (out_w - 1, y + int(rng.integers(-5, 6))), colour, thickness)
    canvas[my : my + height, mx : mx + width] = plate
    return to_uint8(canvas)


def perspective_matrix(
    width: int, height: int, rng: np.random.Generator, *, strength: float = 0.08
) -> Matrix:
    """A homography that moves each corner by up to `strength` of the image size, plus a small
    rotation: a plate seen from a camera above and beside the lane."""
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    jitter = rng.uniform(-strength, strength, (4, 2)) * np.array([width, height])
    angle = np.deg2rad(rng.uniform(-6, 6))
    centre = np.array([width / 2, height / 2])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = (src - centre) @ rotation.T + centre + jitter
    return cv2.getPerspectiveTransform(src, dst.astype(np.float32)).astype(np.float64)


def perspective(image: Image, rng: np.random.Generator, *, strength: float = 0.08) -> Image:
    height, width = image.shape[:2]
    matrix = perspective_matrix(width, height, rng, strength=strength)
    warped = cv2.warpPerspective(
        image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return cast(Image, warped)


def bend(image: Image, rng: np.random.Generator, *, strength: float = 0.12) -> Image:
    """A bent plate (motorcycle plates often are): rows curve up or down towards the sides by
    up to `strength` of the height."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    curve = ((xs - width / 2) / (width / 2)) ** 2 * rng.uniform(-strength, strength) * height
    tilt = (xs / width - 0.5) * rng.uniform(-0.5, 0.5) * strength * height
    warped = cv2.remap(
        image, xs, ys + curve + tilt, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return cast(Image, warped)


def low_resolution(image: Image, rng: np.random.Generator, *, min_width: int = 48) -> Image:
    """Seen from far away: shrunk to 48-160 px wide, then back to its size."""
    height, width = image.shape[:2]
    small_w = int(rng.integers(min_width, max(min_width + 1, min(160, width))))
    small_h = max(8, round(height * small_w / width))
    small = cv2.resize(image, (small_w, small_h), interpolation=cv2.INTER_AREA)
    return cast(Image, cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR))


def blur(image: Image, rng: np.random.Generator) -> Image:
    """Out of focus (Gaussian) or moving (a line kernel)."""
    if rng.random() < 0.6:
        return cast(Image, cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.4, 1.6))))
    length = int(rng.integers(3, 8))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    rotation = cv2.getRotationMatrix2D(
        ((length - 1) / 2, (length - 1) / 2), float(rng.uniform(0, 180)), 1.0
    )
    kernel = cast(npt.NDArray[np.float32], cv2.warpAffine(kernel, rotation, (length, length)))
    kernel /= max(float(kernel.sum()), 1e-6)
    return cast(Image, cv2.filter2D(image, -1, kernel))


def noise(image: Image, rng: np.random.Generator, *, sigma: float | None = None) -> Image:
    sigma = float(rng.uniform(2, 12)) if sigma is None else sigma
    noisy = image.astype(np.float32) + rng.normal(0, sigma, image.shape)
    return to_uint8(noisy)


def low_light(image: Image, rng: np.random.Generator) -> Image:
    """Dusk or shade: darker, flatter, a colour cast, and the sensor noise that comes with it."""
    gain = rng.uniform(0.2, 0.65)
    gamma = rng.uniform(1.0, 1.8)
    cast = rng.uniform(0.85, 1.15, 3)
    dark = 255.0 * (image.astype(np.float32) / 255.0) ** gamma * gain * cast
    return noise(to_uint8(dark), rng, sigma=float(rng.uniform(2, 8)))


def glare(image: Image, rng: np.random.Generator) -> Image:
    """A bright patch (sun or headlight reflection) somewhere on the image."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = rng.uniform(0, width), rng.uniform(0, height)
    radius = rng.uniform(0.2, 0.6) * width
    light = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2)) * rng.uniform(40, 140)
    return to_uint8(image.astype(np.float32) + light[..., None])


def colour_jitter(image: Image, rng: np.random.Generator) -> Image:
    """Brightness, contrast and white balance of another camera."""
    gains = rng.uniform(0.9, 1.1, 3) * rng.uniform(0.7, 1.3)
    mean = image.mean()
    contrast = rng.uniform(0.6, 1.3)
    out = (image.astype(np.float32) - mean) * contrast + mean
    return to_uint8(out * gains + rng.uniform(-25, 25))


def jpeg(image: Image, rng: np.random.Generator) -> Image:
    quality = int(rng.integers(25, 90))
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        return image
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return image if decoded is None else cast(Image, decoded)


def augment(image: Image, rng: np.random.Generator, *, strength: float = 1.0) -> Image:
    """A chain of camera effects, each with its own probability (scaled by `strength`)."""
    steps: tuple[tuple[float, Callable[[Image], Image]], ...] = (
        (0.6, lambda im: perspective(im, rng, strength=0.06 * strength)),
        (0.15, lambda im: bend(im, rng)),
        (0.5, lambda im: colour_jitter(im, rng)),
        (0.6, lambda im: low_resolution(im, rng)),
        (0.4, lambda im: blur(im, rng)),
        (0.25, lambda im: low_light(im, rng)),
        (0.1, lambda im: glare(im, rng)),
        (0.5, lambda im: noise(im, rng)),
        (0.5, lambda im: jpeg(im, rng)),
    )
    for p, step in steps:
        if rng.random() < p * strength:
            image = step(image)
    return image
