"""Checkpoint selection on the development photos: detector recall through the service's code.

Used only to *choose* among checkpoints of one run (never as training data). Each frame is
decoded once the way the service decodes it (`decode_frame`, reduced), and each checkpoint is
exported to ONNX and run through `YoloV5BoxModel` and `MultiPassDetector`, so what is measured
is what the service will do with that file. The full scoring (reads, accepts, speed) is
`etle eval`, run on the chosen model (docs/models.md).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from camera_ingest.recognition.detector import MultiPassDetector, iou
from camera_ingest.recognition.evaluation import labelled_frames, match
from camera_ingest.recognition.framing import Box, Image, decode_frame
from camera_ingest.recognition.yolov5 import YoloV5BoxModel


@dataclass(frozen=True)
class DevFrame:
    image: Image
    boxes: list[Box]  # labelled plates, working-image pixels


@dataclass(frozen=True)
class DevScore:
    recall: float
    mean_iou: float  # of the matched boxes: how tight the boxes are
    boxes_per_frame: float

    @property
    def key(self) -> float:
        """What checkpoint selection maximises: recall first; then box fit (the reader needs
        the whole plate) and few boxes (each costs the reader ~10 ms) as tie-breakers."""
        return self.recall + 0.1 * self.mean_iou - 0.002 * self.boxes_per_frame


def load_dev(folder: Path, *, limit: int = 0) -> list[DevFrame]:
    frames = []
    for labelled in labelled_frames(folder)[: limit or None]:
        decoded = decode_frame(labelled.path.read_bytes())
        boxes = [
            decoded.to_working(label.box(decoded.width, decoded.height))
            for label in labelled.labels
        ]
        frames.append(DevFrame(decoded.image, boxes))
    return frames


def score(
    model_path: Path,
    frames: list[DevFrame],
    views: tuple[str, ...],
    threshold: float | None = None,
) -> DevScore:
    detector = MultiPassDetector(YoloV5BoxModel(model_path, score_threshold=threshold), views=views)
    found = total = 0
    ious: list[float] = []
    predicted_total = 0
    for frame in frames:
        predicted = [d.box for d in detector.detect(frame.image)]
        predicted_total += len(predicted)
        chosen = match(predicted, frame.boxes)
        total += len(frame.boxes)
        for label, index in zip(frame.boxes, chosen, strict=True):
            if index is not None:
                found += 1
                ious.append(iou(label, predicted[index]))
    return DevScore(
        recall=round(found / max(1, total), 4),
        mean_iou=round(statistics.fmean(ious), 4) if ious else 0.0,
        boxes_per_frame=round(predicted_total / max(1, len(frames)), 2),
    )


THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)


def choose_threshold(
    model_path: Path, frames: list[DevFrame], views: tuple[str, ...], *, tolerance: float = 0.02
) -> tuple[float, list[tuple[float, DevScore]]]:
    """The highest score threshold that keeps recall within `tolerance` (two plates in a
    hundred) of the lowest one's: each box below it costs the reader ~10 ms and is rarely a
    plate; at 0.15 the model found more boxes than the recognizer it replaces could afford
    to read in the same time (docs/models.md)."""
    table = [(t, score(model_path, frames, views, t)) for t in THRESHOLDS]
    floor = table[0][1].recall - tolerance
    chosen = max(t for t, s in table if s.recall >= floor)
    return chosen, table
