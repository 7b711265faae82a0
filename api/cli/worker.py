from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict
from datetime import timedelta
from typing import Annotated

import typer
from huey.consumer import Consumer
from prometheus_client import start_http_server

from api.cli.common import DataDir, JsonFlag, err, out, print_json, report_failures, runtime
from api.logs import configure_logging
from api.runtime import Runtime
from camera_ingest.jobs import sweep_frames
from etle.clock import utcnow
from etle.db import session_scope
from etle.frames.accounting import failures
from notices.jobs import sweep_deliveries

log = logging.getLogger(__name__)
SWEEP_EVERY_SECONDS = 60


def worker(
    data_dir: DataDir = None,
    burst: Annotated[
        bool,
        typer.Option(
            "--burst", help="Work until the queue is empty, then exit (cron jobs, tests, the demo)."
        ),
    ] = False,
    threads: Annotated[
        int,
        typer.Option(
            help="Worker threads in this process. Recognition is "
            "CPU-bound: run one process per core instead."
        ),
    ] = 1,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve this process's Prometheus metrics on 127.0.0.1:PORT."),
    ] = None,
    sweep_every: Annotated[
        float,
        typer.Option(help="Seconds between sweeps for frames and deliveries whose job was lost."),
    ] = SWEEP_EVERY_SECONDS,
    json: JsonFlag = False,
) -> None:
    """Run background jobs: plate recognition and notice dispatch.

    Start one per core, on as many machines as needed, against the same database and queue
    (ETLE_DATABASE_URL, ETLE_QUEUE_URL, ETLE_QUEUE_NAME). With `--burst` it exits with status 1,
    naming the cause, when frames could not be read. On start and every minute the worker
    also re-queues frames and deliveries whose job was lost (a worker killed mid-job, a crash
    after commit). Ctrl-C (SIGINT) finishes the jobs in hand, then stops; SIGTERM stops at once
    and puts the jobs in hand back on the queue.
    """
    with runtime(data_dir) as rt:
        if not burst:
            configure_logging(rt.settings.log_format)
        rt.dispatch.journal.prune()
        if burst:
            started, since = time.perf_counter(), utcnow()
            ran = _burst(rt)
            elapsed = time.perf_counter() - started
            with session_scope(rt.sessions) as session:
                failed = failures(session, rejected_since=since)
            if json:
                print_json(
                    {
                        "jobs": ran,
                        "seconds": round(elapsed, 2),
                        "failures": [asdict(f) for f in failed],
                    }
                )
            else:
                out.print(f"ran {ran} jobs in {elapsed:.1f} s; queue empty")
            report_failures(failed)
            return
        if metrics_port is not None:
            start_http_server(metrics_port, addr="127.0.0.1")
        # Load the models now: a worker with a broken model setting fails at start, not on its
        # first frame, and the first frame is not slower than the others.
        rt.recognizer()
        _serve(rt, threads, sweep_every)


def _burst(rt: Runtime) -> int:
    ran = rt.queue.drain()
    # Whatever still waits once the queue is empty lost its job: send it again, however recent
    # (nothing else is running), and drain again. A few rounds at most, so a job that keeps
    # failing cannot keep the burst going for ever.
    for _round in range(3):
        swept = sweep_frames(rt.queue, rt.ingest, older_than=timedelta(0))
        swept += sweep_deliveries(rt.queue, rt.dispatch, older_than=timedelta(0))
        if swept == 0:
            break
        ran += rt.queue.drain()
    return ran


def _serve(rt: Runtime, threads: int, sweep_every: float = 60) -> None:
    huey = rt.queue.huey
    rt.queue.requeue_interrupted()
    stop = threading.Event()

    def sweep_now_and_then() -> None:
        # In a thread of this process rather than as a Huey periodic job: a periodic job goes
        # through the shared queue, where a process that does not know it (`--burst`, the API)
        # could take it. The first sweep runs at once: jobs lost while no worker ran are due.
        while not stop.is_set():
            try:
                sweep_frames(rt.queue, rt.ingest)
                sweep_deliveries(rt.queue, rt.dispatch)
            except Exception:  # the database is down: try again next time
                log.exception("sweep failed; trying again in %s s", sweep_every)
            stop.wait(sweep_every)

    sweeper = threading.Thread(target=sweep_now_and_then, name="sweep", daemon=True)
    sweeper.start()
    err.print(
        f"worker: {threads} thread(s) on {type(huey).__name__} queue {huey.name!r}; Ctrl-C "
        "finishes the jobs in hand, SIGTERM puts them back on the queue"
    )
    try:
        Consumer(huey, workers=threads, worker_type="thread", periodic=False).run()
    finally:
        stop.set()
