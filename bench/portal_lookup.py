"""Can a miss be told apart by its timing? The portal's lookup, timed for every kind of answer.

    python bench/portal_lookup.py                          # SQLite (embedded default)
    python bench/portal_lookup.py --database-url postgresql+psycopg://postgres@127.0.0.1/x

Seeds `--notices` sent notices (each with its vehicle and VIN), then times, interleaved round by
round so that machine load hits every kind alike:

* unknown: a well-formed notice number no notice has, with a real plate;
* wrong plate: a real notice number with another plate;
* wrong VIN: a real plate with the wrong last five of its VIN;
* found: the right notice number and plate (for scale: a success does more work after it).

Each lookup is the service call the web page and the API make (`etle.portal.lookup`), in its own
committed transaction, so the rate-limit bookkeeping is included; the rate limit itself is set
high so it never refuses. Prints median and 90th percentile per kind and the difference between
the medians of the two misses, against the spread of the misses themselves; `--json` prints one
object. The PostgreSQL database must exist and be empty (it is migrated here).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.factories seeds

from api.runtime import build_runtime
from api.settings import load_app_settings
from etle.cases.models import Case
from etle.db import create_engine, session_scope
from etle.errors import NotFound
from etle.migrate import upgrade
from etle.notices.service import luhn_digit
from etle.portal import lookup
from tests import factories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--notices", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_engine(url)
        upgrade(engine)
        engine.dispose()
        rt = build_runtime(
            load_app_settings(
                data_dir=Path(tmp) / "data",
                database_url=url,
                queue_url=None,
                portal_max_failures_per_address=10**9,
                portal_max_failures_per_plate=10**9,
            )
        )
        try:
            figures = run(rt, args.notices, args.rounds)
        finally:
            rt.close()
    figures["database"] = "postgresql" if args.database_url else "sqlite"
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key:<40} {value}")


def run(rt, notices: int, rounds: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    seeded: list[tuple[str, str]] = []
    with session_scope(rt.sessions) as session:
        for _ in range(notices):
            notice = factories.sent_notice(session, rt.evidence, rt.settings)
            seeded.append((notice.notice_number, session.get_one(Case, notice.case_id).plate))
    s, key = rt.settings, rt.settings.signing_key

    def by_notice(number: str, plate: str) -> Callable[[], None]:
        def call() -> None:
            with session_scope(rt.sessions) as session:
                result = lookup.by_notice(
                    session,
                    notice_number=number,
                    plate=plate,
                    address="10.0.0.1",
                    settings=s,
                    key=key,
                )
            try:
                result.granted()
            except NotFound:
                pass

        return call

    def by_vin(plate: str, tail: str) -> Callable[[], None]:
        def call() -> None:
            with session_scope(rt.sessions) as session:
                result = lookup.by_vin(
                    session, plate=plate, vin_tail=tail, address="10.0.0.1", settings=s, key=key
                )
            try:
                result.granted()
            except NotFound:
                pass

        return call

    def unknown_number(number: str) -> str:
        body = number[:-2] + "7"
        return body + luhn_digit(body)

    rng = random.Random(8)
    times: dict[str, list[float]] = {"unknown": [], "wrong_plate": [], "wrong_vin": [], "found": []}
    for _ in range(20):  # warm-up: connections, statement caches
        number, plate = rng.choice(seeded)
        by_notice(number, plate)()
        by_notice(unknown_number(number), plate)()
    for _ in range(rounds):
        number, plate = rng.choice(seeded)
        calls = {
            "unknown": by_notice(unknown_number(number), plate),
            "wrong_plate": by_notice(number, factories.unique_plate()),
            "wrong_vin": by_vin(plate, "99999"),
            "found": by_notice(number, plate),
        }
        order = list(calls)
        rng.shuffle(order)
        for kind in order:
            start = time.perf_counter()
            calls[kind]()
            times[kind].append((time.perf_counter() - start) * 1000)

    out: dict[str, object] = {"notices": notices, "rounds": rounds}
    for kind, samples in times.items():
        samples.sort()
        out[f"{kind}_ms_median"] = round(statistics.median(samples), 3)
        out[f"{kind}_ms_p90"] = round(samples[int(0.9 * (len(samples) - 1))], 3)
    a, b = times["unknown"], times["wrong_plate"]
    diff = statistics.median(a) - statistics.median(b)
    out["misses_median_difference_ms"] = round(diff, 3)
    # Scale of the noise: the median absolute deviation of the misses themselves.
    pooled = a + b
    centre = statistics.median(pooled)
    out["misses_mad_ms"] = round(statistics.median(abs(x - centre) for x in pooled), 3)
    # The chance that an unknown-notice lookup is slower than a wrong-plate one (the
    # Mann-Whitney U statistic over all pairs): 0.5 means timing cannot tell them apart.
    out["p_unknown_slower_than_wrong_plate"] = round(prob_greater(a, b), 3)
    out["p_wrong_vin_slower_than_wrong_plate"] = round(prob_greater(times["wrong_vin"], b), 3)
    return out


def prob_greater(a: list[float], b: list[float]) -> float:
    ordered = sorted(b)
    wins = 0.0
    for x in a:
        below, upto = bisect_left(ordered, x), bisect_right(ordered, x)
        wins += below + 0.5 * (upto - below)
    return wins / (len(a) * len(b))


if __name__ == "__main__":
    main()
