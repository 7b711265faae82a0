"""Officer accounts and sign-in: argon2 hashes, the policy, rate limits, revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.models import AuditEvent
from etle.cases.config import ReviewSettings
from etle.cases.lease import claim
from etle.cases.models import Case, CaseStatus
from etle.errors import Conflict, RateLimited, Unauthorized, ValidationFailed
from etle.officers import passwords
from etle.officers.config import OfficerSettings
from etle.officers.models import Role
from etle.officers.service import add_officer, disable_officer, officer_for, reset_password
from etle.officers.tokens import Audience, issue, read
from tests import factories

GOOD = "Tilang-elektronik-2026"
NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
LIMITS = OfficerSettings(login_max_failures=3, login_max_failures_per_address=5)


@pytest.fixture
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


def test_passwords_are_argon2id_with_the_recommended_parameters() -> None:
    hashed = passwords.hash_password(GOOD)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(hashed, GOOD)
    assert not passwords.verify_password(hashed, GOOD + "x")
    assert not passwords.verify_password("", GOOD)  # account without a password
    assert not passwords.verify_password("garbage", GOOD)


@pytest.mark.parametrize("weak", ["short", "password", "aaaaaaaaaaaaaaa", "x" * 300])
def test_weak_passwords_are_refused(weak: str) -> None:
    with pytest.raises(ValidationFailed):
        passwords.hash_password(weak)


@pytest.mark.usefixtures("quick_hashes")
def test_adding_an_officer_is_audited_without_secrets(session: Session) -> None:
    officer = add_officer(
        session,
        username="Rina.Polantas",
        role=Role.REVIEWER,
        password=GOOD,
        nik="3171012345678901",
        actor="officer:admin",
    )
    assert officer.username == "rina.polantas"
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "officer.created", AuditEvent.entity_id == str(officer.id)
        )
    ).one()
    text = repr(event.after)
    assert GOOD not in text
    assert officer.password_hash not in text
    assert "3171012345678901" not in text
    with pytest.raises(Conflict):
        add_officer(session, username="rina.polantas", role=Role.REVIEWER, password=GOOD, actor="a")
    for bad_name, nik in (("x", None), ("has space", None), ("ok.name", "123")):
        with pytest.raises(ValidationFailed):
            add_officer(
                session, username=bad_name, role=Role.REVIEWER, password=GOOD, nik=nik, actor="a"
            )


@pytest.mark.usefixtures("quick_hashes")
def test_login_records_attempts_and_limits_guessing(session: Session) -> None:
    name = f"guess{factories.unique_plate().lower()}"
    factories.officer_with_password(session, GOOD, username=name)
    for i in range(3):
        result = factories.attempt_login(
            session,
            username=name,
            password=f"wrong-{i}",
            address="10.0.0.1",
            settings=LIMITS,
            now=NOW,
        )
        assert isinstance(result.refusal, Unauthorized)
    locked = factories.attempt_login(
        session, username=name, password=GOOD, address="10.0.0.2", settings=LIMITS, now=NOW
    )
    assert isinstance(locked.refusal, RateLimited)
    later = NOW + timedelta(seconds=LIMITS.login_window_seconds + 1)
    ok = factories.attempt_login(
        session, username=name, password=GOOD, address="10.0.0.2", settings=LIMITS, now=later
    )
    assert ok.refusal is None
    assert ok.accepted().username == name


@pytest.mark.usefixtures("quick_hashes")
def test_one_address_trying_many_usernames_is_limited(session: Session) -> None:
    address = f"10.9.{factories.unique_plate()[1:5]}"
    for i in range(LIMITS.login_max_failures_per_address):
        factories.attempt_login(
            session,
            username=f"nobody{i}",
            password="x" * 12,
            address=address,
            settings=LIMITS,
            now=NOW,
        )
    result = factories.attempt_login(
        session, username="somebody", password="x" * 12, address=address, settings=LIMITS, now=NOW
    )
    assert isinstance(result.refusal, RateLimited)


@pytest.mark.usefixtures("quick_hashes")
def test_a_disabled_officer_cannot_sign_in_and_old_credentials_stop(session: Session) -> None:
    officer = factories.officer_with_password(session, GOOD)
    _, credential = issue(
        officer, signing_key=b"k" * 32, audience=Audience.API, lifetime=timedelta(minutes=5)
    )
    assert officer_for(session, credential) is officer
    disable_officer(session, officer.username, actor="officer:admin")
    with pytest.raises(Unauthorized):
        officer_for(session, credential)
    result = factories.attempt_login(
        session, username=officer.username, password=GOOD, address="10.1.1.1", settings=LIMITS
    )
    assert isinstance(result.refusal, Unauthorized)


@pytest.mark.usefixtures("quick_hashes")
def test_disabling_an_officer_returns_their_case_to_the_queue(session: Session) -> None:
    officer = factories.officer_with_password(session, GOOD)
    for other in session.scalars(select(Case).where(Case.status == CaseStatus.PENDING_REVIEW)):
        factories.set_status(session, other, CaseStatus.CLOSED)
    case = factories.registered_case(session)
    assert claim(session, officer=officer, settings=ReviewSettings()) is case
    disable_officer(session, officer.username, actor="officer:admin")
    assert case.lease_officer_id is None
    assert claim(session, officer=factories.officer(session), settings=ReviewSettings()) is case


@pytest.mark.usefixtures("quick_hashes")
def test_reset_password_revokes_and_old_hashes_are_upgraded_at_login(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    officer = factories.officer_with_password(session, GOOD)
    _, credential = issue(
        officer, signing_key=b"k" * 32, audience=Audience.API, lifetime=timedelta(minutes=5)
    )
    reset_password(session, officer.username, password="A-new-long-passphrase", actor="admin")
    with pytest.raises(Unauthorized):
        officer_for(session, credential)
    # Stronger parameters later: the next successful sign-in stores a new hash.
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=2, memory_cost=2048))
    old_hash = officer.password_hash
    result = factories.attempt_login(
        session,
        username=officer.username,
        password="A-new-long-passphrase",
        address="10.1.1.3",
        settings=LIMITS,
    )
    assert result.refusal is None
    assert officer.password_hash != old_hash
    assert "t=2" in officer.password_hash


def test_tokens_are_bound_to_their_purpose_and_key() -> None:
    officer = factories.Officer(id=7, username="x", role=Role.REVIEWER, auth_version=3)
    token, _ = issue(
        officer, signing_key=b"k" * 32, audience=Audience.CONSOLE, lifetime=timedelta(hours=1)
    )
    credential = read(token, signing_key=b"k" * 32, audience=Audience.CONSOLE)
    assert (credential.officer_id, credential.auth_version) == (7, 3)
    assert credential.csrf
    with pytest.raises(Unauthorized):
        read(token, signing_key=b"k" * 32, audience=Audience.API)
    with pytest.raises(Unauthorized):
        read(token, signing_key=b"j" * 32, audience=Audience.CONSOLE)
