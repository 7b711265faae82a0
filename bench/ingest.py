"""Load generator for camera intake: accepted frames per second and latency, against the real
server (`etle serve`) on loopback, with realistic 200-500 KB JPEGs.

    python bench/ingest.py                                   # embedded: SQLite + SQLite queue
    python bench/ingest.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
                           --redis redis://127.0.0.1:6379/0  # at scale: PostgreSQL + Redis

It creates a scratch data directory (and a scratch PostgreSQL database, and a queue name of its
own on Redis), registers a camera, starts `etle serve --workers N`, and lets `--concurrency`
connections push frames for `--seconds` after a warm-up. Every frame is new (its own bytes and
sequence number), so every answer should be 202. At the end it checks that every 202 is a
committed frame row with a job on the queue, and prints accepted frames/s, latency p50/p99/max,
and the CPU used by the server, by the generator and by the whole machine during the run (the
generator shares the machine: its share is printed so it can be judged). Scratch data is
removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from camera_frames import base_frames, unique
from sqlalchemy import func, select, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from api.runtime import build_runtime  # noqa: E402
from api.settings import load_app_settings  # noqa: E402
from etle.cameras.service import add_camera  # noqa: E402
from etle.db import create_engine, session_scope  # noqa: E402
from etle.frames.models import Frame  # noqa: E402
from etle.migrate import upgrade  # noqa: E402

BOUNDARY = "etle-bench-boundary"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Results:
    started: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def body(frame: bytes, sequence: int) -> bytes:
    metadata = json.dumps(
        {
            "captured_at": datetime.now(UTC).isoformat(),
            "violation": "red_light",
            "sequence": sequence,
        }
    )
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{metadata}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="f.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + frame + f"\r\n--{BOUNDARY}--\r\n".encode()


async def push(
    url: str, token: str, frames: list[bytes], concurrency: int, warmup: float, seconds: float
) -> Results:
    results = Results()
    counter = iter(range(1, 10**12))
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
    }
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        start = time.perf_counter()
        measure_from, stop_at = start + warmup, start + warmup + seconds
        results.started = measure_from

        async def connection() -> None:
            while (now := time.perf_counter()) < stop_at:
                n = next(counter)
                payload = body(unique(frames[n % len(frames)], n), n)
                sent = time.perf_counter()
                try:
                    answer = await client.post("/api/v1/frames", content=payload, headers=headers)
                    status = answer.status_code
                except httpx.HTTPError as exc:
                    if now >= measure_from:
                        results.errors[type(exc).__name__] = (
                            results.errors.get(type(exc).__name__, 0) + 1
                        )
                    continue
                if sent >= measure_from:
                    results.latencies.append(time.perf_counter() - sent)
                    results.statuses[status] = results.statuses.get(status, 0) + 1

        await asyncio.gather(*(connection() for _ in range(concurrency)))
    return results


@dataclass
class Answer:
    """One HTTP/1.1 answer read off a kept-alive connection."""

    status: int
    body: bytes
    close: bool  # the server will close the connection
    retry_after: bool


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    """Status line, headers, and the body by its Content-Length."""
    status = int((await reader.readline()).split()[1])
    length, close, retry_after = 0, False, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and b"close" in value.lower():
            close = True
        elif name == b"retry-after":
            retry_after = True
    return Answer(status, await reader.readexactly(length), close, retry_after)


async def push_raw(
    port: int,
    token: str,
    frames: list[bytes],
    concurrency: int,
    warmup: float,
    seconds: float,
    rate: float | None = None,
) -> Results:
    """The same load as `push`, written on asyncio streams: HTTP/1.1 with keep-alive, the
    request built as one bytes object, the answer read by its Content-Length. A tenth of
    httpx's CPU per request, so that the generator takes as little of the machine as it can."""
    results = Results()
    counter = iter(range(1, 10**12))
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + seconds
    results.started = measure_from
    head = (
        "POST /api/v1/frames HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
    )

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (now := time.perf_counter()) < stop_at:
            n = next(counter)
            if rate:  # open loop: frame n is due at start + n / rate, whatever the answers
                await asyncio.sleep(max(0.0, start + n / rate - now))
                now = time.perf_counter()
            payload = body(unique(frames[n % len(frames)], n), n)
            request = (head + f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload
            sent = time.perf_counter()
            try:
                writer.write(request)
                await writer.drain()
                answer = await read_answer(reader)
                status, close = answer.status, answer.close
            except (OSError, IndexError, ValueError, asyncio.IncompleteReadError) as exc:
                if now >= measure_from:
                    results.errors[type(exc).__name__] = (
                        results.errors.get(type(exc).__name__, 0) + 1
                    )
                close = True
                status = 0
            if status and sent >= measure_from:
                results.latencies.append(time.perf_counter() - sent)
                results.statuses[status] = results.statuses.get(status, 0) + 1
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return results


def process_tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of `root` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


def database_cpu(engine: Any) -> float:
    """CPU seconds of the PostgreSQL backends serving the scratch database (same machine)."""
    with engine.connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        return sum(process_tree_cpu(pid) for pid in pids)


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="admin URL: a scratch database is created there")
    parser.add_argument("--redis", help="Redis URL for the queue (a queue name of its own)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--concurrency", type=int, default=16, help="open connections")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured duration")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds not measured")
    parser.add_argument(
        "--rate",
        type=float,
        help="frames per second to offer (open loop; raw client); default: as fast as answered",
    )
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="raw: asyncio streams (least CPU); httpx: httpx.AsyncClient",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="etle-bench-"))
    queue_name = f"etle-bench-{uuid.uuid4().hex[:8]}"
    scratch_db: str | None = None
    env = {**os.environ, "ETLE_DATA_DIR": str(data_dir), "ETLE_QUEUE_NAME": queue_name}
    for name in ("ETLE_DATABASE_URL", "ETLE_QUEUE_URL"):
        env.pop(name, None)
    if args.postgres:
        scratch_db = f"etle_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{scratch_db}"'))
        admin.dispose()
        env["ETLE_DATABASE_URL"] = admin.url.set(database=scratch_db).render_as_string(
            hide_password=False
        )
    if args.redis:
        env["ETLE_QUEUE_URL"] = args.redis
    settings = load_app_settings(
        data_dir=data_dir,
        database_url=env.get("ETLE_DATABASE_URL"),
        queue_url=env.get("ETLE_QUEUE_URL"),
        queue_name=queue_name,
    )
    rt = build_runtime(settings)
    server: subprocess.Popen[bytes] | None = None
    try:
        upgrade(rt.engine)
        with session_scope(rt.sessions) as session:
            _camera, token = add_camera(
                session,
                camera_id="CAM-BENCH",
                name="bench",
                violation_codes=["red_light"],
                actor="bench",
            )
        frames = base_frames()
        sizes = sorted(len(f) for f in frames)
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable, "-c", "from api.cli.main import main; main()", "serve",
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
                "--no-access-log",
            ],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.2)
        time.sleep(1.0)  # every uvicorn worker up

        loop = asyncio.new_event_loop()
        cpu = {
            "server": process_tree_cpu(server.pid),
            "me": time.process_time(),
            "database": database_cpu(rt.engine) if args.postgres else 0.0,
        }
        busy, total = machine_busy()
        wall = time.perf_counter()
        if args.client == "raw":
            load = push_raw(
                port, token, frames, args.concurrency, args.warmup, args.seconds, args.rate
            )
        else:
            load = push(url, token, frames, args.concurrency, args.warmup, args.seconds)
        results = loop.run_until_complete(load)
        wall = time.perf_counter() - wall
        server_cpu = process_tree_cpu(server.pid) - cpu["server"]
        my_cpu = time.process_time() - cpu["me"]
        db_cpu = (database_cpu(rt.engine) - cpu["database"]) if args.postgres else 0.0
        busy2, total2 = machine_busy()
        loop.close()
        measured = time.perf_counter() - results.started

        with session_scope(rt.sessions) as session:
            rows = session.scalar(select(func.count()).select_from(Frame)) or 0
        accepted = results.statuses.get(202, 0)
        per_frame = 1000 / max(rows, 1)  # CPU was measured over the warm-up too: all rows
        report: dict[str, Any] = {
            "database": "postgresql" if args.postgres else "sqlite",
            "queue": "redis" if args.redis else "sqlite",
            "uvicorn_workers": args.workers,
            "client": args.client,
            "concurrency": args.concurrency,
            "offered_rate": args.rate,
            "frame_bytes": {"min": sizes[0], "median": sizes[len(sizes) // 2], "max": sizes[-1]},
            "measured_seconds": round(measured, 1),
            "accepted_per_second": round(accepted / measured, 1),
            "target_ratio": round(accepted / measured / 300, 2),
            "latency_ms": {
                "p50": round(percentile(results.latencies, 0.50) * 1000, 1),
                "p99": round(percentile(results.latencies, 0.99) * 1000, 1),
                "max": round(max(results.latencies, default=float("nan")) * 1000, 1),
            },
            "statuses": results.statuses,
            "errors": results.errors,
            "cpu_cores_used": {
                "server": round(server_cpu / wall, 2),
                "generator": round(my_cpu / wall, 2),
                "machine": round((busy2 - busy) / (total2 - total) * os.cpu_count(), 2),  # type: ignore[operator]
                "of": os.cpu_count(),
            },
            "cpu_ms_per_frame": {
                "server": round(server_cpu * per_frame, 2),
                "postgresql": round(db_cpu * per_frame, 2),
                "generator": round(my_cpu * per_frame, 2),
            },
            "integrity": {
                "frame_rows": rows,
                "queued_jobs": rt.queue.depth(),
                "answers_202_total": None,  # filled below: warm-up included
            },
        }
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if args.redis:
            rt.queue.huey.storage.flush_all()
        rt.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        if scratch_db:
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch_db}" WITH (FORCE)'))
            admin.dispose()
    report["integrity"].pop("answers_202_total")
    report["integrity"]["ok"] = (
        report["integrity"]["frame_rows"] == report["integrity"]["queued_jobs"]
    )
    if args.json:
        print(json.dumps(report))
        return
    lat, cores = report["latency_ms"], report["cpu_cores_used"]
    print(
        f"intake on {report['database']} + {report['queue']} queue, "
        f"{args.workers} uvicorn workers, {args.concurrency} connections ({args.client}"
        + (f", offering {args.rate:g}/s), " if args.rate else "), ")
        + f"frames {sizes[0] // 1000}-{sizes[-1] // 1000} KB"
    )
    print(
        f"  accepted {report['accepted_per_second']} frames/s "
        f"({report['target_ratio']}x the 300/s target) over {report['measured_seconds']} s"
    )
    print(f"  latency p50 {lat['p50']} ms, p99 {lat['p99']} ms, max {lat['max']} ms")
    print(f"  answers {report['statuses']}, errors {report['errors']}")
    print(
        f"  CPU cores busy: server {cores['server']}, generator {cores['generator']}, "
        f"whole machine {cores['machine']} of {cores['of']}"
    )
    per = report["cpu_ms_per_frame"]
    print(
        f"  CPU ms per accepted frame: server {per['server']}, PostgreSQL {per['postgresql']}, "
        f"generator {per['generator']}"
    )
    print(
        f"  every frame row has a queued job: {report['integrity']['ok']} "
        f"({report['integrity']['frame_rows']} rows, {report['integrity']['queued_jobs']} jobs)"
    )


if __name__ == "__main__":
    main()
