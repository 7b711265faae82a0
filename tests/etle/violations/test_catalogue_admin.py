"""The violation catalogue: administrators edit it, every change is audited before/after."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etle.audit.models import AuditEvent
from etle.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from etle.officers.models import Role
from etle.violations.admin import list_violations, set_violation
from etle.violations.catalogue import SEED, get_violation, seed_catalogue
from etle.violations.models import ViolationType
from tests import factories

REQUIRED = {
    "red_light": ("Pasal 287 ayat (2)", 500_000),
    "signs_markings": ("Pasal 287 ayat (1)", 500_000),
    "stop_line": ("Pasal 287 ayat (1)", 500_000),
    "wrong_way": ("Pasal 287 ayat (1)", 500_000),
    "bus_lane": ("Pasal 287 ayat (1)", 500_000),
    "odd_even": ("Pasal 287 ayat (1)", 500_000),
    "speeding": ("Pasal 287 ayat (5)", 500_000),
    "phone_use": ("Pasal 283", 750_000),
    "no_seat_belt": ("Pasal 289", 250_000),
    "no_helmet": ("Pasal 291", 250_000),
    "invalid_plate": ("Pasal 280", 500_000),
}


def events(session: Session) -> int:
    return session.scalar(select(func.count(AuditEvent.seq))) or 0


def last_event(session: Session) -> AuditEvent:
    return session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()


def test_the_seed_holds_every_required_violation_with_its_article_and_fine(
    session: Session,
) -> None:
    rows = {v.code: v for v in list_violations(session)}
    for code, (article, fine) in REQUIRED.items():
        assert article in rows[code].legal_basis
        assert rows[code].legal_basis.startswith("UU 22/2009")
        assert rows[code].max_fine_rp == fine
        assert rows[code].name_id
        assert rows[code].name_en


def test_an_administrator_changes_a_fine_and_the_change_is_audited(session: Session) -> None:
    admin = factories.officer(session, role=Role.ADMINISTRATOR)
    violation, changed = set_violation(
        session, code="no_helmet", officer=admin, max_fine_rp=300_000
    )
    assert changed
    assert violation.max_fine_rp == 300_000
    event = last_event(session)
    assert (event.actor, event.action, event.entity_id) == (
        admin.actor,
        "catalogue.update",
        "no_helmet",
    )
    assert (event.before, event.after) == ({"max_fine_rp": 250_000}, {"max_fine_rp": 300_000})


def test_setting_the_same_values_again_changes_and_audits_nothing(session: Session) -> None:
    admin = factories.officer(session, role=Role.ADMINISTRATOR)
    before = events(session)
    _, changed = set_violation(session, code="speeding", officer=admin, max_fine_rp=500_000)
    assert not changed
    assert events(session) == before


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.SUPERVISOR])
def test_only_administrators_edit_the_catalogue(session: Session, role: Role) -> None:
    officer = factories.officer(session, role=role)
    before = events(session)
    with pytest.raises(Forbidden):
        set_violation(session, code="speeding", officer=officer, max_fine_rp=1)
    assert session.get_one(ViolationType, "speeding").max_fine_rp == 500_000
    assert events(session) == before


def test_a_disabled_administrator_is_refused(session: Session) -> None:
    admin = factories.officer(session, role=Role.ADMINISTRATOR, active=False)
    with pytest.raises(Unauthorized, match="disabled"):
        set_violation(session, code="speeding", officer=admin, max_fine_rp=400_000)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"max_fine_rp": 0}, "between 1 and"),
        ({"max_fine_rp": -5}, "between 1 and"),
        ({"max_fine_rp": 5_000_000_000}, "between 1 and"),
        ({"max_fine_rp": True}, "whole rupiah"),
        ({"name_id": "   "}, "1-200 characters"),
    ],
)
def test_bad_values_are_refused_and_nothing_changes(
    session: Session, changes: dict[str, object], problem: str
) -> None:
    admin = factories.officer(session, role=Role.ADMINISTRATOR)
    before = events(session)
    with pytest.raises(ValidationFailed, match=problem):
        set_violation(session, code="red_light", officer=admin, **changes)  # type: ignore[arg-type]
    assert session.get_one(ViolationType, "red_light").max_fine_rp == 500_000
    assert events(session) == before


def test_a_new_code_needs_every_field_and_is_audited(session: Session) -> None:
    admin = factories.officer(session, role=Role.ADMINISTRATOR)
    with pytest.raises(ValidationFailed, match="needs name_en, legal_basis, max_fine_rp"):
        set_violation(session, code="tinted_glass", officer=admin, name_id="Kaca film gelap")
    violation, changed = set_violation(
        session,
        code="overload",
        officer=admin,
        name_id="Muatan melebihi batas",
        name_en="Overloaded vehicle",
        legal_basis="UU 22/2009 Pasal 307",
        max_fine_rp=500_000,
    )
    assert changed
    assert violation.active
    event = last_event(session)
    assert event.action == "catalogue.create"
    assert event.after is not None
    assert event.after["legal_basis"] == "UU 22/2009 Pasal 307"
    with pytest.raises(ValidationFailed, match="lower-case"):
        set_violation(
            session,
            code="Bad Code",
            officer=admin,
            name_id="x",
            name_en="x",
            legal_basis="x",
            max_fine_rp=1,
        )


def test_a_deactivated_code_can_no_longer_be_reported_and_survives_the_seed(
    session: Session,
) -> None:
    admin = factories.officer(session, role=Role.ADMINISTRATOR)
    set_violation(session, code="odd_even", officer=admin, active=False)
    with pytest.raises(NotFound):
        get_violation(session, "odd_even")
    assert seed_catalogue(session) == 0  # the seed never undoes an administrator's edit
    assert not session.get_one(ViolationType, "odd_even").active
    assert len(list_violations(session, include_inactive=False)) == len(SEED) - 1
