"""Liveness and readiness for load balancers and orchestrators.

`/healthz` says the process answers (restart it if not). `/readyz` says whether it should be
sent work: the database answers and holds this version's tables (a database without them
answers `SELECT 1` while every request fails), the queue answers, the data directory has room
for evidence, the recognition models a worker needs are in place, and no frame waits on a
configuration problem (a model file a worker could not load: the frames are retried once it is
fixed). Each check is named in the answer, so an operator sees which one failed; any failure
answers 503 with Retry-After.
"""

from __future__ import annotations

import shutil
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import AppRuntime
from camera_ingest.recognition.loading import missing_model_files
from etle.frames.accounting import failures
from etle.frames.models import FailureCause
from etle.migrate import schema_problem

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    # async, and outside every admission lane (api/admission.py): it answers from the event
    # loop even while every thread and database connection is busy.
    return {"status": "ok"}


class SchemaMissing(Exception):
    """The database answers but lacks this version's tables."""


def _database(runtime: AppRuntime) -> str:
    with runtime.sessions() as session:
        session.execute(text("SELECT 1"))
    problem = schema_problem(runtime.engine)
    if problem is not None:
        raise SchemaMissing(problem)
    return "ok"


def _queue(runtime: AppRuntime) -> str:
    runtime.queue.depth()
    return "ok"


def _disk(runtime: AppRuntime) -> str:
    # The evidence store takes every frame; it may be a disk of its own inside the data folder.
    root = runtime.evidence.root
    free_mb = shutil.disk_usage(root if root.is_dir() else runtime.settings.data_dir).free // 2**20
    if free_mb < runtime.settings.min_free_disk_mb:
        raise OSError(f"{free_mb} MB free, below ETLE_MIN_FREE_DISK_MB")
    return "ok"


def _models(runtime: AppRuntime) -> str:
    missing = missing_model_files(runtime.settings)
    if missing:
        raise FileNotFoundError("missing: " + ", ".join(missing))
    return "ok"


def _recognition(runtime: AppRuntime) -> str:
    with runtime.sessions() as session:
        stuck = [f for f in failures(session) if f.cause == FailureCause.CONFIGURATION]
    if stuck:
        raise ConfigProblem(stuck[0].describe())
    return "ok"


class ConfigProblem(Exception):
    """A configuration problem the workers met; its text is safe to show (no personal data)."""


CHECKS = {
    "database": _database,
    "queue": _queue,
    "disk": _disk,
    "models": _models,
    "recognition": _recognition,
}


@router.get(
    "/readyz",
    summary="Readiness: database, queue, disk space, model files, recognition failures",
    responses={
        200: {"description": "Ready: every check is `ok`."},
        503: {"description": "Not ready: the failed checks say why."},
    },
)
def readyz(runtime: AppRuntime) -> Any:
    checks: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            checks[name] = check(runtime)
        except Exception as exc:  # every failure is an answer here, never a 500
            checks[name] = f"failed: {type(exc).__name__}" + (
                f": {exc}" if isinstance(exc, OSError | ConfigProblem | SchemaMissing) else ""
            )
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "not_ready", **checks}
    if ready:
        return body
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
