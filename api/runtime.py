"""The composition root: settings in, wired components out.

The API process, the workers and every CLI command build the same `Runtime`, so the embedded
default (SQLite + SQLite queue + local folders) and the scaled one (PostgreSQL + Redis) differ
only in settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.figures import FiguresCache
from api.settings import AppSettings
from camera_ingest.jobs import RECOGNIZE, register_ingest_jobs
from camera_ingest.processing import WorkerContext
from camera_ingest.recognition.loading import load_recognizer
from camera_ingest.recognition.pipeline import Recognizer
from etle.db import create_engine, session_factory
from etle.evidence import LocalBlobStore, document_store, evidence_store
from etle.queue import JobQueue, build_huey
from notices.dispatch import DispatchContext, build_context
from notices.jobs import enqueue_on_commit, register_notice_jobs


@dataclass
class Runtime:
    settings: AppSettings
    engine: Engine
    sessions: sessionmaker[Session]
    evidence: LocalBlobStore
    documents: LocalBlobStore
    queue: JobQueue
    _recognizer: Recognizer | None = field(default=None, repr=False)
    # The portal's public statistics, shared by its page and its API (api/figures.py).
    figures: FiguresCache = field(default_factory=FiguresCache, repr=False)

    def recognizer(self) -> Recognizer:
        # Loaded on first use: the API process enqueues recognition but never runs it.
        if self._recognizer is None:
            self._recognizer = load_recognizer(self.settings)
        return self._recognizer

    @cached_property
    def ingest(self) -> WorkerContext:
        return WorkerContext(self.settings, self.sessions, self.evidence, self.recognizer)

    @cached_property
    def dispatch(self) -> DispatchContext:
        return build_context(self.settings, self.sessions, self.evidence, self.documents)

    def enqueue_recognition(self, frame_id: int) -> None:
        self.queue.send(RECOGNIZE, frame_id)

    def close(self) -> None:
        if "dispatch" in self.__dict__:  # built on first use; its SMTP sessions end here
            self.dispatch.close()
        self.engine.dispose()


# Connections beyond the pool, for what runs outside the admission lanes (a metrics scrape's
# state gauges, the after-commit sweep of a worker sharing the runtime).
POOL_OVERFLOW = 8
# A request that cannot get a connection in this time is answered 503 (api/errors.py) rather
# than kept waiting: with the pool sized to the lanes it only happens when the database itself
# is slow to hand connections back.
POOL_TIMEOUT_SECONDS = 5


def pool_options(settings: AppSettings, url: str) -> dict[str, int]:
    """A pool with a connection for every request the process admits at once
    (`ETLE_REQUESTS_AT_ONCE`, api/admission.py), so an admitted request never waits for one."""
    if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") == "sqlite:"):
        return {}  # one connection per thread: nothing to size
    return {
        "pool_size": max(settings.database_pool_size, settings.requests_at_once),
        "max_overflow": POOL_OVERFLOW,
        "pool_timeout": POOL_TIMEOUT_SECONDS,
    }


def build_runtime(settings: AppSettings) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.effective_database_url
    engine = create_engine(url, **pool_options(settings, url))
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        evidence=evidence_store(settings.data_dir),
        documents=document_store(settings.data_dir),
        queue=JobQueue(build_huey(settings)),
    )
    register_ingest_jobs(runtime.queue, runtime.ingest)
    register_notice_jobs(runtime.queue, runtime.dispatch)
    enqueue_on_commit(runtime.sessions, runtime.queue)
    return runtime
