"""Signing in, rate-limited in the database so the limit holds across every API process.

A username gets `login_max_failures` failures within `login_window_seconds` (counted from its
last success), a client address `login_max_failures_per_address`. Past either, even the right
password is refused until the window has passed, so guessing cannot continue at full speed; the
refused tries are not counted, so an attacker cannot extend an officer's lockout for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from etle.audit.chain import record
from etle.cases.service import lock_key
from etle.clock import utcnow
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


def attempt_login(
    session: Session,
    *,
    username: str,
    password: str,
    address: str,
    settings: OfficerSettings,
    now: datetime | None = None,
) -> LoginResult:
    """Check a username and password and record the attempt.

    Never raises for bad credentials: the attempt must be committed even when refused, so the
    caller commits, then calls `LoginResult.accepted()`.
    """
    now = now or utcnow()
    name = username.strip().lower()[:64]
    address = address[:64]
    lock_key(session, f"login:{name}")  # PostgreSQL: one check per username at a time
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
        return LoginResult(
            None,
            RateLimited(
                "too many failed sign-ins; wait before trying again",
                retry_after=settings.login_window_seconds,
            ),
        )

    officer = get_by_username(session, name)
    ok = verify_password(officer.password_hash if officer else "", password)
    ok = ok and officer is not None and officer.active
    session.add(LoginAttempt(username=name, address=address, succeeded=ok, attempted_at=now))
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < now - KEEP_ATTEMPTS))
    if not ok or officer is None:
        session.flush()
        return LoginResult(None, Unauthorized("wrong username or password, or account disabled"))
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
