"""The public transparency figures, computed at most once a minute for each period.

They are the same for every visitor and change slowly, while computing them reads every case of
up to 92 days: the page a flood asks for most (issue 17). One request computes a period's
figures while the others asking for it at that moment wait for that answer instead of reading
the same rows again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from etle.portal.statistics import MAX_DAYS, Transparency

TTL_SECONDS = 60.0


class FiguresCache:
    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._guard = threading.Lock()
        self._computing: dict[int, threading.Lock] = {}
        self._figures: dict[int, tuple[float, Transparency]] = {}

    def get(self, days: int, compute: Callable[[int], Transparency]) -> Transparency:
        days = max(1, min(days, MAX_DAYS))
        fresh = self._fresh(days)
        if fresh is not None:
            return fresh
        with self._guard:
            lock = self._computing.setdefault(days, threading.Lock())
        with lock:
            fresh = self._fresh(days)  # computed by another request meanwhile
            if fresh is None:
                fresh = compute(days)
                self._figures[days] = (time.monotonic() + self.ttl, fresh)
            return fresh

    def _fresh(self, days: int) -> Transparency | None:
        held = self._figures.get(days)
        return held[1] if held is not None and held[0] > time.monotonic() else None
