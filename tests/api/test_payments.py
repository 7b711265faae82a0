"""The bank callback over HTTP: signature, time window, replays, idempotency, amounts; the case
paid through the lifecycle and a receipt kept by hash."""

from __future__ import annotations

import io
import json
import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select

from api.app import create_app
from api.runtime import Runtime
from etle.audit.models import AuditEvent
from etle.cases.models import Case, CaseStatus
from etle.db import session_scope
from etle.notices.models import Notice
from etle.payments.callback import sign_callback
from etle.payments.models import Payment, PaymentStatus
from tests.conftest import MakeRuntime
from tests.portal_fixtures import BANK_SECRET
from tests.portal_helpers import callback, new_notice


def _issued(rt: Runtime, client: TestClient) -> tuple[str, str]:
    """A notice answered "I was driving": its number and payment code."""
    number, plate = new_notice(rt)
    token = client.get(f"/api/v1/public/notices/{number}", params={"plate": plate}).json()
    answer = client.post(
        f"/api/v1/public/notices/{number}/driver",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        json={"driver": "self"},
    )
    return number, answer.json()["payment_code"]


def _body(code: str, **changes: Any) -> dict[str, Any]:
    body = {
        "transaction_id": "BRIVA-20261125-0001",
        "payment_code": code,
        "amount_rp": 500_000,
        "paid_at": "2026-11-25T10:15:00+07:00",
        "channel": "ATM",
    }
    body.update(changes)
    return body


def _state(rt: Runtime, number: str) -> tuple[str, str, int]:
    with session_scope(rt.sessions) as session:
        case_id = session.scalars(
            select(Notice.case_id).where(Notice.notice_number == number)
        ).one()
        payment = session.scalars(select(Payment).where(Payment.case_id == case_id)).one()
        events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        return session.get_one(Case, case_id).status, payment.status, events


def test_a_signed_callback_pays_the_case_and_issues_the_receipt(
    prt: Runtime, pclient: TestClient
) -> None:
    number, code = _issued(prt, pclient)
    response = callback(pclient, _body(code))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["duplicate"], body["case_status"]) == ("paid", False, "paid")
    assert _state(prt, number)[:2] == (CaseStatus.PAID, PaymentStatus.PAID)
    receipt = prt.documents.get(body["receipt_sha256"])  # kept by hash, re-checked
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt)).pages)
    for expected in ("TANDA TERIMA", number, "Rp 500.000", "BRIVA-20261125-0001", "LUNAS"):
        assert expected in text
    # The citizen's copy is the same file.
    token = pclient.get(
        f"/api/v1/public/notices/{number}", params={"plate": _plate(prt, number)}
    ).json()["access_token"]
    pdf = pclient.get(
        f"/api/v1/public/notices/{number}/receipt", headers={"Authorization": f"Bearer {token}"}
    )
    assert pdf.content == receipt


def _plate(rt: Runtime, number: str) -> str:
    with session_scope(rt.sessions) as session:
        case_id = session.scalars(
            select(Notice.case_id).where(Notice.notice_number == number)
        ).one()
        return session.get_one(Case, case_id).plate


def test_a_retried_transaction_answers_as_the_first_time(prt: Runtime, pclient: TestClient) -> None:
    number, code = _issued(prt, pclient)
    first = callback(pclient, _body(code))
    events = _state(prt, number)[2]
    again = callback(pclient, _body(code))  # new request id and timestamp: a bank retry
    assert again.status_code == 200
    assert again.json() == {**first.json(), "duplicate": True}
    assert _state(prt, number)[2] == events  # nothing written


def test_a_replayed_request_is_refused(prt: Runtime, pclient: TestClient) -> None:
    _number, code = _issued(prt, pclient)
    assert callback(pclient, _body(code), request_id="req-captured-01").status_code == 200
    replay = callback(pclient, _body(code), request_id="req-captured-01")
    assert replay.status_code == 409
    assert replay.json()["error"] == "replayed_request"


@pytest.mark.parametrize("age", [-400, 400, 86_400])
def test_a_request_outside_the_time_window_is_refused(
    prt: Runtime, pclient: TestClient, age: int
) -> None:
    number, code = _issued(prt, pclient)
    before = _state(prt, number)
    response = callback(pclient, _body(code), timestamp=int(time.time()) - age)
    assert response.status_code == 401
    assert response.json()["error"] == "stale_timestamp"
    assert _state(prt, number) == before


