"""Officer accounts: create, disable, reset a password, and resolve a credential or a username
(with a permission) to an officer.

Every change is audited. Passwords and hashes never reach the audit trail or the logs.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.cases.lease import release_all
from etle.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from etle.officers.access import Permission, require
from etle.officers.models import Officer, Role
from etle.officers.passwords import hash_password
from etle.officers.tokens import Credential

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_NIK = re.compile(r"^[0-9]{16}$")


def get_by_username(session: Session, username: str) -> Officer | None:
    return session.scalar(select(Officer).where(Officer.username == username.strip().lower()))


def get_officer(session: Session, username: str) -> Officer:
    officer = get_by_username(session, username)
    if officer is None:
        raise NotFound(f"no officer {username!r}")
    return officer


def officer_with(session: Session, username: str, permission: Permission) -> Officer:
    """The officer with this username, if they hold `permission` (the CLI's `--as`)."""
    officer = get_officer(session, username)
    require(officer, permission)
    return officer


def list_officers(session: Session) -> list[Officer]:
    return list(session.scalars(select(Officer).order_by(Officer.username)))


def ensure_officer(
    session: Session, *, username: str, role: Role, full_name: str, actor: str
) -> Officer:
    """The officer with this username, created (without a password) if missing."""
    officer = get_by_username(session, username)
    if officer is not None:
        return officer
    officer = Officer(username=username, role=role, full_name=full_name, password_hash="")
    session.add(officer)
    session.flush()
    record(
        session,
        actor=actor,
        action="officer.created",
        entity_type="officer",
        entity_id=officer.id,
        after={"username": username, "role": role.value, "full_name": full_name},
    )
    return officer


def add_officer(
    session: Session,
    *,
    username: str,
    role: Role,
    password: str,
    actor: str,
    full_name: str = "",
    nik: str | None = None,
) -> Officer:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise ValidationFailed(
            "a username is 2-64 lower-case letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    if nik is not None and not _NIK.match(nik):
        raise ValidationFailed("a NIK is 16 digits")
    if get_by_username(session, username) is not None:
        raise Conflict(f"officer {username!r} already exists")
    officer = Officer(
        username=username,
        role=Role(role),
        full_name=full_name.strip(),
        nik=nik,
        password_hash=hash_password(password),
        active=True,
        auth_version=1,
    )
    session.add(officer)
    session.flush()
    record(
        session,
        actor=actor,
        action="officer.created",
        entity_type="officer",
        entity_id=officer.id,
        # The NIK is personal data: the trail says one was recorded, not which.
        after={
            "username": username,
            "role": officer.role,
            "full_name": officer.full_name,
            "nik_recorded": nik is not None,
        },
    )
    return officer


def disable_officer(session: Session, username: str, *, actor: str) -> Officer:
    """Disable the account: its tokens and sessions stop working at the next request, and the
    cases it holds go back to the queue (`etle.cases.lease.release_all`: this module builds on
    the case lease, which itself needs only `etle.officers.access` and the officer model)."""
    officer = get_officer(session, username)
    if not officer.active:
        return officer
    officer.active = False
    officer.auth_version += 1
    released = release_all(session, officer)
    session.flush()
    record(
        session,
        actor=actor,
        action="officer.disabled",
        entity_type="officer",
        entity_id=officer.id,
        before={"active": True},
        after={"active": False, "released_cases": released},
    )
    return officer


def sign_out(session: Session, officer: Officer) -> None:
    """End every token and console session of this officer (the console's sign-out).

    Deleting the cookie alone would leave a copy of it (a shared terminal, a proxy log) valid
    until it expires; this makes any earlier credential fail at its next request.
    """
    officer.auth_version += 1
    session.flush()


def reset_password(session: Session, username: str, *, password: str, actor: str) -> Officer:
    """Set a new password; every token and console session issued before stops working."""
    officer = get_officer(session, username)
    officer.password_hash = hash_password(password)
    officer.auth_version += 1
    session.flush()
    record(
        session,
        actor=actor,
        action="officer.password_reset",
        entity_type="officer",
        entity_id=officer.id,
    )
    return officer


def officer_for(session: Session, credential: Credential) -> Officer:
    """The officer a credential names, if the account is still active and nothing revoked it.

    Runs on every request: disabling an account takes effect at once, not at the next login.
    """
    officer = session.get(Officer, credential.officer_id)
    if officer is None or not officer.active:
        raise Unauthorized("unknown or disabled officer")
    if officer.auth_version != credential.auth_version:
        raise Unauthorized("this session was ended (password reset or account change)")
    return officer
