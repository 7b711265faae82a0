"""Evidence never changes: it is checked against its hash whenever it leaves the store."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from api.cli.main import app
from camera_ingest.config import IngestSettings
from camera_ingest.processing import Outcome, WorkerContext, recognize_frame
from etle.cameras.models import Camera
from etle.db import create_engine, session_factory, session_scope
from etle.errors import EvidenceTampered, NotFound
from etle.evidence import LocalBlobStore
from etle.frames.evidence import export_evidence, verify_evidence
from etle.frames.models import Frame, FrameStatus
from tests import factories
from tests.factories import jpeg


def _tamper(store: LocalBlobStore, digest: str) -> None:
    path = store.path_for(digest)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit
    path.write_bytes(bytes(data))


def test_store_refuses_altered_evidence(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    digest = store.put(jpeg(1))
    assert store.get(digest) == jpeg(1)
    _tamper(store, digest)
    with pytest.raises(EvidenceTampered):
        store.get(digest)


def _stored_frame(session: Session, store: LocalBlobStore, seed: int) -> Frame:
    data = jpeg(seed)
    return factories.frame(session, factories.camera(session), sha256=store.put(data))


def test_export_writes_a_checked_copy_with_its_hash(session: Session, tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "evidence")
    frame = _stored_frame(session, store, 2)
    exported = export_evidence(session, store, tmp_path / "out", frame_id=frame.id)
    assert hashlib.sha256(exported.path.read_bytes()).hexdigest() == frame.sha256
    assert exported.checksum_path.read_text() == f"{frame.sha256}  {exported.path.name}\n"


def test_export_of_a_case_refuses_altered_evidence(session: Session, tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "evidence")
    frame = _stored_frame(session, store, 3)
    case = factories.case(session, frame=frame, camera=session.get_one(Camera, frame.camera_id))
    export_evidence(session, store, tmp_path / "ok", case_id=case.id)
    _tamper(store, frame.sha256)
    with pytest.raises(EvidenceTampered):
        export_evidence(session, store, tmp_path / "out", case_id=case.id)
    assert not (tmp_path / "out").exists()


def test_export_refuses_a_case_whose_hash_differs_from_its_frame(
    session: Session, tmp_path: Path
) -> None:
    store = LocalBlobStore(tmp_path / "evidence")
    frame = _stored_frame(session, store, 4)
    case = factories.case(
        session,
        frame=frame,
        camera=session.get_one(Camera, frame.camera_id),
        evidence_sha256="0" * 64,
    )
    with pytest.raises(EvidenceTampered, match="differs"):
        export_evidence(session, store, tmp_path / "out", case_id=case.id)


def test_verify_names_missing_and_altered_files(session: Session, tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "evidence")
    good, altered, missing = (_stored_frame(session, store, s) for s in (5, 6, 7))
    _tamper(store, altered.sha256)
    store.path_for(missing.sha256).unlink()
    results = [r for r in verify_evidence(session, store) if not isinstance(r, int)]
    ours = {(p.frame_id, p.problem) for p in results}
    assert (altered.id, "tampered") in ours
    assert (missing.id, "missing") in ours
    assert good.id not in {p.frame_id for p in results}


def test_worker_marks_a_frame_with_altered_evidence_failed(fresh_url: str, tmp_path: Path) -> None:
    engine = create_engine(fresh_url)
    sessions: sessionmaker[Session] = session_factory(engine)
    store = LocalBlobStore(tmp_path)
    with session_scope(sessions) as session:
        frame_id = _stored_frame(session, store, 8).id
        digest = session.get_one(Frame, frame_id).sha256
    _tamper(store, digest)

    def no_models() -> Any:
        raise AssertionError("altered evidence must never reach the models")

    ctx = WorkerContext(IngestSettings(), sessions, store, no_models)
    assert recognize_frame(ctx, frame_id) == Outcome.FAILED
    with session_scope(sessions) as session:
        frame = session.get_one(Frame, frame_id)
        assert frame.status == FrameStatus.FAILED
        assert "no longer matches" in (frame.error or "")
    engine.dispose()


def test_cli_export_and_verify(fresh_url: str, tmp_path: Path) -> None:
    env = {"ETLE_DATABASE_URL": fresh_url, "ETLE_DATA_DIR": str(tmp_path)}
    store = LocalBlobStore(tmp_path / "evidence")
    engine = create_engine(fresh_url)
    with session_scope(session_factory(engine)) as session:
        frame_id = _stored_frame(session, store, 9).id
        digest = session.get_one(Frame, frame_id).sha256
    engine.dispose()
    runner = CliRunner()
    verified = runner.invoke(app, ["evidence", "verify", "--json"], env=env)
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout) == {"checked": 1, "ok": True, "problems": []}
    out = tmp_path / "court"
    exported = runner.invoke(
        app, ["evidence", "export", "--frame", str(frame_id), "--out", str(out), "--json"], env=env
    )
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["sha256"] == digest
    _tamper(store, digest)
    bad = runner.invoke(app, ["evidence", "verify", "--json"], env=env)
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["problems"] == [
        {"frame_id": frame_id, "sha256": digest, "problem": "tampered"}
    ]
    refused = runner.invoke(
        app, ["evidence", "export", "--frame", str(frame_id), "--out", str(tmp_path / "x")], env=env
    )
    assert isinstance(refused.exception, EvidenceTampered)
    nothing = runner.invoke(app, ["evidence", "export", "--frame", "999", "--out", "x"], env=env)
    assert isinstance(nothing.exception, NotFound)
