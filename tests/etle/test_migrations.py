from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, text

import etle.models  # noqa: F401
from etle.db import Base, create_engine, session_factory, session_scope
from etle.notices.service import issue_notice
from tests.conftest import Databases


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
