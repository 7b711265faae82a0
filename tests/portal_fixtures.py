"""Portal fixtures (a plugin of tests/conftest.py, for every test of the citizen's side):
settings with small limits, an evidence store, a notice as the portal meets it (sent, with a
VIN and a second car on the photo); runtimes and a client for the HTTP tests (two runtimes on
one database are two API processes)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from api.runtime import Runtime
from api.settings import AppSettings, load_app_settings
from etle.evidence import LocalBlobStore
from etle.notices.models import Notice
from tests import factories
from tests.conftest import MakeRuntime

SECRET = "portal-test-signing-key-0123456789"
BANK_SECRET = "bank-shared-secret-0123456789abcdef"


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    return load_app_settings(
        data_dir=tmp_path / "data",
        secret_key=SECRET,
        portal_max_failures_per_address=4,
        portal_max_failures_per_plate=6,
        portal_max_reports_per_address=2,
    )


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "evidence")


@pytest.fixture
def notice(session: Session, store: LocalBlobStore, settings: AppSettings) -> Notice:
    return sent(session, store, settings)


def sent(session: Session, store: LocalBlobStore, settings: AppSettings, **kw: Any) -> Notice:
    row: Notice = factories.sent_notice(session, store, settings, **kw)
    return row


@pytest.fixture
def make_rt(make_runtime: MakeRuntime) -> MakeRuntime:
    """The suite's runtimes (tests/conftest.py) with the bank's secret and the portal's limits
    of these tests: two of them are two API processes on one database."""
    return functools.partial(
        make_runtime, payment_callback_secret=BANK_SECRET, portal_max_failures_per_address=5
    )


@pytest.fixture
def prt(make_rt: MakeRuntime) -> Runtime:
    return make_rt()


@pytest.fixture
def pclient(prt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(prt), base_url="https://etle.example.id") as client:
        yield client
