"""The sent journal: this machine's note of every delivery a provider accepted, written the
instant the provider says yes and before the database is told.

Why: a delivery is sent outside any transaction and marked sent afterwards. A dispatcher killed
between the provider's "accepted" and that commit would, on restart, send the notice again.
Appending one line to a local file right after the provider answers shrinks that window to
microseconds; on restart the dispatcher finds the key here, marks the delivery sent without
calling the provider, and nothing goes out twice. (Gateways also get the idempotency key, so
for them this is a second guard; SMTP has no such key, so for email it is the guard.)

One file per UTC day; the current and the previous day are consulted (a crash is recovered
within minutes, the lease time), older files are removed.
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path

from etle.clock import utcnow

KEEP_DAYS = 7


class SentJournal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._known: dict[str, str] = {}
        self._offsets: dict[Path, int] = {}
        self._lock = threading.Lock()

    def _file(self, days_ago: int = 0) -> Path:
        day = (utcnow() - timedelta(days=days_ago)).strftime("%Y%m%d")
        return self.folder / f"sent-{day}.journal"

    def _refresh(self) -> None:
        for path in (self._file(1), self._file(0)):
            offset = self._offsets.get(path, 0)
            try:
                with path.open("rb") as handle:
                    handle.seek(offset)
                    chunk = handle.read()
            except FileNotFoundError:
                continue
            complete = chunk.rfind(b"\n") + 1  # a line being written is read next time
            for line in chunk[:complete].decode("utf-8", "replace").splitlines():
                key, _, ref = line.partition("\t")
                if key:
                    self._known[key] = ref
            self._offsets[path] = offset + complete

    def lookup(self, key: str) -> str | None:
        """The provider reference if this machine already handed `key` to its provider."""
        with self._lock:
            if key not in self._known:
                self._refresh()
            return self._known.get(key)

    def record(self, key: str, provider_ref: str) -> None:
        line = f"{key}\t{provider_ref.replace(chr(10), ' ').replace(chr(9), ' ')}\n".encode()
        self.folder.mkdir(parents=True, exist_ok=True)
        # O_APPEND: one write() of a short line lands whole even with other writers; the page
        # cache survives the writing process being killed.
        fd = os.open(self._file(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        with self._lock:
            self._known[key] = provider_ref

    def prune(self) -> None:
        keep = {self._file(d).name for d in range(KEEP_DAYS)}
        for path in self.folder.glob("sent-*.journal"):
            if path.name not in keep:
                path.unlink(missing_ok=True)
