"""Load the models once per process, from the configured folder or the libraries' hubs."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import onnxruntime as ort
from fast_plate_ocr import LicensePlateRecognizer
from fast_plate_ocr.inference.hub import AVAILABLE_ONNX_MODELS

from camera_ingest.config import IngestSettings
from camera_ingest.recognition.baseline import BaselineRecognizer
from camera_ingest.recognition.detector import BoxModel, MultiPassDetector
from camera_ingest.recognition.pipeline import Recognizer
from camera_ingest.recognition.reader import PlateReader
from camera_ingest.recognition.runtime import session_options, single_threaded_opencv
from camera_ingest.recognition.yolov5 import YoloV5BoxModel
from etle.errors import ConfigError

# Per detector: the model used when ETLE_DETECTOR_MODEL is unset, and the views it runs on.
# The views are the best measured on the development photos (docs/recognition.md).
# `etle_detector_v1` is our fine-tune of HyperLPR3's detector on Indonesian plates (issue 14,
# docs/models.md): one plain pass finds more plates than the original's two views.
DETECTOR_DEFAULTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "yolov5": ("etle_detector_v1", ("plain",)),
    "open-image-models": ("yolo-v9-t-640-license-plate-end2end", ("plain",)),
}
# The plainest recognizer (`etle eval --baseline`) keeps the detector as published.
BASELINE_DETECTOR = "hyperlpr3_y5fu_640x_sim"
# Detector files shipped inside the package; a file of the same name in ETLE_MODELS_DIR wins.
PACKAGED_MODELS = Path(__file__).parent / "models"


def load_recognizer(settings: IngestSettings) -> Recognizer:
    kind = settings.detector or ("yolov5" if settings.models_dir else "open-image-models")
    model, views = DETECTOR_DEFAULTS[kind]
    if settings.detector_views:
        views = tuple(settings.detector_views.split(","))
    return _load(
        settings.models_dir,
        settings.ocr_model,
        kind,
        settings.detector_model or model,
        views,
        settings.detector_tiles,
    )


@lru_cache(maxsize=4)
def _load(
    models_dir: Path | None,
    ocr_model: str,
    kind: str,
    detector_model: str,
    views: tuple[str, ...],
    tiles: int,
) -> Recognizer:
    single_threaded_opencv()
    detector = MultiPassDetector(
        _box_model(models_dir, kind, detector_model), views=views, tiles=tiles
    )
    return Recognizer(detector, _reader(models_dir, ocr_model))


def load_baseline(settings: IngestSettings) -> BaselineRecognizer:
    """The plainest recognizer (baseline.py), on the offline detector's file."""
    model = settings.detector_model or BASELINE_DETECTOR
    box_model = _box_model(settings.models_dir, "yolov5", model)
    assert isinstance(box_model, YoloV5BoxModel)
    # As a plain user runs it: the detector's usual threshold, one plain resize.
    box_model.score_threshold = 0.25
    box_model.fast_shrink = False
    return BaselineRecognizer(box_model, _reader(settings.models_dir, settings.ocr_model))


def _reader(models_dir: Path | None, ocr_model: str) -> PlateReader:
    options = session_options()
    files = _ocr_files(models_dir, ocr_model)
    if files is not None:
        return _local_reader(*files, options)
    assert ocr_model in AVAILABLE_ONNX_MODELS  # _ocr_files refused any other name
    # Downloads once into ~/.cache/fast-plate-ocr on a machine with internet.
    recognizer = LicensePlateRecognizer(ocr_model, device="cpu", sess_options=options)
    return PlateReader(recognizer)


def _ocr_files(models_dir: Path | None, ocr_model: str) -> tuple[Path, Path] | None:
    """The OCR model's ONNX file and plate config on disk; None when the hub provides them."""
    if ocr_model.endswith(".onnx"):
        # A model of one's own (issue 10 trains Indonesian ones): the ONNX file, and beside it
        # its fast-plate-ocr plate config named like the hub's (`<name>_plate_config.yaml`).
        model_path = Path(ocr_model)
        if not model_path.is_absolute() and models_dir is not None:
            model_path = models_dir / model_path
        return model_path, model_path.with_name(f"{model_path.stem}_plate_config.yaml")
    if ocr_model not in AVAILABLE_ONNX_MODELS:
        raise ConfigError(
            f"unknown OCR model {ocr_model!r}; "
            f"fast-plate-ocr offers {sorted(AVAILABLE_ONNX_MODELS)}, or give an .onnx file"
        )
    if models_dir is None:
        return None
    # The folder holds the hub's files under the hub's own names.
    model_url, config_url = AVAILABLE_ONNX_MODELS[ocr_model]
    return (
        models_dir / PurePosixPath(urlparse(model_url).path).name,
        models_dir / PurePosixPath(urlparse(config_url).path).name,
    )


def _local_reader(model_path: Path, config_path: Path, options: ort.SessionOptions) -> PlateReader:
    """A reader from model files on disk, refusing with both names when either is missing."""
    missing = [p for p in (model_path, config_path) if not p.is_file()]
    if missing:
        raise ConfigError(f"OCR model files not found: {', '.join(map(str, missing))}")
    recognizer = LicensePlateRecognizer(
        onnx_model_path=model_path,
        plate_config_path=config_path,
        device="cpu",
        sess_options=options,
    )
    return PlateReader(recognizer)


def _box_model(models_dir: Path | None, kind: str, model: str) -> BoxModel:
    if kind == "open-image-models":
        from camera_ingest.recognition.hub_detector import HubBoxModel

        return HubBoxModel(model)
    path = detector_path(models_dir, model)
    if path is None:
        if models_dir is None:
            raise ConfigError(
                "the yolov5 plate detector needs ETLE_MODELS_DIR (a folder with "
                f"{model}.onnx); or set ETLE_DETECTOR=open-image-models (see docs/recognition.md)"
            )
        raise ConfigError(f"plate detector not found: {models_dir / f'{model}.onnx'}")
    return YoloV5BoxModel(path)


def detector_path(models_dir: Path | None, model: str) -> Path | None:
    """The detector's file: ETLE_MODELS_DIR first (an operator's own), else the package's."""
    for folder in (models_dir, PACKAGED_MODELS):
        if folder is not None and (folder / f"{model}.onnx").is_file():
            return folder / f"{model}.onnx"
    return None


def missing_model_files(settings: IngestSettings) -> list[str]:
    """The model files a worker would fail to load, without loading them (`/readyz`).

    Only files in ETLE_MODELS_DIR are checked; models from the libraries' hubs are fetched by
    the worker on first use and cannot be checked here.
    """
    kind = settings.detector or ("yolov5" if settings.models_dir else "open-image-models")
    if settings.models_dir is None:
        return [] if kind == "open-image-models" else ["ETLE_MODELS_DIR (yolov5 detector)"]
    paths: list[Path] = []
    if kind == "yolov5":
        model = settings.detector_model or DETECTOR_DEFAULTS[kind][0]
        paths.append(
            detector_path(settings.models_dir, model) or settings.models_dir / f"{model}.onnx"
        )
    try:
        paths += list(_ocr_files(settings.models_dir, settings.ocr_model) or ())
    except ConfigError as exc:
        return [exc.message]
    return [path.name for path in paths if not path.is_file()]
