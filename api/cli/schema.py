"""Commands that need the tables refuse, in one line, a database that is not set up."""

from __future__ import annotations

from sqlalchemy import Engine

from etle.errors import ConfigError
from etle.migrate import current_revision, head_revision


def require_schema(engine: Engine) -> None:
    current = current_revision(engine)
    if current is None:
        raise ConfigError("the database has no tables yet; run `etle db upgrade` first")
    if current != head_revision(engine):
        raise ConfigError(f"the database schema is at {current}; run `etle db upgrade` first")
