"""Ownership history and a reported sale: future notices go to the buyer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.settings import load_app_settings
from etle.audit.models import AuditEvent
from etle.cases.models import CaseStatus
from etle.cases.responses import respond_vehicle_sold
from etle.errors import Conflict, ValidationFailed
from etle.notices.models import Notice
from etle.registry.lookup import DatabaseRegistry
from etle.registry.models import Owner, Ownership
from etle.registry.ownership import report_sale
from etle.registry.rows import owner_details
from tests import factories

BUYER = owner_details(
    {
        "owner_name": "Dewi Lestari",
        "nik": "3174014506900004",
        "address": "Jl. Sabang 3, Jakarta Pusat",
        "postcode": "10350",
        "phone": "081299990004",
    }
)


def owner_on(session: Session, vehicle_id: int, moment: datetime) -> Owner | None:
    """Who owned the vehicle at a moment, read from the ownership history."""
    ownership = session.scalar(
        select(Ownership)
        .where(
            Ownership.vehicle_id == vehicle_id,
            Ownership.valid_from.is_(None) | (Ownership.valid_from <= moment),
            Ownership.valid_to.is_(None) | (Ownership.valid_to > moment),
        )
        .order_by(Ownership.valid_from.desc().nulls_last())
        .limit(1)
    )
    return session.get(Owner, ownership.owner_id) if ownership is not None else None


def test_a_reported_sale_closes_the_sellers_ownership_and_opens_the_buyers(
    session: Session,
) -> None:
    car = factories.vehicle(session, "B1234ABC")
    seller = car.owner_id
    buyer = report_sale(
        session, vehicle_id=car.id, buyer=BUYER, sold_on=date(2026, 11, 1), actor="portal:x"
    )
    assert (buyer.name, buyer.phone) == ("Dewi Lestari", "+6281299990004")
    assert car.owner_id == buyer.id
    history = list(
        session.scalars(
            select(Ownership).where(Ownership.vehicle_id == car.id).order_by(Ownership.id)
        )
    )
    sale_moment = datetime(2026, 10, 31, 17, 0, tzinfo=UTC)  # 1 Nov 00:00 WIB
    assert [(h.owner_id, h.valid_to) for h in history] == [(seller, sale_moment), (buyer.id, None)]
    assert history[1].source == "sale_reported"
    # Who owned it when: the seller before the sale, the buyer after.
    assert owner_on(session, car.id, sale_moment - timedelta(days=1)).id == seller  # type: ignore[union-attr]
    assert owner_on(session, car.id, sale_moment + timedelta(hours=1)).id == buyer.id  # type: ignore[union-attr]
    # New violations are matched to the buyer.
    record = DatabaseRegistry(session).find("B1234ABC")
    assert record is not None
    assert record.owner_id == buyer.id
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert (event.action, event.before, event.after) == (
        "registry.sale_reported",
        {"owner_id": seller},
        {"owner_id": buyer.id, "sold_on": "2026-11-01"},
    )


def test_a_sale_to_the_owner_themselves_or_in_the_future_is_refused(session: Session) -> None:
    car = factories.vehicle(session, "B1234ABC", owner=factories.owner(session, nik=BUYER.nik))
    with pytest.raises(Conflict, match="already the registered owner"):
        report_sale(session, vehicle_id=car.id, buyer=BUYER, sold_on=date(2026, 1, 1), actor="x")
    other = factories.vehicle(session, "B1235ABC")
    with pytest.raises(ValidationFailed, match="in the future"):
        report_sale(
            session,
            vehicle_id=other.id,
            buyer=BUYER,
            sold_on=date.today() + timedelta(days=2),
            actor="x",
        )


def test_a_buyer_with_an_invalid_nik_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="nik must be 16 digits"):
        owner_details({"owner_name": "X", "address": "Jl. Y", "nik": "12345"})


def test_a_sale_before_the_violation_sends_the_next_notice_to_the_buyer(session: Session) -> None:
    case = factories.noticed_case(session)  # captured 20 Nov 2026, 07:15 WIB
    seller = case.owner_id
    first = session.scalars(select(Notice).where(Notice.case_id == case.id)).one()
    assert first.recipient_name == "Budi Santoso"

    notice = respond_vehicle_sold(
        session,
        case=case,
        buyer=BUYER,
        sold_on=date(2026, 11, 20),
        actor="portal:owner",
        settings=load_app_settings(),
    )
    assert case.status == CaseStatus.NOTICE_SENT
    assert case.owner_id != seller
    assert case.owner_id == notice.owner_id
    assert (notice.issue, notice.recipient_name, notice.recipient_address) == (
        2,
        "Dewi Lestari",
        "Jl. Sabang 3, Jakarta Pusat",
    )
    assert case.due_on == notice.respond_by
    steps = [
        (e.before or {}).get("status", "") + ">" + (e.after or {}).get("status", "")
        for e in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_id == str(case.id), AuditEvent.action == "case.transition")
            .order_by(AuditEvent.seq)
        )
    ]
    assert steps[-2:] == ["notice_sent>owner_responded", "owner_responded>notice_sent"]


def test_a_sale_after_the_violation_leaves_the_case_with_the_owner_at_the_time(
    session: Session,
) -> None:
    case = factories.noticed_case(session)
    owner, events = case.owner_id, session.scalar(select(func.count(AuditEvent.seq)))
    with pytest.raises(ValidationFailed, match="after the violation"):
        respond_vehicle_sold(
            session,
            case=case,
            buyer=BUYER,
            sold_on=date(2026, 11, 21),
            actor="portal:owner",
            settings=load_app_settings(),
        )
    assert (case.status, case.owner_id) == (CaseStatus.NOTICE_SENT, owner)
    assert session.scalar(select(func.count(AuditEvent.seq))) == events
    assert session.scalar(select(func.count(Owner.id)).where(Owner.nik == BUYER.nik)) == 0


def test_a_sale_cannot_be_reported_on_a_case_without_a_notice(session: Session) -> None:
    car = factories.vehicle(session)
    case = factories.case(session, vehicle_id=car.id, owner_id=car.owner_id)
    with pytest.raises(Conflict, match="pending_review"):
        respond_vehicle_sold(
            session,
            case=case,
            buyer=BUYER,
            sold_on=date(2026, 11, 1),
            actor="portal:owner",
            settings=load_app_settings(),
        )
