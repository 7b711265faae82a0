"""The detector trainer: the converted graph computes what the ONNX model computes, composed
images carry the right boxes, and `python -m training.detector --smoke` gives a model the service
loads and that finds plates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from camera_ingest.recognition.detector import MultiPassDetector, iou
from camera_ingest.recognition.evaluation import read_labels
from camera_ingest.recognition.loading import BASELINE_DETECTOR, PACKAGED_MODELS
from camera_ingest.recognition.yolov5 import YoloV5BoxModel, letterbox
from tests.conftest import REPO, SHARED

torch = pytest.importorskip("torch", reason="the [train] extra is not installed")

from training.detector import data  # noqa: E402
from training.detector.model import decode, export_onnx, load  # noqa: E402

BASE = PACKAGED_MODELS / f"{BASELINE_DETECTOR}.onnx"
SCENES = SHARED / "datasets" / "id-plates-train" / "scenes"


@pytest.fixture(scope="module")
def base_model() -> Path:
    if not BASE.is_file():
        pytest.skip(f"the shipped detector is not at {BASE}")
    return BASE


def _picture() -> np.ndarray:
    """A made-up street-like picture with a white plate (no dataset photo is needed)."""
    rng = np.random.default_rng(0)
    image = rng.integers(60, 120, (480, 640, 3), dtype=np.uint8)
    cv2.rectangle(image, (260, 300), (380, 336), (235, 235, 235), -1)
    cv2.putText(image, "B 1234 XY", (266, 328), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (10, 10, 10), 2)
    return image


def test_converted_graph_matches_onnx_runtime(base_model: Path, tmp_path: Path) -> None:
    import onnxruntime as ort

    backbone, template = load(base_model)
    tensor, _, _ = letterbox(_picture(), 640)
    expected = ort.InferenceSession(str(base_model)).run(None, {"input": tensor})[0]
    with torch.no_grad():
        rows = decode(backbone(torch.from_numpy(tensor)), backbone.info.anchors)
    got = torch.cat([r.reshape(1, -1, 15) for r in rows], 1).numpy()
    assert got.shape == expected.shape == (1, 25200, 15)
    assert np.abs(got[..., 4] - expected[..., 4]).max() < 1e-4  # objectness
    assert np.abs(got[..., :4] - expected[..., :4]).max() < 0.05  # box, input pixels
    # Exported back unchanged, the file computes exactly what the original does.
    export_onnx(backbone, template, tmp_path / "same.onnx")
    again = ort.InferenceSession(str(tmp_path / "same.onnx")).run(None, {"input": tensor})[0]
    assert np.array_equal(again, expected)


def test_converted_graph_takes_batches_and_smaller_inputs(base_model: Path) -> None:
    backbone, _ = load(base_model)
    with torch.no_grad():
        heads = backbone(torch.zeros(3, 3, 256, 320))
    assert [tuple(h.shape) for h in heads] == [(3, 45, 32, 40), (3, 45, 16, 20), (3, 45, 8, 10)]


def test_extra_frames_keep_their_boxes_through_composition(tmp_path: Path) -> None:
    """An `etle training export` folder: frames with `class cx cy w h PLATE` beside them."""
    cv2.imwrite(str(tmp_path / "f1.jpg"), _picture())
    (tmp_path / "f1.txt").write_text("0 0.5 0.66 0.1875 0.075 B1234XY\n")
    frames = data.read_yolo_folder(tmp_path)
    assert frames[0].boxes[0].tolist() == pytest.approx([260.0, 298.8, 380.0, 334.8], abs=1e-3)
    rng = np.random.default_rng(1)
    for _ in range(5):
        sample = data.frame(rng, frames, 320, inverted=0.0)
        assert sample.image.shape == (320, 320, 3)
        for x1, y1, x2, y2 in sample.boxes:
            assert 0 <= x1 < x2 <= 320
            assert 0 <= y1 < y2 <= 320
            # The box still holds the plate: bright pixels inside.
            assert sample.image[int(y1) : int(y2), int(x1) : int(x2)].mean() > 120


def test_composed_images_follow_the_seed() -> None:
    scenes = [data.Scene(_picture(), np.array([[260, 300, 380, 336]], np.float32))]
    one = data.mosaic(np.random.default_rng(5), scenes, 256, 0.5)
    two = data.mosaic(np.random.default_rng(5), scenes, 256, 0.5)
    assert np.array_equal(one.image, two.image)
    assert np.array_equal(one.boxes, two.boxes)
    assert len(one.boxes) >= 1
    widths = one.boxes[:, 2] - one.boxes[:, 0]
    assert widths.max() <= data.MOSAIC_WIDTHS[1] * 1.5


@pytest.mark.slow
def test_smoke_run_exports_a_model_the_service_loads_and_that_finds_plates(
    base_model: Path, tmp_path: Path
) -> None:
    if not (SCENES / "labels").is_dir():
        pytest.skip(f"training photos not found at {SCENES}")
    out = tmp_path / "run"
    # Officer-confirmed frames as `etle training export` writes them join with one flag.
    extra = tmp_path / "export"
    extra.mkdir()
    cv2.imwrite(str(extra / "frame1.jpg"), _picture())
    (extra / "frame1.txt").write_text("0 0.5 0.66 0.1875 0.075 B1234XY\n")
    command = ["-m", "training.detector", "--smoke", "--out", str(out), "--extra", str(extra)]
    result = subprocess.run(
        [sys.executable, *command],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    model_path = out / "etle_detector_v1.onnx"
    assert "extra frames: 1" in (out / "train.log").read_text()
    assert (out / "summary.json").is_file()
    model = YoloV5BoxModel(model_path)
    assert model.input_size == 640
    detector = MultiPassDetector(model, views=("plain",))
    found = 0
    images = sorted((SCENES / "images").iterdir())[:8]
    for path in images:
        image = cv2.imread(str(path))
        assert image is not None
        height, width = image.shape[:2]
        labels = read_labels(SCENES / "labels" / f"{path.stem}.txt")
        boxes = [d.box for d in detector.detect(image)]
        if any(iou(b, labels[0].box(width, height)) >= 0.5 for b in boxes):
            found += 1
    assert found >= len(images) // 2