def test_bad_signatures_are_refused(prt: Runtime, pclient: TestClient) -> None:
    number, code = _issued(prt, pclient)
    before = _state(prt, number)
    raw = json.dumps(_body(code)).encode()
    ts = int(time.time())
    wrong_key = callback(pclient, raw, secret="another-secret-0123456789")
    tampered = callback(
        pclient,
        raw.replace(b"500000", b"500001"),
        timestamp=ts,
        request_id="req-tampered-1",
        signature=sign_callback(BANK_SECRET, ts, "req-tampered-1", raw),
    )
    missing = pclient.post("/api/v1/payments/callback", content=raw)
    for response in (wrong_key, tampered, missing):
        assert response.status_code == 401
        assert response.json()["error"] == "bad_signature"
    assert _state(prt, number) == before


def test_an_amount_mismatch_is_refused_and_nothing_changes(
    prt: Runtime, pclient: TestClient
) -> None:
    number, code = _issued(prt, pclient)
    before = _state(prt, number)
    response = callback(pclient, _body(code, amount_rp=50_000))
    assert response.status_code == 422
    assert response.json()["error"] == "amount_mismatch"
    assert response.json()["detail"] == {"expected_rp": 500_000, "received_rp": 50_000}
    assert _state(prt, number) == before
    # The right amount afterwards goes through (the refused request left no trace).
    assert callback(pclient, _body(code)).status_code == 200


def test_unknown_codes_and_malformed_bodies(prt: Runtime, pclient: TestClient) -> None:
    _number, code = _issued(prt, pclient)
    typo = code[:-1] + str((int(code[-1]) + 1) % 10)
    unknown = callback(pclient, _body(typo))
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_payment_code")
    naive_time = callback(pclient, _body(code, paid_at="2026-11-25T10:15:00"))
    assert naive_time.status_code == 422
    extra = callback(pclient, _body(code, note="hello"))
    assert extra.status_code == 422
    not_json = callback(pclient, b"transaction=1")
    assert not_json.status_code == 422


def test_a_second_transaction_for_a_paid_code_is_refused_for_refund(
    prt: Runtime, pclient: TestClient
) -> None:
    _number, code = _issued(prt, pclient)
    callback(pclient, _body(code))
    second = callback(pclient, _body(code, transaction_id="BRIVA-20261125-0002"))
    assert second.status_code == 409
    assert second.json()["error"] == "already_paid"
    reused = callback(pclient, _body(code, amount_rp=400_000))
    assert (reused.status_code, reused.json()["error"]) == (409, "transaction_id_reused")


def test_without_a_secret_the_callback_does_not_exist(make_rt: MakeRuntime) -> None:
    rt = make_rt(payment_callback_secret=None)
    with TestClient(create_app(rt)) as client:
        response = callback(client, _body("80777000000000123"))
    assert response.status_code == 404


def test_the_documented_example_signature_is_what_the_server_computes() -> None:
    """docs/portal.md's worked example, so a bank integrator's reference cannot drift."""
    from tests.conftest import REPO

    docs = (REPO / "docs" / "portal.md").read_text()
    body = re.search(r"^body:\s+(\{.*\})$", docs, re.M)
    signature = re.search(r"^signature: (sha256=[0-9a-f]{64})$", docs, re.M)
    assert body is not None
    assert signature is not None
    expected = sign_callback(
        "example-shared-secret-do-not-use",
        1795576500,
        "5f0c2a7e-3b1d-4d8e-9a51-0f6e2c7b9d11",
        body.group(1).encode(),
    )
    assert signature.group(1) == expected


@pytest.mark.parametrize("amount", ["500000", 500000.0, True])
def test_an_amount_that_is_not_a_whole_json_number_is_refused(
    prt: Runtime, pclient: TestClient, amount: object
) -> None:
    number, code = _issued(prt, pclient)
    before = _state(prt, number)
    response = callback(pclient, _body(code, amount_rp=amount))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "amount_rp"
    assert _state(prt, number) == before


@pytest.mark.parametrize(
    "paid_at",
    ["2099-01-01T10:00:00+07:00", "0001-01-01T00:00:00+07:00", "9999-12-31T23:59:59-07:00"],
)
def test_a_payment_time_in_the_future_or_out_of_range_is_refused(
    prt: Runtime, pclient: TestClient, paid_at: str
) -> None:
    number, code = _issued(prt, pclient)
    before = _state(prt, number)
    response = callback(pclient, _body(code, paid_at=paid_at))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "paid_at"
    assert _state(prt, number) == before
    assert callback(pclient, _body(code)).status_code == 200  # the right one still goes through
