"""One frame in, plate reads out.

    bytes ──decode once, reduced (framing.py)──▶ detector (views, tiles) or the camera's boxes
          ──▶ two crops per plate (tight, wide) ──▶ reader, one batch for the whole frame
          ──▶ grammar decoder, crops mixed (decode.py) ──▶ decision (policy.py)

Boxes leave in pixels of the original frame whatever size the frame was decoded at.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Protocol

from camera_ingest.recognition.decode import Candidate, GrammarDecoder, Reading
from camera_ingest.recognition.detector import Box, Detection, PlateDetector, iou
from camera_ingest.recognition.framing import Frame, Image, decode_frame, frame_from_image
from camera_ingest.recognition.policy import DecisionPolicy
from camera_ingest.recognition.reader import PlateReader
from camera_ingest.recognition.views import VIEWS
from etle.frames.models import ReadDecision

# Each plate is read from several crops and the readings are mixed (decode.py). Margins are
# (horizontal, vertical) fractions of the box per side: the detector's boxes are tight and
# often shifted, so the tight crop reads best when the box is right, the wide one when it
# clipped the region letter or the last suffix letter. Each crop is read as it is and as its
# negative (white-on-black plates read better as black-on-white). Measured on the development
# photos in docs/recognition.md.
CROP_MARGINS: tuple[tuple[float, float], ...] = ((0.05, 0.05), (0.25, 0.15))
CROP_VIEWS: tuple[str, ...] = ("plain", "inverted")
# A much wider crop, read only to see whether the plate goes on beyond the box: a box that
# covers `W 8774` of `W 8774 PA` reads as a whole, certain, grammatical plate in every crop
# above.
CONTEXT_MARGIN = (0.6, 0.2)
# When the reading shows the box cut the plate (no region letters, or a wider crop saw more
# characters) and its crops agree on what they saw (a plate, not noise), the plate is read
# again from crops reaching this far (fractions of the box width) past the box on the cut
# side; the other side keeps a tight margin.
SHIFTS = (0.4,)
# Narrower than this in the working image, a plate is cropped from the full-size frame.
MIN_PLATE_WIDTH = 48
# The start of a raw reading: region letters and number (what a box cut on the right leaves).
_HEAD = re.compile(r"[A-Z]{1,2}[0-9]{1,4}")
MIN_BOX = (8, 4)  # smaller boxes are noise, not plates
# When no plate could be read, the detector runs once more down to this score: its boxes are
# offered to the officer who marks the plate by hand (etle.cases.manual_read), best first.
WEAK_SCORE = 0.02
MAX_WEAK_BOXES = 5


@dataclass(frozen=True, slots=True)
class PlateResult:
    box: tuple[int, int, int, int]  # original-frame pixels
    text: str
    confidence: float
    decision: ReadDecision
    candidates: list[Candidate]
    slot_confidence: list[float]
    detector_score: float
    # What the decision was made from (for calibration); reading None: the baseline.
    reading: Reading | None = None
    at_frame_edge: bool = False


@dataclass(frozen=True, slots=True)
class FrameResult:
    width: int
    height: int
    ms: float
    plates: list[PlateResult] = field(default_factory=list)
    # Only when no plate could be read: boxes the detector scored too low to read (original
    # frame pixels, score), for the officer who marks the plate by hand.
    weak_boxes: list[tuple[tuple[int, int, int, int], float]] = field(default_factory=list)


class FrameRecognizer(Protocol):
    model_name: str

    def recognize_bytes(self, data: bytes, box_hints: list[Box] | None = None) -> FrameResult: ...


class Recognizer:
    def __init__(
        self,
        detector: PlateDetector,
        reader: PlateReader,
        policy: DecisionPolicy | None = None,
        *,
        margins: tuple[tuple[float, float], ...] = CROP_MARGINS,
        crop_views: tuple[str, ...] = CROP_VIEWS,
        context_margin: tuple[float, float] | None = CONTEXT_MARGIN,
        working_side: int = 1500,
    ) -> None:
        self.detector = detector
        self.reader = reader
        self.decoder = GrammarDecoder(reader.alphabet, reader.pad_char)
        self.policy = policy or DecisionPolicy()
        self.margins = margins
        self.crop_views = crop_views
        self.context_margin = context_margin
        # Read the context crop of every plate, not only of those that could be accepted:
        # for calibration (`etle eval --calibrate`), which replays the decision at every
        # threshold.
        self.context_for_all = False
        self.second_look = True
        self.working_side = working_side

        self.model_name = f"{detector.name}+{reader.name}"

    def recognize_bytes(self, data: bytes, box_hints: list[Box] | None = None) -> FrameResult:
        """`box_hints`: plate boxes the camera sent, in original-frame pixels."""
        started = time.perf_counter()
        frame = decode_frame(data, working_side=self.working_side)
        return self.recognize_frame(frame, box_hints, started=started)

    def recognize(self, image: Image, box_hints: list[Box] | None = None) -> FrameResult:
        return self.recognize_frame(frame_from_image(image), box_hints)

    def recognize_frame(
        self, frame: Frame, box_hints: list[Box] | None = None, *, started: float | None = None
    ) -> FrameResult:
        started = time.perf_counter() if started is None else started
        if box_hints:
            detections = [Detection(frame.to_working(hint), 1.0) for hint in box_hints]
        else:
            detections = self.detector.detect(frame.image)
        height, width = frame.image.shape[:2]
        kept = []
        for d in detections:
            x1, y1, x2, y2 = clip_box(d.box, width, height)
            if x2 - x1 >= MIN_BOX[0] and y2 - y1 >= MIN_BOX[1]:  # a camera box may miss the frame
                kept.append(d)
        # All plates of the frame in one batch for the reader.
        per_plate = len(self.margins) * len(self.crop_views)
        probabilities = self.reader.probabilities(
            [crop for d in kept for crop in self._crops(frame, d.box)]
        )
        readings = [
            self.decoder.read(probabilities[n * per_plate : (n + 1) * per_plate])
            for n in range(len(kept))
        ]
        edges = [touches_edge(d.box, width, height) for d in kept]
        if self.context_margin is not None:
            # Only a read that could be accepted needs its context crop: a second, small batch.
            wanted = [
                n
                for n, reading in enumerate(readings)
                if self.context_for_all
                or self.policy.decide(reading, at_frame_edge=edges[n]) == ReadDecision.ACCEPT
            ]
            context = self.reader.probabilities(
                [self._context_crop(frame, kept[n].box, self.context_margin) for n in wanted]
            )
            for n, probs in zip(wanted, context, strict=True):
                readings[n] = self.decoder.with_context(readings[n], [probs])
        self._second_look(frame, kept, readings)
        plates = []
        for detection, reading, at_edge in zip(kept, readings, edges, strict=True):
            plates.append(
                PlateResult(
                    box=clip_box(frame.to_original(detection.box), frame.width, frame.height),
                    text=reading.text or (reading.raws[0] if reading.raws else ""),
                    confidence=round(reading.p, 4),
                    decision=self.policy.decide(reading, at_frame_edge=at_edge),
                    candidates=[Candidate(c.text, round(c.p, 4)) for c in reading.candidates],
                    slot_confidence=[round(c, 4) for c in reading.slot_confidence],
                    detector_score=round(detection.score, 4),
                    reading=reading,
                    at_frame_edge=at_edge,
                )
            )
        weak = [] if box_hints else self._weak_boxes(frame, plates)
        elapsed = (time.perf_counter() - started) * 1000
        return FrameResult(frame.width, frame.height, round(elapsed, 1), plates, weak)

    def _weak_boxes(
        self, frame: Frame, plates: list[PlateResult]
    ) -> list[tuple[tuple[int, int, int, int], float]]:
        """The detector's low-score boxes of a frame where no plate could be read (a second
        pass, paid only on such frames), apart from the boxes already read."""
        if any(p.decision != ReadDecision.UNREADABLE for p in plates):
            return []
        out: list[tuple[tuple[int, int, int, int], float]] = []
        for d in self.detector.detect(frame.image, min_score=WEAK_SCORE):
            box = clip_box(frame.to_original(d.box), frame.width, frame.height)
            if any(iou(box, p.box) >= 0.3 for p in plates) or any(
                iou(box, b) >= 0.3 for b, _ in out
            ):
                continue
            out.append((box, round(d.score, 4)))
            if len(out) == MAX_WEAK_BOXES:
                break
        return out

    def _crops(self, frame: Frame, box: Box) -> list[Image]:
        image, scaled = self._source(frame, box)
        height, width = image.shape[:2]
        out = []
        for mx, my in self.margins:
            x1, y1, x2, y2 = clip_box(scaled, width, height, mx, my)
            out += [VIEWS[view](image[y1:y2, x1:x2]) for view in self.crop_views]
        return out

    def _second_look(self, frame: Frame, kept: list[Detection], readings: list[Reading]) -> None:
        """Read plates the box cut again, from crops shifted towards the cut side."""
        if not self.second_look:
            return
        redo = [(n, side) for n, r in enumerate(readings) if (side := cut_side(r)) is not None]
        if not redo:
            return
        crops = [c for n, side in redo for c in self._shifted_crops(frame, kept[n].box, side)]
        probabilities = self.reader.probabilities(crops)
        per_plate = len(SHIFTS) * len(self.crop_views)
        for i, (n, side) in enumerate(redo):
            again = self.decoder.read(probabilities[i * per_plate : (i + 1) * per_plate])
            before = readings[n]
            if side == "left":
                # The widest crops reach the region letters; a partial plate has none to find.
                seen = again.region_seen
                found = 2 * sum(seen) >= len(seen) and again.p >= max(0.05, before.p)
            else:
                found = len(again.text) > len(before.text) and again.text.startswith(
                    before.text[: len(before.text) - 1]
                )
            if found:
                readings[n] = replace(again, context=before.context, clipped=True)

    def _shifted_crops(self, frame: Frame, box: Box, side: str) -> list[Image]:
        image, scaled = self._source(frame, box)
        height, width = image.shape[:2]
        x1, y1, x2, y2 = scaled
        w, h = x2 - x1, y2 - y1
        out = []
        for shift in SHIFTS:
            left, right = (shift, 0.05) if side == "left" else (0.05, shift)
            grown = (x1 - w * left, y1 - h * 0.1, x2 + w * right, y2 + h * 0.1)
            cx1, cy1, cx2, cy2 = clip_box(grown, width, height)
            out += [VIEWS[view](image[cy1:cy2, cx1:cx2]) for view in self.crop_views]
        return out

    def _context_crop(self, frame: Frame, box: Box, margin: tuple[float, float]) -> Image:
        image, scaled = self._source(frame, box)
        x1, y1, x2, y2 = clip_box(scaled, image.shape[1], image.shape[0], *margin)
        return image[y1:y2, x1:x2]

    @staticmethod
    def _source(frame: Frame, box: Box) -> tuple[Image, Box]:
        """The image to crop a plate from, and the box in its pixels."""
        if box[2] - box[0] < MIN_PLATE_WIDTH and frame.scale > 1.0:
            s = frame.scale
            return frame.full_image(), (box[0] * s, box[1] * s, box[2] * s, box[3] * s)
        return frame.image, box


def cut_side(reading: Reading) -> str | None:
    """Which side the detector's box cut the plate on, as far as the reading shows; None also
    when the crops disagree on what they saw (no plate worth a second look). They need only
    agree on the region and number: where a box cut the last letters, each crop makes
    something different of what is left of them (`B1234A`, `B1234AA`, `B1234ABG`)."""
    heads = Counter(_head(raw) for raw in reading.raws)
    if not reading.raws or max(heads.values()) * 2 < len(reading.raws):
        return None
    if not all(reading.region_seen):
        return "left"
    if any(len(raw) > len(reading.text) for raw in reading.raws + reading.context):
        return "right"
    return None


def _head(raw: str) -> str:
    """The region letters and the number of a raw string (all of it if it has no such start)."""
    found = _HEAD.match(raw)
    return found.group(0) if found else raw


def touches_edge(box: Box, width: int, height: int) -> bool:
    """Within a fifth of the box's height of the frame's border: part of the plate may lie
    outside the picture."""
    pad = 0.2 * (box[3] - box[1])
    return box[0] <= pad or box[1] <= pad or box[2] >= width - pad or box[3] >= height - pad


def clip_box(
    box: Box, width: int, height: int, margin_x: float = 0.0, margin_y: float | None = None
) -> tuple[int, int, int, int]:
    """Integer box grown by margins (fractions of its size per side), inside the image."""
    x1, y1, x2, y2 = box
    mx = (x2 - x1) * margin_x
    my = (y2 - y1) * (margin_x if margin_y is None else margin_y)
    return (
        max(0, int(x1 - mx)),
        max(0, int(y1 - my)),
        min(width, int(round(x2 + mx))),
        min(height, int(round(y2 + my))),
    )
