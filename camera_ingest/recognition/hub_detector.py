"""The open-image-models plate detector (YOLOv9, trained on plates from many countries).

For machines with internet: `open_image_models.create_detector` downloads the named model once
into ~/.cache/open-image-models. It also loads a local ONNX file of the same family, so a model
exported by issue 10's training can be pointed at by path. The package depends on
`opencv-python-headless` (the same OpenCV build as ours, never `opencv-python`), numpy, rich and
tqdm, so it is an ordinary dependency.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from camera_ingest.recognition.detector import Detection, non_max_suppression
from camera_ingest.recognition.framing import Image
from camera_ingest.recognition.runtime import session_options
from camera_ingest.recognition.views import VIEWS
from etle.errors import ConfigError


class HubBoxModel:
    def __init__(self, model: str, *, score_threshold: float = 0.25, nms_iou: float = 0.45) -> None:
        try:
            from open_image_models import create_detector
            from open_image_models.detection.core.hub import DETECTION_MODELS
        except ImportError as exc:  # pragma: no cover - it is a declared dependency
            raise ConfigError(f"open-image-models is not installed: {exc}") from exc
        local = Path(model)
        options: dict[str, Any] = {
            "conf_thresh": score_threshold,
            "providers": ["CPUExecutionProvider"],
            "sess_options": session_options(),
        }
        if model in DETECTION_MODELS:
            if "license-plate" not in model:
                raise ConfigError(f"{model!r} is not a plate detector of open-image-models")
        elif local.suffix == ".onnx" and local.is_file():
            options.update(backend="yolo_v9", class_labels=("License Plate",))
        else:
            plates = sorted(m for m in DETECTION_MODELS if "license-plate" in m)
            raise ConfigError(
                f"unknown open-image-models detector {model!r}: name one of {plates} "
                "or give the path of a local .onnx file"
            )
        try:
            self._detector = create_detector(model, **options)
        except OSError as exc:  # the download failed: no internet, proxy, disk
            raise ConfigError(f"could not load open-image-models {model!r}: {exc}") from exc
        self.name = local.stem if local.suffix == ".onnx" else model
        self.nms_iou = nms_iou

    def boxes(
        self, image: Image, views: Sequence[str], *, min_score: float | None = None
    ) -> list[Detection]:
        # The hub detector's threshold is fixed when it is created: `min_score` cannot lower
        # it, so no low-score boxes come from this model.
        found: list[Detection] = []
        for view in views:
            found += detections_from_hub(self._detector.predict(VIEWS[view](image)))
        return non_max_suppression(found, self.nms_iou)


def detections_from_hub(results: Sequence[Any]) -> list[Detection]:
    """open-image-models `DetectionResult`s (integer corner boxes) as our detections."""
    out = []
    for result in results:
        box = result.bounding_box
        out.append(
            Detection(
                (float(box.x1), float(box.y1), float(box.x2), float(box.y2)),
                float(result.confidence),
            )
        )
    return out
