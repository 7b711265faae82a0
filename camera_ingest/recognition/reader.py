"""Plate reader: fast-plate-ocr's ONNX model, asked for its full per-slot probabilities.

`LicensePlateRecognizer.run` returns only the best string (and the best character's
probability); the grammar decoder needs every character's probability in every slot, so we
reuse the library's model loading and resizing and call its ONNX session ourselves, with all
plates of a frame in one batch.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
from fast_plate_ocr import LicensePlateRecognizer
from fast_plate_ocr.core.process import resize_image

Image = npt.NDArray[np.uint8]


class PlateReader:
    def __init__(self, recognizer: LicensePlateRecognizer) -> None:
        self.recognizer = recognizer
        self._config = recognizer.config
        self.name: str = recognizer.model_name
        self.alphabet: str = self._config.alphabet
        self.pad_char: str = self._config.pad_char

    def probabilities(self, crops_bgr: list[Image]) -> npt.NDArray[np.float32]:
        """(N, slots, alphabet) probabilities for N plate crops given in BGR."""
        config = self._config
        if not crops_bgr:
            return np.zeros((0, config.max_plate_slots, len(self.alphabet)), dtype=np.float32)
        code = cv2.COLOR_BGR2RGB if config.image_color_mode == "rgb" else cv2.COLOR_BGR2GRAY
        batch = np.stack(
            [
                resize_image(
                    cv2.cvtColor(crop, code),
                    config.img_height,
                    config.img_width,
                    image_color_mode=config.image_color_mode,
                    keep_aspect_ratio=config.keep_aspect_ratio,
                    interpolation_method=config.interpolation,
                    padding_color=config.padding_color,
                )
                for crop in crops_bgr
            ]
        ).astype(np.uint8)
        model = self.recognizer.model
        output = model.run([self.recognizer.plate_output_name], {"input": batch})[0]
        return np.asarray(output, dtype=np.float32)
