"""A notice its recipient can check: a speeding notice states the measured speed and the limit
everywhere it goes, the letter names who issued it, and nothing is sent while the only link
notices carry would be a loopback address."""

from __future__ import annotations

import io
import json
from email import message_from_bytes, policy

import pypdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from etle.cases.models import Case
from etle.db import session_scope
from etle.errors import NotConfigured
from etle.jurisdictions.service import assign_camera, set_jurisdiction
from etle.notices.models import Delivery, DeliveryStatus, Notice
from etle.officers.models import Role
from notices.dispatch import dispatch_delivery, letter_for, pdf_for
from notices.jobs import sweep_deliveries
from notices.post_batches import export_post
from tests import factories
from tests.conftest import MakeRuntime


def _pdf_text(pdf: bytes) -> str:
    return " ".join(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())


def test_a_speeding_notice_states_speed_and_limit_on_every_channel(
    make_runtime: MakeRuntime,
) -> None:
    rt = make_runtime()
    with session_scope(rt.sessions) as session:
        notice = factories.confirmed_notice(session, rt.evidence, rt.settings, speeding=(87.5, 60))
        number = notice.notice_number
        assert (notice.measured_speed_kmh, notice.speed_limit_kmh) == (87.5, 60)
    rt.queue.drain()

    with session_scope(rt.sessions) as session:
        notice = session.scalars(select(Notice).where(Notice.notice_number == number)).one()
        letter = letter_for(session, rt.dispatch, notice)
    text = _pdf_text(pdf_for(rt.dispatch, letter, None)[0])
    assert "Kecepatan terukur 87,5 km/jam (batas kecepatan 60 km/jam)" in text

    (eml,) = rt.settings.email_folder.glob("*.eml")
    body = message_from_bytes(eml.read_bytes(), policy=policy.default).get_body(("plain",))
    assert body is not None
    assert "Kecepatan terukur: 87,5 km/jam (batas kecepatan 60 km/jam)" in body.get_content()

    (line,) = rt.settings.message_file.read_text().splitlines()
    assert "Melebihi batas kecepatan: 87,5 km/jam, batas 60" in json.loads(line)["text"]


def test_the_letter_names_its_issuer_from_the_cameras_jurisdiction(
    make_runtime: MakeRuntime,
) -> None:
    rt = make_runtime()
    with session_scope(rt.sessions) as session:
        notice = factories.confirmed_notice(
            session, rt.evidence, rt.settings, speeding=(87.0, 60), name="Siti Rahmawati"
        )
        admin = factories.officer(session, role=Role.ADMINISTRATOR)
        set_jurisdiction(
            session,
            code="POLDA-JABAR",
            officer=admin,
            name="Polda Jawa Barat",
            respond_days=8,
            pay_days=7,
            issuer={
                "issuing_unit": "Direktorat Lalu Lintas Polda Jawa Barat",
                "office_address": "Jl. Soekarno-Hatta No. 748, Bandung 40286",
                "signatory_title": "Kasubdit Gakkum",
                "signatory_name": "AKBP Contoh Nama",
            },
        )
        camera_id = session.get_one(Case, notice.case_id).camera_id
        assign_camera(session, camera_id=camera_id, code="POLDA-JABAR", officer=admin)
        letter = letter_for(session, rt.dispatch, notice)
    text = _pdf_text(pdf_for(rt.dispatch, letter, None)[0])
    for expected in (
        "DIREKTORAT LALU LINTAS POLDA JAWA BARAT",
        "Jl. Soekarno-Hatta No. 748, Bandung 40286",
        "Kasubdit Gakkum",
        "AKBP Contoh Nama",
    ):
        assert expected in text
    # A camera outside any jurisdiction: the issuer from settings.
    with session_scope(rt.sessions) as session:
        other = factories.confirmed_notice(session, rt.evidence, rt.settings)
        plain = _pdf_text(pdf_for(rt.dispatch, letter_for(session, rt.dispatch, other), None)[0])
    assert rt.settings.issuing_unit.upper() in plain
    assert rt.settings.signatory_title in plain


def test_nothing_is_sent_while_the_portal_url_is_not_https_outside_the_demo(
    make_runtime: MakeRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    rt = make_runtime(portal_url="http://127.0.0.1:8000")
    with session_scope(rt.sessions) as session:
        factories.confirmed_notice(session, rt.evidence, rt.settings)
        ids = list(session.scalars(select(Delivery.id)))
    email = ids[1]
    with pytest.raises(NotConfigured, match="ETLE_PORTAL_URL is http://127.0.0.1:8000"):
        dispatch_delivery(rt.dispatch, email)
    with pytest.raises(NotConfigured, match="set it to the portal's https:// address"):
        export_post(rt.dispatch, actor="test")
    assert sweep_deliveries(rt.queue, rt.dispatch) == 0
    assert "notices are not sent while ETLE_PORTAL_URL" in caplog.text
    with session_scope(rt.sessions) as session:
        states = set(session.scalars(select(Delivery.status)))
        claimed = set(session.scalars(select(Delivery.claimed_by)))
    assert states == {DeliveryStatus.PENDING}  # held, not failed: they go once it is set
    assert claimed == {None}
    assert not rt.settings.email_folder.exists() or not list(rt.settings.email_folder.iterdir())

    # The API says why, with the status of a setting to fix (not a crash).
    with session_scope(rt.sessions) as session:
        admin = factories.officer(session, role=Role.ADMINISTRATOR)
    from tests.api.conftest import bearer

    with TestClient(create_app(rt)) as client:
        answer = client.post("/api/v1/admin/notices/post-batches", headers=bearer(rt, admin))
    assert answer.status_code == 503
    assert answer.json()["error"] == "not_configured"

    # The same notices go out once the portal's https address is set.
    fixed = make_runtime(portal_url="https://etle.example.id")
    assert dispatch_delivery(fixed.dispatch, email) == DeliveryStatus.SENT
