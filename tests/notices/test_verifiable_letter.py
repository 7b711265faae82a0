"""The letter a citizen holds: its text, its QR code decoded back to a URL that the portal's
verification accepts, English on request, administrator-edited words, print batches."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import cv2
import numpy as np
import pypdf
import pypdfium2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from etle.db import session_scope
from etle.errors import Conflict
from etle.notices import ledger
from etle.notices.models import Delivery, DeliveryStatus, Notice
from etle.notices.tokens import token_from_url
from notices.dispatch import letter_for, pdf_for
from notices.post_batches import export_post
from tests import factories
from tests.conftest import PORTAL_URL, MakeRuntime


def _pdf(rt, notice_id: int) -> bytes:  # type: ignore[no-untyped-def]
    with session_scope(rt.sessions) as session:
        notice = session.get_one(Notice, notice_id)
        letter = letter_for(session, rt.dispatch, notice)
    return pdf_for(rt.dispatch, letter, None)[0]


def _qr_url(pdf: bytes) -> str:
    """The QR code's text, read as a phone would: from more than one distance if need be, and
    with both of OpenCV's detectors (each misses a code the other finds now and then: a phone's
    reader is better than either)."""
    page = pypdfium2.PdfDocument(pdf)[0]
    for scale in (4, 3, 5):
        image = np.array(page.render(scale=scale).to_pil().convert("L"))
        for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
            text, _points, _ = detector.detectAndDecode(image)
            if text:
                return str(text)
    raise AssertionError("the letter's QR code could not be read")


def test_letter_text_and_qr_code_verify_on_the_portal(make_runtime: MakeRuntime) -> None:
    rt = make_runtime()
    with session_scope(rt.sessions) as session:
        notice = factories.confirmed_notice(session, rt.evidence, rt.settings)
        case_plate = factories.format_plate_of(session, notice)
    pdf = _pdf(rt, notice.id)
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for expected in (
        case_plate,
        notice.notice_number,
        "Pasal 287 ayat (2)",
        "Batas waktu tanggapan",
        factories.long_date_id(notice.respond_by),
        notice.verification_code,
        f"{PORTAL_URL}/tilang",
    ):
        assert expected in text, expected

    url = _qr_url(pdf)
    assert url.startswith(f"{PORTAL_URL}/verifikasi/")
    token = token_from_url(url, PORTAL_URL)
    assert token is not None
    client = TestClient(create_app(rt))
    answer = client.get(f"/api/v1/public/verify/{token}").json()
    assert answer["genuine"] is True
    assert answer["notice"]["notice_number"] == notice.notice_number
    assert answer["notice"]["plate"] == case_plate
    assert "Budi" not in str(answer)  # never the owner's name

    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/api/v1/public/verify/{forged}").json() == {
        "genuine": False,
        "reason": "bad_signature",
        "notice": None,
    }
    by_code = client.get("/api/v1/public/verify", params={"code": notice.verification_code})
    assert by_code.json()["genuine"] is True
    unknown = client.get("/api/v1/public/verify", params={"code": "ZZZZZZZZZZ"})
    assert unknown.json()["reason"] == "unknown_code"


def test_expired_qr_token_says_so(make_runtime: MakeRuntime) -> None:
    rt = make_runtime(verify_token_days=-1)  # already past its date
    with session_scope(rt.sessions) as session:
        notice = factories.confirmed_notice(session, rt.evidence, rt.settings)
    token = token_from_url(_qr_url(_pdf(rt, notice.id)), PORTAL_URL)
    answer = TestClient(create_app(rt)).get(f"/api/v1/public/verify/{token}").json()
    assert (answer["genuine"], answer["reason"]) == (False, "expired")


def test_english_notice_for_an_owner_who_chose_english(make_runtime: MakeRuntime) -> None:
    rt = make_runtime()
    with session_scope(rt.sessions) as session:
        notice = factories.confirmed_notice(session, rt.evidence, rt.settings, language="en")
    text = pypdf.PdfReader(io.BytesIO(_pdf(rt, notice.id))).pages[0].extract_text()
    assert "TRAFFIC VIOLATION CONFIRMATION NOTICE" in text
    assert "Running a red light" in text
    assert "Respond by" in text


def test_administrator_can_edit_the_words(make_runtime: MakeRuntime, tmp_path: Path) -> None:
    folder = tmp_path / "templates" / "id"
    folder.mkdir(parents=True)
    (folder / "letter.toml").write_text('title = "SURAT KONFIRMASI POLDA METRO JAYA"\n')
    rt = make_runtime(templates_dir=tmp_path / "templates")
    with session_scope(rt.sessions) as session:
        notice = factories.confirmed_notice(session, rt.evidence, rt.settings)
    text = pypdf.PdfReader(io.BytesIO(_pdf(rt, notice.id))).pages[0].extract_text()
    assert "SURAT KONFIRMASI POLDA METRO JAYA" in text
    assert "Cara menanggapi surat ini" in text  # keys not overridden keep the shipped words


def test_print_batch_status_hand_over_and_returned_letter(make_runtime: MakeRuntime) -> None:
    rt = make_runtime()
    with session_scope(rt.sessions) as session:
        reachable = factories.confirmed_notice(session, rt.evidence, rt.settings)
        post_only = factories.confirmed_notice(
            session, rt.evidence, rt.settings, email=None, phone=None
        )
    rt.queue.drain()
    batch = export_post(rt.dispatch, actor="test")
    assert batch is not None
    assert batch.letters == 2
    assert export_post(rt.dispatch, actor="test") is None  # nothing twice

    rows = list(csv.DictReader(io.StringIO((batch.folder / "manifest.csv").read_text())))
    assert [r["notice_number"] for r in rows] == [reachable.notice_number, post_only.notice_number]
    # One column per part: the city is always in the city column (the issue: the old lines
    # split addresses by length, so the city landed in different columns).
    assert list(rows[0]) == [
        "notice_number",
        "name",
        "street",
        "district",
        "city",
        "postcode",
        "file",
    ]
    assert (rows[0]["street"], rows[0]["district"], rows[0]["city"]) == (
        "Jl. Kebon Sirih 12",
        "",
        "Jakarta",
    )
    assert rows[0]["postcode"] == "10340"
    for line in (batch.folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((batch.folder / name).read_bytes()).hexdigest() == digest

    with session_scope(rt.sessions) as session:
        assert ledger.hand_over(session, batch.name, actor="test").status == "handed_over"
    with session_scope(rt.sessions) as session, pytest.raises(Conflict):
        ledger.hand_over(session, batch.name, actor="test")

    with session_scope(rt.sessions) as session:
        ledger.mark_returned(session, reachable.notice_number, reason="pindah alamat", actor="t")
        ledger.mark_returned(session, post_only.notice_number, reason="tidak dikenal", actor="t")
    with session_scope(rt.sessions) as session:
        assert session.get_one(Notice, reachable.id).attention is None
        assert "post returned" in (session.get_one(Notice, post_only.id).attention or "")
        returned = session.scalars(
            select(Delivery).where(Delivery.status == DeliveryStatus.RETURNED)
        ).all()
        assert len(returned) == 2
        status = ledger.ledger_status(session)
    assert status.deliveries["post"]["returned"] == 2
    assert status.needs_attention == 1
    assert status.batches["handed_over"] == 1
