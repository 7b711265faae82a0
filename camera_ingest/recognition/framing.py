"""Decoding a frame once, at the size recognition needs.

Decoding a 12-megapixel JPEG at full size costs more than the detector and the reader together.
libjpeg-turbo (inside OpenCV) can decode at 1/2, 1/4 or 1/8 size by scaling in the DCT, which
skips most of the inverse transform, upsampling and colour conversion. Its Huffman decoding of
the whole file is a fixed cost no decoder avoids (camera JPEGs carry no restart markers, so
there is no random access to a region), which is why a second, cropped full-size decode of the
plate regions would cost nearly as much again as the first one (docs/recognition.md).

So one reduced decode serves both the detector and the reader: measured on the development
photos, plate crops from a half-size decode read as well as crops from the full-size image
(docs/recognition.md). Only a plate too small in the working image to feed the reader
(`min_plate_width`) makes the frame decode at full size, once, for those crops.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from etle.errors import ValidationFailed

Image = npt.NDArray[np.uint8]
Box = tuple[float, float, float, float]  # x1, y1, x2, y2

_REDUCED = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4}


@dataclass
class Frame:
    """A decoded frame: `image` is the working image, `scale` original pixels per its pixel."""

    width: int
    height: int
    image: Image
    scale: float
    _data: bytes | None = field(default=None, repr=False)
    _full: Image | None = field(default=None, repr=False)

    def to_original(self, box: Box) -> Box:
        s = self.scale
        return (box[0] * s, box[1] * s, box[2] * s, box[3] * s)

    def to_working(self, box: Box) -> Box:
        s = self.scale
        return (box[0] / s, box[1] / s, box[2] / s, box[3] / s)

    def full_image(self) -> Image:
        """The frame at full size, decoded on first use (only for plates too small to read)."""
        if self.scale == 1.0 or self._data is None:
            return self.image
        if self._full is None:
            self._full = _imdecode(self._data, cv2.IMREAD_COLOR)
        return self._full


def decode_frame(data: bytes, *, working_side: int = 1500) -> Frame:
    """Decode at the largest DCT reduction that keeps the long side >= `working_side`."""
    width, height = image_size(data)
    factor = 1
    for candidate in (4, 2):
        if max(width, height) // candidate >= working_side:
            factor = candidate
            break
    image = _imdecode(data, _REDUCED.get(factor, cv2.IMREAD_COLOR))
    # libjpeg rounds reduced sizes up; PNG ignores the reduction flag, so measure the result.
    scale = width / image.shape[1]
    return Frame(width=width, height=height, image=image, scale=scale, _data=data)


def frame_from_image(image: Image) -> Frame:
    height, width = image.shape[:2]
    return Frame(width=width, height=height, image=image, scale=1.0)


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height from the header alone (no pixel is decoded)."""
    try:
        with PILImage.open(io.BytesIO(data)) as header:
            return header.size
    except UnidentifiedImageError as exc:
        # Pillow's own message names an in-memory buffer, which tells an operator nothing.
        raise ValidationFailed(f"not a decodable image: {what_it_is(data)}") from exc
    except (OSError, ValueError) as exc:
        raise ValidationFailed(f"not a decodable image: {exc}") from exc


def what_it_is(data: bytes) -> str:
    """What bytes that are no readable frame look like, in a few words."""
    if not data:
        return "the file is empty"
    if data.startswith(b"\xff\xd8"):
        return "a damaged or truncated JPEG"
    if data.startswith(b"\x89PNG"):
        return "a damaged or truncated PNG"
    return f"neither JPEG nor PNG ({len(data)} bytes starting {data[:12]!r})"


def _imdecode(data: bytes, flags: int) -> Image:
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if decoded is None:
        raise ValidationFailed("not a decodable image")
    return cast(Image, decoded)
