"""Schema migrations (Alembic) and the seed data every database needs."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from etle.db import session_factory, session_scope
from etle.violations.catalogue import seed_catalogue

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`, then add any missing seed rows (audited)."""
    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    with session_scope(session_factory(engine)) as session:
        seed_catalogue(session)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return _head()


@lru_cache(maxsize=1)
def _head() -> str | None:
    # Read once per process: the migration scripts do not change while it runs, and `/readyz`
    # asks on every probe.
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def schema_problem(engine: Engine) -> str | None:
    """What keeps this code from using the database's tables, in one line; None if nothing.

    A database without tables answers `SELECT 1` like a good one, while every request that
    touches a table fails: servers, `/readyz` and commands say so, and what to run."""
    current = current_revision(engine)
    if current is None:
        return "the database has no tables yet: run `etle db upgrade`"
    head = _head()
    if current != head:
        return (
            f"the database schema is at {current}, this version needs {head}: run `etle db upgrade`"
        )
    return None
