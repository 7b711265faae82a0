"""Recognition throughput of `etle worker --burst`: frames read per second, end to end.

    python bench/worker_burst.py --frames 200 --processes 1
    python bench/worker_burst.py --frames 200 --processes 2

It ingests `--frames` distinct 1080p road scenes (the eight sample frames, re-encoded with noise,
200-500 KB, as `bench/ingest.py` sends them) into a scratch data directory, as camera pushes
would, then starts `--processes` `etle worker --burst` processes on the same queue and times
them until the queue is empty: decode, plate detection (two passes), OCR, registry match, case
opened, all written. The model load of each process is inside the timing (about a second). It
prints frames read per second, the CPU used per frame, and how many frames opened a case.
Database and queue: SQLite by default, or --postgres/--redis as in bench/ingest.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from camera_frames import base_frames, unique
from sqlalchemy import func, select, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from api.runtime import build_runtime  # noqa: E402
from api.settings import load_app_settings  # noqa: E402
from camera_ingest.intake import FrameMetadata, ingest_frame  # noqa: E402
from etle.cameras.models import Camera  # noqa: E402
from etle.cameras.service import add_camera  # noqa: E402
from etle.cases.models import Case  # noqa: E402
from etle.db import create_engine, session_scope  # noqa: E402
from etle.frames.models import Frame, FrameStatus  # noqa: E402
from etle.migrate import upgrade  # noqa: E402


def children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--processes", type=int, default=1, help="burst workers in parallel")
    parser.add_argument("--postgres", help="admin URL: a scratch database is created there")
    parser.add_argument("--redis", help="Redis URL for the queue (a queue name of its own)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="etle-burst-"))
    queue_name = f"etle-burst-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "ETLE_DATA_DIR": str(data_dir), "ETLE_QUEUE_NAME": queue_name}
    for name in ("ETLE_DATABASE_URL", "ETLE_QUEUE_URL"):
        env.pop(name, None)
    scratch_db = None
    if args.postgres:
        scratch_db = f"etle_burst_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{scratch_db}"'))
        admin.dispose()
        env["ETLE_DATABASE_URL"] = admin.url.set(database=scratch_db).render_as_string(
            hide_password=False
        )
    if args.redis:
        env["ETLE_QUEUE_URL"] = args.redis
    rt = build_runtime(
        load_app_settings(
            data_dir=data_dir,
            database_url=env.get("ETLE_DATABASE_URL"),
            queue_url=env.get("ETLE_QUEUE_URL"),
            queue_name=queue_name,
        )
    )
    try:
        upgrade(rt.engine)
        with session_scope(rt.sessions) as session:
            add_camera(
                session,
                camera_id="CAM-BURST",
                name="burst",
                violation_codes=["red_light"],
                actor="bench",
            )
        frames, start = base_frames(), datetime.now(UTC) - timedelta(days=1)
        for i in range(args.frames):
            with session_scope(rt.sessions) as session:
                ingest_frame(
                    session,
                    camera=session.get_one(Camera, "CAM-BURST"),
                    data=unique(frames[i % len(frames)], i),
                    metadata=FrameMetadata(
                        captured_at=start + timedelta(minutes=10 * i), violation="red_light"
                    ),
                    store=rt.evidence,
                    settings=rt.settings,
                    enqueue=rt.enqueue_recognition,
                )
        command = [sys.executable, "-c", "from api.cli.main import main; main()", "worker"]
        cpu, began = children_cpu(), time.perf_counter()
        workers = [
            subprocess.Popen([*command, "--burst", "--json"], cwd=REPO, env=env)
            for _ in range(args.processes)
        ]
        codes = [w.wait() for w in workers]
        elapsed, cpu = time.perf_counter() - began, children_cpu() - cpu
        with session_scope(rt.sessions) as session:
            read = session.scalar(
                select(func.count()).select_from(Frame).where(Frame.status == FrameStatus.READ)
            )
            cases = session.scalar(select(func.count()).select_from(Case))
    finally:
        if args.redis:
            rt.queue.huey.storage.flush_all()
        rt.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        if scratch_db:
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch_db}" WITH (FORCE)'))
            admin.dispose()
    report: dict[str, Any] = {
        "database": "postgresql" if args.postgres else "sqlite",
        "queue": "redis" if args.redis else "sqlite",
        "processes": args.processes,
        "frames": args.frames,
        "read": read,
        "cases": cases,
        "exit_codes": codes,
        "seconds": round(elapsed, 1),
        "frames_per_second": round(args.frames / elapsed, 2),
        "cpu_ms_per_frame": round(cpu / args.frames * 1000, 1),
        "cores": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(report))
        return
    print(
        f"etle worker --burst x{args.processes} on {report['database']} + {report['queue']} "
        f"queue: {read} of {args.frames} frames read in {elapsed:.1f} s"
    )
    print(
        f"  {report['frames_per_second']} frames/s, {report['cpu_ms_per_frame']} ms CPU per "
        f"frame, {cases} cases opened, exit codes {codes}"
    )


if __name__ == "__main__":
    main()
