"""The owner's photo for "not my vehicle": checked exactly like a camera frame
(`camera_ingest.images.check_image`: size limit, JPEG or PNG only, fully decodable, pixel count
read from the header first so a decompression bomb is refused unexpanded) before it is stored."""

from __future__ import annotations

from fastapi import UploadFile

from api.settings import AppSettings
from camera_ingest.images import check_image
from etle.errors import PayloadTooLarge


def read_photo(upload: UploadFile, settings: AppSettings) -> tuple[bytes, str]:
    """The photo's bytes and content type; a refusal (413, 415, 422) says why."""
    limit = settings.max_upload_bytes
    data = upload.file.read(limit + 1)  # never more than one byte past the limit in memory
    if len(data) > limit:
        raise PayloadTooLarge(f"the photo is larger than {limit} bytes")
    checked = check_image(data, max_bytes=limit, max_pixels=settings.max_image_pixels)
    return data, checked.content_type
