"""Commands that need the tables refuse, in one line, a database that is not set up."""

from __future__ import annotations

from sqlalchemy import Engine

from etle.errors import ConfigError
from etle.migrate import schema_problem


def require_schema(engine: Engine) -> None:
    problem = schema_problem(engine)
    if problem is not None:
        raise ConfigError(problem)
