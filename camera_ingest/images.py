"""Checking an uploaded image before anything is stored, cheaply enough for the request path.

Only JPEG and PNG are evidence formats. The checks, in order:

* Pillow reads the header: the format, and the size, so a decompression bomb (a small file that
  would expand to gigabytes) or an absurd or tiny size is refused without decoding a pixel.
* The file's structure is walked to its end. JPEG: every marker segment up to the first scan,
  each scan's entropy-coded data up to the next marker, and the end-of-image marker (a truncated
  upload has none). PNG: Pillow's `verify()`, which reads every chunk to IEND and checks each
  chunk's CRC.

A full decode of a 1080p JPEG costs ~7 ms, the whole CPU budget of an intake request; the
walk above costs well under one. What it cannot see is damage inside the compressed data that
keeps the structure intact: the recognition worker decodes every frame fully and marks a frame
that does not decode as FAILED, with the reason, for an operator.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from etle.errors import PayloadTooLarge, UnsupportedMedia, ValidationFailed

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
MIN_SIDE = 64

# JPEG markers (ITU T.81, table B.1).
_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length field
# SOF0-15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
_START_OF_FRAME = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Inside entropy-coded data a 0xFF byte is followed by 0x00 (a stuffed byte), a restart marker
# or a fill byte; anything else is the marker that ends the scan.
_END_OF_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


@dataclass(frozen=True, slots=True)
class CheckedImage:
    content_type: str
    width: int
    height: int


def check_image(data: bytes, *, max_bytes: int, max_pixels: int) -> CheckedImage:
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"image is {len(data)} bytes; the limit is {max_bytes}")
    if not data:
        raise UnsupportedMedia("image is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=tuple(FORMATS)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ValidationFailed(
                        f"image is {width}x{height}; at most {max_pixels} pixels are accepted"
                    )
                if min(width, height) < MIN_SIDE:
                    raise ValidationFailed(f"image is {width}x{height}; too small to be evidence")
                content_type = FORMATS[str(image.format)]
                if image.format == "PNG":
                    image.verify()  # every chunk read and its CRC checked, nothing decoded
    except UnidentifiedImageError as exc:
        raise UnsupportedMedia("not a JPEG or PNG image") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationFailed(f"image refused as a decompression bomb: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if isinstance(exc, ValidationFailed):
            raise
        raise ValidationFailed(f"image is corrupt or truncated: {exc}") from exc
    if content_type == "image/jpeg":
        check_jpeg_structure(data)
    return CheckedImage(content_type, width, height)


def check_jpeg_structure(data: bytes) -> None:
    """Walk the JPEG from SOI to EOI; raise ValidationFailed naming the first fault."""
    size = len(data)
    if data[:2] != b"\xff\xd8":
        raise ValidationFailed("image is corrupt: no JPEG start-of-image marker")
    pos, frame_seen, scans = 2, False, 0
    while True:
        if pos >= size:
            raise ValidationFailed("image is truncated: it ends before the end-of-image marker")
        if data[pos] != 0xFF:
            raise ValidationFailed(f"image is corrupt: no JPEG marker at byte {pos}")
        while pos < size and data[pos] == 0xFF:  # fill bytes may precede a marker
            pos += 1
        if pos >= size:
            raise ValidationFailed("image is truncated: it ends inside a marker")
        marker = data[pos]
        pos += 1
        if marker == _EOI:
            if scans == 0:
                raise ValidationFailed("image is corrupt: it holds no image data")
            return  # bytes after EOI (some cameras append a trailer) are stored, never read
        if marker in _STANDALONE:
            continue
        if marker in (0x00, _SOI):
            raise ValidationFailed(f"image is corrupt: unexpected marker 0x{marker:02X}")
        if pos + 2 > size:
            raise ValidationFailed("image is truncated: it ends inside a segment header")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > size:
            raise ValidationFailed(
                "image is truncated or corrupt: a segment runs past the end of the file"
            )
        pos += length
        if marker in _START_OF_FRAME:
            frame_seen = True
        elif marker == _SOS:
            if not frame_seen:
                raise ValidationFailed("image is corrupt: scan data before the frame header")
            scans += 1
            end_of_scan = _END_OF_SCAN.search(data, pos)
            if end_of_scan is None:
                raise ValidationFailed(
                    "image is truncated: the image data has no end-of-image marker"
                )
            pos = end_of_scan.start()
