"""How fast officers get through the queue: claim and decision latency, concurrent throughput,
and the console's case page and plate crop, on the real sample frames.

    python bench/review_queue.py                          # SQLite (embedded default)
    python bench/review_queue.py --database-url postgresql+psycopg://postgres@127.0.0.1/x

The PostgreSQL database must exist and be empty (it is migrated here). Prints one line per
figure; `--json` prints them as one object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import build_runtime
from api.settings import load_app_settings
from etle.cameras.service import add_camera
from etle.cases.lease import claim
from etle.cases.models import Case, CaseStatus, RejectReason, ReviewAction
from etle.cases.review import Decision, decide
from etle.db import session_scope
from etle.frames.models import Frame, FrameStatus, PlateRead, ReadDecision
from etle.migrate import upgrade
from etle.officers.models import Officer, Role
from etle.officers.tokens import Audience, issue
from etle.registry.models import Owner, Vehicle

SAMPLES = Path(__file__).resolve().parent.parent / "sample_frames"


def seed(rt, cases: int) -> list[int]:  # type: ignore[no-untyped-def]
    frames = json.loads((SAMPLES / "frames.json").read_text())
    captured = datetime.now(UTC) - timedelta(hours=30)
    with session_scope(rt.sessions) as session:
        cam, _ = add_camera(
            session,
            camera_id="CAM-BENCH",
            name="bench",
            violation_codes=["red_light"],
            actor="bench",
        )
        stored = []
        for item in frames:
            data = (SAMPLES / item["file"]).read_bytes()
            frame = Frame(
                camera_id=cam.id,
                sha256=rt.evidence.put(data),
                content_type="image/jpeg",
                size_bytes=len(data),
                width=1920,
                height=1080,
                captured_at=captured,
                violation_code="red_light",
                status=FrameStatus.READ,
            )
            session.add(frame)
            session.flush()
            stored.append((frame, item["plate_box"]))
        officers = []
        for i in range(16):
            officer = Officer(username=f"bench{i}", role=Role.REVIEWER, full_name=f"Bench {i}")
            session.add(officer)
            officers.append(officer)
        for i in range(cases):
            frame, box = stored[i % len(stored)]
            plate = f"B{1000 + i % 900}{'ABCDEFGHJK'[i // 900 % 10]}{'ABCDEFGHJK'[i // 9000 % 10]}T"
            owner = Owner(
                name=f"Owner {i}", address="Jl. Bench 1, Jakarta", email=f"o{i}@example.id"
            )
            session.add(owner)
            session.flush()
            vehicle = Vehicle(
                plate=plate,
                vehicle_class="passenger_car",
                brand="Toyota",
                colour="merah",
                owner_id=owner.id,
            )
            session.add(vehicle)
            read = PlateRead(
                frame_id=frame.id,
                index=i,
                box=box,
                text=plate,
                confidence=0.95,
                decision=ReadDecision.ACCEPT,
                candidates=[{"text": plate, "p": 0.95}],
                slot_confidence=[0.95] * len(plate),
                model="bench",
            )
            session.add(read)
            session.flush()
            session.add(
                Case(
                    status=CaseStatus.PENDING_REVIEW,
                    plate=plate,
                    camera_id=cam.id,
                    violation_code="red_light",
                    vehicle_id=vehicle.id,
                    owner_id=owner.id,
                    first_captured_at=captured + timedelta(seconds=i),
                    last_captured_at=captured + timedelta(seconds=i),
                    evidence_frame_id=frame.id,
                    evidence_sha256=frame.sha256,
                    plate_read_id=read.id,
                    flags=[],
                    match_candidates=[],
                )
            )
        session.flush()
        return [o.id for o in officers]


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p95_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
    }


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--officers", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_app_settings(
            data_dir=Path(tmp), database_url=args.database_url, queue_url=None
        )
        rt = build_runtime(settings)
        upgrade(rt.engine)
        officer_ids = seed(rt, args.cases)
        figures: dict[str, object] = {"backend": rt.engine.dialect.name, "cases": args.cases}

        # 1. One officer, one case after another: claim, then reject (no notice written).
        # Each timed from the start of its transaction to its commit, as a request would be.
        claims, decisions = [], []
        for _ in range(args.cases // 4):
            start = time.perf_counter()
            with session_scope(rt.sessions) as session:
                officer = session.get_one(Officer, officer_ids[0])
                case = claim(session, officer=officer, settings=rt.settings)
                assert case is not None
                case_id = case.id
            claims.append(time.perf_counter() - start)
            start = time.perf_counter()
            with session_scope(rt.sessions) as session:
                officer = session.get_one(Officer, officer_ids[0])
                decide(
                    session,
                    case_id=case_id,
                    officer=officer,
                    settings=rt.settings,
                    decision=Decision(ReviewAction.REJECT, reason=RejectReason.DUPLICATE),
                )
            decisions.append(time.perf_counter() - start)
        figures["claim"] = percentiles(claims)
        figures["reject_decision"] = percentiles(decisions)

        # 2. The console: the case page (everything to decide) and the zoomed plate crop.
        with TestClient(create_app(rt)) as client:
            with session_scope(rt.sessions) as session:
                officer = session.get_one(Officer, officer_ids[1])
                token, _ = issue(
                    officer,
                    signing_key=rt.settings.signing_key,
                    audience=Audience.CONSOLE,
                    lifetime=timedelta(hours=1),
                )
                case = claim(session, officer=officer, settings=rt.settings)
                assert case is not None
                case_id = case.id
            client.cookies.set("etle_console", token, path="/console")
            pages = [
                timed(lambda: client.get(f"/console/cases/{case_id}").raise_for_status())
                for _ in range(40)
            ]
            crops = [
                timed(lambda: client.get(f"/console/cases/{case_id}/plate").raise_for_status())
                for _ in range(40)
            ]
            frames = [
                timed(lambda: client.get(f"/console/cases/{case_id}/frame").raise_for_status())
                for _ in range(40)
            ]
        figures["console_case_page"] = percentiles(pages)
        figures["console_plate_crop"] = percentiles(crops)
        figures["console_frame"] = percentiles(frames)

        # 3. Several officers at once, confirming (notice + deliveries written) until empty.
        done: list[int] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(args.officers)

        def work(officer_id: int) -> None:
            try:
                barrier.wait()
                while True:
                    with session_scope(rt.sessions) as session:
                        officer = session.get_one(Officer, officer_id)
                        case = claim(session, officer=officer, settings=rt.settings)
                        if case is None:
                            return
                        decide(
                            session,
                            case_id=case.id,
                            officer=officer,
                            settings=rt.settings,
                            decision=Decision(ReviewAction.CONFIRM),
                        )
                        done.append(case.id)
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=work, args=(i,)) for i in officer_ids[2 : 2 + args.officers]
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        figures["concurrent"] = {
            "officers": args.officers,
            "confirmed": len(done),
            "duplicates": len(done) - len(set(done)),
            "errors": len(errors),
            "cases_per_second": round(len(done) / elapsed, 1),
        }
        rt.close()

    if args.json:
        print(json.dumps(figures))
        return
    for name, value in figures.items():
        print(f"{name:<20} {value}")


if __name__ == "__main__":
    main()
