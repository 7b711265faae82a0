"""The reader trainer: the converted graph computes what the ONNX model computes, training crops
are cut as the service cuts them, and `python -m training.reader --smoke` exports a model that
fast-plate-ocr and the service load and that reads plates."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from camera_ingest.config import IngestSettings
from camera_ingest.recognition.loading import PACKAGED_MODELS, load_recognizer
from tests.conftest import REPO, SHARED

torch = pytest.importorskip("torch", reason="the [train] extra is not installed")

from training.reader import data  # noqa: E402
from training.reader.model import export_onnx, load  # noqa: E402
from training.synth.fonts import FontsMissing, font_paths  # noqa: E402

BASE = PACKAGED_MODELS / "cct_xs_v1_global.onnx"
TRAIN_SET = SHARED / "datasets" / "id-plates-train"
FRAME = REPO / "sample_frames/frame01.jpg"


@pytest.fixture(scope="module")
def base_model() -> Path:
    if not BASE.is_file():
        pytest.skip(f"the shipped reader is not at {BASE}")
    return BASE


def _crops(n: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, 64, 128, 3), dtype=np.uint8)


def test_converted_graph_matches_onnx_runtime_and_exports_unchanged(
    base_model: Path, tmp_path: Path
) -> None:
    import onnxruntime as ort

    reader, template = load(base_model)
    batch = _crops(5)
    expected = ort.InferenceSession(str(base_model)).run(None, {"input": batch})[0]
    with torch.no_grad():
        got = torch.softmax(reader(torch.from_numpy(batch)), -1).numpy()
    assert got.shape == expected.shape == (5, 9, 37)
    assert np.abs(got - expected).max() < 1e-4
    export_onnx(reader, template, tmp_path / "same.onnx")
    again = ort.InferenceSession(str(tmp_path / "same.onnx")).run(None, {"input": batch})[0]
    assert np.array_equal(again, expected)


def test_trained_weights_reach_the_exported_file(base_model: Path, tmp_path: Path) -> None:
    import onnxruntime as ort

    reader, template = load(base_model)
    target = torch.tensor([data.encode("B1234XY")] * 4)
    optimiser = torch.optim.SGD(reader.parameters(), lr=0.05)
    batch = torch.from_numpy(_crops(4))
    for _ in range(3):
        logits = reader(batch)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 37), target.reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    export_onnx(reader, template, tmp_path / "trained.onnx")
    with torch.no_grad():
        mine = torch.softmax(reader(batch), -1).numpy()
    theirs = ort.InferenceSession(str(tmp_path / "trained.onnx")).run(
        None, {"input": batch.numpy()}
    )[0]
    original = ort.InferenceSession(str(base_model)).run(None, {"input": batch.numpy()})[0]
    assert np.abs(mine - theirs).max() < 1e-4
    assert np.abs(theirs - original).max() > 1e-3


def test_the_moving_average_follows_the_weights_slowly(base_model: Path) -> None:
    from training.reader.train import MovingAverage

    reader, _ = load(base_model)
    average = MovingAverage(reader, decay=0.99)
    start = [p.detach().clone() for p in average.model.parameters()]
    with torch.no_grad():
        for p in reader.parameters():
            p.add_(1.0)
    average.update(reader)  # first update: decay (1 + 1) / (10 + 1), most of the way
    moved = [(a - s).mean().item() for a, s in zip(average.model.parameters(), start, strict=True)]
    assert moved == pytest.approx([9 / 11] * len(moved), rel=1e-4)
    for _ in range(2000):
        average.update(reader)
    # Later updates move by 1% at most, and the average does reach the weights.
    after = next(iter(average.model.parameters())) - next(iter(reader.parameters()))
    assert after.abs().max().item() < 1e-3


def test_targets_pad_to_the_slots_and_the_held_out_split_keeps_a_vehicle_on_one_side() -> None:
    assert data.encode("B1") == [11, 1] + [36] * 7
    with pytest.raises(ValueError, match="longer"):
        data.encode("AB1234CDEF")
    share = sum(data.held_out(f"B{n}XY", 0.1, 15) for n in range(1, 2001)) / 2000
    assert 0.07 < share < 0.13
    assert data.held_out("B1234XY", 0.1, 15) == data.held_out("B1234XY", 0.1, 15)


def test_crops_hold_the_whole_plate_with_the_asked_margin() -> None:
    image = np.zeros((200, 400, 3), np.uint8)
    image[80:120, 100:300] = 255  # the plate
    plate = data.Plate(image, (100, 80, 300, 120), "B1234XY", "test", tight=False)
    rng = np.random.default_rng(3)
    tight = data.crop(plate, rng, (0.05, 0.05))
    assert tight.shape[:2] == (44, 220)
    for _ in range(20):
        cut = data.crop(plate, rng, data.random_margin(rng), jitter=0.04)
        # Every plate pixel is inside: the crop's white area is the whole plate.
        assert int((cut[..., 0] == 255).sum()) == 200 * 40
    alone = data.Plate(image[80:120, 100:300].copy(), (0, 0, 200, 40), "B1234XY", "t", tight=True)
    try:
        font_paths()
    except FontsMissing as exc:
        pytest.skip(str(exc))
    wide = data.crop(alone, rng, (0.25, 0.15))
    assert wide.shape[:2] == (round(40 * 1.3), round(200 * 1.5))
    assert data.to_input(wide).shape == (64, 128, 3)


def _export_folder(folder: Path) -> None:
    """Officer-confirmed plates as `etle training export` writes them (ocr/ + labels.csv)."""
    (folder / "ocr").mkdir(parents=True)
    image = np.full((60, 240, 3), 230, np.uint8)
    cv2.putText(image, "B 1234 XY", (20, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (10, 10, 10), 2)
    cv2.imwrite(str(folder / "ocr" / "abc_0.png"), image)
    with (folder / "ocr" / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "plate", "source"])
        writer.writerow(["abc_0.png", "B1234XY", "confirmed"])
    (folder / "manifest.json").write_text("{}")


@pytest.mark.slow
def test_smoke_run_exports_a_reader_that_fast_plate_ocr_and_the_service_load(
    base_model: Path, tmp_path: Path
) -> None:
    if not (TRAIN_SET / "ocr" / "labels.csv").is_file():
        pytest.skip(f"training plates not found at {TRAIN_SET}")
    try:
        font_paths()
    except FontsMissing as exc:
        pytest.skip(str(exc))
    out = tmp_path / "run"
    extra = tmp_path / "export"
    _export_folder(extra)
    again = tmp_path / "again"
    runs = [
        subprocess.run(
            [sys.executable, "-m", "training.reader", "--smoke", "--out", str(folder)]
            + ["--with-confirmed", str(extra)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        for folder in (out, again)
    ]
    for result in runs:
        assert result.returncode == 0, result.stdout + result.stderr
    # The same command gives the same model, byte for byte (on the same machine).
    model_bytes = [(folder / "etle_reader_v1.onnx").read_bytes() for folder in (out, again)]
    assert model_bytes[0] == model_bytes[1]
    log = (out / "train.log").read_text()
    assert "extra plates: 1" in log
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["extra"] == [str(extra)]
    model_path = out / "etle_reader_v1.onnx"
    config_path = out / "etle_reader_v1_plate_config.yaml"
    assert (
        config_path.read_text()
        == (PACKAGED_MODELS / "cct_xs_v1_global_plate_config.yaml").read_text()
    )

    from fast_plate_ocr import LicensePlateRecognizer

    ocr = LicensePlateRecognizer(onnx_model_path=model_path, plate_config_path=config_path)
    crop = cv2.imread(str(extra / "ocr" / "abc_0.png"))
    probs = ocr.model.run(None, {"input": data.to_input(crop)[None]})[0]
    assert probs.shape == (1, 9, 37)
    assert np.allclose(probs.sum(-1), 1.0, atol=1e-4)
    # The service loads it by name from a models folder, and reads the sample frame with it.
    recognizer = load_recognizer(IngestSettings(models_dir=out, ocr_model="etle_reader_v1.onnx"))
    assert recognizer.reader.name.startswith("etle_reader_v1")
    plates = recognizer.recognize_bytes(FRAME.read_bytes()).plates
    assert [p.text for p in plates] == ["B1234ABC"]
