"""The camera push contract, `POST /api/v1/frames`, as a camera vendor sees it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from api.app import create_app
from api.runtime import Runtime, build_runtime
from api.settings import load_app_settings
from etle.cameras.models import Camera
from etle.cameras.service import add_camera, disable_camera, hash_token, rotate_token
from etle.db import session_scope
from etle.frames.models import Frame
from tests.factories import jpeg, png

URL = "/api/v1/frames"


def now() -> datetime:
    """Capture times are checked against the arrival time (clock skew), so each push takes the
    time when the test runs, not when the module was imported."""
    return datetime.now(UTC)


@dataclass
class Intake:
    client: TestClient
    rt: Runtime
    camera_id: str
    token: str

    def push(
        self,
        image: bytes,
        metadata: dict[str, Any] | str | None = None,
        *,
        token: str | None = None,
        content_type: str = "image/jpeg",
    ) -> Any:
        meta = {"captured_at": now().isoformat()} if metadata is None else metadata
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self.client.post(
            URL,
            headers=headers,
            files={"image": ("frame.jpg", image, content_type)},
            data={"metadata": meta if isinstance(meta, str) else json.dumps(meta)},
        )

    def stored(self) -> tuple[int, int, int]:
        """Frame rows, evidence files, queued jobs: what a request may have left behind."""
        with session_scope(self.rt.sessions) as session:
            rows = session.scalar(select(func.count()).select_from(Frame)) or 0
        files = sum(1 for p in self.rt.evidence.root.rglob("*") if p.is_file())
        return rows, files, self.rt.queue.depth()


@pytest.fixture
def intake(fresh_url: str, tmp_path: Path) -> Iterator[Intake]:
    rt = build_runtime(
        load_app_settings(data_dir=tmp_path, database_url=fresh_url, max_upload_bytes=600_000)
    )
    with session_scope(rt.sessions) as session:
        camera, token = add_camera(
            session,
            camera_id="CAM-A",
            name="Simpang test",
            violation_codes=["red_light"],
            actor="test",
        )
    with TestClient(create_app(rt), client=("127.0.0.1", 40000)) as client:
        yield Intake(client, rt, "CAM-A", token)
    rt.close()


def test_new_frame_is_accepted_stored_and_queued(intake: Intake) -> None:
    image = jpeg(1)
    answer = intake.push(image, {"captured_at": now().isoformat(), "violation": "red_light"})
    assert answer.status_code == 202
    body = answer.json()
    assert body == {"frame_id": body["frame_id"], "status": "queued", "duplicate": False}
    assert intake.stored() == (1, 1, 1)
    with session_scope(intake.rt.sessions) as session:
        frame = session.get_one(Frame, body["frame_id"])
        assert (frame.camera_id, frame.violation_code) == ("CAM-A", "red_light")
        assert (frame.width, frame.height, frame.content_type) == (640, 480, "image/jpeg")
        assert frame.needs_review_reason is None
    assert intake.rt.evidence.get(frame.sha256) == image


def test_png_is_accepted(intake: Intake) -> None:
    assert intake.push(png(1), content_type="image/png").status_code == 202


def test_same_image_again_answers_the_first_frame(intake: Intake) -> None:
    image = jpeg(2)
    first = intake.push(image).json()
    again = intake.push(image, {"captured_at": (now() + timedelta(seconds=5)).isoformat()})
    assert again.status_code == 200
    assert again.json() == {"frame_id": first["frame_id"], "status": "queued", "duplicate": True}
    assert intake.stored() == (1, 1, 1)  # no second row, file or job


def test_a_restarted_frame_counter_stores_the_new_image_and_flags_it(intake: Intake) -> None:
    """After a reboot a camera counts from the start again: the same sequence number with other
    bytes is a new frame, not a repeat; the same bytes stay a repeat."""
    first = intake.push(jpeg(3), {"captured_at": now().isoformat(), "sequence": 77}).json()
    again = intake.push(jpeg(4), {"captured_at": now().isoformat(), "sequence": 77})
    assert again.status_code == 202
    assert again.json()["frame_id"] != first["frame_id"]
    assert again.json()["duplicate"] is False
    assert intake.stored() == (2, 2, 2)
    resent = intake.push(jpeg(4), {"captured_at": now().isoformat(), "sequence": 77})
    assert (resent.status_code, resent.json()["frame_id"]) == (200, again.json()["frame_id"])
    with session_scope(intake.rt.sessions) as session:
        flags = {f.id: f.sequence_reused for f in session.scalars(select(Frame).order_by(Frame.id))}
    assert flags == {first["frame_id"]: False, again.json()["frame_id"]: True}


def test_clock_skew_marks_the_frame_for_review(intake: Intake) -> None:
    late = (now() - timedelta(hours=2)).isoformat()
    frame_id = intake.push(jpeg(5), {"captured_at": late}).json()["frame_id"]
    with session_scope(intake.rt.sessions) as session:
        assert session.get_one(Frame, frame_id).needs_review_reason == "clock_skew"


# --- 401: who is calling ------------------------------------------------------------------


def _assert_refused(answer: Any, status: int, error: str, intake: Intake) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["error"] == error
    assert body["message"]
    assert intake.stored() == (0, 0, 0), "a rejected request stored something"
    return body


def test_no_token_is_401(intake: Intake) -> None:
    answer = intake.client.post(
        URL, files={"image": ("f.jpg", jpeg(6), "image/jpeg")}, data={"metadata": "{}"}
    )
    _assert_refused(answer, 401, "unauthorized", intake)
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_unknown_token_is_401(intake: Intake) -> None:
    answer = intake.push(jpeg(6), token="etlecam_" + "x" * 43)
    _assert_refused(answer, 401, "unauthorized", intake)


def test_a_token_that_is_not_a_camera_token_never_authenticates(intake: Intake) -> None:
    # Even if some other credential (an officer's, say) hashed to a camera's stored hash, it
    # is refused before the lookup: camera tokens and other tokens never mix.
    foreign = "officer-session-abcdef"
    with session_scope(intake.rt.sessions) as session:
        session.get_one(Camera, "CAM-A").token_hash = hash_token(foreign)
    _assert_refused(intake.push(jpeg(6), token=foreign), 401, "unauthorized", intake)


def test_disabled_camera_is_401(intake: Intake) -> None:
    with session_scope(intake.rt.sessions) as session:
        disable_camera(session, "CAM-A", actor="test")
    body = _assert_refused(intake.push(jpeg(7)), 401, "unauthorized", intake)
    assert "disabled" in body["message"]


def test_rotated_token_replaces_the_old_one(intake: Intake) -> None:
    with session_scope(intake.rt.sessions) as session:
        _camera, new = rotate_token(session, "CAM-A", actor="test")
    _assert_refused(intake.push(jpeg(8)), 401, "unauthorized", intake)
    assert intake.push(jpeg(8), token=new).status_code == 202


def test_camera_token_of_another_camera_files_under_that_camera(intake: Intake) -> None:
    with session_scope(intake.rt.sessions) as session:
        _camera, other = add_camera(
            session, camera_id="CAM-B", name="B", violation_codes=["speeding"], actor="test"
        )
    frame_id = intake.push(jpeg(9), token=other).json()["frame_id"]
    with session_scope(intake.rt.sessions) as session:
        assert session.get_one(Frame, frame_id).camera_id == "CAM-B"


def test_another_cameras_image_tells_nothing_about_that_camera(intake: Intake) -> None:
    """The same bytes from another camera: its own permission is checked first, and the answer
    is its own new frame, never the first camera's frame number or status."""
    image = jpeg(10)
    first = intake.push(image, {"captured_at": now().isoformat(), "violation": "red_light"})
    assert first.status_code == 202
    with session_scope(intake.rt.sessions) as session:
        _camera, other = add_camera(
            session, camera_id="CAM-B", name="B", violation_codes=["speeding"], actor="test"
        )
    refused = intake.push(
        image, {"captured_at": now().isoformat(), "violation": "red_light"}, token=other
    )
    assert refused.status_code == 422  # CAM-B may not report red_light: said first
    assert str(first.json()["frame_id"]) not in refused.text
    own = intake.push(
        image, {"captured_at": now().isoformat(), "violation": "speeding"}, token=other
    )
    assert own.status_code == 202
    assert own.json()["frame_id"] != first.json()["frame_id"]
    assert own.json()["duplicate"] is False
    with session_scope(intake.rt.sessions) as session:
        frame = session.get_one(Frame, own.json()["frame_id"])
        assert (frame.camera_id, frame.image_reused) == ("CAM-B", True)
    again = intake.push(
        image, {"captured_at": now().isoformat(), "violation": "speeding"}, token=other
    )
    assert (again.status_code, again.json()["frame_id"]) == (200, own.json()["frame_id"])


