"""`etle recognize` and `etle eval` as an operator runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from etle.errors import ValidationFailed
from tests.conftest import REPO

SAMPLES = json.loads((REPO / "sample_frames/frames.json").read_text())


@pytest.fixture
def env(models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETLE_MODELS_DIR", str(models_dir))


def test_recognize_prints_one_json_line_per_frame(env: None, tmp_path: Path) -> None:
    for item in SAMPLES[:2]:
        shutil.copy(REPO / "sample_frames" / item["file"], tmp_path)
    result = CliRunner().invoke(app, ["recognize", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [Path(line["frame"]).name for line in lines] == ["frame01.jpg", "frame02.jpg"]
    first = lines[0]
    assert (first["width"], first["height"]) == (1920, 1080)
    assert first["ms"] > 0
    (plate,) = first["plates"]
    assert plate["text"] == "B1234ABC"
    assert plate["decision"] in {"accept", "review", "unreadable"}
    assert 0 <= plate["confidence"] <= 1
    assert len(plate["box"]) == 4
    assert plate["candidates"][0] == {"text": "B1234ABC", "p": plate["confidence"]}


def test_recognize_reports_a_bad_file_on_one_line_and_fails(env: None, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 truncated")
    result = CliRunner().invoke(app, ["recognize", str(broken), "--json"])
    assert result.exit_code == 1
    line = json.loads(result.output)
    assert line["frame"] == str(broken)
    assert "not a decodable image" in line["error"]


def test_eval_scores_a_labelled_folder(env: None, tmp_path: Path) -> None:
    for item in SAMPLES:
        shutil.copy(REPO / "sample_frames" / item["file"], tmp_path)
        x1, y1, x2, y2 = item["plate_box"]
        cx, cy, w, h = (x1 + x2) / 3840, (y1 + y2) / 2160, (x2 - x1) / 1920, (y2 - y1) / 1080
        label = f"0 {cx} {cy} {w} {h} {item['plate']}\n"
        (tmp_path / item["file"]).with_suffix(".txt").write_text(label)
    result = CliRunner().invoke(app, ["eval", str(tmp_path), "--json", "--calibrate"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["frames"] == report["labelled_plates"] == len(SAMPLES)
    assert report["recall_iou50"] == 1.0
    assert report["exact_read_rate"] == 1.0
    assert report["wrong_accepted"] == 0
    assert report["accepted"] >= len(SAMPLES) - 2
    assert report["ms_per_frame_median"] > 0
    assert [row["accept_p"] for row in report["calibration"]][:2] == [0.1, 0.2]


def test_eval_with_true_boxes_reads_the_labelled_boxes_not_the_detectors(
    env: None, tmp_path: Path
) -> None:
    item = SAMPLES[0]
    shutil.copy(REPO / "sample_frames" / item["file"], tmp_path)
    x1, y1, x2, y2 = item["plate_box"]
    cx, cy, w, h = (x1 + x2) / 3840, (y1 + y2) / 2160, (x2 - x1) / 1920, (y2 - y1) / 1080
    label = tmp_path / Path(item["file"]).with_suffix(".txt")
    label.write_text(f"0 {cx} {cy} {w} {h} {item['plate']}\n")
    result = CliRunner().invoke(app, ["eval", str(tmp_path), "--json", "--true-boxes"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["recall_iou50"], report["exact_read_rate"]) == (1.0, 1.0)
    # A labelled box on the car's paint, not the plate: the detector would have found the
    # plate, the reader given that box reads no plate there.
    label.write_text(f"0 {cx} {cy - 4 * h} {w} {h} {item['plate']}\n")
    result = CliRunner().invoke(app, ["eval", str(tmp_path), "--json", "--true-boxes"])
    report = json.loads(result.output)
    assert report["recall_iou50"] == 1.0
    assert report["exact_read_rate"] == 0.0


def test_eval_refuses_a_folder_without_labels(env: None, tmp_path: Path) -> None:
    shutil.copy(REPO / "sample_frames/frame01.jpg", tmp_path)
    result = CliRunner().invoke(app, ["eval", str(tmp_path)])
    assert isinstance(result.exception, ValidationFailed)
    assert "no frame with a .txt label file" in result.exception.message


def test_recognize_names_a_file_that_is_no_image_and_what_it_is(env: None) -> None:
    readme = REPO / "README.md"
    result = CliRunner().invoke(app, ["recognize", str(readme)])
    assert result.exit_code == 1
    assert f"{readme}: not a decodable image: neither JPEG nor PNG" in result.stderr
    assert "starting b'# ETLE" in result.stderr
    assert "BytesIO" not in result.output + result.stderr
