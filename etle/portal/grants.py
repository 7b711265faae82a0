"""What a successful lookup gives: a signed, short-lived grant to the notices it opened.

A grant names pairs (case id, owner id): the case, as seen by the owner the notice was addressed
to. If the case later moves to another owner (a reported sale), the grant still opens it, but
only as "passed to the new owner": the seller never sees the buyer's side. The grant is a JWT
(PyJWT, HS256) with its own audience and a key derived for this purpose alone, so it is no
officer credential and no officer credential is a grant. The web portal keeps it in a cookie
with a CSRF secret; the JSON API hands it out as a bearer token.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from etle.clock import utcnow
from etle.errors import Unauthorized

AUDIENCE = "etle:portal"
ISSUER = "etle"
ALGORITHM = "HS256"
MAX_CASES = 50  # a vehicle with more open notices than this is shown the newest ones


@dataclass(frozen=True, slots=True)
class Grant:
    cases: frozenset[tuple[int, int]]  # (case id, owner id)
    expires_at: datetime
    csrf: str

    def owner_for(self, case_id: int) -> int | None:
        return next((owner for case, owner in self.cases if case == case_id), None)


def _key(signing_key: bytes) -> bytes:
    return hmac.new(signing_key, b"etle portal grant v1", "sha256").digest()


def issue_grant(
    cases: list[tuple[int, int]],
    *,
    signing_key: bytes,
    lifetime: timedelta,
    now: datetime | None = None,
) -> tuple[str, Grant]:
    issued = (now or utcnow()).replace(microsecond=0)
    grant = Grant(
        cases=frozenset(cases[:MAX_CASES]),
        expires_at=issued + lifetime,
        csrf=secrets.token_urlsafe(24),
    )
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": issued,
        "exp": grant.expires_at,
        "g": sorted([case, owner] for case, owner in grant.cases),
        "csrf": grant.csrf,
    }
    return jwt.encode(claims, _key(signing_key), algorithm=ALGORITHM), grant


def read_grant(token: str, *, signing_key: bytes) -> Grant:
    try:
        claims = jwt.decode(
            token,
            _key(signing_key),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "aud", "iss"]},
        )
        cases = frozenset((int(c), int(o)) for c, o in claims["g"])
        csrf = str(claims["csrf"])
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the session has ended; look the notice up again") from exc
    except (jwt.InvalidTokenError, KeyError, TypeError, ValueError) as exc:
        raise Unauthorized("look the notice up first") from exc
    return Grant(cases, datetime.fromtimestamp(int(claims["exp"]), UTC), csrf)


def merge(old: Grant | None, new: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A second lookup in the same browser adds to the first (a family with two cars)."""
    pairs = list(new)
    if old is not None:
        pairs += [p for p in sorted(old.cases) if p not in new]
    return pairs[:MAX_CASES]
