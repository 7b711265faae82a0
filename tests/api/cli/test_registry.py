"""`etle registry import`, `etle violations`, `etle jurisdictions` and `etle cases` as an
operator runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from api.cli.main import app
from api.demo import SAMPLES
from etle.db import create_engine, session_factory, session_scope
from etle.errors import Forbidden
from etle.officers.models import Officer, Role
from etle.registry.models import Vehicle


@pytest.fixture
def folder(fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ETLE_DATABASE_URL", fresh_url)
    return tmp_path


def etle(folder: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--data-dir", str(folder)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def vehicles(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        n = connection.scalar(select(func.count()).select_from(Vehicle))
    engine.dispose()
    return int(n or 0)


def test_a_file_with_a_bad_row_imports_nothing_and_reports_the_line(
    folder: Path, fresh_url: str
) -> None:
    lines = (SAMPLES / "registry.csv").read_text().splitlines()
    # Three things wrong with one row: every one is reported, not only the first.
    lines[3] = (
        lines[3]
        .replace("3471011203790003", "34710112037")
        .replace(",car,", ",spaceship,")
        .replace(",2020,", ",1850,")
    )
    bad = folder / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    code, output = etle(folder, "registry", "import", str(bad))
    assert code == 1
    assert "3 problems in 1 row of 7; nothing was imported" in output
    assert "line 4: nik must be 16 digits" in output
    assert "line 4: unknown vehicle_type 'spaceship'" in output
    assert "line 4: year '1850' is not a model year" in output
    assert vehicles(fresh_url) == 0

    code, output = etle(folder, "registry", "import", str(bad), "--json")
    assert code == 1
    report = json.loads(output)
    assert report["errors"] == [
        {"line": 4, "problem": "unknown vehicle_type 'spaceship'"},
        {"line": 4, "problem": "year '1850' is not a model year"},
        {"line": 4, "problem": "nik must be 16 digits"},
    ]
    assert (report["bad_rows"], report["error_count"]) == (1, 3)
    assert report["imported"] is False


def test_a_good_file_imports_once_and_again_changes_nothing(folder: Path, fresh_url: str) -> None:
    code, output = etle(folder, "registry", "import", str(SAMPLES / "registry.csv"), "--check")
    assert code == 0
    assert "all valid" in output
    assert vehicles(fresh_url) == 0
    code, output = etle(folder, "registry", "import", str(SAMPLES / "registry.csv"))
    assert code == 0
    # The issue: "7 created (0 new owners)" read as if no owner had been created.
    assert "7 rows in" in output
    assert "7 vehicles created with their owners, 0 updated, 0 unchanged" in output
    assert "new owner" not in output
    code, output = etle(folder, "registry", "import", str(SAMPLES / "registry.csv"), "--json")
    assert code == 0
    assert json.loads(output)["unchanged"] == 7
    code, output = etle(folder, "registry", "import", str(SAMPLES / "registry.csv"))
    assert code == 0
    assert "0 vehicles created with their owners, 0 updated, 7 unchanged" in output
    assert vehicles(fresh_url) == 7


def _administrator(url: str, role: Role = Role.ADMINISTRATOR, name: str = "admin") -> None:
    engine = create_engine(url)
    with session_scope(session_factory(engine)) as session:
        session.add(Officer(username=name, role=role, full_name="Admin"))
    engine.dispose()


def test_an_administrator_edits_the_catalogue_and_deadlines_from_the_command_line(
    folder: Path, fresh_url: str
) -> None:
    etle(folder, "db", "upgrade")
    _administrator(fresh_url)
    code, output = etle(
        folder, "violations", "set", "no_helmet", "--max-fine", "300000", "--as", "admin"
    )
    assert (code, output.strip()) == (0, "no_helmet: saved")
    code, output = etle(folder, "violations", "list", "--json")
    fines = {v["code"]: v["max_fine_rp"] for v in json.loads(output)}
    assert fines["no_helmet"] == 300_000
    code, output = etle(
        folder,
        "jurisdictions",
        "set",
        "POLDA-BALI",
        "--name",
        "Polda Bali",
        "--respond-days",
        "10",
        "--pay-days",
        "14",
        "--as",
        "admin",
    )
    assert code == 0
    code, output = etle(folder, "jurisdictions", "list", "--json")
    assert json.loads(output)["jurisdictions"] == [
        {"code": "POLDA-BALI", "name": "Polda Bali", "respond_days": 10, "pay_days": 14}
    ]
    code, output = etle(folder, "audit", "verify")
    assert code == 0


def test_a_reviewer_cannot_edit_the_catalogue(folder: Path, fresh_url: str) -> None:
    etle(folder, "db", "upgrade")
    _administrator(fresh_url, Role.REVIEWER, "budi")
    with pytest.raises(Forbidden, match="reviewer role may not manage catalogue"):
        etle(folder, "violations", "set", "no_helmet", "--max-fine", "1", "--as", "budi")


def test_the_deadlines_job_runs_twice_and_writes_its_lists(folder: Path) -> None:
    etle(folder, "db", "upgrade")
    code, output = etle(folder, "cases", "escalate", "--today", "2026-12-01", "--json")
    assert code == 0
    body = json.loads(output)
    assert (body["overdue"], body["blocked"], body["today"]) == ([], [], "2026-12-01")
    blocks = Path(body["files"]["blocks"])
    assert blocks.name == "blocks-2026-12-01.csv"
    assert next(csv.reader(io.StringIO(blocks.read_text())))[0] == "plate"
    assert etle(folder, "cases", "escalate", "--today", "2026-12-01")[0] == 0


def test_commands_refuse_a_database_that_is_not_set_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ETLE_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["audit", "verify", "--data-dir", str(tmp_path)])
    assert "no tables yet: run `etle db upgrade`" in str(result.exception)


def test_a_supervisor_voids_a_case_with_a_reason(folder: Path, fresh_url: str) -> None:
    from etle.cases.models import Case
    from tests import factories

    engine = create_engine(fresh_url)
    with session_scope(session_factory(engine)) as session:
        case_id = factories.case(session).id
        factories.officer(session, "sari", Role.SUPERVISOR)
    code, output = etle(
        folder,
        "cases",
        "void",
        str(case_id),
        "--reason",
        "duplicate of another case",
        "--as",
        "sari",
    )
    assert (code, output.strip()) == (0, f"case {case_id}: void")
    with session_scope(session_factory(engine)) as session:
        assert session.get_one(Case, case_id).status == "void"
    engine.dispose()
