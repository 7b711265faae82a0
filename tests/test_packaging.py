"""What a non-editable install carries: the plate models, their licences and NOTICE."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch

from tests.conftest import PACKAGED_MODELS, REPO


def test_every_file_of_the_models_folder_is_package_data() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["camera_ingest.recognition.models"]
    files = sorted(p.name for p in PACKAGED_MODELS.iterdir() if p.is_file())
    assert {
        "NOTICE",
        "cct_xs_v1_global.onnx",
        "etle_reader_v1.onnx",
        "etle_reader_v1_plate_config.yaml",
        "hyperlpr3_y5fu_640x_sim.onnx",
        "etle_detector_v1.onnx",
    } <= set(files)
    assert [name for name in files if not any(fnmatch(name, p) for p in patterns)] == []


def test_each_shipped_model_has_its_licence_and_is_named_in_the_notice() -> None:
    notice = (PACKAGED_MODELS / "NOTICE").read_text()
    for model in PACKAGED_MODELS.glob("*.onnx"):
        assert model.name in notice
    assert "MIT License" in (PACKAGED_MODELS / "LICENSE-fast-plate-ocr.txt").read_text()
    apache = (PACKAGED_MODELS / "LICENSE-HyperLPR3-Apache-2.0.txt").read_text()
    assert "Apache License" in apache
    assert "END OF TERMS AND CONDITIONS" in apache
