"""Scoring a reader: on the held-out slice of the training plates (checkpoint selection) and on
the development photos through the service's own code (figures for the log and the card).

The held-out slice is read as the service reads a plate: four crops (tight and wide, as is and
negative) mixed by the grammar decoder (`GrammarDecoder.read`). The development photos are read
by `Recognizer` from an exported ONNX file: with the labelled boxes given as the camera's boxes
(the reader alone, `etle eval --true-boxes`), and optionally with the shipped detector (`etle
eval`). They are never training data, and they choose nothing: they are reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from fast_plate_ocr import LicensePlateRecognizer

from camera_ingest.recognition.decode import GrammarDecoder
from camera_ingest.recognition.detector import Detection, MultiPassDetector, PlateDetector
from camera_ingest.recognition.evaluation import LabelledFrame, evaluate, labelled_frames
from camera_ingest.recognition.pipeline import Recognizer
from camera_ingest.recognition.reader import PlateReader
from camera_ingest.recognition.runtime import session_options
from camera_ingest.recognition.yolov5 import YoloV5BoxModel
from training.reader.data import ALPHABET, PAD, Image, Plate, service_crops, to_input
from training.reader.model import OnnxReader


@dataclass(frozen=True)
class HeldOutScore:
    exact: float  # share of plates whose mixed reading equals the label
    mean_log_p: float  # mean log-probability of the label's reading (confidence when right)
    wrong_above: int  # wrong readings with p >= 0.6 (the service's accept threshold today)

    @property
    def key(self) -> float:
        """What checkpoint selection maximises: exact reads first, then confidence in them."""
        return self.exact + 0.001 * self.mean_log_p - 0.005 * self.wrong_above


def held_out_crops(plates: list[Plate], seed: int) -> list[list[Image]]:
    """Each plate's four service crops, drawn once (the margins painted around tight crops
    follow `seed`), so every checkpoint reads the same pixels."""
    rng = np.random.default_rng(seed)
    return [[to_input(c) for c in service_crops(p, rng)] for p in plates]


def score_held_out(
    reader: OnnxReader, plates: list[Plate], crops: list[list[Image]], *, batch: int = 256
) -> HeldOutScore:
    decoder = GrammarDecoder(ALPHABET, PAD)
    flat = np.stack([c for group in crops for c in group])
    probs = []
    reader.eval()
    with torch.no_grad():
        for start in range(0, len(flat), batch):
            logits = reader(torch.from_numpy(flat[start : start + batch]))
            probs.append(torch.softmax(logits, -1).numpy())
    all_probs = np.concatenate(probs)
    right = wrong_above = 0
    log_p = []
    offset = 0
    for plate, group in zip(plates, crops, strict=True):
        reading = decoder.read(all_probs[offset : offset + len(group)])
        offset += len(group)
        right += reading.text == plate.text
        wrong_above += reading.text != plate.text and reading.p >= 0.6
        p = next((c.p for c in reading.candidates if c.text == plate.text), 0.0)
        log_p.append(math.log(max(p, 1e-6)))
    return HeldOutScore(
        exact=round(right / max(1, len(plates)), 4),
        mean_log_p=round(float(np.mean(log_p)) if log_p else 0.0, 4),
        wrong_above=wrong_above,
    )


def load_reader(model_path: Path, config_path: Path) -> PlateReader:
    recognizer = LicensePlateRecognizer(
        onnx_model_path=model_path,
        plate_config_path=config_path,
        device="cpu",
        sess_options=session_options(),
    )
    return PlateReader(recognizer)


class _NoDetector:
    """The reader alone: plates come as the labelled boxes, nothing is detected."""

    name = "labelled-boxes"

    def detect(self, image: Image, *, min_score: float | None = None) -> list[Detection]:
        return []


def score_dev(
    model_path: Path,
    config_path: Path,
    frames: list[LabelledFrame],
    *,
    detector_path: Path | None = None,
) -> dict[str, float | int]:
    """`etle eval` figures of a reader file on the development photos: with the labelled boxes
    (`detector_path` None), or with that detector's boxes (one plain pass)."""
    reader = load_reader(model_path, config_path)
    detector: PlateDetector
    if detector_path is None:
        detector = _NoDetector()
    else:
        detector = MultiPassDetector(YoloV5BoxModel(detector_path), views=("plain",))
    recognizer = Recognizer(detector, reader)
    report = evaluate(recognizer, frames, true_boxes=detector_path is None)
    return report.summary()


def dev_frames(folder: Path | None, *, limit: int = 0) -> list[LabelledFrame]:
    if folder is None or not folder.is_dir():
        return []
    return labelled_frames(folder)[: limit or None]
