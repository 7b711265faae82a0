"""The recognizer with the real models: sizes, camera boxes, decisions, a few real photos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from camera_ingest.config import IngestSettings
from camera_ingest.recognition.detector import iou
from camera_ingest.recognition.evaluation import evaluate, labelled_frames
from camera_ingest.recognition.framing import decode_frame
from camera_ingest.recognition.loading import (
    PACKAGED_MODELS,
    load_baseline,
    load_recognizer,
    missing_model_files,
    model_folders,
)
from camera_ingest.recognition.pipeline import Recognizer
from etle.errors import ConfigError, ValidationFailed
from etle.frames.models import ReadDecision
from tests.conftest import REPO

SAMPLES = {s["file"]: s for s in json.loads((REPO / "sample_frames/frames.json").read_text())}
FRAME = REPO / "sample_frames/frame01.jpg"
PLATE_BOX = tuple(map(float, SAMPLES["frame01.jpg"]["plate_box"]))


@pytest.fixture(scope="module")
def recognizer(models_dir: Path) -> Recognizer:
    return load_recognizer(IngestSettings(models_dir=models_dir))


def encoded(image: np.ndarray, ext: str = ".jpg") -> bytes:
    ok, data = cv2.imencode(ext, image)
    assert ok
    return data.tobytes()


def test_a_large_frame_is_decoded_reduced_and_boxes_come_back_in_its_own_pixels(
    recognizer: Recognizer,
) -> None:
    image = cv2.imread(str(FRAME))
    large = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)  # 3840x2160
    data = encoded(large)
    assert decode_frame(data).scale == 2.0
    result = recognizer.recognize_bytes(data)
    assert (result.width, result.height) == (3840, 2160)
    assert [p.text for p in result.plates] == ["B1234ABC"]
    drawn = tuple(v * 2 for v in PLATE_BOX)
    assert iou(tuple(map(float, result.plates[0].box)), drawn) > 0.5  # type: ignore[arg-type]


def test_the_cameras_box_is_read_without_detection(recognizer: Recognizer) -> None:
    result = recognizer.recognize_bytes(FRAME.read_bytes(), [PLATE_BOX])
    assert len(result.plates) == 1
    plate = result.plates[0]
    assert plate.text == "B1234ABC"
    assert plate.box == tuple(int(v) for v in PLATE_BOX)
    assert plate.detector_score == 1.0


@pytest.mark.parametrize(
    "box",
    [(860.0, 692.0, 1125.0, 805.0), (795.0, 692.0, 1040.0, 805.0)],
    ids=["region-letter-cut", "last-letters-cut"],
)
def test_a_box_that_cuts_the_plate_is_read_again_but_never_accepted(
    recognizer: Recognizer, box: tuple[float, float, float, float]
) -> None:
    (plate,) = recognizer.recognize_bytes(FRAME.read_bytes(), [box]).plates
    assert plate.text == "B1234ABC"
    assert plate.decision == ReadDecision.REVIEW


def test_a_camera_box_outside_the_frame_reads_nothing(recognizer: Recognizer) -> None:
    assert recognizer.recognize_bytes(FRAME.read_bytes(), [(5000, 5000, 5200, 5100)]).plates == []


def test_png_frames_are_read(recognizer: Recognizer) -> None:
    result = recognizer.recognize_bytes(encoded(cv2.imread(str(FRAME)), ".png"))
    assert [p.text for p in result.plates] == ["B1234ABC"]


def test_bytes_that_are_no_image_are_refused(recognizer: Recognizer) -> None:
    with pytest.raises(ValidationFailed, match="not a decodable image"):
        recognizer.recognize_bytes(b"\xff\xd8 not really a jpeg")


def test_a_plate_cut_by_the_frame_border_is_never_accepted(recognizer: Recognizer) -> None:
    image = cv2.imread(str(FRAME))
    whole = recognizer.recognize(image).plates
    assert [p.decision for p in whole] == [ReadDecision.ACCEPT]
    # Cut the frame just after the plate's last letter: the plate now touches the border.
    cut = np.ascontiguousarray(image[:, : int(PLATE_BOX[2]) - 30])
    for plate in recognizer.recognize(cut).plates:
        assert plate.decision != ReadDecision.ACCEPT


def test_every_plate_of_a_frame_gets_a_read(recognizer: Recognizer) -> None:
    first, second = cv2.imread(str(FRAME)), cv2.imread(str(REPO / "sample_frames/frame02.jpg"))
    both = np.hstack([first, second])  # two cars side by side
    texts = sorted(p.text for p in recognizer.recognize(both).plates)
    assert texts == ["B1234ABC", "D1567XY"]


def test_a_few_real_photos_read_better_than_the_baseline_and_accept_nothing_wrong(
    recognizer: Recognizer, models_dir: Path, dataset_dir: Path
) -> None:
    frames = labelled_frames(dataset_dir)[:6]
    ours = evaluate(recognizer, frames).summary()
    baseline = evaluate(load_baseline(IngestSettings(models_dir=models_dir)), frames).summary()
    assert ours["wrong_accepted"] == 0
    assert ours["exact_read_rate"] > baseline["exact_read_rate"]
    assert ours["recall_iou50"] >= baseline["recall_iou50"]


def test_an_ocr_model_file_of_ones_own_is_loaded_by_path(models_dir: Path) -> None:
    own = load_recognizer(
        IngestSettings(models_dir=models_dir, ocr_model=str(models_dir / "cct_xs_v1_global.onnx"))
    )
    assert [p.text for p in own.recognize_bytes(FRAME.read_bytes()).plates] == ["B1234ABC"]


def test_a_missing_model_file_is_a_clear_configuration_error(models_dir: Path) -> None:
    with pytest.raises(ConfigError, match="OCR model files not found"):
        load_recognizer(IngestSettings(models_dir=models_dir, ocr_model="mine.onnx"))
    with pytest.raises(ConfigError, match="plate detector nothing-here.onnx not found in"):
        load_recognizer(IngestSettings(models_dir=models_dir, detector_model="nothing-here"))
    with pytest.raises(ConfigError, match="not found"):
        load_recognizer(IngestSettings(models_dir=models_dir / "no-such-folder"))
    with pytest.raises(ConfigError, match="is not a folder"):
        load_recognizer(IngestSettings(models_dir=models_dir / "cct_xs_v1_global.onnx"))


def test_without_a_models_folder_the_packaged_models_read_the_plate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ETLE_MODELS_DIR", raising=False)
    settings = IngestSettings()
    assert settings.models_dir is None
    assert model_folders(settings) == (PACKAGED_MODELS,)
    assert missing_model_files(settings) == []
    packaged = load_recognizer(settings)
    assert [p.text for p in packaged.recognize_bytes(FRAME.read_bytes()).plates] == ["B1234ABC"]


def test_a_relative_models_folder_and_model_path_are_resolved_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The issue: ETLE_MODELS_DIR=../shared/models and a model named by a relative path came
    # out as ../shared/models/../shared/models/... .
    folder = tmp_path / "shared" / "models"
    folder.mkdir(parents=True)
    for name in ("cct_xs_v1_global.onnx", "cct_xs_v1_global_plate_config.yaml"):
        shutil.copy(PACKAGED_MODELS / name, folder / name)
    work = tmp_path / "repo"
    work.mkdir()
    monkeypatch.chdir(work)
    settings = IngestSettings(
        models_dir=Path("../shared/models"), ocr_model="../shared/models/cct_xs_v1_global.onnx"
    )
    assert settings.models_dir == folder
    assert settings.ocr_model == str(folder / "cct_xs_v1_global.onnx")
    monkeypatch.chdir(tmp_path)  # another working directory: the same files
    assert missing_model_files(settings) == []
    own = load_recognizer(settings)
    assert [p.text for p in own.recognize_bytes(FRAME.read_bytes()).plates] == ["B1234ABC"]


def test_a_models_folder_overrides_packaged_files_of_the_same_name(tmp_path: Path) -> None:
    # Only the detector in the folder: the reader still comes from the package.
    shutil.copy(PACKAGED_MODELS / "hyperlpr3_y5fu_640x_sim.onnx", tmp_path / "mine.onnx")
    settings = IngestSettings(models_dir=tmp_path, detector_model="mine")
    assert missing_model_files(settings) == []
    assert missing_model_files(IngestSettings(models_dir=tmp_path, detector_model="x")) == [
        "x.onnx"
    ]
    own = load_recognizer(settings)
    assert [p.text for p in own.recognize_bytes(FRAME.read_bytes()).plates] == ["B1234ABC"]
