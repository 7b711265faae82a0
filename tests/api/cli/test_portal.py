"""`etle portal scam-reports` and `etle portal callback-example`: the example it prints is a
callback the server accepts."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli.main import app
from api.runtime import Runtime
from tests.conftest import PORTAL_URL, MakeRuntime
from tests.portal_fixtures import BANK_SECRET
from tests.portal_helpers import new_notice


@pytest.fixture
def env(make_runtime: MakeRuntime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """The server's runtime, and the command's environment on the same database and secret."""
    server = make_runtime(payment_callback_secret=BANK_SECRET)
    monkeypatch.setenv("ETLE_DATABASE_URL", server.settings.effective_database_url)
    monkeypatch.setenv("ETLE_DATA_DIR", str(server.settings.data_dir))
    monkeypatch.setenv("ETLE_PAYMENT_CALLBACK_SECRET", BANK_SECRET)
    return server


@pytest.fixture
def pclient(env: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(env), base_url=PORTAL_URL) as client:
        yield client


def test_the_printed_example_is_accepted_by_the_server(env: Runtime, pclient: TestClient) -> None:
    number, plate = new_notice(env)
    grant = pclient.get(f"/api/v1/public/notices/{number}", params={"plate": plate}).json()
    code = pclient.post(
        f"/api/v1/public/notices/{number}/driver",
        headers={"Authorization": f"Bearer {grant['access_token']}"},
        json={"driver": "self"},
    ).json()["payment_code"]
    result = CliRunner().invoke(
        app, ["portal", "callback-example", code, "--amount", "500000", "--json"]
    )
    assert result.exit_code == 0, result.output
    example = json.loads(result.output)
    response = pclient.post(
        "/api/v1/payments/callback", content=example["body"], headers=example["headers"]
    )
    assert response.status_code == 200, response.text
    assert response.json()["case_status"] == "paid"


def test_a_mistyped_code_is_refused(env: Runtime) -> None:
    result = CliRunner().invoke(
        app, ["portal", "callback-example", "8077700000000015", "--amount", "1"]
    )
    assert result.exit_code == 1
    assert "check digit" in str(result.exception)


def test_scam_reports_are_listed_newest_first(env: Runtime, pclient: TestClient) -> None:
    for text in ("pesan pertama", "pesan kedua"):
        pclient.post("/api/v1/public/scam-reports", json={"channel": "sms", "message": text})
    result = CliRunner().invoke(app, ["portal", "scam-reports", "--json"])
    assert result.exit_code == 0, result.output
    reports = json.loads(result.output)["reports"]
    assert [r["message"] for r in reports] == ["pesan kedua", "pesan pertama"]
    assert set(reports[0]) == {
        "id",
        "received_at",
        "received_local",
        "channel",
        "sender",
        "link",
        "message",
    }
