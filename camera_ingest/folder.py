"""Folder drop: many ANPR cameras upload by FTP into a folder; take each file as it lands.

    DIR/frame.jpg (+ DIR/frame.json) ──intake──▶ DIR/processed/frame.jpg
                                              or DIR/rejected/frame.jpg + frame.jpg.reason.txt

* **Complete files only.** FTP writes a file in pieces, so a file is taken once it has not
  changed for `settle_seconds`; hidden and temporary names (`.x`, `*.part`, `*.tmp`, ...) are
  left alone until the uploader renames them.
* **Metadata.** `frame.json` beside the image holds the same JSON as the push API's `metadata`.
  Without it, the capture time comes from the image's EXIF (`DateTimeOriginal`, with
  `OffsetTimeOriginal` or else the camera's time zone). A frame without a capture time is
  rejected: it cannot be evidence.
* **Idempotent.** A file is moved only after its frame committed. If the process dies between the
  two, the file is still there next time and intake answers "duplicate": it is moved then. The
  same image dropped twice is one frame.
* **Never lose a frame.** A refusal (bad image, bad metadata, disabled camera) moves the file to
  `rejected/` with a reason file; a failure that may pass (database unreachable) leaves the file
  where it is, to be tried again.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import watchfiles
from PIL import ExifTags, Image
from sqlalchemy.exc import DBAPIError

from camera_ingest.intake import FrameMetadata, parse_metadata
from camera_ingest.sources import IntakeContext, active_camera, ingest_for_camera
from etle.clock import utcnow
from etle.db import session_scope
from etle.errors import EtleError, ValidationFailed

log = logging.getLogger(__name__)

TEMPORARY_SUFFIXES = frozenset({".part", ".tmp", ".temp", ".filepart", ".crdownload"})
PROCESSED, REJECTED = "processed", "rejected"


@dataclass(frozen=True, slots=True)
class FileOutcome:
    name: str
    outcome: str  # "stored", "duplicate", "rejected" or "retry"
    frame_id: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.name,
            "outcome": self.outcome,
            "frame_id": self.frame_id,
            "reason": self.reason,
        }


class FolderIngest:
    def __init__(
        self, ctx: IntakeContext, inbox: Path, *, camera_id: str, settle_seconds: float = 2.0
    ) -> None:
        self.ctx, self.inbox, self.camera_id = ctx, inbox, camera_id
        self.settle_seconds = settle_seconds
        self.processed, self.rejected = inbox / PROCESSED, inbox / REJECTED

    def ready_files(self) -> list[Path]:
        """Files in the inbox that look complete, oldest first."""
        now = time.time()
        ready = []
        for entry in os.scandir(self.inbox):
            path = Path(entry.path)
            if not entry.is_file() or _ignored(path) or path.suffix.lower() == ".json":
                continue
            if now - entry.stat().st_mtime < self.settle_seconds:
                continue
            sidecar = path.with_suffix(".json")
            if sidecar.exists() and now - sidecar.stat().st_mtime < self.settle_seconds:
                continue
            ready.append((entry.stat().st_mtime, path))
        return [path for _mtime, path in sorted(ready)]

    def scan(self) -> list[FileOutcome]:
        """Take every file that is ready now."""
        return [self.take(path) for path in self.ready_files()]

    def take(self, path: Path) -> FileOutcome:
        sidecar = path.with_suffix(".json")
        try:
            data = path.read_bytes()
            metadata = self._metadata(path, data, sidecar)
            result = ingest_for_camera(self.ctx, self.camera_id, data, metadata)
        except EtleError as exc:
            if exc.status_code >= 500:  # the store or the database: try again later
                log.warning("%s: %s; left in place to retry", path.name, exc.message)
                return FileOutcome(path.name, "retry", reason=exc.message)
            self._reject(path, sidecar, exc)
            return FileOutcome(path.name, "rejected", reason=exc.message)
        except (DBAPIError, OSError) as exc:
            log.warning("%s: %s; left in place to retry", path.name, type(exc).__name__)
            return FileOutcome(path.name, "retry", reason=type(exc).__name__)
        self._move(path, self.processed)
        if sidecar.exists():
            self._move(sidecar, self.processed)
        return FileOutcome(
            path.name, "duplicate" if result.duplicate else "stored", frame_id=result.frame_id
        )

    def watch(
        self, *, stop: threading.Event | None = None, on_file: Callable[[FileOutcome], None]
    ) -> None:
        """Take files as they land until `stop` is set (or Ctrl-C)."""
        for outcome in self.scan():
            on_file(outcome)
        # The timeout wakes the loop without events too, so a file is taken once it settles.
        for _changes in watchfiles.watch(
            self.inbox,
            recursive=False,
            stop_event=stop,
            yield_on_timeout=True,
            rust_timeout=max(200, int(self.settle_seconds * 500)),
        ):
            for outcome in self.scan():
                on_file(outcome)

    def _metadata(self, path: Path, data: bytes, sidecar: Path) -> FrameMetadata:
        if sidecar.exists():
            return parse_metadata(sidecar.read_bytes())
        with session_scope(self.ctx.sessions) as session:
            zone = active_camera(session, self.camera_id).timezone
        captured_at = exif_capture_time(data, zone)
        if captured_at is None:
            raise ValidationFailed(
                f"no capture time: put {sidecar.name} beside the image (the push API's "
                "metadata JSON) or send images with EXIF DateTimeOriginal"
            )
        return FrameMetadata(captured_at=captured_at)

    def _reject(self, path: Path, sidecar: Path, error: EtleError) -> None:
        moved = self._move(path, self.rejected)
        if sidecar.exists():
            self._move(sidecar, self.rejected)
        lines = [
            f"file: {path.name}",
            f"camera: {self.camera_id}",
            f"rejected_at: {utcnow().isoformat()}",
            f"error: {error.error}",
            f"reason: {error.message}",
        ]
        if error.detail is not None:
            lines.append(f"detail: {json.dumps(error.detail, ensure_ascii=False, default=str)}")
        moved.with_name(moved.name + ".reason.txt").write_text("\n".join(lines) + "\n")

    def _move(self, path: Path, folder: Path) -> Path:
        folder.mkdir(exist_ok=True)
        target = next(p for p in _free_names(folder, path.name) if not p.exists())
        os.replace(path, target)  # same filesystem: atomic
        return target


def exif_capture_time(data: bytes, zone: str) -> datetime | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
    except (OSError, SyntaxError, ValueError):
        return None
    details = exif.get_ifd(ExifTags.IFD.Exif)
    stamp = details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if not isinstance(stamp, str):
        return None
    try:
        value = datetime.strptime(stamp.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = details.get(ExifTags.Base.OffsetTimeOriginal)
    if isinstance(offset, str):
        try:
            return datetime.fromisoformat(value.isoformat() + offset.strip("\x00 "))
        except ValueError:
            pass
    return value.replace(tzinfo=ZoneInfo(zone))


def _ignored(path: Path) -> bool:
    """Names an uploader uses while a file is still being written."""
    return path.name.startswith((".", "~")) or path.suffix.lower() in TEMPORARY_SUFFIXES


def _free_names(folder: Path, name: str) -> Iterator[Path]:
    yield folder / name
    stem, suffix = os.path.splitext(name)
    n = 1
    while True:
        yield folder / f"{stem}-{n}{suffix}"
        n += 1
