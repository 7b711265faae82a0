"""The real detector and OCR model read every committed sample frame correctly."""

import json
from pathlib import Path

import pytest

from camera_ingest.config import IngestSettings
from camera_ingest.recognition.detector import iou
from camera_ingest.recognition.loading import load_recognizer
from tests.conftest import REPO

SAMPLES = json.loads((REPO / "sample_frames" / "frames.json").read_text())


@pytest.mark.parametrize("item", SAMPLES, ids=[s["file"] for s in SAMPLES])
def test_sample_frame_plate_is_read(models_dir: Path, item: dict[str, str]) -> None:
    recognizer = load_recognizer(IngestSettings(models_dir=models_dir))
    result = recognizer.recognize_bytes((REPO / "sample_frames" / item["file"]).read_bytes())
    assert [p.text for p in result.plates] == [item["plate"]]
    read_box = result.plates[0].box
    drawn = tuple(item["plate_box"])
    assert iou(tuple(map(float, read_box)), tuple(map(float, drawn))) > 0.5  # type: ignore[arg-type]
