"""Plate detectors: a BGR image in, plate boxes in that image's pixels out.

Two layers, so a better model replaces ours by configuration (issue 10 trains Indonesian ones):

* a *box model* runs one network pass on one image (`YoloV5BoxModel` here, the
  open-image-models hub detector in `hub_detector.py`);
* `MultiPassDetector` runs a box model over several *views* of the frame (the frame itself,
  its negative, a yellow-tinted grey version; `views.py`) and, optionally, over overlapping
  tiles of large frames, then merges everything with non-maximum suppression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from camera_ingest.recognition.framing import Box, Image
from camera_ingest.recognition.views import VIEWS

__all__ = ["Box", "Detection", "Image", "MultiPassDetector", "PlateDetector"]


@dataclass(frozen=True, slots=True)
class Detection:
    box: Box  # x1, y1, x2, y2 in pixels of the image given to detect()
    score: float
    double_row: bool = False


class PlateDetector(Protocol):
    name: str

    def detect(self, image: Image, *, min_score: float | None = None) -> list[Detection]: ...


class BoxModel(Protocol):
    """One network over one image, once per view. A view transforms the pixels the network sees
    without moving them (`views.py`); boxes are in pixels of `image`. `min_score` lowers the
    model's own threshold (the low-score boxes offered to an officer when no plate was found);
    a model that cannot change it keeps its own."""

    name: str

    def boxes(
        self, image: Image, views: Sequence[str], *, min_score: float | None = None
    ) -> list[Detection]: ...


class MultiPassDetector:
    def __init__(
        self,
        model: BoxModel,
        *,
        views: Sequence[str] = ("yellow", "yellow-inverted"),
        tiles: int = 0,
        tile_overlap: float = 0.25,
        nms_iou: float = 0.45,
    ) -> None:
        unknown = [v for v in views if v not in VIEWS]
        if unknown or not views:
            raise ValueError(f"unknown detector views {unknown}; choose from {sorted(VIEWS)}")
        self.model = model
        self.name = model.name
        self.views = tuple(views)
        self.tiles = tiles
        self.tile_overlap = tile_overlap
        self.nms_iou = nms_iou

    def detect(self, image: Image, *, min_score: float | None = None) -> list[Detection]:
        found: list[Detection] = []
        height, width = image.shape[:2]
        for x1, y1, x2, y2 in [(0, 0, width, height), *tile_grid(width, height, self.tiles)]:
            part = image if x2 - x1 == width and y2 - y1 == height else image[y1:y2, x1:x2]
            for d in self.model.boxes(np.ascontiguousarray(part), self.views, min_score=min_score):
                box = (d.box[0] + x1, d.box[1] + y1, d.box[2] + x1, d.box[3] + y1)
                # A box at a tile's inner border may be half a plate; tiles overlap, so the
                # whole plate lies inside a neighbouring tile (or the full-frame pass).
                if not at_inner_border(box, (x1, y1, x2, y2), width, height):
                    found.append(Detection(box, d.score))
        return drop_plate_parts(non_max_suppression(found, self.nms_iou))


def tile_grid(
    width: int, height: int, n: int, overlap: float = 0.25
) -> list[tuple[int, int, int, int]]:
    """n x n overlapping tiles covering the frame (none for n < 2): small plates become larger
    in the detector's fixed-size input."""
    if n < 2:
        return []
    tile_w = width / (n - (n - 1) * overlap)
    tile_h = height / (n - (n - 1) * overlap)
    tiles = []
    for row in range(n):
        for col in range(n):
            x1, y1 = int(col * tile_w * (1 - overlap)), int(row * tile_h * (1 - overlap))
            tiles.append((x1, y1, min(width, int(x1 + tile_w)), min(height, int(y1 + tile_h))))
    return tiles


def at_inner_border(
    box: Box, tile: tuple[int, int, int, int], width: int, height: int, margin: float = 2.0
) -> bool:
    x1, y1, x2, y2 = tile
    return (
        (x1 > 0 and box[0] <= x1 + margin)
        or (y1 > 0 and box[1] <= y1 + margin)
        or (x2 < width and box[2] >= x2 - margin)
        or (y2 < height and box[3] >= y2 - margin)
    )


def drop_plate_parts(detections: list[Detection]) -> list[Detection]:
    """Drop boxes that are a part of a larger plate box: Indonesian plates carry a date line
    (month.year) under the number, which the detector sometimes boxes on its own. A box much
    narrower than another, centred within its width and touching it vertically, is such a part.
    """
    kept = []
    for small in detections:
        sx1, sy1, sx2, sy2 = small.box
        centre = (sx1 + sx2) / 2
        part = False
        for big in detections:
            bx1, by1, bx2, by2 = big.box
            if big is small or (bx2 - bx1) < 1.4 * (sx2 - sx1) or not bx1 <= centre <= bx2:
                continue
            gap = max(0.0, sy1 - by2, by1 - sy2)
            part = part or gap <= 0.5 * (by2 - by1)
        if not part:
            kept.append(small)
    return kept


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def non_max_suppression(detections: list[Detection], threshold: float) -> list[Detection]:
    kept: list[Detection] = []
    for detection in sorted(detections, key=lambda d: d.score, reverse=True):
        if all(iou(detection.box, other.box) < threshold for other in kept):
            kept.append(detection)
    return kept
