"""Helpers for the portal's API, page and browser tests: notices as the portal meets them, a
signed bank callback, the form token of a page."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from api.runtime import Runtime
from etle.cases.models import Case
from etle.db import session_scope
from etle.notices.models import Notice
from etle.payments.callback import sign_callback
from tests import factories
from tests.portal_fixtures import BANK_SECRET


def new_notice(rt: Runtime, **kw: Any) -> tuple[str, str]:
    """A sent notice: its number and plate."""
    with session_scope(rt.sessions) as session:
        notice: Notice = factories.sent_notice(session, rt.evidence, rt.settings, **kw)
        return notice.notice_number, session.get_one(Case, notice.case_id).plate


def callback(
    client: TestClient,
    body: dict[str, Any] | bytes,
    *,
    secret: str = BANK_SECRET,
    timestamp: int | None = None,
    request_id: str | None = None,
    signature: str | None = None,
) -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    rid = request_id or f"req-{uuid.uuid4()}"
    headers = {
        "Content-Type": "application/json",
        "X-ETLE-Timestamp": str(ts),
        "X-ETLE-Request-Id": rid,
        "X-ETLE-Signature": signature or sign_callback(secret, ts, rid, raw),
    }
    return client.post("/api/v1/payments/callback", content=raw, headers=headers)


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no form token on the page"
    return found.group(1)
