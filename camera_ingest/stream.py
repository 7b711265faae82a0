"""Stream pull: for cameras that only offer video (RTSP, HTTP MJPEG, a file), sample a frame every
N seconds with OpenCV and ingest it like any pushed frame (JPEG, quality 92).

A live stream is sampled by the wall clock and reopened, with a growing pause, when it drops; a
file (a recording, or a test) is sampled by its own timeline and read to its end. The capture
time is the moment the frame was read: such cameras send no time of their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from camera_ingest.intake import FrameMetadata
from camera_ingest.sources import IntakeContext, ingest_for_camera
from etle.clock import utcnow
from etle.errors import EtleError, ValidationFailed

log = logging.getLogger(__name__)

JPEG_QUALITY = 92
MAX_RECONNECT_PAUSE = 30.0
INGEST_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Sample:
    index: int  # 0, 1, 2, ... in the order taken
    position_seconds: float  # where in the stream (file) or since start (live)
    frame_id: int | None
    duplicate: bool = False
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "position_seconds": round(self.position_seconds, 3),
            "frame_id": self.frame_id,
            "duplicate": self.duplicate,
            "error": self.error,
        }


def is_file(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def sample_stream(
    ctx: IntakeContext,
    url: str,
    *,
    camera_id: str,
    every_seconds: float,
    violation: str | None = None,
    max_frames: int | None = None,
    stop: threading.Event | None = None,
    on_sample: Callable[[Sample], None] = lambda _s: None,
) -> int:
    """Sample `url` until it ends (a file), `max_frames` are taken or `stop` is set; return the
    number of frames ingested."""
    if every_seconds <= 0:
        raise ValidationFailed("--every must be more than 0 seconds")
    stop = stop or threading.Event()
    from_file = is_file(url)
    source = url.removeprefix("file://")
    if from_file and not Path(source).is_file():
        raise ValidationFailed(f"no such video file: {source}")
    capture = _open(source)
    if capture is None:
        raise ValidationFailed(f"cannot open the stream {url}")
    started, next_at, taken, pause = time.monotonic(), 0.0, 0, 1.0
    try:
        while not stop.is_set() and (max_frames is None or taken < max_frames):
            if not capture.grab():
                if from_file:
                    break
                log.warning("stream %s dropped; reopening in %.0f s", url, pause)
                capture.release()
                stop.wait(pause)
                pause = min(pause * 2, MAX_RECONNECT_PAUSE)
                capture = _open(source) or _Closed()
                continue
            pause = 1.0
            if from_file:
                position = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            else:
                position = time.monotonic() - started
            if position + 1e-6 < next_at:
                continue
            ok, frame = capture.retrieve()
            if not ok:
                continue
            # Stay on the grid (0, N, 2N, ...) unless the stream fell behind by more than a step.
            next_at = max(next_at + every_seconds, position)
            ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                continue
            sample = _ingest(ctx, camera_id, encoded.tobytes(), violation, taken, position, stop)
            on_sample(sample)
            if sample.frame_id is not None:
                taken += 1
    finally:
        capture.release()
    return taken


def _ingest(
    ctx: IntakeContext,
    camera_id: str,
    data: bytes,
    violation: str | None,
    index: int,
    position: float,
    stop: threading.Event,
) -> Sample:
    metadata = FrameMetadata(captured_at=utcnow(), violation=violation)
    for attempt in range(1, INGEST_ATTEMPTS + 1):
        try:
            result = ingest_for_camera(ctx, camera_id, data, metadata)
            return Sample(index, position, result.frame_id, result.duplicate)
        except EtleError as exc:
            if exc.status_code < 500:  # refused (disabled camera, bad violation): say so, go on
                return Sample(index, position, None, error=exc.message)
            error = exc.message
        except Exception as exc:  # database unreachable: keep the frame and try again
            error = type(exc).__name__
        log.warning("frame %s: %s (attempt %s of %s)", index, error, attempt, INGEST_ATTEMPTS)
        stop.wait(min(2.0**attempt, MAX_RECONNECT_PAUSE))
    return Sample(index, position, None, error=error)


class _Closed:
    """A stream that could not be reopened: every grab fails, so the loop waits and retries."""

    def grab(self) -> bool:
        return False

    def release(self) -> None:
        pass


def _open(source: str) -> Any:
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        capture.release()
        return None
    return capture
