"""A read-only transaction takes no write lock on SQLite (issue 17): an officer's token check
or a long report reads a snapshot while a camera's frame is written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from etle.db import create_engine, read_only
from etle.migrate import upgrade
from etle.officers.models import Officer


def _lock_free(path: Path) -> bool:
    other = sqlite3.connect(path)
    try:
        other.execute("PRAGMA busy_timeout=0")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@pytest.mark.parametrize("declared", [True, False])
def test_only_a_declared_read_leaves_the_write_lock_free(tmp_path: Path, declared: bool) -> None:
    path = tmp_path / "etle.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    with Session(engine) as session:
        if declared:
            read_only(session)
        session.scalars(select(Officer)).all()
        assert session.in_transaction()
        assert _lock_free(path) is declared
        session.commit()
    # The next transaction on the same session is an ordinary one again.
    with Session(engine) as session:
        read_only(session)
        session.commit()
        session.execute(text("SELECT 1"))
        assert not _lock_free(path)
        session.rollback()
    engine.dispose()
