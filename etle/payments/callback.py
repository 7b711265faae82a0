"""The bank callback's signature: who may tell us a case was paid.

Headers (all three required):

* `X-ETLE-Timestamp`: unix seconds when the bank sent this request;
* `X-ETLE-Request-Id`: a fresh id for every HTTP request (a UUID), retries included;
* `X-ETLE-Signature`: `sha256=` + hex HMAC-SHA256 with `ETLE_PAYMENT_CALLBACK_SECRET` over
  `"<timestamp>.<request id>."` followed by the raw body bytes.

A request with a timestamp further than `ETLE_PAYMENT_CALLBACK_MAX_AGE_SECONDS` from our clock
is refused (`stale_timestamp`), and so is a request id seen before (`replayed_request`): a
captured request cannot be played again, now or later. A bank that retries a payment sends a new
request (new timestamp and id) with the same `transaction_id`, and gets the first answer back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

from etle.clock import utcnow
from etle.payments.errors import BadSignature, StaleTimestamp

TIMESTAMP_HEADER = "X-ETLE-Timestamp"
REQUEST_ID_HEADER = "X-ETLE-Request-Id"
SIGNATURE_HEADER = "X-ETLE-Signature"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{8,64}$")


def sign_callback(secret: str, timestamp: int, request_id: str, body: bytes) -> str:
    """The `X-ETLE-Signature` value for a request (what the bank computes)."""
    message = f"{timestamp}.{request_id}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_callback(
    *,
    secret: str,
    body: bytes,
    timestamp: str | None,
    request_id: str | None,
    signature: str | None,
    max_age: int,
    now: datetime | None = None,
) -> str:
    """Check the three headers; returns the request id (to be recorded as seen)."""
    if not timestamp or not request_id or not signature:
        raise BadSignature(
            "X-ETLE-Timestamp, X-ETLE-Request-Id and X-ETLE-Signature are all required"
        )
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise BadSignature("X-ETLE-Timestamp must be unix seconds")
    if not _REQUEST_ID.match(request_id):
        raise BadSignature("X-ETLE-Request-Id must be 8-64 letters, digits or . _ : -")
    expected = sign_callback(secret, int(timestamp), request_id, body)
    if not hmac.compare_digest(signature.strip().encode(), expected.encode()):
        raise BadSignature("the signature does not match the body and headers")
    age = (now or utcnow()).timestamp() - int(timestamp)
    if abs(age) > max_age:
        raise StaleTimestamp(
            f"the request is {int(age)} s old (at most {max_age} s either way): refused as a "
            "replay; check the bank server's clock",
            detail={"age_seconds": int(age), "max_age_seconds": max_age},
        )
    return request_id
