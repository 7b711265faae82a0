"""Signing in, rate-limited in the database so the limit holds across every API process.

A username gets `login_max_failures` failures within `login_window_seconds` (counted from its
last success), a client address `login_max_failures_per_address`. Past either, even the right
password is refused until the window has passed, so guessing cannot continue at full speed; the
refused tries are not counted, so an attacker cannot extend an officer's lockout for ever.

The password check (argon2id: a good part of a second of one core) never runs inside a
transaction. On SQLite a transaction holds the database's only write lock, and 75 failed
sign-ins held it long enough to delay every camera push by seconds (issue 17). So a sign-in is
two short transactions with the check between them (`sign_in`): the first counts the attempt as
a failure at once (concurrent guesses see it), the second turns it into a success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.clock import utcnow
from etle.db import lock_key, session_scope
from etle.errors import EtleError, RateLimited, Unauthorized
from etle.officers.config import OfficerSettings
from etle.officers.models import LoginAttempt, Officer
from etle.officers.passwords import needs_rehash, rehash_password, verify_password
from etle.officers.service import get_by_username

LOGIN = "login"  # LoginAttempt.purpose of sign-ins; the portal's limits use other purposes
# Attempts older than this are deleted as new ones come in; the audit trail keeps successes.
KEEP_ATTEMPTS = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class LoginResult:
    officer: Officer | None
    refusal: EtleError | None

    def accepted(self) -> Officer:
        """The officer, or the refusal raised: call after the attempt has been committed."""
        if self.refusal is not None:
            raise self.refusal
        assert self.officer is not None
        return self.officer


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """An attempt counted (as a failure until proven otherwise), waiting for its password check."""

    attempt_id: int | None
    officer_id: int | None  # None: no such account, or disabled
    password_hash: str  # what to check against ("" when there is no account to check)
    refusal: EtleError | None  # over a limit: refused before any check


def begin_login(
    session: Session,
    *,
    username: str,
    address: str,
    settings: OfficerSettings,
    now: datetime | None = None,
) -> PendingLogin:
    """Refuse if over a limit; otherwise record the attempt as a failure and say what the
    password is to be checked against. Short: no password hashing here."""
    now = now or utcnow()
    name = username.strip().lower()[:64]
    address = address[:64]
    lock_key(session, f"login:{name}")  # PostgreSQL: one count per username at a time
    window_start = now - timedelta(seconds=settings.login_window_seconds)

    last_success = session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.purpose == LOGIN,
            LoginAttempt.username == name,
            LoginAttempt.succeeded.is_(True),
        )
    )
    since = max(window_start, last_success) if last_success else window_start
    by_name = _failures(session, LoginAttempt.username == name, since)
    by_address = _failures(session, LoginAttempt.address == address, window_start)
    if (
        by_name >= settings.login_max_failures
        or by_address >= settings.login_max_failures_per_address
    ):
        refusal = RateLimited(
            "too many failed sign-ins; wait before trying again",
            retry_after=settings.login_window_seconds,
        )
        return PendingLogin(None, None, "", refusal)

    officer = get_by_username(session, name)
    attempt = LoginAttempt(username=name, address=address, succeeded=False, attempted_at=now)
    session.add(attempt)
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - KEEP_ATTEMPTS))
    session.flush()
    if officer is None or not officer.active:
        return PendingLogin(attempt.id, None, "", None)
    return PendingLogin(attempt.id, officer.id, officer.password_hash, None)


def check_password(pending: PendingLogin, password: str) -> bool:
    """The slow part, outside any transaction. An unknown account costs the same time."""
    return verify_password(pending.password_hash, password) and pending.officer_id is not None


def finish_login(
    session: Session, pending: PendingLogin, *, password: str, ok: bool
) -> LoginResult:
    """Turn the counted attempt into a success (audited) if the password was right and the
    account did not change meanwhile; otherwise it stays a failure."""
    if pending.refusal is not None:
        return LoginResult(None, pending.refusal)
    officer = session.get(Officer, pending.officer_id) if ok and pending.officer_id else None
    if (
        officer is None
        or not officer.active
        or officer.password_hash != pending.password_hash  # reset between the two steps
    ):
        return LoginResult(None, Unauthorized("wrong username or password, or account disabled"))
    attempt = session.get(LoginAttempt, pending.attempt_id)
    if attempt is not None:
        attempt.succeeded = True
    if needs_rehash(officer.password_hash):
        officer.password_hash = rehash_password(password)
    session.flush()
    record(
        session,
        actor=officer.actor,
        action="officer.signed_in",
        entity_type="officer",
        entity_id=officer.id,
    )
    return LoginResult(officer, None)


def sign_in(
    sessions: Callable[[], Session],
    *,
    username: str,
    password: str,
    address: str,
    settings: OfficerSettings,
) -> LoginResult:
    """The whole sign-in for a server: two transactions of its own, each committed, with the
    password check between them. Never raises for bad credentials; call
    `LoginResult.accepted()` afterwards."""
    with session_scope(sessions) as session:
        pending = begin_login(session, username=username, address=address, settings=settings)
    if pending.refusal is not None:
        return LoginResult(None, pending.refusal)
    ok = check_password(pending, password)
    with session_scope(sessions) as session:
        return finish_login(session, pending, password=password, ok=ok)


def _failures(session: Session, who: object, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                who,  # type: ignore[arg-type]
                LoginAttempt.purpose == LOGIN,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.attempted_at > since,
            )
        )
        or 0
    )
