"""Training crops for the plate reader: real plates (crops and street photos) and synthetic ones.

Every sample is made the way the service makes the crops it reads (camera_ingest/recognition/
pipeline.py): the plate's box grown by a margin on each side (the service reads a tight crop,
5%, and a wide one, 25% sideways and 15% up and down, and a much wider context crop), shown as
it is or as its negative (the service reads both), resized to the model's 128 x 64 without
keeping the aspect ratio. The whole plate is always inside the crop: a reader taught to guess
letters a box cut off would defeat the decision rules that send such plates to an officer.

Sources (`load_*`), each a list of `Plate`: an image and the plate's box in it.

* `ocr/` folders (`labels.csv`: image,plate,source): the training set's crops (tight, the
  plate's own borders) and `etle training export` crops (cut with a 10% margin). Around a tight
  crop the margin is painted as a vehicle (`training.synth.surround`).
* `scenes/` folders (YOLO labels `0 cx cy w h PLATE`): street photos; the margin is the photo.
* synthetic plates (`training.synth`): both colour schemes, the month.year line, region codes by
  frequency, then camera effects (perspective, bending, blur, noise, low light, glare, JPEG).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from camera_ingest.recognition.evaluation import read_labels
from etle.plates import is_valid_plate
from training.synth import augment, random_plate, surround

Image = npt.NDArray[np.uint8]
Box = tuple[int, int, int, int]  # x1, y1, x2, y2 in the image's pixels

INPUT_SIZE = (128, 64)  # width, height: the model's input (its plate config)
SLOTS = 9
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
PAD = "_"
EXPORT_MARGIN = 0.1  # etle/frames/training_export.py: CROP_MARGIN
SCENE_CONTEXT = (0.8, 0.6)  # how much of a photo is kept around its plate (box fractions)
# Plates wider than this are shrunk when loaded: the model sees 128 pixels, and camera effects
# on a 600-pixel crop cost five times as much for nothing.
MAX_PLATE_WIDTH = 224
# Camera effects on synthetic plates (training.synth.augment's strength): at full strength
# blur, low light and low resolution together leave some plates no person could read, and a
# reader taught to be sure of those is sure of what it cannot see.
SYNTHETIC_EFFECTS = 0.7


@dataclass(frozen=True, slots=True)
class Plate:
    image: Image  # BGR
    box: Box  # the plate in `image`
    text: str
    source: str
    tight: bool  # the image ends at the plate's borders: a margin must be painted


def encode(text: str) -> list[int]:
    """The slot targets: one alphabet index per character, padded to the model's slots."""
    if len(text) > SLOTS:
        raise ValueError(f"{text!r} is longer than the model's {SLOTS} slots")
    return [ALPHABET.index(c) for c in text.ljust(SLOTS, PAD)]