@pytest.mark.parametrize("captured_at", ["0001-01-01T00:00:00+07:00", "9999-12-31T23:59:59-07:00"])
def test_an_impossible_capture_time_is_refused_after_the_token(
    intake: Intake, captured_at: str
) -> None:
    """A stranger is told 401 whatever the metadata says; a camera is told 422, and no frame
    that no date arithmetic can hold is stored (it used to fail its job for ever)."""
    stranger = intake.push(jpeg(12), {"captured_at": captured_at}, token="etlecam_" + "x" * 40)
    assert stranger.status_code == 401
    body = _assert_refused(
        intake.push(jpeg(12), {"captured_at": captured_at}), 422, "validation_failed", intake
    )
    assert body["detail"][0]["field"] == "captured_at"
    far_ahead = (now() + timedelta(days=2)).isoformat()
    _assert_refused(
        intake.push(jpeg(12), {"captured_at": far_ahead}), 422, "validation_failed", intake
    )


# --- 413: too large -----------------------------------------------------------------------


def test_image_over_the_limit_is_413(intake: Intake) -> None:
    # Just over the 600 KB image limit of this test, within the request's multipart allowance:
    # refused by intake's own check, which names the sizes.
    image = jpeg(10)
    big = image + b"\0" * (610_000 - len(image))  # bytes after the end marker: a trailer
    body = _assert_refused(intake.push(big), 413, "payload_too_large", intake)
    assert body["message"] == "image is 610000 bytes; the limit is 600000"


