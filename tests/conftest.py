"""Test fixtures shared by the whole suite.

Databases: every database test runs on SQLite, and again on PostgreSQL when
ETLE_TEST_DATABASE_URL points at a server (`.ci/run` sets it). Each run creates its own
PostgreSQL database and drops it afterwards, so runs on one server never collide.

* `session`: a session inside a transaction that is rolled back after the test (fast; for
  services that only flush).
* `fresh_url`: an empty, migrated database of its own, for tests of code that commits
  (workers, the demo, the API).
* `rt`: the application's runtime (settings, sessions, queue, evidence store) on `fresh_url`;
  `make_runtime(**settings)` for one with other settings, or for two on one database (two API
  processes). The one place the suite builds runtimes for the API, the portal and the notices.

Models: tests marked `models` read plates with the detector and OCR model shipped in the
package (camera_ingest/recognition/models/), or with ETLE_MODELS_DIR when it is set: they run
everywhere, with no folder beside the repository.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from api.runtime import Runtime, build_runtime
from api.settings import load_app_settings
from etle.db import create_engine
from etle.migrate import upgrade

# The citizen's side (a sent notice, the portal's runtimes and client), shared by the tests of
# etle/portal, etle/payments, api/portal, the payment routes and the receipt.
pytest_plugins = ["tests.portal_fixtures"]

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DATASET = SHARED / "datasets" / "id-plates-dev"
PACKAGED_MODELS = REPO / "camera_ingest" / "recognition" / "models"

_STRAY = pytest.StashKey[bool]()
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("ETLE_TEST_DATABASE_URL") else [])


_STRAY_DATA = REPO / "etle-data"


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STRAY] = _STRAY_DATA.exists()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The run fails if it left ./etle-data in the repository (it was not there before)."""
    if not session.config.stash.get(_STRAY, True) and _STRAY_DATA.exists():
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"a test wrote {_STRAY_DATA}: give it a data directory", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def data_dir_outside_the_repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A test that forgets its data directory writes to a temporary one, never to
    ./etle-data in the repository (where `python -m pytest` runs); subprocesses inherit it."""
    if os.environ.get("ETLE_DATA_DIR"):
        yield
        return
    os.environ["ETLE_DATA_DIR"] = str(tmp_path_factory.mktemp("etle-data"))
    try:
        yield
    finally:
        os.environ.pop("ETLE_DATA_DIR", None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "models_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.models)


class Databases:
    """Creates empty databases on one backend and drops them at the end of the run."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend, self.tmp, self.created = backend, tmp, []  # type: ignore[var-annotated]
        self.admin = os.environ.get("ETLE_TEST_DATABASE_URL", "")

    def new(self) -> str:
        name = f"etle_test_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.db')}"
        admin = create_engine(self.admin, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return make_url(self.admin).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = create_engine(self.admin, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    dbs = Databases(request.param, tmp_path_factory.mktemp(request.param))
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def engine(databases: Databases) -> Iterator[Engine]:
    eng = create_engine(databases.new())
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with engine.connect() as connection:
        outer = connection.begin()
        db = Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield db
        finally:
            db.close()
            outer.rollback()


@pytest.fixture
def fresh_url(databases: Databases) -> str:
    url = databases.new()
    eng = create_engine(url)
    upgrade(eng)
    eng.dispose()
    return url


PORTAL_URL = "https://etle.example.id"
MakeRuntime = Callable[..., Runtime]


@pytest.fixture
def make_runtime(fresh_url: str, tmp_path: Path) -> Iterator[MakeRuntime]:
    """Runtimes on the test's own migrated database, closed at the end of the test. Defaults: data
    under tmp_path/data, the queue run in memory (`queue_url=None`), the portal at an https
    address (on plain http notices are held); the settings a test names override them."""
    built: list[Runtime] = []

    def make(**settings: Any) -> Runtime:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": fresh_url,
            "queue_url": None,
            "portal_url": PORTAL_URL,
            **settings,
        }
        runtime = build_runtime(load_app_settings(**values))
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:
        runtime.close()


@pytest.fixture
def rt(make_runtime: MakeRuntime) -> Runtime:
    return make_runtime()


@pytest.fixture(scope="session")
def models_dir() -> Path:
    configured = os.environ.get("ETLE_MODELS_DIR")
    path = Path(configured).resolve() if configured else PACKAGED_MODELS
    assert (path / "cct_xs_v1_global.onnx").is_file(), f"no plate models in {path}"
    return path


@pytest.fixture(scope="session")
def dataset_dir() -> Path:
    if not (DATASET / "README.md").is_file():
        pytest.skip(f"development photos not found at {DATASET}")
    return DATASET
