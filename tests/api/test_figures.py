"""The public statistics are computed once per period and minute, not once per visitor."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

from api.figures import FiguresCache


def test_one_computation_per_period_while_fresh() -> None:
    calls: list[int] = []
    cache = FiguresCache(ttl=3600)

    def compute(days: int) -> Any:
        calls.append(days)
        return ("figures", days)

    assert cache.get(92, compute) == ("figures", 92)
    assert cache.get(92, compute) == ("figures", 92)
    assert cache.get(500, compute) == ("figures", 92)  # periods beyond the maximum are the max
    assert cache.get(7, compute) == ("figures", 7)
    assert calls == [92, 7]
    stale = FiguresCache(ttl=0)
    stale.get(30, compute)
    stale.get(30, compute)
    assert calls == [92, 7, 30, 30]


def test_visitors_arriving_together_share_one_computation() -> None:
    cache = FiguresCache(ttl=3600)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def compute(days: int) -> Any:
        calls.append(days)
        started.set()
        release.wait(10)
        return date(2026, 1, 1)

    first = threading.Thread(target=cache.get, args=(30, compute))
    first.start()
    started.wait(10)
    answers: list[Any] = []
    others = [
        threading.Thread(target=lambda: answers.append(cache.get(30, compute))) for _ in range(3)
    ]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert calls == [30]
    assert answers == [date(2026, 1, 1)] * 3
