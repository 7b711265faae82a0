"""Administration of notices: the delivery ledger, print batches, returned letters.

Every route needs the administrator role (`api.access.AdministratorOnly`). Exporting renders
letters, so it runs in FastAPI's thread pool (a plain `def` route), never on the event loop;
large batches are better made with `etle notices export-post` on a worker machine.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.access import AdministratorOnly
from api.deps import AppRuntime, DbSession
from api.errors import error_responses
from api.hops import OneHopRoute
from etle.errors import Conflict, Forbidden, NotConfigured, NotFound, Unauthorized
from etle.notices import ledger
from etle.notices.models import Notice, PostBatch
from notices.post_batches import export_post, list_batches

router = APIRouter(prefix="/api/v1/admin/notices", tags=["admin: notices"], route_class=OneHopRoute)
ERRORS = error_responses(
    {
        Unauthorized: "not logged in as an administrator",
        Forbidden: "this officer's role may not manage notices",
        NotFound: "no such batch or notice",
        Conflict: "the batch or letter is not in a state that allows this",
        NotConfigured: "notices are held: ETLE_PORTAL_URL is not the portal's https address",
    }
)


class Returned(BaseModel):
    reason: str = Field(min_length=2, max_length=200, examples=["alamat tidak dikenal"])


def _batch(b: PostBatch) -> dict[str, Any]:
    return {
        "name": b.name,
        "status": b.status,
        "letters": b.letters,
        "sha256sums": b.sums_sha256,
        "exported_at": b.exported_at,
        "exported_by": b.exported_by,
        "handed_over_at": b.handed_over_at,
        "handed_over_by": b.handed_over_by,
    }


@router.get("/status", summary="Deliveries per channel and state", responses=ERRORS)
def status(_admin: AdministratorOnly, session: DbSession) -> dict[str, Any]:
    return ledger.ledger_status(session).as_dict()


@router.post("/post-batches", summary="Export pending letters as a print batch", responses=ERRORS)
def export(
    admin: AdministratorOnly,
    runtime: AppRuntime,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> dict[str, Any]:
    # The export runs in transactions of its own (it is the same code as the CLI's), so the
    # route takes no request session: the one that checked the officer ended its transaction
    # in the dependency's own hop (`api.hops.within_hop`), so no write lock is held meanwhile.
    batch = export_post(runtime.dispatch, actor=admin, limit=limit)
    if batch is None:
        return {"batch": None, "letters": 0}
    return {"batch": batch.name, "letters": batch.letters, "set_aside": batch.skipped}


@router.get("/post-batches", summary="Print batches, newest first", responses=ERRORS)
def batches(_admin: AdministratorOnly, runtime: AppRuntime) -> list[dict[str, Any]]:
    # As `export`: the listing reads in a session of its own.
    return [_batch(b) for b in list_batches(runtime.dispatch)]


@router.post(
    "/post-batches/{name}/hand-over", summary="The postal service took it", responses=ERRORS
)
def hand_over(name: str, admin: AdministratorOnly, session: DbSession) -> dict[str, Any]:
    return _batch(ledger.hand_over(session, name, actor=admin))


@router.post(
    "/{notice_number}/returned", summary="A letter came back undelivered", responses=ERRORS
)
def returned(
    notice_number: str, body: Returned, admin: AdministratorOnly, session: DbSession
) -> dict[str, Any]:
    delivery = ledger.mark_returned(session, notice_number, reason=body.reason, actor=admin)
    notice = session.get_one(Notice, delivery.notice_id)
    return {
        "notice_number": notice_number,
        "status": delivery.status,
        "attention": notice.attention,
    }
