"""`etle audit verify` and `etle audit digest` against a database edited behind their back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from typer.testing import CliRunner

from api.cli.main import app
from api.demo import SAMPLES
from etle.audit.models import AuditEvent
from etle.db import create_engine


@pytest.fixture
def data(fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A database with a real audit trail: the catalogue seed and a registry import."""
    monkeypatch.setenv("ETLE_DATABASE_URL", fresh_url)
    result = CliRunner().invoke(
        app, ["registry", "import", str(SAMPLES / "registry.csv"), "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    return fresh_url, tmp_path


def run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", *args, "--data-dir", str(data_dir)])
    return result.exit_code, result.output


def tamper(url: str, statement: object) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(statement)  # type: ignore[call-overload]
    engine.dispose()


def head(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        seq = connection.scalar(select(func.max(AuditEvent.seq)))
    engine.dispose()
    return int(seq or 0)


def test_an_untouched_trail_verifies(data: tuple[str, Path]) -> None:
    url, folder = data
    code, output = run(folder, "verify")
    assert code == 0, output
    assert f"audit trail intact: {head(url)} events" in output


def test_an_audit_row_edited_in_the_database_is_caught_and_named(data: tuple[str, Path]) -> None:
    url, folder = data
    tamper(url, update(AuditEvent).where(AuditEvent.seq == 5).values(actor="officer:nobody"))
    code, output = run(folder, "verify")
    assert code == 1
    assert "event 5 was edited after it was written" in output
    code, output = run(folder, "verify", "--json")
    assert code == 1
    body = json.loads(output)
    assert (body["ok"], body["first_bad_seq"]) == (False, 5)


def test_an_audit_row_deleted_from_the_database_is_caught_and_named(
    data: tuple[str, Path],
) -> None:
    url, folder = data
    tamper(url, delete(AuditEvent).where(AuditEvent.seq == 3))
    code, output = run(folder, "verify")
    assert code == 1
    assert "event 3 is missing (deleted)" in output


def test_a_saved_digest_catches_the_newest_events_being_deleted(data: tuple[str, Path]) -> None:
    url, folder = data
    digest_file = folder / "digest.json"
    code, output = run(folder, "digest", "--output", str(digest_file))
    assert code == 0, output
    digest = json.loads(digest_file.read_text())
    assert digest["seq"] == head(url)
    assert len(digest["hash"]) == 64
    assert digest["occurred_at"]

    tamper(url, delete(AuditEvent).where(AuditEvent.seq == digest["seq"]))
    assert run(folder, "verify")[0] == 0  # the chain alone cannot see a cut-off end
    code, output = run(folder, "verify", "--digest", str(digest_file))
    assert code == 1
    assert f"events {digest['seq']} to {digest['seq']} are missing" in output


def test_no_digest_is_exported_for_a_broken_trail(data: tuple[str, Path]) -> None:
    url, folder = data
    tamper(url, update(AuditEvent).where(AuditEvent.seq == 2).values(action="nothing.happened"))
    result = CliRunner().invoke(app, ["audit", "digest", "--data-dir", str(folder)])
    assert result.exit_code != 0
    assert "event 2 was edited" in str(result.exception)
