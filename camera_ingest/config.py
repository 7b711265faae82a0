"""Settings for intake, recognition and workers (prefix `ETLE_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator

from etle.config import Settings

DETECTORS = ("yolov5", "open-image-models")
DETECTOR_VIEWS = ("plain", "inverted", "yellow", "yellow-inverted")


class IngestSettings(Settings):
    # A folder of model files searched before the ones shipped in the package
    # (camera_ingest/recognition/models/): a file there replaces the packaged one of the same
    # name. Made absolute when read, so a relative path means the same from any directory.
    models_dir: Path | None = None
    # fast-plate-ocr hub name, or an .onnx file (a bare name in the models folders, or a path)
    # with its `<name>_plate_config.yaml` beside it. Unset: loading.DEFAULT_OCR_MODEL.
    ocr_model: str | None = None
    # Plate detector: "yolov5" (a HyperLPR3-style ONNX file in the models folders) or
    # "open-image-models" (its hub, or a local YOLOv9 .onnx). Unset: loading.DEFAULT_DETECTOR.
    detector: str | None = None
    # yolov5: file name without .onnx in the models folders; open-image-models: hub name or
    # .onnx path.
    detector_model: str | None = None
    # Comma-separated views of the frame the detector runs on (plain, inverted, yellow,
    # yellow-inverted); unset: the detector's measured default (docs/recognition.md).
    detector_views: str | None = None
    # n > 1: also run the detector on n x n overlapping tiles (finds smaller plates, n*n times
    # the detector cost).
    detector_tiles: int = 0
    max_upload_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000  # above any roadside camera (12 MP typical)
    # captured_at further than this from received_at: the camera clock is suspect.
    clock_skew_seconds: int = 300
    # A frame still queued this long after its job was sent is sent again (the job was lost to a
    # crash); the wait doubles with the frame's age, so a backlog is not re-sent over and over.
    requeue_after_seconds: int = 120
    # An active camera that sent nothing for this long is listed as unhealthy.
    camera_silent_minutes: int = 15

    @field_validator("models_dir", mode="before")
    @classmethod
    def _absolute_models_dir(cls, value: object) -> object:
        if value is None or value == "":
            return None
        return Path(str(value)).expanduser().resolve()

    @field_validator("ocr_model")
    @classmethod
    def _absolute_ocr_path(cls, value: str | None) -> str | None:
        # A path with a folder in it is read from the working directory, once, here; a bare
        # file name is looked for in the models folders.
        if value and value.endswith(".onnx") and Path(value).name != value:
            return str(Path(value).expanduser().resolve())
        return value or None

    @field_validator("detector")
    @classmethod
    def _known_detector(cls, value: str | None) -> str | None:
        if value is not None and value not in DETECTORS:
            raise ValueError(f"detector must be one of {', '.join(DETECTORS)}")
        return value

    @field_validator("detector_views")
    @classmethod
    def _known_views(cls, value: str | None) -> str | None:
        if value is None:
            return None
        views = [v.strip() for v in value.split(",") if v.strip()]
        unknown = [v for v in views if v not in DETECTOR_VIEWS]
        if unknown or not views:
            raise ValueError(f"detector views must be among {', '.join(DETECTOR_VIEWS)}")
        return ",".join(views)

    @field_validator("detector_tiles")
    @classmethod
    def _tiles(cls, value: int) -> int:
        if not 0 <= value <= 4:
            raise ValueError("detector_tiles must be 0 (off) or 2 to 4")
        return value
