"""What the supervisor sees of an owner's "not my vehicle" report: the owner's note and photo
of their own vehicle, beside the camera's evidence, under the same rules as the evidence (the
officer holds the case, or supervises; never a case about their own vehicle) and re-checked by
hash like it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.cases.evidence_access import viewable_case
from etle.errors import NotFound
from etle.evidence import BlobStore
from etle.officers.models import Officer
from etle.portal.models import CaseResponse, ResponseKind


def owner_report(session: Session, case_id: int) -> CaseResponse | None:
    """The case's latest "not my vehicle" report, if any."""
    return session.scalars(
        select(CaseResponse)
        .where(
            CaseResponse.case_id == case_id,
            CaseResponse.kind == ResponseKind.NOT_MY_VEHICLE.value,
        )
        .order_by(CaseResponse.id.desc())
        .limit(1)
    ).first()


def owner_photo(
    session: Session, store: BlobStore, *, case_id: int, officer: Officer
) -> tuple[bytes, str]:
    case = viewable_case(session, case_id=case_id, officer=officer)
    report = owner_report(session, case.id)
    if report is None or report.photo_sha256 is None:
        raise NotFound(f"case {case.id} has no photo from its owner")
    return store.get(report.photo_sha256), report.photo_content_type or "image/jpeg"
