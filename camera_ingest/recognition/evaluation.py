"""Scoring recognition on a labelled folder (`etle eval`, `bench/recognition.py`).

A labelled folder holds frames (`.jpg`, `.jpeg`, `.png`) and, beside each, a `.txt` with one
line per plate: `class cx cy w h PLATE`, the box normalised to the frame size (YOLO style).

Per labelled plate, the prediction that overlaps it best (IoU >= 0.5, each prediction used once)
is its read. A plate is *read exactly* when that read's text equals the label. A label that is
not a whole plate (region letters hidden, e.g. `9840VU`) is scored as right only when its read
exists and is not accepted: a correct system never tickets it. *Wrong accepted* counts accepted
reads whose text differs from their label; accepted reads that overlap no labelled plate are
counted apart (a frame may show plates nobody labelled).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from camera_ingest.recognition.detector import Box, iou
from camera_ingest.recognition.framing import image_size
from camera_ingest.recognition.pipeline import FrameRecognizer, FrameResult, PlateResult
from camera_ingest.recognition.policy import DecisionPolicy
from etle.errors import ValidationFailed
from etle.frames.models import ReadDecision
from etle.plates import is_valid_plate

FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")
MATCH_IOU = 0.5


@dataclass(frozen=True, slots=True)
class Label:
    cx: float  # normalised to the frame
    cy: float
    w: float
    h: float
    text: str

    def box(self, width: int, height: int) -> Box:
        return (
            (self.cx - self.w / 2) * width,
            (self.cy - self.h / 2) * height,
            (self.cx + self.w / 2) * width,
            (self.cy + self.h / 2) * height,
        )

    @property
    def whole(self) -> bool:
        """A whole plate (region, number, suffix), not one with its region letters hidden."""
        return is_valid_plate(self.text)


@dataclass(frozen=True, slots=True)
class LabelledFrame:
    path: Path
    labels: list[Label]


@dataclass(frozen=True, slots=True)
class PlateOutcome:
    label: Label
    read: PlateResult | None  # None: no prediction overlaps the label

    @property
    def correct(self) -> bool:
        if self.read is None:
            return False
        if not self.label.whole:
            return self.read.decision != ReadDecision.ACCEPT
        return self.read.text == self.label.text

    def accepted(self, policy: DecisionPolicy | None = None) -> bool:
        return self.read is not None and self._decision(policy) == ReadDecision.ACCEPT

    def wrong_accepted(self, policy: DecisionPolicy | None = None) -> bool:
        return self.accepted(policy) and (
            self.read is None or not self.label.whole or self.read.text != self.label.text
        )

    def _decision(self, policy: DecisionPolicy | None) -> ReadDecision:
        assert self.read is not None
        if policy is None or self.read.reading is None:
            return self.read.decision
        return policy.decide(self.read.reading, at_frame_edge=self.read.at_frame_edge)


@dataclass
class Report:
    frames: int = 0
    outcomes: list[PlateOutcome] = field(default_factory=list)
    unlabelled_accepted: list[tuple[str, str]] = field(default_factory=list)  # (frame, text)
    ms: list[float] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (frame, error)

    def summary(self) -> dict[str, float | int]:
        labelled = len(self.outcomes)
        accepted = sum(o.accepted() for o in self.outcomes)
        return {
            "frames": self.frames,
            "labelled_plates": labelled,
            "recall_iou50": _ratio(sum(o.read is not None for o in self.outcomes), labelled),
            "exact_read_rate": _ratio(sum(o.correct for o in self.outcomes), labelled),
            "accepted": accepted,
            "share_accepted": _ratio(accepted, labelled),
            "wrong_accepted": sum(o.wrong_accepted() for o in self.outcomes),
            "accepted_on_unlabelled": len(self.unlabelled_accepted),
            "ms_per_frame_median": round(statistics.median(self.ms), 1) if self.ms else 0.0,
            "ms_per_frame_mean": round(statistics.fmean(self.ms), 1) if self.ms else 0.0,
            "failed_frames": len(self.failed),
        }


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def labelled_frames(folder: Path) -> list[LabelledFrame]:
    if not folder.is_dir():
        raise ValidationFailed(f"{folder} is not a folder")
    frames = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in FRAME_SUFFIXES or not path.with_suffix(".txt").is_file():
            continue
        frames.append(LabelledFrame(path, read_labels(path.with_suffix(".txt"))))
    if not frames:
        raise ValidationFailed(f"{folder} holds no frame with a .txt label file beside it")
    return frames


def read_labels(path: Path) -> list[Label]:
    labels = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 6:
            raise ValidationFailed(f"{path}:{number}: expected 'class cx cy w h PLATE'")
        try:
            cx, cy, w, h = (float(v) for v in parts[1:5])
        except ValueError as exc:
            raise ValidationFailed(f"{path}:{number}: box values must be numbers") from exc
        labels.append(Label(cx, cy, w, h, parts[5].upper()))
    return labels


def match(predicted: Sequence[Box], labelled: Sequence[Box]) -> list[int | None]:
    """For each labelled box, the index of its prediction: greedy by IoU, each used once."""
    pairs = sorted(
        (
            (iou(p, lab), li, pi)
            for li, lab in enumerate(labelled)
            for pi, p in enumerate(predicted)
        ),
        reverse=True,
    )
    chosen: list[int | None] = [None] * len(labelled)
    used: set[int] = set()
    for overlap, li, pi in pairs:
        if overlap < MATCH_IOU:
            break
        if chosen[li] is None and pi not in used:
            chosen[li] = pi
            used.add(pi)
    return chosen


def score_frame(report: Report, frame: LabelledFrame, result: FrameResult) -> None:
    report.frames += 1
    report.ms.append(result.ms)
    predicted = [tuple(map(float, p.box)) for p in result.plates]
    labelled = [label.box(result.width, result.height) for label in frame.labels]
    chosen = match(predicted, labelled)  # type: ignore[arg-type]
    for label, index in zip(frame.labels, chosen, strict=True):
        report.outcomes.append(PlateOutcome(label, None if index is None else result.plates[index]))
    for index, plate in enumerate(result.plates):
        if index not in chosen and plate.decision == ReadDecision.ACCEPT:
            report.unlabelled_accepted.append((frame.path.name, plate.text))


def evaluate(
    recognizer: FrameRecognizer,
    frames: Iterable[LabelledFrame],
    *,
    on_frame: Callable[[LabelledFrame], None] | None = None,
    true_boxes: bool = False,
) -> Report:
    """`true_boxes`: give the recognizer the labelled boxes as the camera's plate boxes, so the
    detector is skipped and the reader alone is measured (`etle eval --true-boxes`)."""
    report = Report()
    for frame in frames:
        try:
            data = frame.path.read_bytes()
            hints = label_boxes(frame, data) if true_boxes else None
            result = recognizer.recognize_bytes(data, hints)
        except ValidationFailed as exc:
            report.failed.append((frame.path.name, exc.message))
        else:
            score_frame(report, frame, result)
        if on_frame is not None:
            on_frame(frame)
    return report


def label_boxes(frame: LabelledFrame, data: bytes) -> list[Box]:
    """The frame's labelled plate boxes in its original pixels."""
    width, height = image_size(data)
    return [label.box(width, height) for label in frame.labels]


@dataclass(frozen=True, slots=True)
class CalibrationRow:
    accept_p: float
    accepted: int
    wrong_accepted: int


P_GRID = (0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def calibrate(
    outcomes: Sequence[PlateOutcome], *, p_grid: Sequence[float] = P_GRID
) -> list[CalibrationRow]:
    """Accepted and wrongly accepted reads for each accept threshold."""
    rows = []
    for accept_p in p_grid:
        policy = DecisionPolicy(accept_p=accept_p)
        accepted = sum(o.accepted(policy) for o in outcomes)
        wrong = sum(o.wrong_accepted(policy) for o in outcomes)
        rows.append(CalibrationRow(accept_p, accepted, wrong))
    return rows


def most_probable_wrong(outcomes: Sequence[PlateOutcome]) -> float:
    """The highest probability of a wrong read that the structural rules would let through:
    the accept threshold must stay well above it."""
    anything = DecisionPolicy(accept_p=0.0, unreadable_p=0.0)
    return max(
        (
            o.read.reading.p
            for o in outcomes
            if o.read is not None and o.read.reading is not None and o.wrong_accepted(anything)
        ),
        default=0.0,
    )
