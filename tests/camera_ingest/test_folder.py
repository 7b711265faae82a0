"""Folder drop: files land, frames come out; nothing lost, nothing twice."""

from __future__ import annotations

import io
import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select
from typer.testing import CliRunner

from api.cli.main import app
from api.runtime import Runtime
from camera_ingest.folder import FileOutcome, FolderIngest
from camera_ingest.sources import IntakeContext
from etle.cameras.service import add_camera, disable_camera
from etle.db import create_engine, session_factory, session_scope
from etle.frames.models import Frame
from tests.conftest import MakeRuntime
from tests.factories import jpeg

CAPTURED = "2026-11-20T07:15:04+07:00"


@pytest.fixture
def rt(make_runtime: MakeRuntime) -> Runtime:
    runtime = make_runtime()
    with session_scope(runtime.sessions) as session:
        add_camera(session, camera_id="CAM-F", name="FTP", violation_codes=["red_light"], actor="t")
    return runtime


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def _ctx(rt: Runtime) -> IntakeContext:
    return IntakeContext(rt.sessions, rt.evidence, rt.settings, rt.enqueue_recognition)


def _folder(rt: Runtime, inbox: Path) -> FolderIngest:
    return FolderIngest(_ctx(rt), inbox, camera_id="CAM-F", settle_seconds=0)


def _drop(inbox: Path, name: str, data: bytes, metadata: dict[str, Any] | None = None) -> None:
    (inbox / name).write_bytes(data)
    if metadata is not None:
        (inbox / name).with_suffix(".json").write_text(json.dumps(metadata))


def _frames(rt: Runtime) -> list[Frame]:
    with session_scope(rt.sessions) as session:
        return list(session.scalars(select(Frame).order_by(Frame.id)))


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_images_with_metadata_are_stored_and_moved(rt: Runtime, inbox: Path) -> None:
    _drop(inbox, "a.jpg", jpeg(1), {"captured_at": CAPTURED, "violation": "red_light"})
    _drop(inbox, "b.jpg", jpeg(2), {"captured_at": CAPTURED, "sequence": 9})
    outcomes = _folder(rt, inbox).scan()
    assert [(o.name, o.outcome) for o in outcomes] == [("a.jpg", "stored"), ("b.jpg", "stored")]
    assert _names(inbox) == {"processed"}
    assert _names(inbox / "processed") == {"a.jpg", "a.json", "b.jpg", "b.json"}
    frames = _frames(rt)
    assert [(f.camera_id, f.violation_code, f.sequence) for f in frames] == [
        ("CAM-F", "red_light", None),
        ("CAM-F", None, 9),
    ]
    assert frames[0].captured_at == datetime(2026, 11, 20, 0, 15, 4, tzinfo=UTC)
    assert rt.queue.depth() == 2


def test_capture_time_from_exif(rt: Runtime, inbox: Path) -> None:
    image = Image.open(io.BytesIO(jpeg(3)))
    exif = image.getexif()
    exif.get_ifd(0x8769)[0x9003] = "2026:11:20 07:15:04"  # DateTimeOriginal, no offset
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    _drop(inbox, "exif.jpg", out.getvalue())
    [outcome] = _folder(rt, inbox).scan()
    assert outcome.outcome == "stored"
    # No offset in the EXIF: the camera's zone (Asia/Jakarta, UTC+7) applies.
    assert _frames(rt)[0].captured_at == datetime(2026, 11, 20, 0, 15, 4, tzinfo=UTC)


