"""Serving a case's evidence to officers: who may see it, and always re-checked by hash.

An officer sees the evidence of the case they hold a live lease on; a supervisor (who reviews
overrides) may see any case's. Nobody sees a case about their own vehicle. The store re-hashes
the file on every read, and the hash must also be the one the case recorded when it opened.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from etle.cases.eligibility import has_conflict_of_interest
from etle.cases.models import Case
from etle.clock import utcnow
from etle.errors import EvidenceTampered, Forbidden, NotFound
from etle.evidence import BlobStore
from etle.frames.crop import plate_crop
from etle.frames.models import Frame, PlateRead
from etle.officers.access import Permission, allows, require
from etle.officers.models import Officer


def viewable_case(
    session: Session, *, case_id: int, officer: Officer, now: datetime | None = None
) -> Case:
    require(officer, Permission.REVIEW)
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    now = now or utcnow()
    holds = (
        case.lease_officer_id == officer.id
        and case.lease_expires_at is not None
        and case.lease_expires_at > now
    )
    if not holds and not allows(officer, Permission.SEE_OVERRIDES):
        raise Forbidden(f"case {case_id} is not leased to you")
    if has_conflict_of_interest(session, case, officer):
        raise Forbidden("conflict of interest: the vehicle is registered to this officer")
    return case


def frame_image(
    session: Session, store: BlobStore, *, case_id: int, officer: Officer
) -> tuple[bytes, str]:
    """The evidence frame's bytes and content type."""
    case = viewable_case(session, case_id=case_id, officer=officer)
    frame = session.get_one(Frame, case.evidence_frame_id)
    if frame.sha256 != case.evidence_sha256:
        raise EvidenceTampered(f"case {case.id}: the evidence frame no longer matches the case")
    return store.get(case.evidence_sha256), frame.content_type


def plate_image(session: Session, store: BlobStore, *, case_id: int, officer: Officer) -> bytes:
    """A zoomed PNG of the plate the case was opened on."""
    case = viewable_case(session, case_id=case_id, officer=officer)
    if case.plate_read_id is None:
        raise NotFound(f"case {case.id} has no plate read to show")
    read = session.get_one(PlateRead, case.plate_read_id)
    frame = session.get_one(Frame, read.frame_id)
    if frame.id == case.evidence_frame_id and frame.sha256 != case.evidence_sha256:
        raise EvidenceTampered(f"case {case.id}: the evidence frame no longer matches the case")
    return plate_crop(store.get(frame.sha256), read.box)
