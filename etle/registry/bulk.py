"""Writing registry rows in bulk: the second pass of the import, and the mirror of answers from
the registry service.

A chunk of rows is compared with the database in one query (vehicles by plate, with their
current owners) and written with bulk statements, never one ORM object per row: primary keys
are reserved up front, so new rows go in without RETURNING, by PostgreSQL COPY (psycopg) or the
driver's own `executemany` on SQLite. Compared as tuples of normalised values, a row equal to
what is stored writes nothing, which is what makes re-importing a file a no-op.

A row naming another owner than the vehicle's current one (another NIK; without NIKs, another
name) is a change of hands: the old ownership is closed, a new owner and ownership are added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, any_, bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from etle.registry.models import Owner, Ownership, Vehicle
from etle.registry.rows import OwnerDetails, RegistryRow, VehicleDetails, same_person

VEHICLE_FIELDS = VehicleDetails._fields[1:]  # all but the plate, the key
OWNER_FIELDS = OwnerDetails._fields

vehicles = cast(Table, Vehicle.__table__)
owners = cast(Table, Owner.__table__)
ownerships = cast(Table, Ownership.__table__)


@dataclass(frozen=True, slots=True)
class WriteCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    owners_changed: int = 0

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged

    def __add__(self, other: WriteCounts) -> WriteCounts:
        return WriteCounts(
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.owners_changed + other.owners_changed,
        )


def owner_values(owner: OwnerDetails) -> dict[str, Any]:
    return owner._asdict()


def vehicle_values(vehicle: VehicleDetails) -> dict[str, Any]:
    values = vehicle._asdict()
    del values["plate"]
    return values


def write_rows(
    session: Session, rows: Sequence[RegistryRow], *, now: datetime, source: str
) -> WriteCounts:
    """Insert or update one chunk of validated rows (unique plates) with bulk statements."""
    if not rows:
        return WriteCounts()
    v, o = vehicles.c, owners.c
    plates = [row.vehicle.plate for row in rows]
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter: thousands of IN parameters cost more to send than to look up.
        wanted = v.plate == any_(bindparam("plates", plates, type_=ARRAY(String)))
    else:
        wanted = v.plate.in_(plates)
    current: dict[str, tuple[Any, ...]] = {
        found[1]: tuple(found)
        for found in session.execute(
            select(v.id, v.plate, v.owner_id, *(v[f] for f in VEHICLE_FIELDS))
            .add_columns(*(o[f] for f in OWNER_FIELDS))
            .join_from(vehicles, owners, v.owner_id == o.id)
            .where(wanted)
        )
    }
    # Row layout: id, plate, owner_id, vehicle fields, owner fields (compared as tuples).
    owner_at = 3 + len(VEHICLE_FIELDS)
    new: list[RegistryRow] = []
    moved: list[tuple[int, RegistryRow]] = []  # (vehicle id, row): the vehicle changed hands
    vehicle_updates: list[dict[str, Any]] = []
    owner_updates: list[dict[str, Any]] = []
    unchanged = 0
    for row in rows:
        found = current.get(row.vehicle.plate)
        if found is None:
            new.append(row)
            continue
        owner_now = OwnerDetails(*found[owner_at:])
        if not same_person(owner_now, row.owner):
            moved.append((found[0], row))
            continue
        owner_changed = owner_now != row.owner
        vehicle_changed = found[3:owner_at] != row.vehicle[1:]
        if owner_changed:
            owner_updates.append({"b_id": found[2], **owner_values(row.owner)})
        if vehicle_changed:
            vehicle_updates.append(
                {
                    "b_id": found[0],
                    **vehicle_values(row.vehicle),
                    "owner_id": found[2],
                    "updated_at": now,
                }
            )
        unchanged += not (owner_changed or vehicle_changed)

    if new:
        owner_ids = _insert_owners(session, [row.owner for row in new], now)
        vehicle_ids = _reserve_ids(session, vehicles, len(new))
        _insert(
            session,
            vehicles,
            [
                {
                    "id": vehicle_id,
                    "plate": row.vehicle.plate,
                    **vehicle_values(row.vehicle),
                    "owner_id": owner_id,
                    "updated_at": now,
                }
                for vehicle_id, owner_id, row in zip(vehicle_ids, owner_ids, new, strict=True)
            ],
        )
        # First sight of these vehicles: their owners' real start dates are unknown.
        _open_ownerships(session, list(zip(vehicle_ids, owner_ids, strict=True)), None, source)
    if moved:
        owner_ids = _insert_owners(session, [row.owner for _, row in moved], now)
        session.execute(
            update(ownerships)
            .where(
                ownerships.c.vehicle_id == bindparam("b_vehicle"), ownerships.c.valid_to.is_(None)
            )
            .values(valid_to=bindparam("b_now")),
            [{"b_vehicle": vehicle_id, "b_now": now} for vehicle_id, _ in moved],
        )
        pairs = [
            (vehicle_id, owner_id)
            for (vehicle_id, _), owner_id in zip(moved, owner_ids, strict=True)
        ]
        _open_ownerships(session, pairs, now, source)
        vehicle_updates.extend(
            {
                "b_id": vehicle_id,
                **vehicle_values(row.vehicle),
                "owner_id": owner_id,
                "updated_at": now,
            }
            for (vehicle_id, row), owner_id in zip(moved, owner_ids, strict=True)
        )
    if vehicle_updates:
        session.execute(update(vehicles).where(v.id == bindparam("b_id")), vehicle_updates)
    if owner_updates:
        session.execute(update(owners).where(o.id == bindparam("b_id")), owner_updates)
    return WriteCounts(
        created=len(new),
        updated=len(rows) - len(new) - unchanged,
        unchanged=unchanged,
        owners_changed=len(moved),
    )


def _insert_owners(session: Session, details: list[OwnerDetails], now: datetime) -> list[int]:
    ids = _reserve_ids(session, owners, len(details))
    _insert(
        session,
        owners,
        [
            {"id": i, **owner_values(owner), "created_at": now}
            for i, owner in zip(ids, details, strict=True)
        ],
    )
    return ids


def _open_ownerships(
    session: Session, pairs: list[tuple[int, int]], since: datetime | None, source: str
) -> None:
    _insert(
        session,
        ownerships,
        [
            {
                "id": i,
                "vehicle_id": vehicle_id,
                "owner_id": owner_id,
                "valid_from": since,
                "valid_to": None,
                "source": source,
            }
            for i, (vehicle_id, owner_id) in zip(
                _reserve_ids(session, ownerships, len(pairs)), pairs, strict=True
            )
        ],
    )


def _reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """Primary keys for `count` new rows, so the rows can be sent in bulk without RETURNING.

    PostgreSQL hands them out from the table's sequence (safe beside concurrent inserts);
    SQLite holds the database's write lock from BEGIN (see etle.db), so max(id) is stable.
    """
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
                ),
                {"t": table.name, "n": count},
            )
        )
    start = session.scalar(select(func.max(table.c.id))) or 0
    return list(range(start + 1, start + count + 1))


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Bulk insert: COPY on PostgreSQL (psycopg); elsewhere the driver's own executemany with
    values converted once by the columns' types (SQLAlchemy's per-row parameter handling
    costs more than SQLite's insert itself at this volume)."""
    if not rows:
        return
    # In the table's order: the compiled INSERT lists its columns that way, whatever the dict's.
    columns = [c.name for c in table.columns if c.name in rows[0]]
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        names = ", ".join(f'"{c}"' for c in columns)
        with (
            driver.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row([row[c] for c in columns])
        return
    statement = str(insert(table).compile(dialect=dialect, column_keys=columns))
    processors = [table.c[c].type.bind_processor(dialect) for c in columns]
    connection.exec_driver_sql(
        statement,
        [
            tuple(
                value if process is None or value is None else process(value)
                for value, process in zip((row[c] for c in columns), processors, strict=True)
            )
            for row in rows
        ],
    )
