"""Deadlines per jurisdiction: the notice's respond-by and the payment's pay-by follow them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.settings import load_app_settings
from etle.audit.models import AuditEvent
from etle.cases.lifecycle import issue_payment
from etle.cases.models import CaseStatus
from etle.cases.review import confirm
from etle.clock import local, utcnow
from etle.errors import Forbidden, ValidationFailed
from etle.jurisdictions.service import assign_camera, deadlines_for, set_jurisdiction
from etle.officers.models import Role
from tests import factories


def today() -> date:
    return local(utcnow(), "Asia/Jakarta").date()


def test_a_camera_outside_any_jurisdiction_uses_the_settings(session: Session) -> None:
    camera = factories.camera(session)
    settings = load_app_settings(respond_days=9, pay_days=4)
    deadlines = deadlines_for(session, camera.id, settings)
    assert (deadlines.respond_days, deadlines.pay_days, deadlines.jurisdiction) == (9, 4, None)


def test_a_notice_gets_the_respond_by_of_its_cameras_jurisdiction(session: Session) -> None:
    unit = factories.jurisdiction(session, respond_days=14, pay_days=3)
    camera = factories.camera(session)
    camera.jurisdiction_code = unit.code
    car = factories.vehicle(session)
    case = factories.case(session, camera=camera, vehicle_id=car.id, owner_id=car.owner_id)
    notice = confirm(
        session, case=case, officer=factories.officer(session), settings=load_app_settings()
    )
    assert notice.respond_by == today() + timedelta(days=14)
    assert case.due_on == notice.respond_by

    other = factories.vehicle(session, "B1235ABC")
    elsewhere = factories.case(session, vehicle_id=other.id, owner_id=other.owner_id)
    notice = confirm(
        session,
        case=elsewhere,
        officer=factories.officer(session),
        settings=load_app_settings(respond_days=8),
    )
    assert notice.respond_by == today() + timedelta(days=8)


def test_a_payment_gets_the_pay_by_of_its_cameras_jurisdiction(session: Session) -> None:
    unit = factories.jurisdiction(session, respond_days=14, pay_days=3)
    camera = factories.camera(
        session,
    )
    camera.jurisdiction_code = unit.code
    case = factories.noticed_case(session, camera=camera)
    pay_by = issue_payment(
        session, case=case, actor="portal:x", settings=load_app_settings(), today=date(2026, 12, 1)
    )
    assert pay_by == date(2026, 12, 4) == case.due_on
    assert case.status == CaseStatus.PAYMENT_ISSUED


def test_administrators_set_deadlines_and_assign_cameras_audited(session: Session) -> None:
    admin = factories.officer(session, role=Role.ADMINISTRATOR)
    unit, created = set_jurisdiction(
        session,
        code="POLDA-BALI",
        officer=admin,
        name="Polda Bali",
        respond_days=10,
        pay_days=7,
    )
    assert created
    set_jurisdiction(session, code="POLDA-BALI", officer=admin, pay_days=14)
    camera = factories.camera(session)
    assign_camera(session, camera_id=camera.id, code="POLDA-BALI", officer=admin)
    assert deadlines_for(session, camera.id, load_app_settings()).pay_days == 14
    trail = [
        (e.action, e.before, e.after)
        for e in session.scalars(
            select(AuditEvent).where(AuditEvent.actor == admin.actor).order_by(AuditEvent.seq)
        )
    ]
    assert trail == [
        (
            "jurisdiction.created",
            None,
            {"name": "Polda Bali", "respond_days": 10, "pay_days": 7},
        ),
        ("jurisdiction.updated", {"pay_days": 7}, {"pay_days": 14}),
        ("camera.jurisdiction_changed", {"jurisdiction": None}, {"jurisdiction": "POLDA-BALI"}),
    ]
    assert unit.pay_days == 14


def test_deadlines_are_checked_and_only_administrators_change_them(session: Session) -> None:
    admin = factories.officer(session, role=Role.ADMINISTRATOR)
    with pytest.raises(ValidationFailed, match="between 1 and 365"):
        set_jurisdiction(
            session, code="POLDA-X", officer=admin, name="X", respond_days=0, pay_days=7
        )
    with pytest.raises(ValidationFailed, match="needs pay_days"):
        set_jurisdiction(session, code="POLDA-X", officer=admin, name="X", respond_days=7)
    with pytest.raises(Forbidden):
        set_jurisdiction(
            session,
            code="POLDA-X",
            officer=factories.officer(session, role=Role.SUPERVISOR),
            name="X",
            respond_days=7,
            pay_days=7,
        )


def test_a_jurisdiction_names_who_issues_its_letters_and_falls_back_to_settings(
    session: Session,
) -> None:
    from etle.jurisdictions.service import default_issuer, issuer_of

    admin = factories.officer(session, role=Role.ADMINISTRATOR)
    unit, created = set_jurisdiction(
        session,
        code="POLDA-JATIM",
        officer=admin,
        name="Polda Jawa Timur",
        respond_days=8,
        pay_days=7,
        issuer={"issuing_unit": "Ditlantas Polda Jatim", "signatory_name": "  AKBP  Contoh  "},
    )
    assert created
    settings = load_app_settings(signatory_title="Petugas ETLE")
    issuer = issuer_of(unit, default_issuer(settings))
    assert (issuer.unit, issuer.signatory_name) == ("Ditlantas Polda Jatim", "AKBP Contoh")
    assert issuer.signatory_title == "Petugas ETLE"  # unset here: the default from settings
    set_jurisdiction(session, code="POLDA-JATIM", officer=admin, issuer={"issuing_unit": ""})
    assert unit.issuing_unit is None  # "" puts it back to the default
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "jurisdiction.updated")
    ).all()
    assert events[-1].before == {"issuing_unit": "Ditlantas Polda Jatim"}
    with pytest.raises(ValidationFailed, match="at most 200"):
        set_jurisdiction(
            session, code="POLDA-JATIM", officer=admin, issuer={"signatory_title": "x" * 201}
        )
    with pytest.raises(ValidationFailed, match="unknown issuer field"):
        set_jurisdiction(session, code="POLDA-JATIM", officer=admin, issuer={"nope": "x"})