def test_declared_body_over_the_limit_is_413_before_reading(intake: Intake) -> None:
    answer = intake.push(b"\xff" * 2_000_000)
    body = _assert_refused(answer, 413, "payload_too_large", intake)
    assert "limit" in body["message"]


def test_streamed_body_over_the_limit_is_413(intake: Intake) -> None:
    # A chunked upload declares no length: the bytes are counted as they arrive.
    def body() -> Iterator[bytes]:
        yield (
            b'--b\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{}\r\n'
            b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n"
        )
        for _ in range(20):
            yield b"\xff" * 100_000
        yield b"\r\n--b--\r\n"

    answer = intake.client.post(
        URL,
        headers={
            "Authorization": f"Bearer {intake.token}",
            "Content-Type": "multipart/form-data; boundary=b",
        },
        content=body(),
    )
    _assert_refused(answer, 413, "payload_too_large", intake)


def test_huge_metadata_is_refused(intake: Intake) -> None:
    metadata = json.dumps({"captured_at": now().isoformat(), "violation": "x" * 20_000})
    body = _assert_refused(intake.push(jpeg(11), metadata), 422, "validation_failed", intake)
    assert "16KB" in body["message"]


def test_more_than_one_file_is_refused(intake: Intake) -> None:
    answer = intake.client.post(
        URL,
        headers={"Authorization": f"Bearer {intake.token}"},
        files=[("image", ("a.jpg", jpeg(12), "image/jpeg")), ("image", ("b.jpg", jpeg(13)))],
        data={"metadata": json.dumps({"captured_at": now().isoformat()})},
    )
    _assert_refused(answer, 422, "validation_failed", intake)


# --- 415 / 422: not an image, a broken image ----------------------------------------------


def test_not_an_image_is_415(intake: Intake) -> None:
    body = _assert_refused(
        intake.push(b"hello, not a picture" * 50), 415, "unsupported_media_type", intake
    )
    assert "JPEG or PNG" in body["message"]


def test_gif_is_415(intake: Intake) -> None:
    out = io.BytesIO()
    Image.new("RGB", (200, 200)).save(out, "GIF")
    _assert_refused(intake.push(out.getvalue()), 415, "unsupported_media_type", intake)


def test_empty_image_is_415(intake: Intake) -> None:
    _assert_refused(intake.push(b""), 415, "unsupported_media_type", intake)


@pytest.mark.parametrize("keep", [0.02, 0.5, 0.99])
def test_truncated_jpeg_is_422(intake: Intake, keep: float) -> None:
    image = jpeg(14)
    body = _assert_refused(
        intake.push(image[: int(len(image) * keep)]), 422, "validation_failed", intake
    )
    assert "truncated" in body["message"] or "corrupt" in body["message"]


def test_jpeg_missing_only_its_end_marker_is_422(intake: Intake) -> None:
    image = jpeg(15)
    assert image.endswith(b"\xff\xd9")
    _assert_refused(intake.push(image[:-2]), 422, "validation_failed", intake)


def test_truncated_png_is_422(intake: Intake) -> None:
    image = png(16)
    _assert_refused(
        intake.push(image[: len(image) - 20], content_type="image/png"),
        422,
        "validation_failed",
        intake,
    )


