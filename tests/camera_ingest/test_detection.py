"""Detector merging, tiling, views and the hub adapter, without model files.

`BrightBoxes` is a stand-in box model that really looks at the pixels it is given (it boxes
each bright rectangle), so the tests check that views, tiles and offsets reach it correctly.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest
from open_image_models.detection.core.base import DetectionResult

from camera_ingest.config import IngestSettings
from camera_ingest.recognition.detector import (
    Detection,
    MultiPassDetector,
    drop_plate_parts,
    iou,
    tile_grid,
)
from camera_ingest.recognition.framing import Image
from camera_ingest.recognition.hub_detector import HubBoxModel, detections_from_hub
from camera_ingest.recognition.views import VIEWS
from camera_ingest.recognition.yolov5 import fit, nms_indices
from etle.errors import ConfigError


class BrightBoxes:
    name = "bright-boxes"

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[int, ...], str]] = []

    def boxes(
        self, image: Image, views: Sequence[str], *, min_score: float | None = None
    ) -> list[Detection]:
        found = []
        for view in views:
            self.calls.append((image.shape, view))
            grey = cv2.cvtColor(VIEWS[view](image), cv2.COLOR_BGR2GRAY)
            count, _, stats, _ = cv2.connectedComponentsWithStats((grey > 200).astype(np.uint8))
            for x, y, w, h, area in stats[1:count]:
                if area > 20:
                    found.append(Detection((float(x), float(y), float(x + w), float(y + h)), 0.9))
        return found


def scene(*plates: tuple[int, int, int, int], dark: bool = False) -> Image:
    image = np.full((600, 800, 3), 128, dtype=np.uint8)
    for x1, y1, x2, y2 in plates:
        image[y1:y2, x1:x2] = 20 if dark else 230
    return image


def test_boxes_from_every_view_and_tile_are_merged_in_frame_pixels() -> None:
    model = BrightBoxes()
    detector = MultiPassDetector(model, views=("plain", "inverted"), tiles=2)
    found = detector.detect(scene((500, 400, 620, 440)))
    assert [d.box for d in found] == [(500.0, 400.0, 620.0, 440.0)]
    # The frame and 4 tiles, each in both views.
    assert len(model.calls) == 10
    assert {view for _, view in model.calls} == {"plain", "inverted"}


def test_half_a_plate_at_a_tiles_inner_border_is_not_a_plate() -> None:
    # The plate straddles the first tile's right border (x = 457); the neighbouring tile and
    # the full-frame pass see all of it.
    found = MultiPassDetector(BrightBoxes(), views=("plain",), tiles=2).detect(
        scene((420, 100, 540, 140))
    )
    assert [d.box for d in found] == [(420.0, 100.0, 540.0, 140.0)]


def test_the_inverted_view_finds_dark_plates_the_plain_one_misses() -> None:
    dark = scene((100, 100, 220, 140), dark=True)
    assert MultiPassDetector(BrightBoxes(), views=("plain",)).detect(dark) == []
    found = MultiPassDetector(BrightBoxes(), views=("inverted",)).detect(dark)
    assert [iou(d.box, (100, 100, 220, 140)) for d in found] == [1.0]


def test_unknown_views_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown detector views"):
        MultiPassDetector(BrightBoxes(), views=("sepia",))


def test_tiles_overlap_and_cover_the_frame() -> None:
    tiles = tile_grid(4000, 3000, 3)
    assert len(tiles) == 9
    assert min(t[0] for t in tiles) == 0
    assert max(t[2] for t in tiles) == 4000
    assert min(t[1] for t in tiles) == 0
    assert max(t[3] for t in tiles) == 3000
    assert tiles[1][0] < tiles[0][2]  # neighbours overlap, so no plate is cut in every tile
    assert tile_grid(4000, 3000, 0) == []


def test_a_date_line_boxed_under_its_plate_is_dropped() -> None:
    plate = Detection((800, 690, 1120, 770), 0.5)
    date_line = Detection((920, 767, 1005, 795), 0.2)
    other_car = Detection((200, 700, 330, 740), 0.4)
    assert drop_plate_parts([plate, date_line, other_car]) == [plate, other_car]


def test_non_maximum_suppression_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 100, 30], [2, 1, 101, 31], [300, 0, 400, 30]], dtype=np.float32)
    scores = np.array([0.5, 0.9, 0.4], dtype=np.float32)
    assert nms_indices(boxes, scores, 0.45) == [1, 2]


def test_fitting_keeps_the_aspect_ratio_for_the_square_input() -> None:
    resized, scale, pad = fit(np.zeros((1500, 2000, 3), np.uint8), 640)
    assert resized.shape == (480, 640, 3)
    assert scale == pytest.approx(0.32)
    assert pad == (0, 80)


def test_hub_results_become_detections() -> None:
    results = [DetectionResult.from_detection_data((10, 20, 110, 50), 0.8, "License Plate")]
    assert detections_from_hub(results) == [Detection((10.0, 20.0, 110.0, 50.0), 0.8)]


@pytest.mark.parametrize("name", ["no-such-model", "rf-detr-nano-384-coco", "missing.onnx"])
def test_the_hub_detector_refuses_what_is_not_a_plate_model(name: str) -> None:
    with pytest.raises(ConfigError, match="open-image-models"):
        HubBoxModel(name)


@pytest.mark.parametrize(
    ("field", "value"),
    [("detector", "yolov9"), ("detector_views", "plain,sepia"), ("detector_tiles", 9)],
)
def test_bad_detector_settings_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        IngestSettings(**{field: value})  # type: ignore[arg-type]