def test_rejected_files_get_a_reason_and_store_nothing(rt: Runtime, inbox: Path) -> None:
    good = jpeg(4)
    _drop(inbox, "truncated.jpg", good[: len(good) // 2], {"captured_at": CAPTURED})
    _drop(inbox, "notes.txt", b"not an image", {"captured_at": CAPTURED})
    _drop(inbox, "no-time.jpg", jpeg(5))
    _drop(inbox, "bad-meta.jpg", jpeg(6), {"captured_at": "2026-11-20T07:15:04"})
    _drop(inbox, "speeding.jpg", jpeg(7), {"captured_at": CAPTURED, "violation": "speeding"})
    outcomes = {o.name: o for o in _folder(rt, inbox).scan()}
    assert {o.outcome for o in outcomes.values()} == {"rejected"}
    assert "truncated" in (outcomes["truncated.jpg"].reason or "")
    assert "no capture time" in (outcomes["no-time.jpg"].reason or "")
    assert _frames(rt) == []
    assert not (rt.settings.data_dir / "evidence").exists() or not any(
        p.is_file() for p in (rt.settings.data_dir / "evidence").rglob("*")
    )
    rejected = inbox / "rejected"
    assert {"truncated.jpg", "truncated.json", "truncated.jpg.reason.txt"} <= _names(rejected)
    reason = (rejected / "speeding.jpg.reason.txt").read_text()
    assert "may not report violation 'speeding'" in reason
    assert "camera: CAM-F" in reason
    assert _names(inbox) == {"rejected"}


def test_same_image_twice_is_one_frame(rt: Runtime, inbox: Path) -> None:
    image = jpeg(8)
    _drop(inbox, "first.jpg", image, {"captured_at": CAPTURED})
    folder = _folder(rt, inbox)
    [first] = folder.scan()
    _drop(inbox, "again.jpg", image, {"captured_at": CAPTURED})
    [again] = folder.scan()
    assert again == FileOutcome("again.jpg", "duplicate", frame_id=first.frame_id)
    assert len(_frames(rt)) == 1
    assert rt.queue.depth() == 1


def test_a_new_file_with_a_used_name_keeps_both(rt: Runtime, inbox: Path) -> None:
    folder = _folder(rt, inbox)
    _drop(inbox, "img0001.jpg", jpeg(30), {"captured_at": CAPTURED})
    folder.scan()
    _drop(inbox, "img0001.jpg", jpeg(31), {"captured_at": CAPTURED})  # the camera's counter wrapped
    [outcome] = folder.scan()
    assert outcome.outcome == "stored"
    assert _names(inbox / "processed") == {
        "img0001.jpg",
        "img0001.json",
        "img0001-1.jpg",
        "img0001-1.json",
    }
    assert len(_frames(rt)) == 2


def test_crash_between_commit_and_move_is_recovered(rt: Runtime, inbox: Path) -> None:
    _drop(inbox, "x.jpg", jpeg(9), {"captured_at": CAPTURED})
    folder = _folder(rt, inbox)
    [stored] = folder.scan()
    # As if the process died after the commit, before the move: the file is still there.
    os.replace(inbox / "processed" / "x.jpg", inbox / "x.jpg")
    os.replace(inbox / "processed" / "x.json", inbox / "x.json")
    [again] = folder.scan()
    assert again.outcome == "duplicate"
    assert again.frame_id == stored.frame_id
    assert _names(inbox / "processed") == {"x.jpg", "x.json"}
    assert _names(inbox) == {"processed"}
    assert len(_frames(rt)) == 1


def test_files_still_being_written_are_left_alone(rt: Runtime, inbox: Path) -> None:
    _drop(inbox, ".upload.jpg", jpeg(10))
    _drop(inbox, "frame.jpg.part", jpeg(11))
    _drop(inbox, "fresh.jpg", jpeg(12), {"captured_at": CAPTURED})
    folder = FolderIngest(_ctx(rt), inbox, camera_id="CAM-F", settle_seconds=30)
    assert folder.scan() == []  # fresh.jpg changed less than 30 s ago
    old = time.time() - 60
    for name in ("fresh.jpg", "fresh.json"):
        os.utime(inbox / name, (old, old))
    assert [o.name for o in folder.scan()] == ["fresh.jpg"]
    assert _names(inbox) == {".upload.jpg", "frame.jpg.part", "processed"}


def test_database_down_leaves_the_file_to_retry(rt: Runtime, inbox: Path, tmp_path: Path) -> None:
    _drop(inbox, "y.jpg", jpeg(13), {"captured_at": CAPTURED})
    broken = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={})
    ctx = IntakeContext(session_factory(broken), rt.evidence, rt.settings, rt.enqueue_recognition)
    [outcome] = FolderIngest(ctx, inbox, camera_id="CAM-F", settle_seconds=0).scan()
    assert outcome.outcome == "retry"
    assert _names(inbox) == {"y.jpg", "y.json"}
    [later] = _folder(rt, inbox).scan()  # the database is back
    assert later.outcome == "stored"


def test_disabled_camera_rejects_with_reason(rt: Runtime, inbox: Path) -> None:
    with session_scope(rt.sessions) as session:
        disable_camera(session, "CAM-F", actor="t")
    _drop(inbox, "z.jpg", jpeg(14), {"captured_at": CAPTURED})
    [outcome] = _folder(rt, inbox).scan()
    assert outcome.outcome == "rejected"
    assert "disabled" in (inbox / "rejected" / "z.jpg.reason.txt").read_text()


def test_watch_takes_files_as_they_land(rt: Runtime, inbox: Path) -> None:
    _drop(inbox, "before.jpg", jpeg(15), {"captured_at": CAPTURED})  # there before the start
    seen: list[FileOutcome] = []
    stop = threading.Event()
    folder = FolderIngest(_ctx(rt), inbox, camera_id="CAM-F", settle_seconds=0.2)
    watcher = threading.Thread(target=lambda: folder.watch(stop=stop, on_file=seen.append))
    watcher.start()
    try:
        _drop(inbox, "landed.jpg", jpeg(16), {"captured_at": CAPTURED})
        deadline = time.monotonic() + 20
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        watcher.join(timeout=10)
    assert sorted((o.name, o.outcome) for o in seen) == [
        ("before.jpg", "stored"),
        ("landed.jpg", "stored"),
    ]
    assert not watcher.is_alive()


def test_cli_once(rt: Runtime, inbox: Path) -> None:
    _drop(inbox, "c.jpg", jpeg(17), {"captured_at": CAPTURED})
    _drop(inbox, "d.jpg", b"junk", {"captured_at": CAPTURED})
    env = {
        "ETLE_DATABASE_URL": rt.settings.effective_database_url,
        "ETLE_DATA_DIR": str(rt.settings.data_dir),
    }
    args = ["ingest", "watch", str(inbox), "--camera", "CAM-F", "--once", "--settle", "0"]
    result = CliRunner().invoke(app, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(line["file"], line["outcome"]) for line in lines} == {
        ("c.jpg", "stored"),
        ("d.jpg", "rejected"),
    }
    again = CliRunner().invoke(app, [*args, "--json"], env=env)
    assert again.stdout == ""  # nothing left to take
    with session_scope(rt.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Frame)) == 1
    unknown = CliRunner().invoke(app, ["ingest", "watch", str(inbox), "--camera", "NOPE"], env=env)
    assert unknown.exit_code == 1
    assert "no camera NOPE" in str(unknown.exception)
