"""The plainest recognizer, kept to measure ours against (`etle eval --baseline`, the bench).

Full-size decode, one detector pass on the frame as it is, each crop (10% margin) read with
fast-plate-ocr's own `LicensePlateRecognizer.run`, the greedy string taken as the plate. It has
no notion of doubt, so every read counts as accepted: that is what trusting it would mean.
"""

from __future__ import annotations

import time

import cv2

from camera_ingest.recognition.framing import Box, decode_frame
from camera_ingest.recognition.pipeline import FrameResult, PlateResult, clip_box
from camera_ingest.recognition.reader import PlateReader
from camera_ingest.recognition.yolov5 import YoloV5BoxModel
from etle.frames.models import ReadDecision


class BaselineRecognizer:
    def __init__(self, model: YoloV5BoxModel, reader: PlateReader) -> None:
        self.model = model
        self.recognizer = reader.recognizer
        self.model_name = f"baseline:{model.name}+{reader.name}"

    def recognize_bytes(self, data: bytes, box_hints: list[Box] | None = None) -> FrameResult:
        started = time.perf_counter()
        frame = decode_frame(data, working_side=1 << 30)  # never reduced
        image = frame.image
        height, width = image.shape[:2]
        plates = []
        for detection in self.model.boxes(image, ["plain"]):
            x1, y1, x2, y2 = clip_box(detection.box, width, height, 0.10)
            if x2 - x1 < 8 or y2 - y1 < 4:
                continue
            crop = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2RGB)
            text = self.recognizer.run(crop)[0].plate
            plates.append(
                PlateResult(
                    box=clip_box(detection.box, width, height),
                    text=text,
                    confidence=1.0,
                    decision=ReadDecision.ACCEPT,
                    candidates=[],
                    slot_confidence=[],
                    detector_score=round(detection.score, 4),
                    reading=None,
                )
            )
        elapsed = (time.perf_counter() - started) * 1000
        return FrameResult(width, height, round(elapsed, 1), plates)
