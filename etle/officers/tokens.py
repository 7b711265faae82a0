"""Signed, short-lived credentials for officers: API bearer tokens and console sessions.

Both are JWTs (PyJWT, HS256) signed with a key derived from the settings' signing key, one key
per purpose, and carry a different audience, so an API token is no console cookie and the
reverse. They name the officer and the officer's `auth_version`; the caller checks both against
the database on every request, so a disabled officer or a reset password ends every session at
once, however long the token still had to live.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt

from etle.clock import utcnow
from etle.errors import Unauthorized
from etle.officers.models import Officer

ISSUER = "etle"
ALGORITHM = "HS256"


class Audience(StrEnum):
    API = "etle:officer-api"
    CONSOLE = "etle:officer-console"


@dataclass(frozen=True, slots=True)
class Credential:
    officer_id: int
    auth_version: int
    expires_at: datetime
    # Console sessions only: the secret every form post must echo (CSRF protection).
    csrf: str | None = None


def derive_key(signing_key: bytes, audience: Audience) -> bytes:
    """A 256-bit key for one purpose: a token of one kind never verifies as another."""
    return hmac.new(signing_key, f"etle officer credential {audience}".encode(), "sha256").digest()


def issue(
    officer: Officer,
    *,
    signing_key: bytes,
    audience: Audience,
    lifetime: timedelta,
    now: datetime | None = None,
) -> tuple[str, Credential]:
    issued = (now or utcnow()).replace(microsecond=0)
    credential = Credential(
        officer_id=officer.id,
        auth_version=officer.auth_version,
        expires_at=issued + lifetime,
        csrf=secrets.token_urlsafe(24) if audience is Audience.CONSOLE else None,
    )
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": audience.value,
        "sub": str(officer.id),
        "ver": officer.auth_version,
        "iat": issued,
        "exp": credential.expires_at,
        "jti": secrets.token_urlsafe(12),
    }
    if credential.csrf is not None:
        claims["csrf"] = credential.csrf
    token = jwt.encode(claims, derive_key(signing_key, audience), algorithm=ALGORITHM)
    return token, credential


def read(token: str, *, signing_key: bytes, audience: Audience) -> Credential:
    """The credential a token carries; Unauthorized if it is forged, expired or of another kind."""
    try:
        claims = jwt.decode(
            token,
            derive_key(signing_key, audience),
            algorithms=[ALGORITHM],
            audience=audience.value,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        officer_id, version = int(claims["sub"]), int(claims["ver"])
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the session has expired; sign in again") from exc
    except (jwt.InvalidTokenError, KeyError, TypeError, ValueError) as exc:
        raise Unauthorized("invalid credential") from exc
    csrf = claims.get("csrf")
    return Credential(
        officer_id=officer_id,
        auth_version=version,
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        csrf=str(csrf) if csrf is not None else None,
    )


def same_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a form's CSRF field with the session's."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