def test_png_with_a_damaged_chunk_is_422(intake: Intake) -> None:
    image = bytearray(png(17))
    image[len(image) // 2] ^= 0xFF
    body = _assert_refused(intake.push(bytes(image)), 422, "validation_failed", intake)
    assert "corrupt" in body["message"]


def test_decompression_bomb_is_422(intake: Intake) -> None:
    # 30,000 x 30,000 pixels of one colour: a few hundred KB that would decode to 900 MB.
    out = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(out, "PNG", optimize=True)
    assert len(out.getvalue()) < 600_000
    body = _assert_refused(intake.push(out.getvalue()), 422, "validation_failed", intake)
    assert "pixels" in body["message"] or "bomb" in body["message"]


def test_absurd_dimensions_are_422(intake: Intake) -> None:
    out = io.BytesIO()
    Image.new("L", (20_000, 2_500)).save(out, "JPEG")  # 50 MP, over the 40 MP limit
    body = _assert_refused(intake.push(out.getvalue()), 422, "validation_failed", intake)
    assert "20000x2500" in body["message"]


def test_tiny_image_is_422(intake: Intake) -> None:
    _assert_refused(intake.push(jpeg(18, width=40, height=30)), 422, "validation_failed", intake)


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ("not json", "metadata"),
        ({}, "captured_at"),
        ({"captured_at": "2026-11-20T07:15:04"}, "captured_at"),  # no time zone
        ({"captured_at": "yesterday"}, "captured_at"),
        ({"captured_at": now().isoformat(), "speed": 50}, "speed"),  # unknown field
        ({"captured_at": now().isoformat(), "measured_speed_kmh": -5}, "measured_speed_kmh"),
        ({"captured_at": now().isoformat(), "sequence": "seven"}, "sequence"),
        ({"captured_at": now().isoformat(), "box": [10, 10, 5, 5]}, "metadata"),
    ],
)
def test_bad_metadata_is_422_naming_the_field(
    intake: Intake, metadata: dict[str, Any] | str, field: str
) -> None:
    body = _assert_refused(intake.push(jpeg(19), metadata), 422, "validation_failed", intake)
    assert body["message"] == "metadata is not valid"
    assert field in {d["field"] for d in body["detail"]} or field == "metadata"


def test_box_outside_the_image_is_422(intake: Intake) -> None:
    metadata = {"captured_at": now().isoformat(), "box": [600, 400, 700, 450]}  # image is 640x480
    _assert_refused(intake.push(jpeg(20), metadata), 422, "validation_failed", intake)


def test_missing_form_fields_are_422(intake: Intake) -> None:
    answer = intake.client.post(
        URL, headers={"Authorization": f"Bearer {intake.token}"}, json={"captured_at": "x"}
    )
    body = _assert_refused(answer, 422, "validation_failed", intake)
    assert {d["field"] for d in body["detail"]} == {"body.image", "body.metadata"}


def test_violation_the_camera_may_not_report_is_422(intake: Intake) -> None:
    metadata = {"captured_at": now().isoformat(), "violation": "speeding"}
    body = _assert_refused(intake.push(jpeg(21), metadata), 422, "validation_failed", intake)
    assert body["detail"] == {"allowed": ["red_light"]}


def test_contract_is_in_the_openapi_document(intake: Intake) -> None:
    spec = intake.client.get("/openapi.json").json()
    operation = spec["paths"][URL]["post"]
    assert {"200", "202", "401", "413", "415", "422", "503"} <= set(operation["responses"])
    assert operation["security"] == [{"CameraToken": []}]
    assert spec["components"]["securitySchemes"]["CameraToken"]["scheme"] == "bearer"


def test_the_same_frame_twice_at_once_is_one_frame(fresh_url: str, tmp_path: Path) -> None:
    """Two pushes of one image race: both find no duplicate, both insert; the second waits for
    the first to commit and answers its frame."""
    import threading

    from camera_ingest.intake import FrameMetadata, ingest_frame

    rt = build_runtime(load_app_settings(data_dir=tmp_path, database_url=fresh_url))
    with session_scope(rt.sessions) as session:
        add_camera(session, camera_id="CAM-R", name="R", violation_codes=[], actor="t")
    image, metadata = jpeg(77), FrameMetadata(captured_at=now())

    def push(session: Any) -> Any:
        return ingest_frame(
            session,
            camera=session.get_one(Camera, "CAM-R"),
            data=image,
            metadata=metadata,
            store=rt.evidence,
            settings=rt.settings,
            enqueue=rt.enqueue_recognition,
        )

    results: list[Any] = []
    first = rt.sessions()
    winner = push(first)  # inserted, not yet committed
    second = threading.Thread(target=lambda: results.append(_in_own_session(rt, push)))
    second.start()
    second.join(timeout=0.5)
    assert second.is_alive(), "the second push should wait for the first to commit"
    first.commit()
    first.close()
    second.join(timeout=30)
    [loser] = results
    assert winner.duplicate is False
    assert (loser.frame_id, loser.duplicate) == (winner.frame_id, True)
    rows, _files, jobs = Intake(None, rt, "CAM-R", "").stored()  # type: ignore[arg-type]
    assert (rows, jobs) == (1, 1)
    rt.close()


def _in_own_session(rt: Runtime, work: Any) -> Any:
    with session_scope(rt.sessions) as session:
        return work(session)
