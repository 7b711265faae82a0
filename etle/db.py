"""Database plumbing shared by every package: the declarative base, column types, engines,
sessions, and the two hooks the flow depends on.

* **Commit in one place.** Services only `flush()`; whoever opened the session (the API request
  dependency, a worker's `session_scope`, a CLI command) commits or rolls back.
* **Enqueue after commit.** `after_commit(session, fn)` runs `fn` once the session's transaction
  has committed and drops it on rollback, so no job ever refers to a row that does not exist.
* **One key at a time.** `lock_key(session, key)` serialises "read, decide, write" on one
  logical key (a case key, a rate-limit counter, the audit chain's head) until the transaction
  ends.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    event,
    text,
)
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# 64-bit keys on PostgreSQL; SQLite only auto-increments a column typed exactly INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")
JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zones, so values are stored as naive UTC there and made aware again on
    the way out. A naive datetime is refused on the way in: it is always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def create_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = sa_create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa_create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that BEGIN is ours (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock at the start, so "read, then decide, then write" (open
        # or join a case, claim the next case) cannot interleave between two processes. SQLite
        # is the embedded default for one machine; this costs little there. A transaction
        # declared read-only (`read_only`) takes no lock: in WAL mode it reads a snapshot
        # while a writer writes, so a long report never holds up a camera's frame.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


READ_ONLY = "etle_read_only"


def read_only(session: Session) -> Session:
    """Declare the session's next transaction read-only: on SQLite it then takes no write lock
    (PostgreSQL needs no such hint). Only for code that writes nothing: a write inside would
    fail at once on SQLite rather than wait its turn. No effect on a transaction already
    begun."""
    if not session.in_transaction():
        session.connection(execution_options={READ_ONLY: True})
    return session


def lock_key(session: Session, key: str | int) -> None:
    """Serialise work on one logical key until the transaction ends: a transaction-scoped
    advisory lock on PostgreSQL (a string key is hashed to a number; a number is used as it is);
    nothing on SQLite, where every writing transaction holds the database's write lock from
    BEGIN (see `_configure_sqlite`)."""
    if session.get_bind().dialect.name == "postgresql":
        number = key if isinstance(key, int) else zlib.crc32(key.encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": number})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: Callable[[], Session]) -> Iterator[Session]:
    """One unit of work for workers and CLI commands: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_AFTER_COMMIT = "etle_after_commit"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once this session's transaction commits; forget it on rollback."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, []):
        try:
            callback()
        except Exception:
            # The row is committed; a sweep re-sends whatever a failed callback did not
            # (camera_ingest.jobs.sweep_frames, notices.jobs.sweep_deliveries). Failing the
            # caller here would report a stored frame as lost.
            log.exception("after-commit callback failed; the sweep will retry it")


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
