"""`etle officers` and `etle review` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from api.runtime import build_runtime
from api.settings import load_app_settings
from etle.db import session_scope
from etle.officers.models import Officer
from etle.officers.passwords import verify_password
from etle.officers.service import get_by_username

runner = CliRunner()


@pytest.fixture
def env(fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("ETLE_DATABASE_URL", fresh_url)
    return ["--data-dir", str(tmp_path)]


def _officer(fresh_url: str, tmp_path: Path, username: str) -> Officer | None:
    rt = build_runtime(load_app_settings(data_dir=tmp_path, database_url=fresh_url))
    try:
        with session_scope(rt.sessions) as session:
            return get_by_username(session, username)
    finally:
        rt.close()


def test_add_disable_and_reset_with_passwords_on_stdin(
    env: list[str], fresh_url: str, tmp_path: Path
) -> None:
    added = runner.invoke(
        app,
        [
            "officers",
            "add",
            "--username",
            "Rina",
            "--role",
            "supervisor",
            "--password-stdin",
            "--nik",
            "3171012345678901",
            "--json",
            *env,
        ],
        input="Kata-sandi-yang-panjang\n",
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout) == {
        "username": "rina",
        "full_name": "",
        "role": "supervisor",
        "active": True,
        "nik_recorded": True,
    }
    rina = _officer(fresh_url, tmp_path, "rina")
    assert rina is not None
    assert verify_password(rina.password_hash, "Kata-sandi-yang-panjang")
    assert "Kata-sandi" not in rina.password_hash

    again = runner.invoke(
        app,
        ["officers", "add", "--username", "rina", "--role", "reviewer", "--password-stdin", *env],
        input="Kata-sandi-yang-panjang\n",
    )
    # `etle` (api.cli.main) prints an EtleError as one line and exits 1.
    assert again.exit_code == 1
    assert "already exists" in str(again.exception)

    weak = runner.invoke(
        app,
        ["officers", "add", "--username", "weak", "--role", "reviewer", "--password-stdin", *env],
        input="short\n",
    )
    assert weak.exit_code == 1
    assert "at least 12" in str(weak.exception)

    reset = runner.invoke(
        app,
        ["officers", "reset-password", "rina", "--password-stdin", *env],
        input="Yang-baru-juga-panjang\n",
    )
    assert reset.exit_code == 0, reset.output
    rina = _officer(fresh_url, tmp_path, "rina")
    assert rina is not None
    assert verify_password(rina.password_hash, "Yang-baru-juga-panjang")

    disabled = runner.invoke(app, ["officers", "disable", "rina", "--json", *env])
    assert disabled.exit_code == 0
    assert json.loads(disabled.stdout)["active"] is False
    listed = runner.invoke(app, ["officers", "list", "--json", *env])
    assert [o["username"] for o in json.loads(listed.stdout)] == ["rina"]


def test_review_stats_for_scripts(env: list[str]) -> None:
    result = runner.invoke(app, ["review", "stats", "--json", *env])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {"since", "until", "officers", "backlog", "service_level"}
    assert body["service_level"]["target_hours"] == 72
    assert runner.invoke(app, ["review", "overrides", "--json", *env]).exit_code == 0


def test_every_new_command_has_help() -> None:
    for command in (
        ["officers", "add"],
        ["officers", "disable"],
        ["officers", "reset-password"],
        ["officers", "list"],
        ["review", "stats"],
        ["review", "overrides"],
    ):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.output
