"""Flood: a real `etle serve` under 1,000 anonymous and 200 officer requests at once while a
camera keeps pushing; overload must be answered, not queued (DESIGN invariant 10, issue 17).

    python bench/flood.py                                # SQLite + file queue (embedded)
    python bench/flood.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        --redis redis://127.0.0.1:6379/0                 # PostgreSQL + Redis (scratch db)
    python bench/flood.py --api-workers 2 --intake-server    # cameras on a listener of their own
    python bench/flood.py --json

Loopback only, and bounded: a fixed number of requests, each with a 30 s client time-out, and
the whole run well under two minutes. It seeds a scratch database (registry, a camera, two
officers, `--notices` sent notices), starts `etle serve` (one process, no access log), then:

1. a camera pushes distinct 1080p frames at `--rate` per second, open loop, from the start to
   `--after` seconds past the flood, and `/healthz` is asked every 100 ms (1 s time-out), both
   from a process of their own (as from other machines: in the flood client's event loop their
   answers would wait behind its 1,200 connections and time the client, not the server);
2. after `--before` seconds, the flood: `--anonymous` requests over the public routes
   (statistics over 92 days, lookups and verification codes that miss, the portal's pages) and
   `--officers` over the officer routes (queue claims, statistics, overrides, who-am-I, and
   sign-ins with a wrong password), all sent at the same moment, each on its own connection;
3. when the last flood request is answered, a normal public request and a normal officer request
   are tried every 250 ms until both answer 200 within 1 s: the recovery time.

It prints, per group, the answers by status, server errors (5xx other than 503), how overload
was answered (503/429: how many carried Retry-After, how fast they came), `/healthz`'s slowest
answer and misses, the camera's push latency, the recovery time, and the machine's load (the
CPU is shared: compare runs only on a quiet machine). Exit status 1 when an acceptance check
fails (docs/benchmarks.md, "Flood").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from camera_frames import base_frames, unique
from ingest import (
    BOUNDARY,
    body,
    free_port,
    machine_busy,
    percentile,
    process_tree_cpu,
    read_answer,
)
from soak import stop, wait_ready
from sqlalchemy import text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from api.runtime import build_runtime  # noqa: E402
from api.settings import load_app_settings  # noqa: E402
from etle.cameras.service import add_camera  # noqa: E402
from etle.cases.models import Case  # noqa: E402
from etle.db import create_engine, session_scope  # noqa: E402
from etle.migrate import upgrade  # noqa: E402
from etle.officers.models import Role  # noqa: E402
from etle.officers.tokens import Audience, issue  # noqa: E402
from etle.registry.importer import import_csv  # noqa: E402
from tests import factories  # noqa: E402

PASSWORD = "Flood-bench-passphrase-2026"
SECRET = "flood-bench-secret-" + uuid.uuid4().hex
TIMEOUT = 30.0
OVERLOAD = (503, 429)


@dataclass
class Answer:
    status: int  # 0: no answer (connection error or client time-out)
    seconds: float
    retry_after: bool = False
    error: str = ""


@dataclass
class Group:
    answers: list[Answer] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        statuses: dict[str, int] = {}
        for a in self.answers:
            key = str(a.status) if a.status else f"no answer ({a.error})"
            statuses[key] = statuses.get(key, 0) + 1
        overload = [a for a in self.answers if a.status in OVERLOAD]
        return {
            "requests": len(self.answers),
            "answers": dict(sorted(statuses.items())),
            "server_errors": sum(1 for a in self.answers if a.status >= 500 and a.status != 503),
            "unanswered": sum(1 for a in self.answers if a.status == 0),
            "overload_answers": len(overload),
            "overload_with_retry_after": sum(1 for a in overload if a.retry_after),
            "overload_seconds": _spread([a.seconds for a in overload]),
            "seconds": _spread([a.seconds for a in self.answers]),
        }


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "p50": round(percentile(values, 0.50), 3),
        "p99": round(percentile(values, 0.99), 3),
        "max": round(max(values), 3),
    }


async def call(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    payload: bytes = b"",
    timeout: float = TIMEOUT,
) -> Answer:
    """One request on its own connection (HTTP/1.1, Connection: close)."""
    start = time.perf_counter()

    async def exchange() -> Answer:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            for name, value in (headers or {}).items():
                head += f"{name}: {value}\r\n"
            head += f"Content-Length: {len(payload)}\r\n\r\n"
            writer.write(head.encode() + payload)
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            retry_after = False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                retry_after |= line.lower().startswith(b"retry-after:")
            await reader.read()  # the body, until the server closes
            return Answer(status, time.perf_counter() - start, retry_after)
        finally:
            writer.close()

    try:
        return await asyncio.wait_for(exchange(), timeout)
    except (OSError, IndexError, ValueError, TimeoutError) as exc:
        return Answer(0, time.perf_counter() - start, error=type(exc).__name__)


@dataclass
class Fixture:
    port: int
    camera_port: int  # the same server, or one of its own (--intake-server)
    camera_token: str
    reviewer: str  # bearer token
    supervisor: str
    notices: list[tuple[str, str]]  # (number, plate)


def flood_requests(fx: Fixture, anonymous: int, officers: int) -> tuple[list[Any], list[Any]]:
    """The flood's requests, as coroutines not yet started: (anonymous, officer)."""
    p = fx.port
    wrong_plate = factories.unique_plate()
    public = [
        lambda i: call(p, "GET", "/api/v1/public/statistics?days=92"),
        lambda i: call(p, "GET", "/api/v1/public/statistics?days=92"),
        lambda i: call(p, "GET", "/api/v1/public/statistics?days=30"),
        lambda i: call(
            p,
            "GET",
            f"/api/v1/public/notices/{fx.notices[i % len(fx.notices)][0]}?plate={wrong_plate}",
        ),
        lambda i: call(p, "GET", f"/api/v1/public/verify?code=FLOOD{i:05d}"),
        lambda i: call(p, "GET", "/tilang"),
        lambda i: call(p, "GET", "/statistik?hari=92"),
        lambda i: call(p, "GET", "/api/v1/public/statistics?days=92"),
        lambda i: call(p, "GET", "/verifikasi"),
        lambda i: call(p, "GET", "/api/v1/public/notices?plate=B1234ABC&vin=00000"),
    ]
    reviewer = {"Authorization": f"Bearer {fx.reviewer}"}
    supervisor = {"Authorization": f"Bearer {fx.supervisor}"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    officer = [
        lambda i: call(p, "GET", "/api/v1/review/stats", supervisor),
        lambda i: call(p, "GET", "/api/v1/review/stats", supervisor),
        lambda i: call(p, "GET", "/api/v1/review/overrides", supervisor),
        lambda i: call(p, "GET", "/api/v1/auth/me", reviewer),
        lambda i: call(p, "POST", "/api/v1/review/claim", reviewer),
        lambda i: call(
            p, "GET", "/api/v1/review/stats?since=2026-01-01T00:00:00%2B07:00", supervisor
        ),
        lambda i: call(p, "GET", "/api/v1/auth/me", supervisor),
        lambda i: call(p, "GET", "/api/v1/review/overrides?limit=500", supervisor),
        lambda i: call(p, "GET", "/api/v1/review/stats", reviewer),
        lambda i: call(
            p, "POST", "/api/v1/auth/token", form, f"username=flood.r&password=wrong{i}".encode()
        ),
    ]
    return (
        [public[i % len(public)](i) for i in range(anonymous)],
        [officer[i % len(officer)](i) for i in range(officers)],
    )


async def camera(
    fx: Fixture, frames: list[bytes], rate: float, stop_at: list[float], pushes: list[Any]
) -> None:
    """Open loop at `rate`, on kept-alive connections as a camera holds them (a pool, one
    connection per push in flight); a push answered 503 or not at all is sent again after 1 s
    (Retry-After), and its latency counts from the first try."""
    head = (
        "POST /api/v1/frames HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {fx.camera_token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
    )
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def exchange(request: bytes) -> tuple[int, bool]:
        while idle:
            reader, writer, used = idle.pop()
            if time.monotonic() - used < 3.0:  # uvicorn closes a connection idle for 5 s
                break
            writer.close()
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", fx.camera_port)
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
            idle.append((reader, writer, time.monotonic()))
        return answer.status, answer.retry_after

    async def one(n: int) -> None:
        payload = body(unique(frames[n % len(frames)], n), n)
        request = (head + f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload
        first = time.perf_counter()
        for _ in range(10):
            try:
                status, retry_after = await asyncio.wait_for(exchange(request), TIMEOUT)
                answer = Answer(status, time.perf_counter() - first, retry_after)
            except (OSError, IndexError, ValueError, TimeoutError) as exc:
                answer = Answer(0, time.perf_counter() - first, error=type(exc).__name__)
            pushes.append((first, answer))
            if answer.status not in (0, 503):
                return
            await asyncio.sleep(1.0)

    start = time.perf_counter()
    tasks = []
    n = 0
    while time.perf_counter() < stop_at[0]:
        n += 1
        tasks.append(asyncio.create_task(one(n)))
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
    await asyncio.gather(*tasks)
    for _reader, writer, _used in idle:
        writer.close()


async def prober(port: int, stop: asyncio.Event, probes: list[tuple[float, Answer]]) -> None:
    while not stop.is_set():
        probes.append((time.perf_counter(), await call(port, "GET", "/healthz", timeout=1.0)))
        await asyncio.sleep(0.1)


async def recovery(fx: Fixture, since: float) -> float:
    """Seconds from `since` until a public and an officer request both answer 200 within 1 s."""
    supervisor = {"Authorization": f"Bearer {fx.supervisor}"}
    while time.perf_counter() - since < 60:
        public, officer = await asyncio.gather(
            call(fx.port, "GET", "/api/v1/public/statistics?days=30", timeout=1.0),
            call(fx.port, "GET", "/api/v1/review/stats", supervisor, timeout=1.0),
        )
        if public.status == 200 and officer.status == 200:
            return time.perf_counter() - since
        await asyncio.sleep(0.25)
    return float("inf")


async def measure(
    fx: Fixture, rate: float, after: float, events: tuple[Any, Any], report: Any
) -> None:
    """The camera and the `/healthz` probe, in a process of their own (see `run`): they push
    and probe until `after` seconds past the flood's recovery, then send what they saw."""
    frames = base_frames(8)
    pushes: list[tuple[float, Answer]] = []
    probes: list[tuple[float, Answer]] = []
    stop_camera = [float("inf")]
    stop_probes = asyncio.Event()
    probe_task = asyncio.create_task(prober(fx.port, stop_probes, probes))
    camera_task = asyncio.create_task(camera(fx, frames, rate, stop_camera, pushes))
    started, flood_over = events
    started.set()
    while not flood_over.is_set():
        await asyncio.sleep(0.05)
    stop_camera[0] = time.perf_counter() + after
    await camera_task
    stop_probes.set()
    await probe_task
    report.send((pushes, probes))


def _measure_process(
    fx: Fixture, rate: float, after: float, events: tuple[Any, Any], report: Any
) -> None:
    _run_loop(measure(fx, rate, after, events, report))


async def run(fx: Fixture, args: argparse.Namespace) -> dict[str, Any]:
    # The camera and the probe run in a process of their own, as they would on other machines:
    # in the flood client's event loop their answers would wait behind its 1,200 connections,
    # and the figures would measure the client, not the server. (perf_counter is the system's
    # monotonic clock, the same in both processes.)
    # spawn, not fork: this process already runs an event loop.
    mp = multiprocessing.get_context("spawn")
    started, flood_over = mp.Event(), mp.Event()
    receive, send = mp.Pipe(duplex=False)
    measurer = mp.Process(
        target=_measure_process, args=(fx, args.rate, args.after, (started, flood_over), send)
    )
    measurer.start()
    await asyncio.to_thread(started.wait, 60)
    await asyncio.sleep(args.before)
    anonymous, officer = flood_requests(fx, args.anonymous, args.officers)
    flood_start = time.perf_counter()
    results = await asyncio.gather(*anonymous, *officer)
    flood_end = time.perf_counter()
    recovered = await recovery(fx, flood_end)
    flood_over.set()
    pushes, probes = await asyncio.to_thread(receive.recv)
    measurer.join()

    def window(items: list[tuple[float, Answer]], lo: float, hi: float) -> list[Answer]:
        return [a for t, a in items if lo <= t <= hi]

    during = window(pushes, flood_start, flood_end)
    health = window(probes, flood_start, flood_end + recovered)
    accepted = [a.seconds for _t, a in pushes if a.status in (200, 202)]
    return {
        "flood_seconds": round(flood_end - flood_start, 2),
        "anonymous": Group(list(results[: args.anonymous])).summary(),
        "officers": Group(list(results[args.anonymous :])).summary(),
        "camera": {
            **Group([a for _t, a in pushes]).summary(),
            "accepted": len(accepted),
            "push_seconds": _spread(accepted),
            "push_seconds_during_flood": _spread(
                [a.seconds for a in during if a.status in (200, 202)]
            ),
        },
        "healthz": {
            "probes": len(health),
            "missed": sum(1 for a in health if a.status != 200),
            "seconds": _spread([a.seconds for a in health]),
        },
        "recovery_seconds": round(recovered, 2),
    }


def seed(url: str, data_dir: Path, notices: int) -> tuple[str, str, str, list[tuple[str, str]]]:
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = load_app_settings(data_dir=data_dir, database_url=url, secret_key=SECRET)
    rt = build_runtime(settings)
    try:
        with session_scope(rt.sessions) as session:
            import_csv(session, REPO / "sample_frames" / "registry.csv", actor="bench")
            _camera, token = add_camera(
                session,
                camera_id="CAM-FLOOD",
                name="flood",
                violation_codes=["red_light"],
                actor="b",
            )
            reviewer = factories.officer_with_password(session, PASSWORD, username="flood.r")
            supervisor = factories.officer(session, username="flood.s", role=Role.SUPERVISOR)
            lifetime = timedelta(hours=1)
            key = settings.signing_key
            bearer_r, _ = issue(reviewer, signing_key=key, audience=Audience.API, lifetime=lifetime)
            bearer_s, _ = issue(
                supervisor, signing_key=key, audience=Audience.API, lifetime=lifetime
            )
        sent: list[tuple[str, str]] = []
        for _ in range(notices):
            with session_scope(rt.sessions) as session:
                notice = factories.sent_notice(session, rt.evidence, rt.settings)
                sent.append((notice.notice_number, session.get_one(Case, notice.case_id).plate))
        for _ in range(notices // 4):  # cases waiting for review: the queue has work
            with session_scope(rt.sessions) as session:
                factories.registered_case(session)
    finally:
        rt.close()
    return token, bearer_r, bearer_s, sent


def _own_cpu() -> float:
    """This process and the measuring one (a child it has waited for)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _run_loop(main: Any) -> Any:
    """uvloop where installed (uvicorn[standard] brings it): the client's own CPU competes
    with the server's on this machine, so it should cost as little as it can."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def checks(report: dict[str, Any]) -> dict[str, bool]:
    groups = [report["anonymous"], report["officers"], report["camera"]]
    overload = [g for g in groups if g["overload_answers"]]
    return {
        "no server errors": all(g["server_errors"] == 0 for g in groups),
        "every request answered": all(g["unanswered"] == 0 for g in groups),
        "overload answered with Retry-After": all(
            g["overload_with_retry_after"] == g["overload_answers"] for g in groups
        ),
        "overload answered within 1 s (p99)": all(
            g["overload_seconds"]["p99"] < 1.0 for g in overload
        ),
        "healthz within 1 s throughout": report["healthz"]["missed"] == 0,
        "camera push p99 under 1 s": report["camera"]["push_seconds"].get("p99", 99) < 1.0,
        "back to normal within 5 s": report["recovery_seconds"] <= 5.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="admin URL: run on a scratch PostgreSQL database")
    parser.add_argument("--redis", help="Redis URL for the queue (own queue name)")
    parser.add_argument("--anonymous", type=int, default=1000)
    parser.add_argument("--officers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=4.0, help="camera frames per second")
    parser.add_argument("--before", type=float, default=5.0, help="seconds before the flood")
    parser.add_argument("--after", type=float, default=5.0, help="seconds after recovery")
    parser.add_argument("--notices", type=int, default=200)
    parser.add_argument("--api-workers", type=int, default=1, help="etle serve processes")
    parser.add_argument(
        "--intake-server",
        action="store_true",
        help="the camera pushes to an `etle serve` of its own (same data and database), as on "
        "a private camera network; the flood goes to the other",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (0 < args.anonymous <= 5000 and 0 <= args.officers <= 1000 and args.rate <= 50):
        raise SystemExit("bounded: at most 5,000 anonymous, 1,000 officer requests, 50 frames/s")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # a socket per request, both sides
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))

    data_dir = Path(tempfile.mkdtemp(prefix="etle-flood-"))
    scratch = f"etle_flood_{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{data_dir / 'etle.db'}"
    if args.postgres:
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        url = admin.url.set(database=scratch).render_as_string(hide_password=False)
        admin.dispose()
    server: subprocess.Popen[bytes] | None = None
    intake: subprocess.Popen[bytes] | None = None
    try:
        token, bearer_r, bearer_s, sent = seed(url, data_dir, args.notices)
        env = {
            **os.environ,
            "ETLE_DATA_DIR": str(data_dir),
            "ETLE_DATABASE_URL": url,
            "ETLE_SECRET_KEY": SECRET,
            "ETLE_LOG_FORMAT": "json",
            "ETLE_QUEUE_NAME": f"etle-flood-{uuid.uuid4().hex[:8]}",
        }
        if args.redis:
            env["ETLE_QUEUE_URL"] = args.redis
        port = free_port()
        etle = [sys.executable, "-c", "from api.cli.main import main; main()"]
        server = subprocess.Popen(
            [*etle, "serve", "--port", str(port), "--no-access-log",
             "--workers", str(args.api_workers)],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        camera_port = port
        if args.intake_server:
            camera_port = free_port()
            intake = subprocess.Popen(
                [*etle, "serve", "--port", str(camera_port), "--no-access-log"],
                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            wait_ready(f"http://127.0.0.1:{camera_port}", intake)
        wait_ready(f"http://127.0.0.1:{port}", server)
        fx = Fixture(port, camera_port, token, bearer_r, bearer_s, sent)
        load_before = os.getloadavg()
        busy, total = machine_busy()
        server_cpu = process_tree_cpu(server.pid)
        client_cpu = _own_cpu()
        report = _run_loop(run(fx, args))
        client_cpu = _own_cpu() - client_cpu
        server_cpu = process_tree_cpu(server.pid) - server_cpu
        busy2, total2 = machine_busy()
        report["database"] = "postgresql" if args.postgres else "sqlite"
        report["queue"] = "redis" if args.redis else "sqlite"
        report["api_workers"] = args.api_workers
        report["intake_server"] = args.intake_server
        report["server_cpu_seconds"] = round(server_cpu, 2)
        report["client_cpu_seconds"] = round(client_cpu, 2)
        report["machine"] = {
            "cores": os.cpu_count(),
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in os.getloadavg()],
            "busy_cores_during_run": round(
                (busy2 - busy) / (total2 - total) * (os.cpu_count() or 1), 2
            ),
        }
        report["checks"] = checks(report)
    finally:
        for process in (server, intake):
            if process is not None:
                stop(process, timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
        if args.postgres:
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
            admin.dispose()
    if args.json:
        print(json.dumps(report))
    else:
        print(json.dumps(report, indent=2))
    sys.exit(0 if all(report["checks"].values()) else 1)


if __name__ == "__main__":
    main()
