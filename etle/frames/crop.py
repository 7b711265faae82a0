"""The zoomed plate crop an officer reads beside the full frame.

Cut from the stored evidence (whose hash the store has just re-checked) with a margin around
the detected box, enlarged so the characters are easy to read. The evidence file itself is
never altered; the crop is made on request and not stored.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

from etle.errors import EvidenceTampered

CROP_WIDTH = 640  # pixels: readable at a glance on an officer's screen


def plate_crop(
    image: bytes, box: list[int], *, margin: float = 0.3, width: int = CROP_WIDTH
) -> bytes:
    """PNG of the plate box (x1, y1, x2, y2) with a margin, scaled to `width` pixels wide."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image)) as frame:
                frame.load()
                x1, y1, x2, y2 = (int(v) for v in box[:4])
                w, h = max(x2 - x1, 1), max(y2 - y1, 1)
                left = max(0, int(x1 - w * margin))
                top = max(0, int(y1 - h * margin * 2))
                right = min(frame.width, int(x2 + w * margin))
                bottom = min(frame.height, int(y2 + h * margin * 2))
                if right <= left or bottom <= top:
                    left, top, right, bottom = 0, 0, frame.width, frame.height
                crop = frame.convert("RGB").crop((left, top, right, bottom))
    except (OSError, ValueError, Image.DecompressionBombWarning) as exc:
        raise EvidenceTampered(f"stored evidence cannot be decoded: {exc}") from exc
    scale = width / crop.width
    crop = crop.resize((width, max(1, round(crop.height * scale))), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # Fast deflate: level 1 is ~8x quicker than the default for ~20% more bytes, on a LAN.
    crop.save(out, format="PNG", compress_level=1)
    return out.getvalue()
