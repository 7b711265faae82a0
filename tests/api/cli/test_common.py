"""Who ran a command, in the audit trail: one name for every command, on any machine."""

from __future__ import annotations

import getpass
import pwd
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from api.cli.common import operator
from api.cli.main import app
from api.demo import SAMPLES
from etle.audit.chain import verify
from etle.audit.models import AuditEvent
from etle.db import create_engine, session_factory, session_scope

runner = CliRunner()
USER_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")


@pytest.fixture
def nameless(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare container: no user name in the environment and no passwd entry for the uid."""
    for variable in USER_VARIABLES:
        monkeypatch.delenv(variable, raising=False)

    def no_entry(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)


def test_the_operator_is_the_login_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "sari")
    assert operator() == "operator:sari"
    monkeypatch.setenv("LOGNAME", "x" * 200)
    assert len(operator()) == 100  # the audit column's width


@pytest.mark.usefixtures("nameless")
def test_a_machine_without_a_user_name_is_the_cli() -> None:
    with pytest.raises((KeyError, OSError)):
        getpass.getuser()
    assert operator() == "operator:cli"


@pytest.mark.usefixtures("nameless")
def test_every_command_that_audits_runs_on_a_machine_without_a_user_name(
    fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETLE_DATABASE_URL", fresh_url)
    data = ["--data-dir", str(tmp_path)]
    commands = [
        (["cameras", "add", "--id", "CAM-N", "--name", "N", "--violation", "red_light"], None),
        (["cameras", "rotate-token", "CAM-N"], None),
        (["cameras", "disable", "CAM-N"], None),
        (["registry", "import", str(SAMPLES / "registry.csv")], None),
        (
            ["officers", "add", "--username", "nama", "--role", "reviewer", "--password-stdin"],
            "Kata-sandi-yang-panjang\n",
        ),
        (["officers", "reset-password", "nama", "--password-stdin"], "Sandi-baru-yang-panjang\n"),
        (["officers", "disable", "nama"], None),
    ]
    for command, stdin in commands:
        result = runner.invoke(app, [*command, *data], input=stdin)
        assert result.exit_code == 0, (command, result.output, result.exception)

    engine = create_engine(fresh_url)
    with session_scope(session_factory(engine)) as session:
        actors = {
            event.action: event.actor
            for event in session.scalars(
                select(AuditEvent).where(~AuditEvent.actor.like("system:%"))
            )
        }
        assert verify(session).ok
    engine.dispose()
    assert {
        "camera.created",
        "camera.token_rotated",
        "camera.disabled",
        "officer.created",
        "officer.password_reset",
        "officer.disabled",
        "registry.imported",
    } <= set(actors)
    assert set(actors.values()) == {"operator:cli"}
