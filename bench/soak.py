"""Soak: the whole back office under a steady frame rate, then a count of what was lost.

    python bench/soak.py --rate 4 --seconds 600
    python bench/soak.py --rate 4 --seconds 60 --json

It runs the real thing on loopback: a scratch database on PostgreSQL (`--postgres`, an admin URL;
the database is created and dropped), a queue name of its own on Redis (`--redis`), `etle serve`
with `--api-workers` processes and `--workers` `etle worker` processes (the real consumers, each
loading the models), all sharing one data directory. A camera pushes realistic 1080p frames
(200-500 KB, every one distinct, with a sequence number) at `--rate` frames per second, open
loop, for `--seconds`; a camera resends a frame answered 503 or not answered at all, as the push
contract asks. When the time is up it waits for the workers to finish the backlog (at most
`--drain-timeout` seconds), stops them with SIGINT, and checks against the database:

* **lost**: frames answered 202 that are not stored, or stored and never read;
* **duplicated**: a sequence number stored twice, a frame answered with two different numbers,
  or a frame that joined more than one case (each frame opens or joins at most one).

It prints throughput (frames accepted and read per second), push latency percentiles, queue lag
(age of the oldest unread frame, sampled every second), the time to drain, and CPU per part.
`--json` prints one JSON object with at least `accepted`, `lost`, `duplicated` and
`frames_per_second`. Exit status 1 when anything was lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from camera_frames import base_frames, unique
from ingest import body, free_port, machine_busy, percentile, process_tree_cpu, read_answer
from sqlalchemy import func, select, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from api.runtime import build_runtime  # noqa: E402
from api.settings import load_app_settings  # noqa: E402
from etle.cameras.service import add_camera  # noqa: E402
from etle.cases.models import Case, CaseFrame  # noqa: E402
from etle.db import create_engine, session_scope  # noqa: E402
from etle.frames.models import Frame, FrameStatus  # noqa: E402
from etle.migrate import upgrade  # noqa: E402
from etle.registry.importer import import_csv  # noqa: E402

BOUNDARY = "etle-bench-boundary"
SHARED_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SHARED_REDIS = "redis://127.0.0.1:6379/0"


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    answered: dict[int, int] = field(default_factory=dict)  # sequence -> frame id (202 or 200)
    conflicting: int = 0  # one sequence answered with two different frame ids
    resent: int = 0
    offered: int = 0


async def push(port: int, token: str, frames: list[bytes], rate: float, seconds: float) -> Load:
    """Open loop: frame n is due at start + n / rate whatever the answers; one connection per
    frame in flight (a pool of keep-alive connections), a frame resent until it is answered."""
    load = Load()
    start = time.perf_counter()
    total = int(rate * seconds)
    head = (
        "POST /api/v1/frames HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
    )
    # Idle keep-alive connections, with when each was last used: uvicorn closes one after 5 s
    # idle, so an older one is dropped rather than reused (a reuse would fail and count as an
    # error the server did not make).
    pool: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while pool:
            reader, writer, used = pool.pop()
            if time.monotonic() - used < 3.0:
                return reader, writer
            writer.close()
        return await asyncio.open_connection("127.0.0.1", port)

    async def exchange(request: bytes) -> tuple[int, bytes]:
        reader, writer = await connect()
        try:
            writer.write(request)
            await writer.drain()
            answer = await read_answer(reader)
        except BaseException:
            writer.close()
            raise
        if answer.close:
            writer.close()
        else:
            pool.append((reader, writer, time.monotonic()))
        return answer.status, answer.body

    async def one(n: int) -> None:
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        payload = body(unique(frames[n % len(frames)], n), n)
        request = (head + f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload
        first = time.perf_counter()
        for attempt in range(60):
            try:
                status, answer = await exchange(request)
            except (OSError, IndexError, ValueError, asyncio.IncompleteReadError) as exc:
                load.errors[type(exc).__name__] = load.errors.get(type(exc).__name__, 0) + 1
                status, answer = 0, b""
            load.statuses[status] = load.statuses.get(status, 0) + 1
            if status in (200, 202):
                frame_id = int(json.loads(answer)["frame_id"])
                if load.answered.setdefault(n, frame_id) != frame_id:
                    load.conflicting += 1
                load.latencies.append(time.perf_counter() - first)
                return
            if status not in (0, 503):  # refused for a reason: resending will not help
                return
            load.resent += 1
            await asyncio.sleep(min(5.0, 0.5 * 2**attempt))

    load.offered = total
    await asyncio.gather(*(one(n) for n in range(1, total + 1)))
    for _reader, writer, _used in pool:
        writer.close()
    return load


class LagSampler(threading.Thread):
    """Every second: frames waiting to be read, and the age of the oldest (the queue lag)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(url)
        self.stop = threading.Event()
        self.samples: list[tuple[float, int, float]] = []  # (time, waiting, oldest age s)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with self.engine.connect() as conn:
                    waiting, oldest = conn.execute(
                        select(func.count(), func.min(Frame.received_at)).where(
                            Frame.status == FrameStatus.QUEUED
                        )
                    ).one()
                age = 0.0
                if oldest is not None:
                    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
                    age = (datetime.now(UTC) - oldest).total_seconds()
                self.samples.append((time.monotonic(), waiting, age))
            except Exception:  # noqa: S110 - a missed sample is not a result
                pass
            self.stop.wait(1.0)
        self.engine.dispose()


def wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.3)
    raise SystemExit(f"server did not become ready: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGINT, timeout: float = 60) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def integrity(rt: Any, load: Load) -> dict[str, Any]:
    with session_scope(rt.sessions) as session:
        rows = dict(session.execute(select(Frame.sequence, Frame.id)).all())
        by_status = dict(
            session.execute(select(Frame.status, func.count()).group_by(Frame.status)).all()
        )
        stored_twice = (
            session.scalar(
                select(func.count()).select_from(
                    select(Frame.sequence)
                    .group_by(Frame.camera_id, Frame.sequence)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
            or 0
        )
        multi_case = (
            session.scalar(
                select(func.count()).select_from(
                    select(CaseFrame.frame_id)
                    .group_by(CaseFrame.frame_id)
                    .having(func.count(func.distinct(CaseFrame.case_id)) > 1)
                    .subquery()
                )
            )
            or 0
        )
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
        in_cases = session.scalar(select(func.count(func.distinct(CaseFrame.frame_id)))) or 0
        statuses = dict(
            session.execute(
                select(Frame.id, Frame.status).where(Frame.id.in_(list(load.answered.values())))
            ).all()
            if load.answered
            else []
        )
    missing = sum(1 for n, fid in load.answered.items() if rows.get(n) != fid)
    unread = sum(1 for fid in load.answered.values() if statuses.get(fid) == FrameStatus.QUEUED)
    return {
        "frames_stored": len(rows),
        "frames_by_status": {str(k): v for k, v in by_status.items()},
        "lost": missing + unread,
        "lost_not_stored": missing,
        "lost_never_read": unread,
        "duplicated": stored_twice + multi_case + load.conflicting,
        "duplicated_sequences": stored_twice,
        "frames_in_two_cases": multi_case,
        "answers_disagreeing": load.conflicting,
        "cases": cases,
        "frames_in_cases": in_cases,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=4.0, help="frames per second offered")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long frames are pushed")
    parser.add_argument("--workers", type=int, default=2, help="etle worker processes")
    parser.add_argument("--api-workers", type=int, default=2, help="etle serve processes")
    parser.add_argument("--postgres", default=SHARED_POSTGRES, help="admin URL (scratch db)")
    parser.add_argument("--redis", default=SHARED_REDIS, help="Redis URL (own queue name)")
    parser.add_argument(
        "--drain-timeout", type=float, help="seconds to wait for the backlog (default: --seconds)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args()
    drain_timeout = args.drain_timeout if args.drain_timeout is not None else max(60, args.seconds)

    data_dir = Path(tempfile.mkdtemp(prefix="etle-soak-"))
    queue_name = f"etle-soak-{uuid.uuid4().hex[:8]}"
    scratch_db = f"etle_soak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{scratch_db}"'))
    database_url = admin.url.set(database=scratch_db).render_as_string(hide_password=False)
    admin.dispose()
    env = {
        **os.environ,
        "ETLE_DATA_DIR": str(data_dir),
        "ETLE_DATABASE_URL": database_url,
        "ETLE_QUEUE_URL": args.redis,
        "ETLE_QUEUE_NAME": queue_name,
        "ETLE_LOG_FORMAT": "json",
    }
    settings = load_app_settings(
        data_dir=data_dir, database_url=database_url, queue_url=args.redis, queue_name=queue_name
    )
    rt = build_runtime(settings)
    processes: list[subprocess.Popen[bytes]] = []
    logs = data_dir / "logs"
    logs.mkdir()
    report: dict[str, Any] = {}
    try:
        upgrade(rt.engine)
        with session_scope(rt.sessions) as session:
            import_csv(session, REPO / "sample_frames" / "registry.csv", actor="bench")
            _camera, token = add_camera(
                session,
                camera_id="CAM-SOAK",
                name="soak",
                violation_codes=["red_light"],
                actor="bench",
            )
        frames = base_frames()
        port = free_port()
        etle = [sys.executable, "-c", "from api.cli.main import main; main()"]
        server = subprocess.Popen(
            [*etle, "serve", "--port", str(port), "--workers", str(args.api_workers),
             "--no-access-log"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        processes.append(server)
        for i in range(args.workers):
            processes.append(
                subprocess.Popen(
                    [*etle, "worker", "--sweep-every", "10"],
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=(logs / f"worker-{i}.log").open("wb"),
                )  # fmt: skip
            )
        wait_ready(f"http://127.0.0.1:{port}", server)
        sampler = LagSampler(database_url)
        sampler.start()
        cpu_before = {p.pid: process_tree_cpu(p.pid) for p in processes}
        busy, total = machine_busy()
        started = time.perf_counter()
        load = asyncio.run(push(port, token, frames, args.rate, args.seconds))
        pushed_for = time.perf_counter() - started
        lag_at_end = sampler.samples[-1][2] if sampler.samples else 0.0
        drain_started = time.monotonic()
        while time.monotonic() - drain_started < drain_timeout:
            if (
                sampler.samples
                and sampler.samples[-1][0] > drain_started
                and not (sampler.samples[-1][1])
            ):
                break
            time.sleep(0.5)
        drained_in = time.monotonic() - drain_started
        elapsed = time.perf_counter() - started
        cpu = {p.pid: process_tree_cpu(p.pid) - cpu_before[p.pid] for p in processes}
        busy2, total2 = machine_busy()
        sampler.stop.set()
        sampler.join()
        for worker in processes[1:]:
            stop(worker)  # SIGINT: finish the jobs in hand
        stop(server)
        checked = integrity(rt, load)
        accepted = len(load.answered)
        lags = [age for _t, _n, age in sampler.samples]
        read = checked["frames_by_status"].get("read", 0)
        report = {
            "database": "postgresql",
            "queue": "redis",
            "api_workers": args.api_workers,
            "workers": args.workers,
            "offered_rate": args.rate,
            "seconds": round(pushed_for, 1),
            "offered": load.offered,
            "accepted": accepted,
            "lost": checked["lost"],
            "duplicated": checked["duplicated"],
            "frames_per_second": round(accepted / pushed_for, 2),
            "read_per_second": round(read / elapsed, 2),
            "latency_ms": {
                "p50": round(percentile(load.latencies, 0.50) * 1000, 1),
                "p95": round(percentile(load.latencies, 0.95) * 1000, 1),
                "p99": round(percentile(load.latencies, 0.99) * 1000, 1),
                "max": round(max(load.latencies, default=float("nan")) * 1000, 1),
            },
            "queue_lag_s": {
                "p50": round(percentile(lags, 0.50), 1),
                "max": round(max(lags, default=0.0), 1),
                "when_pushing_stopped": round(lag_at_end, 1),
            },
            "drain_seconds": round(drained_in, 1),
            "answers": {str(k): v for k, v in sorted(load.statuses.items())},
            "resent": load.resent,
            "errors": load.errors,
            "cpu_cores_used": {
                "api": round(cpu[server.pid] / elapsed, 2),
                "workers": round(sum(cpu[p.pid] for p in processes[1:]) / elapsed, 2),
                "machine": round((busy2 - busy) / (total2 - total) * (os.cpu_count() or 1), 2),
                "of": os.cpu_count(),
            },
            "integrity": checked,
        }
    finally:
        for process in processes:
            stop(process, timeout=30)
        try:
            rt.queue.huey.storage.flush_all()  # our own queue name only
        except Exception:  # noqa: S110 - Redis gone: nothing of ours left to remove
            pass
        rt.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch_db}" WITH (FORCE)'))
        admin.dispose()
    if args.json:
        print(json.dumps(report))
    else:
        lat, lag, cores = report["latency_ms"], report["queue_lag_s"], report["cpu_cores_used"]
        print(
            f"soak: {args.rate:g} frames/s offered for {report['seconds']} s; "
            f"{args.api_workers} API processes, {args.workers} workers, PostgreSQL + Redis"
        )
        print(
            f"  accepted {report['accepted']} of {report['offered']} "
            f"({report['frames_per_second']} frames/s), read {report['read_per_second']}/s "
            f"over {elapsed:.0f} s including the drain"
        )
        print(
            f"  push latency p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms, "
            f"max {lat['max']} ms; answers {report['answers']}, resent {report['resent']}"
        )
        print(
            f"  queue lag p50 {lag['p50']} s, max {lag['max']} s, "
            f"{lag['when_pushing_stopped']} s when pushing stopped; "
            f"drained in {report['drain_seconds']} s"
        )
        print(
            f"  CPU cores: API {cores['api']}, workers {cores['workers']}, "
            f"machine {cores['machine']} of {cores['of']}"
        )
        i = report["integrity"]
        print(
            f"  cases {i['cases']} holding {i['frames_in_cases']} frames; "
            f"frames by status {i['frames_by_status']}"
        )
        print(f"  LOST {report['lost']}  DUPLICATED {report['duplicated']}")
    sys.exit(1 if report["lost"] or report["duplicated"] else 0)


if __name__ == "__main__":
    main()
