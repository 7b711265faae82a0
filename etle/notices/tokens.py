"""Signed, expiring verification tokens: what a notice's QR code carries.

A token is `CODE.EXPIRY.SIGNATURE`: the notice's verification code, the last day the token is
valid (days since 1970-01-01, base 36) and an HMAC-SHA256 over both with the deployment's
signing key, cut to 96 bits. The letter renderer signs it and the portal (the verification
endpoint now, the citizen page of the portal later) reads it, both through this module.

Why not a general-purpose serializer: the token is printed as a QR code on paper, so it must be
short (about 30 characters keeps the QR small and easy to scan), and it must come out the same
every time the same letter is rendered (the PDF is kept by hash), so the expiry is derived from
the notice and no signing time is embedded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta

_EPOCH = date(1970, 1, 1)
_PURPOSE = b"etle-notice-verify-v1"
_SIGNATURE_BYTES = 12
_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"

# The portal page a notice's QR code opens: `{ETLE_PORTAL_URL}/verifikasi/{token}`. The public
# portal serves the citizen-facing page at this path; the JSON answer behind it is
# `GET /api/v1/public/verify/{token}`.
VERIFY_PAGE_PATH = "/verifikasi"


@dataclass(frozen=True, slots=True)
class TokenReading:
    code: str
    expires_on: date

    def expired(self, today: date) -> bool:
        return today > self.expires_on


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _DIGITS36[r] + out
        if n == 0:
            return out


def _signature(key: bytes, code: str, expiry: str) -> str:
    mac = hmac.new(key, _PURPOSE + b"|" + f"{code}|{expiry}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:_SIGNATURE_BYTES]).decode().rstrip("=")


def sign_token(code: str, expires_on: date, key: bytes) -> str:
    expiry = _base36((expires_on - _EPOCH).days)
    return f"{code}.{expiry}.{_signature(key, code, expiry)}"


def read_token(token: str, key: bytes) -> TokenReading | None:
    """The code and expiry of a genuine token; None for anything forged, altered or malformed.

    Expiry is left to the caller, so a page can tell "expired" from "forged".
    """
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts) or len(token) > 64:
        return None
    code, expiry, signature = parts
    if not hmac.compare_digest(signature, _signature(key, code, expiry)):
        return None
    try:
        days = int(expiry, 36)
    except ValueError:
        return None
    return TokenReading(code=code, expires_on=_EPOCH + timedelta(days=days))


def verification_url(portal_url: str, token: str) -> str:
    return f"{portal_url.rstrip('/')}{VERIFY_PAGE_PATH}/{token}"


def token_from_url(url: str, portal_url: str) -> str | None:
    """The token in a verification URL, if the URL is one of the official portal's."""
    prefix = f"{portal_url.rstrip('/')}{VERIFY_PAGE_PATH}/"
    if not url.startswith(prefix):
        return None
    token = url.removeprefix(prefix)
    return token if token and "/" not in token and "?" not in token else None
