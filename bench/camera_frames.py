"""Realistic camera frames for the benchmarks: 1080p road scenes of 200-500 KB, all different.

The eight sample frames are re-encoded with a little sensor noise at qualities that bring them to
roadside-camera sizes. `unique()` then makes every frame sent distinct (its own SHA-256) the way
cameras do, by a JPEG comment segment carrying a frame counter, which costs nothing to add.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

SAMPLES = Path(__file__).resolve().parent.parent / "sample_frames"
MIN_BYTES, MAX_BYTES = 200_000, 500_000


def base_frames(count: int = 32, seed: int = 0) -> list[bytes]:
    """`count` distinct JPEGs between 200 and 500 KB."""
    rng = np.random.default_rng(seed)
    sources = sorted(SAMPLES.glob("frame0*.jpg"))
    pixels = [np.asarray(Image.open(p).convert("RGB"), dtype=np.int16) for p in sources]
    frames = []
    for i in range(count):
        noisy = pixels[i % len(pixels)] + rng.integers(-3, 4, pixels[0].shape)
        image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
        for quality in (92, 88, 84, 80, 95):
            out = io.BytesIO()
            image.save(out, "JPEG", quality=quality)
            if MIN_BYTES <= out.tell() <= MAX_BYTES:
                break
        frames.append(out.getvalue())
    return frames


def unique(frame: bytes, counter: int) -> bytes:
    """The same picture with a COM segment naming the frame: new bytes, still a valid JPEG."""
    comment = f"ETLE bench frame {counter:012d}".encode()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return frame[:2] + segment + frame[2:]
