"""Load the models once per process: from the package, a models folder, or the libraries' hubs.

The detector and the reader ship inside the package (`models/`, with their licences and a
NOTICE; cards in docs/models.md), so a clone reads plates on any machine, offline.
`ETLE_MODELS_DIR` names a folder searched first: a file there replaces the packaged file of
the same name, and files it lacks still come from the package. Which file is used when the
settings name none is decided here, by the constants below, and nowhere else.
"""

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

# The folder of model files installed with the package.
PACKAGED_MODELS = Path(__file__).resolve().parent / "models"

# The defaults, in one place. A model added to the package (an Indonesian detector or reader)
# becomes the default by changing these names, and its card is added to docs/models.md.
DEFAULT_DETECTOR = "yolov5"  # ETLE_DETECTOR unset
# ETLE_OCR_MODEL unset: a hub name, or an .onnx file. `etle_reader_v1` is our fine-tune of
# fast-plate-ocr's global reader on Indonesian plates (issue 15, docs/models.md).
DEFAULT_OCR_MODEL = "etle_reader_v1.onnx"
# Per detector family: the model used when ETLE_DETECTOR_MODEL is unset, and the views it runs
# on (the best measured on the development photos, docs/recognition.md). `etle_detector_v1` is
# our fine-tune of HyperLPR3's detector on Indonesian plates (issue 14, docs/models.md): one
# plain pass finds more plates than the original's two views.
DETECTOR_DEFAULTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "yolov5": ("etle_detector_v1", ("plain",)),
    "open-image-models": ("yolo-v9-t-640-license-plate-end2end", ("plain",)),
}
# The plainest recognizer (`etle eval --baseline`) keeps the models as published.
BASELINE_DETECTOR = "hyperlpr3_y5fu_640x_sim"
BASELINE_OCR_MODEL = "cct-xs-v1-global-model"


def model_folders(settings: IngestSettings) -> tuple[Path, ...]:
    """Where model files are looked for, in order: ETLE_MODELS_DIR, then the package."""
    if settings.models_dir is None:
        return (PACKAGED_MODELS,)
    if not settings.models_dir.exists():
        raise ConfigError(f"ETLE_MODELS_DIR {settings.models_dir} not found (no such folder)")
    if not settings.models_dir.is_dir():
        raise ConfigError(f"ETLE_MODELS_DIR {settings.models_dir} is not a folder")
    return (settings.models_dir, PACKAGED_MODELS)


def detector_kind(settings: IngestSettings) -> str:
    return settings.detector or DEFAULT_DETECTOR


def ocr_model_name(settings: IngestSettings) -> str:
    return settings.ocr_model or DEFAULT_OCR_MODEL


def _find(folders: tuple[Path, ...], name: str) -> Path | None:
    return next((folder / name for folder in folders if (folder / name).is_file()), None)


def _searched(folders: tuple[Path, ...]) -> str:
    return " or ".join(str(f) for f in folders)


def load_recognizer(settings: IngestSettings) -> Recognizer:
    kind = detector_kind(settings)
    model, views = DETECTOR_DEFAULTS[kind]
    if settings.detector_views:
        views = tuple(settings.detector_views.split(","))
    return _load(
        model_folders(settings),
        ocr_model_name(settings),
        kind,
        settings.detector_model or model,
        views,
        settings.detector_tiles,
    )


@lru_cache(maxsize=4)
def _load(
    folders: tuple[Path, ...],
    ocr_model: str,
    kind: str,
    detector_model: str,
    views: tuple[str, ...],
    tiles: int,
) -> Recognizer:
    single_threaded_opencv()
    detector = MultiPassDetector(
        _box_model(folders, kind, detector_model), views=views, tiles=tiles
    )
    return Recognizer(detector, _reader(folders, ocr_model))


def load_baseline(settings: IngestSettings) -> BaselineRecognizer:
    """The plainest recognizer (baseline.py), on the offline detector's file."""
    folders = model_folders(settings)
    box_model = _box_model(folders, "yolov5", settings.detector_model or BASELINE_DETECTOR)
    assert isinstance(box_model, YoloV5BoxModel)
    # As a plain user runs it: the detector's usual threshold, one plain resize.
    box_model.score_threshold = 0.25
    box_model.fast_shrink = False
    return BaselineRecognizer(box_model, _reader(folders, settings.ocr_model or BASELINE_OCR_MODEL))


def _reader(folders: tuple[Path, ...], ocr_model: str) -> PlateReader:
    options = session_options()
    files = _ocr_files(folders, ocr_model)
    if files is not None:
        return _local_reader(*files, options)
    # A hub model whose files are in no folder: fast-plate-ocr downloads it once into
    # ~/.cache/fast-plate-ocr (needs internet).
    assert ocr_model in AVAILABLE_ONNX_MODELS  # _ocr_files refused any other name
    recognizer = LicensePlateRecognizer(ocr_model, device="cpu", sess_options=options)
    return PlateReader(recognizer)


def _ocr_files(folders: tuple[Path, ...], ocr_model: str) -> tuple[Path, Path] | None:
    """The OCR model's ONNX file and plate config on disk; None when the hub provides them."""
    if ocr_model.endswith(".onnx"):
        # A model of one's own (issue 10 trains Indonesian ones): the ONNX file, and beside it
        # its fast-plate-ocr plate config named like the hub's (`<name>_plate_config.yaml`).
        # A path was made absolute when the settings were read; a bare name is in a folder.
        model_path = Path(ocr_model)
        if not model_path.is_absolute():
            model_path = _find(folders, ocr_model) or folders[0] / ocr_model
        return model_path, model_path.with_name(f"{model_path.stem}_plate_config.yaml")
    if ocr_model not in AVAILABLE_ONNX_MODELS:
        raise ConfigError(
            f"unknown OCR model {ocr_model!r}; "
            f"fast-plate-ocr offers {sorted(AVAILABLE_ONNX_MODELS)}, or give an .onnx file"
        )
    # A folder holds the hub's files under the hub's own names.
    names = [PurePosixPath(urlparse(url).path).name for url in AVAILABLE_ONNX_MODELS[ocr_model]]
    found = [_find(folders, name) for name in names]
    if found[0] is None or found[1] is None:
        return None
    return found[0], found[1]


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


def _box_model(folders: tuple[Path, ...], kind: str, model: str) -> BoxModel:
    if kind == "open-image-models":
        from camera_ingest.recognition.hub_detector import HubBoxModel

        return HubBoxModel(model)
    path = _find(folders, f"{model}.onnx")
    if path is None:
        raise ConfigError(f"plate detector {model}.onnx not found in {_searched(folders)}")
    return YoloV5BoxModel(path)


def missing_model_files(settings: IngestSettings) -> list[str]:
    """The model files a worker would fail to load, without loading them (`/readyz`).

    Models the libraries fetch from their hubs on first use (a hub name whose files are in no
    folder) cannot be checked here.
    """
    try:
        folders = model_folders(settings)
        kind = detector_kind(settings)
        missing = []
        if kind == "yolov5":
            model = settings.detector_model or DETECTOR_DEFAULTS[kind][0]
            if _find(folders, f"{model}.onnx") is None:
                missing.append(f"{model}.onnx")
        ocr = _ocr_files(folders, ocr_model_name(settings)) or ()
    except ConfigError as exc:
        return [exc.message]
    return missing + [path.name for path in ocr if not path.is_file()]
