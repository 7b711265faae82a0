"""Migrations: they make exactly the models, their files are named in chain order, and a
database of an earlier release upgrades with its rows intact."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select, text

import etle.models  # noqa: F401
from etle.audit.chain import verify
from etle.audit.models import AuditEvent
from etle.cases.models import Case
from etle.db import Base, create_engine, session_factory, session_scope
from etle.migrate import MIGRATIONS, current_revision, head_revision, schema_problem, upgrade
from etle.notices.models import Delivery, Notice
from etle.notices.service import issue_notice
from etle.registry.models import Owner
from tests import factories
from tests.conftest import Databases

# The head of the release before the migration files were renamed in chain order (issue 18).
# Alembic knows a revision by its id, never by its file's name: the ids were kept.
PREVIOUS_RELEASE_HEAD = "i16_a"


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_issue_16_upgrades_old_addresses_into_parts_and_speeding_notices_get_speed(
    databases: Databases,
) -> None:
    """Rows written before addresses had parts: the upgrade splits them, and a speeding notice
    takes its frame's speed and its camera's limit."""
    from datetime import UTC, datetime

    from alembic import command

    from etle.migrate import alembic_config, upgrade
    from etle.notices.models import Notice
    from etle.registry.models import Owner
    from tests import factories

    engine = create_engine(databases.new())
    upgrade(engine)
    with session_scope(session_factory(engine)) as session:
        cam = factories.camera(session, speed_limit_kmh=60)
        src = factories.frame(session, cam, violation_code="speeding", measured_speed_kmh=87.5)
        car = factories.vehicle(session, "B1234ABC")
        case = factories.case(
            session,
            camera=cam,
            frame=src,
            violation_code="speeding",
            vehicle_id=car.id,
            owner_id=car.owner_id,
            first_captured_at=datetime(2026, 11, 20, tzinfo=UTC),
        )
        issue_notice(session, case, respond_days=8, zone="Asia/Jakarta", actor="test")
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE owners SET address = 'Jl. Dago No. 45, RT 02, Coblong, Bandung'")
        )
        connection.execute(text("UPDATE notices SET recipient_address = 'Jl. Sabang 3, Jakarta'"))
    config = alembic_config(engine)
    with engine.begin() as connection:  # as if written before: the new columns go
        config.attributes["connection"] = connection
        command.downgrade(config, "i13_a")
    upgrade(engine)
    with session_scope(session_factory(engine)) as session:
        owner = session.scalars(select(Owner)).one()
        notice = session.scalars(select(Notice)).one()
        assert (owner.street, owner.district, owner.city) == (
            "Jl. Dago No. 45, RT 02",
            "Coblong",
            "Bandung",
        )
        assert (notice.recipient_street, notice.recipient_district, notice.recipient_city) == (
            "Jl. Sabang 3",
            "",
            "Jakarta",
        )
        assert (notice.measured_speed_kmh, notice.speed_limit_kmh) == (87.5, 60)
    engine.dispose()


def _chain() -> list[tuple[str, str]]:
    """(revision id, file name) from the first migration to the head."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    walked = list(scripts.walk_revisions("base", "heads"))  # newest first
    return [(s.revision, s.path.rsplit("/", 1)[-1]) for s in reversed(walked)]


def test_the_migration_files_are_named_in_chain_order() -> None:
    chain = _chain()
    assert chain[0][0] == "0001"
    assert PREVIOUS_RELEASE_HEAD in dict(chain)
    names = [name for _revision, name in chain]
    named = [re.fullmatch(r"(\d{4})_[a-z0-9_]+\.py", name) for name in names]
    assert [int(m.group(1)) if m else None for m in named] == list(range(1, len(chain) + 1)), names
    assert sorted(p.name for p in (MIGRATIONS / "versions").glob("*.py")) == names


def test_a_database_of_the_previous_release_upgrades(databases: Databases) -> None:
    """A database the previous release made and used (at its head, with a case, its notice
    and deliveries, and the audit chain they wrote) is taken as it is: the upgrade changes no
    row and the chain still verifies."""
    engine = create_engine(databases.new())
    upgrade(engine, PREVIOUS_RELEASE_HEAD)
    with session_scope(session_factory(engine)) as session:
        cam = factories.camera(session)
        src = factories.frame(session, cam)
        car = factories.vehicle(session, "B1234ABC")
        case = factories.case(
            session,
            camera=cam,
            frame=src,
            vehicle_id=car.id,
            owner_id=car.owner_id,
            first_captured_at=datetime(2026, 11, 20, tzinfo=UTC),
        )
        issue_notice(session, case, respond_days=8, zone="Asia/Jakarta", actor="test")
    before = _rows(engine)
    assert before["notices"] == 1
    assert before["audit_events"] > 0

    upgrade(engine)

    assert current_revision(engine) == head_revision(engine)
    assert schema_problem(engine) is None
    assert _rows(engine) == before
    with session_scope(session_factory(engine)) as session:
        assert verify(session).ok
    engine.dispose()


def _rows(engine: Engine) -> dict[str, object]:
    """How many rows each table holds, the notice as it was sent, and the chain's head."""
    with session_scope(session_factory(engine)) as session:
        counts: dict[str, object] = {
            table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Case, Notice, Delivery, Owner, AuditEvent)
        }
        notice = session.scalars(select(Notice)).one()
        counts["notice"] = (notice.notice_number, notice.recipient_address, notice.recipient_city)
        head = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        counts["audit_head"] = (head.seq, head.hash) if head else None
        return counts