def held_out(text: str, share: float, seed: int) -> bool:
    """Whether a plate text belongs to the held-out slice (checkpoint selection): decided by a
    hash of the text, so every photo of one vehicle falls on the same side."""
    digest = hashlib.sha256(f"{seed}:{text}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def load_ocr_folder(folder: Path, *, limit: int = 0) -> list[Plate]:
    """`folder/labels.csv` (image,plate,source) and the crops it names. Crops written by
    `etle training export` (a `manifest.json` beside the folder) carry a 10% margin."""
    exported = (folder.parent / "manifest.json").is_file()
    plates = []
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text = row["plate"].strip().upper()
            if not is_valid_plate(text):
                continue
            image = cv2.imread(str(folder / row["image"]), cv2.IMREAD_COLOR)
            if image is None:
                continue
            height, width = image.shape[:2]
            if exported:
                mx = round(width * EXPORT_MARGIN / (1 + 2 * EXPORT_MARGIN))
                my = round(height * EXPORT_MARGIN / (1 + 2 * EXPORT_MARGIN))
                box = (mx, my, width - mx, height - my)
            else:
                box = (0, 0, width, height)
            source = row.get("source") or folder.name
            image, box = _shrink(cast(Image, image), box)
            plates.append(Plate(image, box, text, source, tight=not exported))
            if limit and len(plates) >= limit:
                break
    return plates


def load_scenes(folder: Path, *, limit: int = 0) -> list[Plate]:
    """Street photos (`images/` + `labels/`, or frames with a .txt beside them): each labelled
    plate with the part of the photo around it that a wide crop could reach."""
    images = folder / "images" if (folder / "images").is_dir() else folder
    labels = folder / "labels" if (folder / "labels").is_dir() else folder
    plates = []
    for path in sorted(images.iterdir()):
        label_path = labels / f"{path.stem}.txt"
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png") or not label_path.is_file():
            continue
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        height, width = image.shape[:2]
        for label in read_labels(label_path):
            if not is_valid_plate(label.text):
                continue
            x1, y1, x2, y2 = label.box(width, height)
            w, h = x2 - x1, y2 - y1
            if w < 8 or h < 4:
                continue
            cx1, cy1 = (
                max(0, int(x1 - SCENE_CONTEXT[0] * w)),
                max(0, int(y1 - SCENE_CONTEXT[1] * h)),
            )
            cx2 = min(width, int(x2 + SCENE_CONTEXT[0] * w))
            cy2 = min(height, int(y2 + SCENE_CONTEXT[1] * h))
            region = np.ascontiguousarray(image[cy1:cy2, cx1:cx2])
            box = (
                max(0, round(x1) - cx1),
                max(0, round(y1) - cy1),
                min(cx2 - cx1, round(x2) - cx1),
                min(cy2 - cy1, round(y2) - cy1),
            )
            region, box = _shrink(cast(Image, region), box)
            plates.append(Plate(region, box, label.text, folder.name, tight=False))
        if limit and len(plates) >= limit:
            break
    return plates


def _shrink(image: Image, box: Box) -> tuple[Image, Box]:
    scale = MAX_PLATE_WIDTH / max(1, box[2] - box[0])
    if scale >= 1:
        return image, box
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cast(Image, cv2.resize(image, size, interpolation=cv2.INTER_AREA))
    x1, y1, x2, y2 = (round(v * scale) for v in box)
    return small, (x1, y1, min(size[0], x2), min(size[1], y2))


def load_extra(folder: Path) -> list[Plate]:
    """An `etle training export` folder (or any folder in the training sets' layout): its
    `ocr/` crops and its `scenes/` frames. Both hold the same plates; the crops are cut from
    the frames at the export's margin, so the frames are read only when no crops exist."""
    if (folder / "ocr" / "labels.csv").is_file():
        return load_ocr_folder(folder / "ocr")
    if (folder / "labels.csv").is_file():
        return load_ocr_folder(folder)
    if (folder / "scenes").is_dir():
        return load_scenes(folder / "scenes")
    return load_scenes(folder)


def crop(
    plate: Plate, rng: np.random.Generator, margin: tuple[float, float], jitter: float = 0.0
) -> Image:
    """The plate's box grown by `margin` (fractions of its width and height per side), each
    side moved outwards by up to `jitter` more, as the service would cut it."""
    x1, y1, x2, y2 = plate.box
    w, h = x2 - x1, y2 - y1
    grow = margin[0] + rng.uniform(0, jitter, 2), margin[1] + rng.uniform(0, jitter, 2)
    image = plate.image
    if plate.tight:
        # Paint the margin: the crop is the plate alone.
        pad = (max(grow[0]) + 0.02, max(grow[1]) + 0.02)
        image = surround(image[y1:y2, x1:x2], rng, margin=pad)
        x1, y1 = round(pad[0] * w), round(pad[1] * h)
        x2, y2 = x1 + w, y1 + h
    height, width = image.shape[:2]
    return image[
        max(0, int(y1 - grow[1][0] * h)) : min(height, int(round(y2 + grow[1][1] * h))),
        max(0, int(x1 - grow[0][0] * w)) : min(width, int(round(x2 + grow[0][1] * w))),
    ]


def to_input(image: Image) -> Image:
    """A BGR crop as the model takes it: RGB, 128 x 64, linear interpolation (fast-plate-ocr's
    `resize_image` with the plate config's settings)."""
    resized = cv2.resize(image, INPUT_SIZE, interpolation=cv2.INTER_LINEAR)
    return cast(Image, cv2.cvtColor(resized, cv2.COLOR_BGR2RGB))


def random_margin(rng: np.random.Generator) -> tuple[float, float]:
    """Margins around the service's two crops (0.05 and 0.25 x 0.15), sometimes as wide as its
    context crop (0.6 x 0.2): it must read the plate, not the car around it."""
    draw = rng.random()
    if draw < 0.4:
        return float(rng.uniform(0.0, 0.1)), float(rng.uniform(0.0, 0.1))
    if draw < 0.85:
        return float(rng.uniform(0.15, 0.35)), float(rng.uniform(0.08, 0.25))
    return float(rng.uniform(0.4, 0.65)), float(rng.uniform(0.15, 0.3))


def real_sample(plate: Plate, rng: np.random.Generator, *, strength: float = 0.5) -> Image:
    image = crop(plate, rng, random_margin(rng), jitter=0.04)
    if rng.random() < strength:
        image = augment(image, rng, strength=strength)
    return _maybe_invert(image, rng)


def synthetic_sample(rng: np.random.Generator) -> tuple[Image, str]:
    plate = random_plate(rng, height=int(rng.integers(40, 110)))
    image = surround(plate.image, rng, margin=random_margin(rng))
    return _maybe_invert(augment(image, rng, strength=SYNTHETIC_EFFECTS), rng), plate.text


def _maybe_invert(image: Image, rng: np.random.Generator) -> Image:
    return cast(Image, cv2.bitwise_not(image)) if rng.random() < 0.5 else image


def service_crops(plate: Plate, rng: np.random.Generator) -> list[Image]:
    """The four crops the service reads a plate from: tight and wide, as is and negative
    (camera_ingest/recognition/pipeline.py CROP_MARGINS, CROP_VIEWS)."""
    out = []
    for margin in ((0.05, 0.05), (0.25, 0.15)):
        image = crop(plate, rng, margin)
        out += [image, cast(Image, cv2.bitwise_not(image))]
    return out


def texts(plates: Iterable[Plate]) -> set[str]:
    return {p.text for p in plates}
