"""Synthetic Indonesian plates: plausible plate texts and clean plate images.

Real labelled plates are few (about two thousand crops), skewed to a handful of regions and to
the old white-on-black plates. Synthetic plates fill the gaps the reader stumbles on: every
region code, every letter in every suffix slot (three-letter suffixes with `I`, `N` against `W`,
`H` against `U`), both colour schemes (white on black; black on white since 2022) and the
month.year line under the number.

    rng = numpy.random.default_rng(seed)
    text = random_plate_text(rng)                         # e.g. "AD8865EE", grammar-valid
    image = render_plate(text, scheme="white", rng=rng, date_line=random_date_line(rng))

`render_plate` draws the plate alone: the image's borders are the plate's borders, so a
detector trainer can paste it into a scene and knows its box. Camera effects (perspective,
blur, noise, low light, compression) are in `training.synth.augment`.

The API of this module is shared with the detector trainer: keep it stable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage
from PIL import ImageDraw

from etle.plates import JAKARTA_SUB_AREAS, REGION_CODES, is_valid_plate
from training.synth.augment import to_uint8
from training.synth.fonts import font_paths, load_font

Image = npt.NDArray[np.uint8]
Scheme = Literal["black", "white"]
SCHEMES: tuple[Scheme, ...] = ("black", "white")

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Rough relative numbers of vehicles registered under each code (Java's big cities first).
# For variety, not statistics: `REGION_FLOOR` of the draws are uniform over all codes so every
# code the grammar knows is seen. A code added to etle/plates.py later gets DEFAULT_WEIGHT.
REGION_WEIGHTS: dict[str, float] = {
    "B": 20.0,
    **dict.fromkeys(("D", "F", "H", "L", "N", "W", "AD"), 4.0),
    **dict.fromkeys(("A", "E", "Z", "G", "K", "R", "AA", "AB", "P", "S", "AG", "BK"), 3.0),
    **dict.fromkeys(("T", "M", "AE", "BM", "BG", "BE", "DK"), 2.0),
    **dict.fromkeys(("BL", "BA", "DD"), 1.5),
    **dict.fromkeys(("BB", "BP", "BH", "DR", "KB", "DA", "KT"), 1.0),
}
DEFAULT_WEIGHT = 0.4
REGION_FLOOR = 0.25

# Shares of plate shapes: number of digits, and of suffix letters.
DIGIT_COUNTS = {1: 0.03, 2: 0.05, 3: 0.12, 4: 0.80}
SUFFIX_COUNTS = {0: 0.03, 1: 0.12, 2: 0.42, 3: 0.43}
JAKARTA_SUB_AREA_SHARE = 0.7  # B plates whose first suffix letter names a Jakarta sub-area

# Plate proportions (width / height): cars 395 x 135 mm, motorcycles 250 x 105 mm.
CAR_ASPECT = (2.75, 3.3)
MOTORCYCLE_ASPECT = (2.2, 2.5)
MOTORCYCLE_SHARE = 0.4
DATE_STRIP_SHARE = 0.12  # the month.year on a strip of the opposite colour (older plates)

_TEXT = re.compile(r"^([A-Z]{1,2})([0-9]{1,4})([A-Z]{0,3})$")
_DATE = re.compile(r"^([0-9]{2})[.·]([0-9]{2})$")
_RENDER_SIZE = 64  # font size glyphs are drawn at before being scaled into place


def region_probabilities() -> tuple[list[str], npt.NDArray[np.float64]]:
    codes = sorted(REGION_CODES)
    weights = np.array([REGION_WEIGHTS.get(code, DEFAULT_WEIGHT) for code in codes])
    p = (1 - REGION_FLOOR) * weights / weights.sum() + REGION_FLOOR / len(codes)
    return codes, p / p.sum()


def random_plate_text(rng: np.random.Generator) -> str:
    """A grammar-valid plate (`etle.plates`), region codes drawn by rough frequency."""
    codes, p = region_probabilities()
    region = codes[int(rng.choice(len(codes), p=p))]
    digits = int(rng.choice(list(DIGIT_COUNTS), p=list(DIGIT_COUNTS.values())))
    number = str(int(rng.integers(1, 10))) + "".join(
        str(int(d)) for d in rng.integers(0, 10, digits - 1)
    )
    letters = int(rng.choice(list(SUFFIX_COUNTS), p=list(SUFFIX_COUNTS.values())))
    suffix = "".join(LETTERS[int(i)] for i in rng.integers(0, 26, letters))
    if region == "B" and suffix and rng.random() < JAKARTA_SUB_AREA_SHARE:
        areas = sorted(JAKARTA_SUB_AREAS)
        suffix = areas[int(rng.integers(len(areas)))] + suffix[1:]
    text = region + number + suffix
    assert is_valid_plate(text), text
    return text


def random_date_line(rng: np.random.Generator) -> str:
    """The validity line under the number: month.year (`06.28`)."""
    return f"{int(rng.integers(1, 13)):02d}.{int(rng.integers(20, 31)):02d}"


def random_scheme(rng: np.random.Generator) -> Scheme:
    return SCHEMES[int(rng.integers(2))]


@dataclass(frozen=True, slots=True)
class SynthPlate:
    image: Image  # BGR, the plate alone
    text: str
    scheme: Scheme
    date_line: str | None


def random_plate(rng: np.random.Generator, *, height: int = 96) -> SynthPlate:
    """A random text, scheme and date line, rendered."""
    text = random_plate_text(rng)
    scheme = random_scheme(rng)
    date_line = random_date_line(rng) if rng.random() < 0.9 else None
    image = render_plate(text, scheme=scheme, rng=rng, date_line=date_line, height=height)
    return SynthPlate(image, text, scheme, date_line)


def render_plate(
    text: str,
    *,
    scheme: Scheme,
    rng: np.random.Generator,
    date_line: str | None = None,
    height: int = 96,
    aspect: float | None = None,
) -> Image:
    """A clean plate image (BGR uint8, `height` pixels high): region, number and suffix on the
    main line, `date_line` (`MM.YY`) centred below it. Font, proportions, spacing, colours,
    border, embossing and wear vary with `rng`.
    """
    match = _TEXT.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not letters, 1-4 digits and up to 3 letters")
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, not {scheme!r}")
    date = None
    if date_line is not None:
        date = _DATE.match(date_line)
        if date is None:
            raise ValueError(f"date line {date_line!r} is not MM.YY")
    if aspect is None:
        low, high = MOTORCYCLE_ASPECT if rng.random() < MOTORCYCLE_SHARE else CAR_ASPECT
        aspect = float(rng.uniform(low, high))
    width = round(height * aspect)
    fonts = font_paths()
    font = fonts[int(rng.integers(len(fonts)))]
    ink = np.zeros((height, width), np.float32)

    # Main line: the three groups, justified across the plate or set close together.
    top = rng.uniform(0.08, 0.15) * height
    band = rng.uniform(0.48, 0.6) * height if date else rng.uniform(0.55, 0.7) * height
    if not date:
        top = (height - band) / 2 + rng.uniform(-0.04, 0.04) * height
    stretch = rng.uniform(0.85, 1.3)
    tracking = rng.uniform(0.04, 0.18)
    groups = [_strip(g, font, round(band), stretch, tracking) for g in match.groups() if g]
    margin = rng.uniform(0.04, 0.08) * width
    room = width - 2 * margin
    min_gap = 0.3 * band
    needed = sum(g.shape[1] for g in groups) + min_gap * (len(groups) - 1)
    if needed > room:
        squeeze = (room - min_gap * (len(groups) - 1)) / sum(g.shape[1] for g in groups)
        groups = [_resize(g, max(1, round(g.shape[1] * squeeze)), g.shape[0]) for g in groups]
    total = sum(g.shape[1] for g in groups)
    if len(groups) == 3 and rng.random() < 0.55:
        # Justified: region at the left edge, suffix at the right, number in between.
        left = margin + rng.uniform(0, 0.02) * width
        right = width - margin - groups[2].shape[1] - rng.uniform(0, 0.02) * width
        free = right - (left + groups[0].shape[1]) - groups[1].shape[1]
        middle = left + groups[0].shape[1] + free * rng.uniform(0.4, 0.6)
        xs = [left, middle, right]
    else:
        gap = min(rng.uniform(0.3, 0.7) * band, (room - total) / max(1, len(groups) - 1))
        x = (width - total - gap * (len(groups) - 1)) / 2
        xs = []
        for g in groups:
            xs.append(x)
            x += g.shape[1] + gap
    for g, x in zip(groups, xs, strict=True):
        _paste(ink, g, round(x), round(top))

    if date:
        date_top = top + band + rng.uniform(0.04, 0.09) * height
        date_height = round(min(rng.uniform(0.13, 0.19) * height, height - date_top - 2))
        if date_height >= 4:
            if rng.random() < DATE_STRIP_SHARE:
                # Older plates: the date on a strip of the opposite colour along the bottom.
                strip = np.zeros_like(ink)
                _draw_date(strip, date.groups(), font, date_height, round(date_top), rng)
                rows = slice(max(0, round(date_top - 0.04 * height)), height)
                drawn = np.nonzero(strip.max(axis=0))[0]
                start = drawn[0] if drawn.size else width // 3
                columns = slice(max(0, round(start - rng.uniform(0.03, 0.25) * width)), width)
                ink[rows, columns] = 1.0 - strip[rows, columns]
            else:
                _draw_date(ink, date.groups(), font, date_height, round(date_top), rng)

    return _paint(ink, scheme, rng)


def _strip(text: str, font_path: Path, height: int, stretch: float, tracking: float) -> Image:
    """Glyphs of `text` side by side, cropped to their ink, scaled to `height` pixels."""
    glyphs = [_glyph(ch, font_path) for ch in text]
    scale = height / max(g.shape[0] for g in glyphs)
    scaled = [_resize(g, max(1, round(g.shape[1] * scale * stretch)), height) for g in glyphs]
    space = round(tracking * height)
    out = np.zeros((height, sum(g.shape[1] for g in scaled) + space * (len(scaled) - 1)), np.uint8)
    x = 0
    for g in scaled:
        out[:, x : x + g.shape[1]] = np.maximum(out[:, x : x + g.shape[1]], g)
        x += g.shape[1] + space
    return out


def _glyph(ch: str, font_path: Path) -> Image:
    """One character as an ink mask, cropped to the cap height (same for letters and digits)."""
    font = load_font(font_path, _RENDER_SIZE)
    canvas = PILImage.new("L", (_RENDER_SIZE * 2, _RENDER_SIZE * 2), 0)
    ImageDraw.Draw(canvas).text((_RENDER_SIZE // 2, _RENDER_SIZE // 4), ch, font=font, fill=255)
    mask = np.asarray(canvas)
    _, cap_top, _, cap_bottom = font.getbbox("H")
    rows = slice(_RENDER_SIZE // 4 + int(cap_top), _RENDER_SIZE // 4 + int(cap_bottom))
    columns = np.nonzero(mask.max(axis=0))[0]
    if columns.size == 0:
        raise ValueError(f"the font draws nothing for {ch!r}")
    return np.ascontiguousarray(mask[rows, columns[0] : columns[-1] + 1])


def _draw_date(
    ink: npt.NDArray[np.float32],
    parts: tuple[str | None, ...],
    font_path: Path,
    height: int,
    top: int,
    rng: np.random.Generator,
) -> None:
    month, year = (_strip(p or "", font_path, height, rng.uniform(0.9, 1.2), 0.08) for p in parts)
    dot = max(2, round(height * rng.uniform(0.18, 0.28)))
    gap = max(1, round(height * rng.uniform(0.12, 0.25)))
    total = month.shape[1] + year.shape[1] + dot + 2 * gap
    x = round((ink.shape[1] - total) / 2 + rng.uniform(-0.03, 0.03) * ink.shape[1])
    _paste(ink, month, x, top)
    centre = (x + month.shape[1] + gap + dot // 2, top + height // 2)
    mask = np.zeros_like(ink)
    cv2.circle(mask, centre, max(1, dot // 2), 1.0, -1, lineType=cv2.LINE_AA)
    np.maximum(ink, mask, out=ink)
    _paste(ink, year, x + month.shape[1] + 2 * gap + dot, top)


def _paste(ink: npt.NDArray[np.float32], strip: Image, x: int, y: int) -> None:
    h, w = strip.shape
    y0, x0 = max(0, y), max(0, x)
    y1, x1 = min(ink.shape[0], y + h), min(ink.shape[1], x + w)
    if y1 <= y0 or x1 <= x0:
        return
    part = strip[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32) / 255.0
    np.maximum(ink[y0:y1, x0:x1], part, out=ink[y0:y1, x0:x1])


def _paint(ink: npt.NDArray[np.float32], scheme: Scheme, rng: np.random.Generator) -> Image:
    """Colours, border, embossing, lighting gradient and wear on the ink mask."""
    height, width = ink.shape
    if scheme == "black":
        ground, text = rng.uniform(12, 60), rng.uniform(185, 250)
    else:
        ground, text = rng.uniform(195, 250), rng.uniform(8, 55)
    if rng.random() < 0.85:
        inset = max(1, round(rng.uniform(0.02, 0.05) * height))
        thickness = max(1, round(rng.uniform(0.015, 0.035) * height))
        border = np.zeros_like(ink)
        cv2.rectangle(
            border, (inset, inset), (width - 1 - inset, height - 1 - inset), 1.0, thickness
        )
        np.maximum(ink, border, out=ink)
    tint = rng.uniform(-6, 6, 3)
    plate = ground + tint + (text - ground) * ink[..., None]
    if rng.random() < 0.5:
        # Embossed characters cast a thin shadow on one side.
        dx, dy = (int(v) for v in rng.integers(-2, 3, 2))
        shadow = np.roll(ink, (dy, dx), axis=(0, 1)) * (1 - ink)
        plate -= rng.uniform(10, 40) * shadow[..., None]
    # Light falls unevenly across a plate.
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xs / width + np.sin(angle) * ys / height) * rng.uniform(-30, 30)
    plate += ramp[..., None]
    if rng.random() < 0.3:
        _wear(plate, rng, ground)
    return to_uint8(plate)


def _wear(plate: npt.NDArray[np.float64], rng: np.random.Generator, ground: float) -> None:
    """Dirt spots and the two bolts that hold a plate, never large enough to hide a character."""
    height, width = plate.shape[:2]
    for _ in range(int(rng.integers(1, 5))):
        centre = (int(rng.integers(width)), int(rng.integers(height)))
        axes = (
            int(rng.integers(1, max(2, height // 10))),
            int(rng.integers(1, max(2, height // 12))),
        )
        spot = np.zeros((height, width), np.float32)
        cv2.ellipse(spot, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        plate += (rng.uniform(-60, 60) * rng.uniform(0.3, 0.8) * spot)[..., None]
    if rng.random() < 0.5:
        y = round(rng.uniform(0.05, 0.15) * height)
        radius = max(1, round(0.035 * height))
        for x in (round(0.3 * width), round(0.7 * width)):
            bolt = np.zeros((height, width), np.float32)
            cv2.circle(bolt, (x, y), radius, 1.0, -1, lineType=cv2.LINE_AA)
            plate += ((255 - ground if ground < 128 else -ground) * 0.6 * bolt)[..., None]


def _resize(image: Image, width: int, height: int) -> Image:
    interpolation = cv2.INTER_AREA if width < image.shape[1] else cv2.INTER_LINEAR
    return cast(Image, cv2.resize(image, (width, height), interpolation=interpolation))
