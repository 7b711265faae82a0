"""Per-client rate limits kept in the database, so they hold across every API process.

The same table and the same counting as the officers' sign-in limit (`etle.officers.login`,
`login_attempts`), with a `purpose` per kind of attempt. A rule counts, within a sliding window,
a client address's attempts and, where it has one, a subject's (what was asked about, stored as
a keyed hash). Past either limit the caller is refused before anything is looked up, and the
refused tries are not counted, so the limit cannot be pushed further out for ever.

Used by the public portal: notice lookups (failures count: guessing), verification by code
(failures count) and scam reports (every report counts).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from etle.clock import utcnow
from etle.db import lock_key
from etle.errors import RateLimited
from etle.officers.models import LoginAttempt

KEEP_ATTEMPTS = timedelta(days=1)


class Purpose(StrEnum):
    LOGIN = "login"  # officer sign-in (etle.officers.login keeps its own rules)
    LOOKUP = "portal_lookup"  # a notice looked up by its number or a VIN, with the plate
    VERIFY = "portal_verify"  # a verification code typed in
    SCAM_REPORT = "scam_report"


@dataclass(frozen=True, slots=True)
class Rule:
    purpose: Purpose
    window_seconds: int
    per_address: int
    per_subject: int | None = None
    failures_only: bool = True  # False: every attempt counts (reports, not guesses)
    # The subject's own window (None: `window_seconds`), and what a refused caller is told
    # to do instead (a subject's limit is reached by everyone's attempts together).
    subject_window_seconds: int | None = None
    subject_refusal: str = "too many attempts about this; wait and try again"
    subject_refusal_code: str = "subject_limited"


def subject_key(key: bytes, value: str) -> str:
    """What was asked about, as a keyed hash: the table never holds a plate."""
    return hmac.new(key, f"etle rate subject {value}".encode(), hashlib.sha256).hexdigest()[:32]


def refusal(
    session: Session,
    rule: Rule,
    *,
    address: str,
    subject: str = "",
    now: datetime | None = None,
) -> RateLimited | None:
    """The refusal to answer with if this client (or subject) is over the limit, else None.
    Takes a lock on the address until commit (PostgreSQL), so two processes count in turn."""
    now = now or utcnow()
    address = address[:64]
    lock_key(session, f"rate:{rule.purpose}:{address}")
    since = now - timedelta(seconds=rule.window_seconds)
    if _count(session, rule, LoginAttempt.address == address, since) >= rule.per_address:
        return RateLimited(
            "too many attempts from here; wait a few minutes and try again",
            retry_after=rule.window_seconds,
        )
    if rule.per_subject is not None and subject:
        window = rule.subject_window_seconds or rule.window_seconds
        since = now - timedelta(seconds=window)
        if _count(session, rule, LoginAttempt.username == subject, since) >= rule.per_subject:
            return RateLimited(
                rule.subject_refusal,
                retry_after=window,
                detail={"code": rule.subject_refusal_code},
            )
    return None


def note(
    session: Session,
    rule: Rule,
    *,
    address: str,
    subject: str = "",
    succeeded: bool,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    # This client's attempts older than any window are of no more use (indexed delete).
    session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.purpose == rule.purpose.value,
            LoginAttempt.address == address[:64],
            LoginAttempt.attempted_at < now - KEEP_ATTEMPTS,
        )
    )
    session.add(
        LoginAttempt(
            purpose=rule.purpose.value,
            username=subject[:64],
            address=address[:64],
            succeeded=succeeded,
            attempted_at=now,
        )
    )
    session.flush()


def _count(session: Session, rule: Rule, who: object, since: datetime) -> int:
    query = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            who,  # type: ignore[arg-type]
            LoginAttempt.purpose == rule.purpose.value,
            LoginAttempt.attempted_at > since,
        )
    )
    if rule.failures_only:
        query = query.where(LoginAttempt.succeeded.is_(False))
    return int(session.scalar(query) or 0)
