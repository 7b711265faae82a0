"""Fault drills: break a server under load, then check that nothing was lost.

    python bench/drills.py redis      # Redis stopped, restarted
    python bench/drills.py postgres   # PostgreSQL restarted
    python bench/drills.py disk       # evidence disk full
    python bench/drills.py all --json

Each drill starts its OWN server for the part it breaks, on another port, in a scratch folder
(a private `redis-server`; a private PostgreSQL cluster made with `initdb`; a small tmpfs for the
evidence store, which needs root), and never touches shared servers except to create and drop a
scratch database or use a queue name of its own. Then `etle serve` and one `etle worker` run
against them while a camera pushes frames (resending what is answered 503 or not at all, as the
push contract asks), the fault happens mid-push, and the drill prints a verdict:

* **redis**: Redis is shut down for a while during the push: intake must keep answering 202
  (the frame is committed; its job is sent again by the worker's sweep), and once Redis is
  back every accepted frame must be read.
* **postgres**: the database is stopped for a few seconds and started again during the push:
  clients get 503 (retryable) or a dropped connection meanwhile, never a 500; afterwards every
  accepted frame is stored with its evidence and read, and no frame row lacks its file.
* **disk**: the evidence store fills up: pushes get a 503 naming the full disk, every frame
  answered 202 has its row and its intact file, and no refused frame left a row.

Worker SIGKILL mid-job and SMTP down are pytest tests (docs/deployment.md lists them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
from camera_frames import base_frames, unique
from ingest import body, free_port
from soak import Load, push, stop, wait_ready
from sqlalchemy import func, select, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from api.runtime import build_runtime  # noqa: E402
from api.settings import load_app_settings  # noqa: E402
from etle.cameras.service import add_camera  # noqa: E402
from etle.db import create_engine, session_scope  # noqa: E402
from etle.evidence import sha256_hex  # noqa: E402
from etle.frames.models import Frame, FrameStatus  # noqa: E402
from etle.migrate import upgrade  # noqa: E402

SHARED_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SHARED_REDIS = "redis://127.0.0.1:6379/0"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
ETLE = [sys.executable, "-c", "from api.cli.main import main; main()"]


@contextmanager
def private_redis() -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A redis-server of our own: (url, stop, start)."""
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="etle-drill-redis-"))
    process: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        process.append(
            subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(folder),
                ],
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        )
        for _ in range(50):
            if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout:
                return
            time.sleep(0.1)

    def halt() -> None:
        stop(process[-1], timeout=10)

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", halt, start
    finally:
        halt()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def private_postgres() -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A PostgreSQL cluster of our own (initdb in a temp folder): (admin url, stop, start)."""
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="etle-drill-pg-"))
    data = folder / "data"
    # initdb and the server refuse to run as root: hand the folder to the postgres user then.
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_user, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True, capture_output=True,
    )  # fmt: skip
    ctl = [*as_user, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "log")]

    def start() -> None:
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run([*ctl, "-o", options, "-w", "start"], check=True, capture_output=True)

    def halt() -> None:
        subprocess.run([*ctl, "-m", "fast", "-w", "stop"], capture_output=True)

    start()
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", halt, start
    finally:
        halt()
        shutil.rmtree(folder, ignore_errors=True)


class System:
    """A scratch database and data folder, `etle serve` and one `etle worker`, a camera."""

    def __init__(self, admin_url: str, queue_url: str, data_dir: Path | None = None) -> None:
        self.admin_url = admin_url
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="etle-drill-"))
        self.scratch = f"etle_drill_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.scratch}"'))
        self.database_url = admin.url.set(database=self.scratch).render_as_string(
            hide_password=False
        )
        admin.dispose()
        queue_name = f"etle-drill-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "ETLE_DATA_DIR": str(self.data_dir),
            "ETLE_DATABASE_URL": self.database_url,
            "ETLE_QUEUE_URL": queue_url,
            "ETLE_QUEUE_NAME": queue_name,
            "ETLE_REQUEUE_AFTER_SECONDS": "5",  # lost jobs come back within seconds here
            "ETLE_MIN_FREE_DISK_MB": "1",
        }
        self.rt = build_runtime(
            load_app_settings(
                data_dir=self.data_dir,
                database_url=self.database_url,
                queue_url=queue_url,
                queue_name=queue_name,
            )
        )
        upgrade(self.rt.engine)
        with session_scope(self.rt.sessions) as session:
            _camera, self.token = add_camera(
                session, camera_id="CAM-DRILL", name="drill", violation_codes=["red_light"],
                actor="drill",
            )  # fmt: skip
        self.port = free_port()
        self.log = self.data_dir.parent / f"{self.scratch}.log"
        log = self.log.open("wb")
        self.server = subprocess.Popen(
            [*ETLE, "serve", "--port", str(self.port), "--workers", "2"],
            cwd=REPO, env=self.env, stdout=log, stderr=log,
        )  # fmt: skip
        self.worker = subprocess.Popen(
            [*ETLE, "worker", "--sweep-every", "3"],
            cwd=REPO, env=self.env, stdout=log, stderr=log,
        )  # fmt: skip
        wait_ready(f"http://127.0.0.1:{self.port}", self.server)

    def push(self, rate: float, seconds: float, fault: Callable[[], None] | None) -> Load:
        if fault is not None:
            threading.Thread(target=fault, daemon=True).start()
        return asyncio.run(push(self.port, self.token, base_frames(8), rate, seconds))

    def frames(self) -> dict[int, tuple[int, str, str]]:
        """sequence -> (frame id, status, sha256), read afresh."""
        with session_scope(self.rt.sessions) as session:
            rows = session.execute(select(Frame.sequence, Frame.id, Frame.status, Frame.sha256))
            return {seq: (fid, status, digest) for seq, fid, status, digest in rows}

    def wait_all_read(self, timeout: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            with session_scope(self.rt.sessions) as session:
                waiting = session.scalar(
                    select(func.count())
                    .select_from(Frame)
                    .where(Frame.status == FrameStatus.QUEUED)
                )
            if not waiting:
                break
            time.sleep(1)
        return time.monotonic() - started

    def close(self) -> None:
        stop(self.worker)
        stop(self.server)
        with suppress(Exception):
            self.rt.queue.huey.storage.flush_all()
        self.rt.close()
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.scratch}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.log.unlink(missing_ok=True)


def check(system: System, load: Load) -> dict[str, Any]:
    """What a camera was told against what was stored and read."""
    rows = system.frames()
    not_stored = [n for n, fid in load.answered.items() if rows.get(n, (None,))[0] != fid]
    unread = [n for n in load.answered if n in rows and rows[n][1] == FrameStatus.QUEUED]
    without_file = [
        n for n, (_fid, _status, digest) in rows.items() if not system.rt.evidence.exists(digest)
    ]
    return {
        "accepted": len(load.answered),
        "answers": {str(k): v for k, v in sorted(load.statuses.items())},
        "resent": load.resent,
        "lost": len(not_stored) + len(unread),
        "lost_not_stored": len(not_stored),
        "lost_never_read": len(unread),
        "rows_without_evidence": len(without_file),
        "answers_disagreeing": load.conflicting,
    }


def drill_redis() -> dict[str, Any]:
    with private_redis() as (url, halt, start):
        system = System(SHARED_POSTGRES, url)
        try:
            window: list[int] = []

            def fault() -> None:
                time.sleep(6)
                halt()
                window.append(len(system.frames()))
                time.sleep(12)  # cameras keep pushing meanwhile
                window.append(len(system.frames()))
                start()

            load = system.push(rate=3, seconds=24, fault=fault)
            drained = system.wait_all_read(timeout=120)
            result = check(system, load)
        finally:
            system.close()
    result["accepted_while_redis_down"] = window[1] - window[0]
    result["drain_seconds"] = round(drained, 1)
    result["ok"] = (
        result["accepted_while_redis_down"] > 0
        and result["lost"] == 0
        and result["rows_without_evidence"] == 0
        and result["answers_disagreeing"] == 0
        and set(load.statuses) == {202}  # intake never refused a frame while Redis was down
    )
    result["verdict"] = (
        "intake kept accepting while Redis was down; the backlog drained after it returned"
        if result["ok"]
        else "FAILED: see the counts"
    )
    return result


def drill_postgres() -> dict[str, Any]:
    with private_postgres() as (admin_url, halt, start):
        system = System(admin_url, SHARED_REDIS)
        try:

            def fault() -> None:
                time.sleep(6)
                halt()
                time.sleep(6)
                start()

            load = system.push(rate=3, seconds=24, fault=fault)
            drained = system.wait_all_read(timeout=120)
            result = check(system, load)
        finally:
            system.close()
    result["drain_seconds"] = round(drained, 1)
    refused = {k: v for k, v in load.statuses.items() if k not in (0, 200, 202, 503)}
    result["ok"] = (
        result["lost"] == 0
        and result["rows_without_evidence"] == 0
        and result["answers_disagreeing"] == 0
        and not refused
        and load.statuses.get(503, 0) + load.statuses.get(0, 0) > 0  # the fault was felt
    )
    result["verdict"] = (
        "clients got 503 (retryable) while the database was down; every accepted frame is "
        "stored with its evidence and read"
        if result["ok"]
        else f"FAILED: see the counts (unexpected answers {refused})"
    )
    return result


def drill_disk() -> dict[str, Any]:
    if os.geteuid() != 0:
        return {"ok": None, "verdict": "skipped: mounting a small tmpfs needs root"}
    data_dir = Path(tempfile.mkdtemp(prefix="etle-drill-disk-"))
    evidence = data_dir / "evidence"
    evidence.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(evidence)], check=True)
    try:
        system = System(SHARED_POSTGRES, SHARED_REDIS, data_dir=data_dir)
        try:
            # Sequential pushes: a full disk answers 503, which the camera would resend forever;
            # here each frame is sent once and the answers are kept.
            answers: list[tuple[int, dict[str, Any]]] = []
            frames = base_frames(8)
            headers = {
                "Authorization": f"Bearer {system.token}",
                "Content-Type": "multipart/form-data; boundary=etle-bench-boundary",
            }
            with httpx.Client(base_url=f"http://127.0.0.1:{system.port}", timeout=30) as client:
                for n in range(1, 21):
                    answer = client.post(
                        "/api/v1/frames", content=body(unique(frames[n % 8], n), n), headers=headers
                    )
                    answers.append((answer.status_code, answer.json()))
                ready = client.get("/readyz").json()
            rows = system.frames()
            accepted = {n + 1: a["frame_id"] for n, (s, a) in enumerate(answers) if s == 202}
            refused = [a for s, a in answers if s == 503]
            intact = sum(
                1
                for _fid, _status, digest in rows.values()
                if system.rt.evidence.exists(digest)
                and sha256_hex(system.rt.evidence.path_for(digest).read_bytes()) == digest
            )
            leftovers = [p.name for p in evidence.rglob(".incoming-*")]
        finally:
            system.close()
    finally:
        subprocess.run(["umount", str(evidence)], check=False)
        shutil.rmtree(data_dir, ignore_errors=True)
    statuses: dict[str, int] = {}
    for status, _ in answers:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    message = refused[0]["message"] if refused else ""
    result: dict[str, Any] = {
        "answers": statuses,
        "accepted": len(accepted),
        "frame_rows": len(rows),
        "rows_with_intact_evidence": intact,
        "temporary_files_left": len(leftovers),
        "error_message": message,
        "readyz_disk": ready.get("disk"),
    }
    result["ok"] = (
        bool(refused)
        and "No space left" in message
        and len(rows) == len(accepted) == intact
        and all(rows[n][0] == fid for n, fid in accepted.items())
        and not leftovers
        and str(ready.get("disk")).startswith("failed")
        and set(statuses) <= {"202", "503"}
    )
    result["verdict"] = (
        "a full evidence disk answers 503 naming it and /readyz says so; no row without its "
        "file, none for a refused frame"
        if result["ok"]
        else "FAILED: see the counts"
    )
    return result


DRILLS = {"redis": drill_redis, "postgres": drill_postgres, "disk": drill_disk}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("drill", choices=[*DRILLS, "all"])
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args()
    names = list(DRILLS) if args.drill == "all" else [args.drill]
    results: dict[str, Any] = {}
    for name in names:
        results[name] = DRILLS[name]()
        if not args.json:
            r = results[name]
            counts = {k: v for k, v in r.items() if k not in ("ok", "verdict")}
            mark = {True: "PASS", False: "FAIL", None: "SKIP"}[r["ok"]]
            print(f"{mark} {name}: {r['verdict']}\n     {json.dumps(counts)}")
    if args.json:
        print(json.dumps(results))
    sys.exit(0 if all(r["ok"] is not False for r in results.values()) else 1)


if __name__ == "__main__":
    main()
