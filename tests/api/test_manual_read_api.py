"""The manual-read path over HTTP: a case that needs a plate is claimed with its candidate
boxes, keyed by one officer with a box, confirmed by another; the keyer is refused."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.runtime import Runtime
from etle.audit.models import AuditEvent
from etle.cases.manual_read import open_without_plate
from etle.cases.models import Case, CaseStatus
from etle.db import session_scope
from etle.notices.models import Notice
from tests import factories
from tests.api.conftest import bearer, make_officer

SAMPLES = Path(__file__).resolve().parents[2] / "sample_frames"


def plate_less_sample_case(rt: Runtime, index: int = 0) -> tuple[int, list[int], str]:
    """A needs_plate case on a real sample frame whose true plate box is offered as a low-score
    detector box; returns the case id, the box and the plate, which is registered."""
    item = json.loads((SAMPLES / "frames.json").read_text())[index]
    with session_scope(rt.sessions) as session:
        cam = factories.camera(session)
        src = factories.stored_frame(
            session, rt.evidence, cam, (SAMPLES / item["file"]).read_bytes()
        )
        factories.vehicle(session, item["plate"])
        case = open_without_plate(
            session,
            frame=src,
            violation_code="red_light",
            reads=[],
            weak_boxes=[(tuple(item["plate_box"]), 0.06)],
            extra_flags=[],
            actor="test",
        )
        return case.id, item["plate_box"], item["plate"]


def test_a_plate_keyed_over_the_api_needs_a_second_officer(rt: Runtime, client: TestClient) -> None:
    case_id, box, plate = plate_less_sample_case(rt)
    keyer = bearer(rt, make_officer(rt))
    second = bearer(rt, make_officer(rt))

    claimed = client.post("/api/v1/review/claim", headers=keyer)
    assert claimed.status_code == 200
    body = claimed.json()
    assert body["case"]["case_id"] == case_id
    assert body["case"]["stage"] == "plate"
    assert body["case"]["flags"] == ["no_plate_found"]
    assert body["case"]["actions"] == ["key", "reject", "escalate"]
    assert body["case"]["box_candidates"] == [{"box": box, "source": "detector", "score": 0.06}]
    assert body["plate_url"] is None
    assert client.get(body["frame_url"], headers=keyer).status_code == 200

    url = f"/api/v1/review/{case_id}/decision"
    refused = client.post(url, headers=keyer, json={"action": "confirm"})
    assert refused.status_code == 409
    assert "no plate yet" in refused.json()["message"]
    no_box = client.post(url, headers=keyer, json={"action": "key", "plate": plate})
    assert no_box.status_code == 422
    huge = client.post(
        url, headers=keyer, json={"action": "key", "plate": plate, "box": [0, 0, 10**30, 5]}
    )
    assert huge.status_code == 422
    keyed = client.post(url, headers=keyer, json={"action": "key", "plate": plate, "box": box})
    assert keyed.status_code == 200, keyed.text
    assert keyed.json()["status"] == "pending_second_review"
    assert keyed.json()["notice_number"] is None

    # The keyer gets nothing more; the second officer gets the case and confirms it.
    assert client.post("/api/v1/review/claim", headers=keyer).status_code == 204
    again = client.post("/api/v1/review/claim", headers=second).json()
    assert again["case"]["case_id"] == case_id
    assert again["case"]["hand_over"]["action"] == "key"
    assert again["case"]["read"]["box"] == box
    assert again["case"]["read"]["keyed"] is True
    assert client.get(again["plate_url"], headers=second).status_code == 200
    done = client.post(url, headers=second, json={"action": "confirm"})
    assert done.status_code == 200
    assert done.json()["notice_number"]

    with session_scope(rt.sessions) as session:
        assert session.get_one(Case, case_id).status == CaseStatus.CONFIRMED
        assert len(session.scalars(select(Notice).where(Notice.case_id == case_id)).all()) == 1
        actions = session.scalars(
            select(AuditEvent.after)
            .where(AuditEvent.entity_id == str(case_id), AuditEvent.action == "review.decision")
            .order_by(AuditEvent.seq)
        ).all()
    assert [a["action"] for a in actions] == ["key", "confirm"]
    assert actions[0]["box"] == box
