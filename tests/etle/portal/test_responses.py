"""Answers to a notice: each audited, each through the lifecycle; what the public view shows."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.settings import AppSettings
from etle.audit.chain import verify
from etle.audit.models import AuditEvent
from etle.cases.models import Case, CaseStatus
from etle.clock import utcnow
from etle.evidence import LocalBlobStore
from etle.notices.models import Notice
from etle.portal.grants import Grant
from etle.portal.lookup import NoMatch
from etle.portal.models import CaseResponse, ResponseKind
from etle.portal.responses import (
    Citizen,
    Driver,
    NotOpenForAnswers,
    PortalInputError,
    buyer_details,
    respond_driver,
    respond_not_mine,
    respond_sold,
)
from etle.portal.view import build_view, mask_name, open_notice
from etle.registry.models import Owner

WEB = Citizen("web", "c0ffee")
DRIVER_NIK = "3171011503850007"  # DKI Jakarta, born 15-03-85


def _open(session: Session, notice: Notice, owner_id: int | None = None):  # type: ignore[no-untyped-def]
    grant = Grant(frozenset({(notice.case_id, owner_id or notice.owner_id)}), utcnow(), "")
    return open_notice(session, grant, notice.notice_number)


def _responses(session: Session, case_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.entity_id == str(case_id),
                AuditEvent.action == "portal.response",
            )
            .order_by(AuditEvent.seq)
        )
    )


def test_i_was_driving_gives_the_payment_code_at_once(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    payment = respond_driver(
        session, opened=_open(session, notice), driver=None, citizen=WEB, settings=settings
    )
    case = session.get_one(Case, notice.case_id)
    assert case.status == CaseStatus.PAYMENT_ISSUED
    assert payment.amount_rp == 500_000
    [event] = _responses(session, case.id)
    assert event.actor == f"citizen:notice:{notice.notice_number}"
    assert event.after is not None
    assert (event.after["kind"], event.after["channel"], event.after["client"]) == (
        "driver_self",
        "web",
        "c0ffee",
    )
    steps = [
        e.after["status"]  # type: ignore[index]
        for e in session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_id == str(case.id), AuditEvent.action == "case.transition"
            )
        )
    ]
    assert steps[-2:] == ["owner_responded", "payment_issued"]
    assert verify(session).ok


def test_someone_else_driving_is_kept_with_a_valid_nik_and_never_in_the_chain(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    driver = Driver.checked("Agus Wijaya", DRIVER_NIK, "Jl. Kramat Raya 5, Jakarta")
    respond_driver(
        session, opened=_open(session, notice), driver=driver, citizen=WEB, settings=settings
    )
    row = session.scalars(select(CaseResponse)).one()
    assert (row.kind, row.driver_nik, row.driver_name) == (
        ResponseKind.DRIVER_OTHER,
        DRIVER_NIK,
        "Agus Wijaya",
    )
    chain = session.scalars(select(AuditEvent)).all()
    assert not any(DRIVER_NIK in str(e.after) for e in chain)
    [event] = _responses(session, notice.case_id)
    assert event.after is not None
    assert event.after["details_sha256"] == row.details_sha256
    view = build_view(session, _open(session, notice))
    assert view.response is not None
    assert view.response.driver == "A*** W*****"


@pytest.mark.parametrize(
    "nik",
    [
        "317101150385000",  # 15 digits
        "31710115038500071",  # 17
        "3171013203850007",  # day 32
        "3171011513850007",  # month 13
        "9971011503850007",  # no province 99
        "31710115O3850007",  # a letter O
    ],
)
def test_a_nik_without_a_plausible_date_or_province_is_refused(nik: str) -> None:
    with pytest.raises(PortalInputError) as caught:
        Driver.checked("Agus Wijaya", nik, "Jl. Kramat Raya 5")
    assert caught.value.detail == {"field": "nik", "code": "nik_invalid"}


def test_a_womans_nik_has_forty_added_to_the_day() -> None:
    assert Driver.checked("Sri Rahayu", "3171015503850007", "Jl. Kramat 5").nik.endswith("0007")


def test_a_notice_is_answered_once(session: Session, settings: AppSettings, notice: Notice) -> None:
    respond_driver(
        session, opened=_open(session, notice), driver=None, citizen=WEB, settings=settings
    )
    with pytest.raises(NotOpenForAnswers):
        respond_driver(
            session, opened=_open(session, notice), driver=None, citizen=WEB, settings=settings
        )


def test_the_vehicle_sold_moves_the_case_to_the_buyer_with_a_fresh_notice(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    buyer = buyer_details(
        name="Dewi Lestari", nik="3174014506900004", address="Jl. Sabang 3, Jakarta Pusat"
    )
    fresh = respond_sold(
        session,
        opened=_open(session, notice),
        buyer=buyer,
        sold_on=date(2026, 11, 1),
        citizen=WEB,
        settings=settings,
    )
    case = session.get_one(Case, notice.case_id)
    new_owner = session.get_one(Owner, case.owner_id)
    assert new_owner.name == "Dewi Lestari"
    assert (fresh.issue, fresh.owner_id, case.status) == (2, new_owner.id, CaseStatus.NOTICE_SENT)
    assert session.scalars(select(CaseResponse)).one().buyer_owner_id == new_owner.id
    # The seller's grant still opens the case, as passed on, without the buyer's side.
    seller = build_view(session, _open(session, notice))
    assert seller.transferred
    assert seller.status == "transferred"
    assert seller.payment is None
    assert not seller.can_respond
    assert seller.addressed_to == mask_name(notice.recipient_name)
    assert [s.key for s in seller.timeline][-1] == "transferred"
    # The buyer's notice shows the buyer's timeline only: no trace of the seller's answer.
    buyer_view = build_view(session, _open(session, fresh))
    assert buyer_view.addressed_to == "D*** L******"
    assert buyer_view.can_respond
    assert [s.key for s in buyer_view.timeline] == ["captured", "confirmed", "notice_sent"]


def test_a_sale_after_the_violation_is_refused(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    buyer = buyer_details(name="Dewi Lestari", nik="3174014506900004", address="Jl. Sabang 3")
    with pytest.raises(PortalInputError) as caught:
        respond_sold(
            session,
            opened=_open(session, notice),
            buyer=buyer,
            sold_on=date(2026, 11, 21),  # the violation was on 20 November
            citizen=WEB,
            settings=settings,
        )
    assert caught.value.detail["code"] == "sold_after_violation"


def test_not_my_vehicle_goes_back_to_a_supervisor_with_the_owners_photo(
    session: Session, settings: AppSettings, notice: Notice, store: LocalBlobStore
) -> None:
    from tests import factories

    photo = store.put(factories.street_frame()[0])
    row = respond_not_mine(
        session,
        opened=_open(session, notice),
        photo_sha256=photo,
        content_type="image/jpeg",
        note="Mobil saya di rumah, Toyota putih",
        citizen=WEB,
    )
    case = session.get_one(Case, notice.case_id)
    assert case.status == CaseStatus.ESCALATED
    assert "suspected_clone" in case.flags
    assert case.flag_details is not None
    [detail] = case.flag_details["suspected_clone"]
    assert detail == {"source": "owner_report", "response_id": row.id, "owner_photo_sha256": photo}
    assert store.get(photo)  # kept, hash-checked
    view = build_view(session, _open(session, notice))
    assert view.status == "under_review"
    assert [s.key for s in view.timeline][-2:] == ["response_received", "under_review"]
    assert _responses(session, case.id)[0].after["kind"] == "not_my_vehicle"  # type: ignore[index]


def test_the_view_names_nobody_in_full_and_hides_contacts(
    session: Session, settings: AppSettings, notice: Notice
) -> None:
    view = build_view(session, _open(session, notice))
    text = str(view.as_dict())
    owner = session.get_one(Owner, notice.owner_id)
    for secret in (owner.name, owner.address, owner.email, owner.phone, "Santoso"):
        assert secret
        assert secret not in text
    assert view.addressed_to == "B*** S******"
    assert view.captured_at_text == "20-11-2026 07:15:00 WIB"
    assert (view.amount_rp, view.legal_basis) == (500_000, "UU 22/2009 Pasal 287 ayat (2)")


def test_a_grant_opens_only_its_own_case(
    session: Session, settings: AppSettings, notice: Notice, store: LocalBlobStore
) -> None:
    from tests.portal_fixtures import sent

    other = sent(session, store, settings)
    grant = Grant(frozenset({(notice.case_id, notice.owner_id)}), utcnow(), "")
    with pytest.raises(NoMatch):
        open_notice(session, grant, other.notice_number)
    with pytest.raises(NoMatch):
        open_notice(session, grant, "26110000009990")
    assert session.scalar(select(func.count()).select_from(CaseResponse)) == 0  # nothing answered
