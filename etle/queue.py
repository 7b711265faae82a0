"""The job queue shared by every worker: Huey, on an SQLite file by default and on Redis at scale.

The same task code runs on both. Jobs carry only row ids; the database stays the source of
truth. Huey removes a job when a worker takes it, so a worker killed mid-job loses that job:
sweeps over the database (frames still `queued`, deliveries still `pending`) send them again, and
every job is idempotent, so work happens at least once and its effects exactly once. A worker
that is stopped rather than killed puts the jobs in its hands back on the queue itself
(`requeue_interrupted`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.signals import SIGNAL_INTERRUPTED
from huey.storage import SqliteStorage

from etle.config import Settings
from etle.errors import ConfigError

log = logging.getLogger(__name__)

QUEUE_NAME = "etle"


def build_huey(settings: Settings, *, name: str | None = None) -> Huey:
    name = name or settings.queue_name or QUEUE_NAME
    if settings.queue_url and settings.queue_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name=name, url=settings.queue_url, results=False)
    if settings.queue_url:
        raise ConfigError(f"unsupported ETLE_QUEUE_URL {settings.queue_url!r}; use redis://...")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(
        name=name,
        filename=str(settings.data_dir / "queue.db"),
        results=False,
        storage_class=_QueueFileStorage,
    )


class _QueueFileStorage(SqliteStorage):  # type: ignore[misc]
    """SqliteHuey's storage without an fsync on every enqueue.

    SQLite's default (synchronous=FULL) syncs the disk on each commit: one fsync per frame
    queued, under the queue file's lock. The database, not the queue, is the record of what is
    waiting: a job lost to a power cut is sent again by the sweep. synchronous=NORMAL in WAL
    mode keeps the queue file consistent through a power cut and loses nothing on a crash of
    the process.
    """

    def _create_connection(self) -> Any:
        connection = super()._create_connection()
        connection.execute("pragma synchronous=NORMAL")
        return connection


class JobQueue:
    """Named jobs on one Huey instance.

    Producers and workers both register every job (registration is cheap: handlers build their
    heavy context, such as loaded models, on first use), so a job sent by the API process is
    known by the same name to a worker on another machine.
    """

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self._tasks: dict[str, Any] = {}

    def register(
        self, name: str, handler: Callable[..., Any], *, retries: int = 3, retry_delay: int = 10
    ) -> None:
        self._tasks[name] = self.huey.task(name=name, retries=retries, retry_delay=retry_delay)(
            handler
        )

    def send(self, name: str, *args: Any) -> None:
        self.huey.enqueue(self._tasks[name].s(*args))

    def depth(self) -> int:
        return int(self.huey.pending_count())

    def requeue_interrupted(self) -> None:
        """When a consumer stops before its jobs finish (SIGTERM), put those jobs back.

        Huey reports every job still in a worker's hands as interrupted on the way out. Jobs are
        idempotent, so one that did finish after all and is queued again changes nothing.
        """

        def requeue(_signal: str, task: Any, *_args: Any, **_kwargs: Any) -> None:
            try:
                self.huey.enqueue(task)
                log.warning("job %s was interrupted; queued again", task.name)
            except Exception:  # the queue is gone too: the sweep finds the row later
                log.exception("could not queue interrupted job %s again", task.name)

        self.huey.signal(SIGNAL_INTERRUPTED)(requeue)

    def drain(
        self, *, now: datetime | None = None, on_task: Callable[[Any], None] | None = None
    ) -> int:
        """Run every job that is due, in this process; return how many ran (`--burst`)."""
        ran = 0
        while True:
            for task in self.huey.read_schedule(now):
                self.huey.enqueue(task)
            task = self.huey.dequeue()
            if task is None:
                return ran
            self.huey.execute(task, now)
            ran += 1
            if on_task is not None:
                on_task(task)

    def send_in(self, delay_seconds: float, name: str, *args: Any) -> None:
        """Queue a job to run no sooner than `delay_seconds` from now (retries with backoff)."""
        self._tasks[name].schedule(args=args, delay=delay_seconds)
