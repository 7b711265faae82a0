"""The offline plate detector: HyperLPR3's YOLOv5 `y5fu` ONNX models, our own pre/post-processing.

* letterbox to the square input keeping the aspect ratio (pad 0), RGB, 0..1, NCHW; the view
  (`views.py`) is applied to the resized pixels only, so the padding stays black;
* output rows are (cx, cy, w, h, objectness, 8 corner values, 2 class scores); score is
  objectness x best class score, then the letterbox is undone (`MultiPassDetector` merges the
  views with non-maximum suppression);
* the score threshold is the model's own when its file carries one (metadata
  `etle_score_threshold`, chosen on the development photos by its training run,
  training/detector), else 0.15: scores of a fine-tuned model are not the original's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from camera_ingest.recognition.detector import Detection, non_max_suppression
from camera_ingest.recognition.framing import Image
from camera_ingest.recognition.runtime import onnx_session
from camera_ingest.recognition.views import VIEWS

DEFAULT_SCORE_THRESHOLD = 0.15
SCORE_THRESHOLD_KEY = "etle_score_threshold"


class YoloV5BoxModel:
    def __init__(
        self,
        model_path: Path,
        *,
        score_threshold: float | None = None,
        nms_iou: float = 0.45,
        fast_shrink: bool = True,
    ) -> None:
        self.name = model_path.stem
        self._session = onnx_session(model_path)
        model_input = self._session.get_inputs()[0]
        self._input_name = model_input.name
        self.input_size = int(model_input.shape[2])
        own = self._session.get_modelmeta().custom_metadata_map.get(SCORE_THRESHOLD_KEY)
        self.score_threshold = score_threshold or float(own or DEFAULT_SCORE_THRESHOLD)
        self.nms_iou = nms_iou
        self.fast_shrink = fast_shrink

    def boxes(
        self, image: Image, views: Sequence[str], *, min_score: float | None = None
    ) -> list[Detection]:
        resized, scale, pad = fit(image, self.input_size, fast_shrink=self.fast_shrink)
        threshold = self.score_threshold if min_score is None else min_score
        found: list[Detection] = []
        for view in views:
            tensor = to_tensor(VIEWS[view](resized), self.input_size, pad)
            found += self._run(tensor, scale, pad, threshold)
        return non_max_suppression(found, self.nms_iou)

    def _run(
        self, tensor: npt.NDArray[np.float32], scale: float, pad: tuple[int, int], threshold: float
    ) -> list[Detection]:
        rows = self._session.run(None, {self._input_name: tensor})[0][0]
        scores = rows[:, 4] * rows[:, 13:15].max(axis=1)
        rows, scores = rows[scores >= threshold], scores[scores >= threshold]
        # Hundreds of anchors fire around one plate: suppress in numpy before making objects.
        centre, size = rows[:, 0:2], rows[:, 2:4]
        corners = np.hstack([centre - size / 2, centre + size / 2])
        keep = nms_indices(corners, scores, self.nms_iou)
        offset = np.array([pad[0], pad[1], pad[0], pad[1]], dtype=np.float32)
        boxes = ((corners[keep] - offset) / scale).tolist()
        double = (rows[keep, 14] > rows[keep, 13]).tolist()
        return [
            Detection((b[0], b[1], b[2], b[3]), float(s), double_row=bool(d))
            for b, s, d in zip(boxes, scores[keep].tolist(), double, strict=True)
        ]


def nms_indices(
    boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32], threshold: float
) -> list[int]:
    """Greedy non-maximum suppression over (x1, y1, x2, y2) rows; indices kept, best first."""
    order = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order.size:
        best, rest = int(order[0]), order[1:]
        keep.append(best)
        ix = np.clip(
            np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0]),
            0,
            None,
        )
        iy = np.clip(
            np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1]),
            0,
            None,
        )
        inter = ix * iy
        union = areas[best] + areas[rest] - inter
        overlap = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
        order = rest[overlap < threshold]
    return keep


def fit(
    image: Image, size: int, *, fast_shrink: bool = True
) -> tuple[Image, float, tuple[int, int]]:
    """Resize keeping the aspect ratio to fit a size x size square; the padding to centre it."""
    height, width = image.shape[:2]
    scale = min(size / width, size / height)
    new_w, new_h = round(width * scale), round(height * scale)
    # Area averaging is the right filter for shrinking, but slow at odd ratios; halving is its
    # fast path, so halve while the image is twice the target or more.
    while fast_shrink and image.shape[1] >= 2 * new_w and image.shape[0] >= 2 * new_h:
        half = (image.shape[1] // 2, image.shape[0] // 2)
        image = cast(Image, cv2.resize(image, half, interpolation=cv2.INTER_AREA))
    interpolation = cv2.INTER_AREA if new_w < image.shape[1] else cv2.INTER_LINEAR
    resized = cast(Image, cv2.resize(image, (new_w, new_h), interpolation=interpolation))
    return resized, scale, ((size - new_w) // 2, (size - new_h) // 2)


def to_tensor(resized: Image, size: int, pad: tuple[int, int]) -> npt.NDArray[np.float32]:
    """Place on a black size x size canvas; NCHW RGB scaled to 0..1."""
    canvas = np.zeros((size, size, 3), dtype=np.uint8)
    height, width = resized.shape[:2]
    canvas[pad[1] : pad[1] + height, pad[0] : pad[0] + width] = resized
    # One C++ pass for BGR->RGB, scaling and HWC->NCHW.
    blob = cv2.dnn.blobFromImage(canvas, 1.0 / 255.0, swapRB=True)
    return cast(npt.NDArray[np.float32], blob)


def letterbox(image: Image, size: int) -> tuple[npt.NDArray[np.float32], float, tuple[int, int]]:
    resized, scale, pad = fit(image, size)
    return to_tensor(resized, size, pad), scale, pad
