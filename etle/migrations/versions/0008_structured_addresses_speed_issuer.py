"""issue 16: owners' and notices' addresses in parts (street, district, city) for the post
manifest; a speeding notice's measured speed and limit; who issues a jurisdiction's letters

Existing rows are upgraded: one-line addresses are split at their last two commas ("street,
district, city", as etle.registry.rows.split_address does), and speeding notices take the speed
of their evidence frame and the limit of their camera.

Revision ID: i16_a
Revises: i13_a
Create Date: 2026-12-06 09:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'i16_a'
down_revision: str | None = 'i13_a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 5_000


def _split(address: str) -> tuple[str, str, str]:
    # A copy of etle.registry.rows.split_address as of this revision: a migration must not
    # change when the code it once used changes.
    parts = [p.strip() for p in address.replace("\n", ",").split(",") if p.strip()]
    if len(parts) >= 3:
        return ", ".join(parts[:-2]), parts[-2], parts[-1]
    if len(parts) == 2:
        return parts[0], "", parts[1]
    return address.strip(), "", ""


def _backfill(table: str, column: str, prefix: str) -> None:
    connection = op.get_bind()
    update = sa.text(
        f"UPDATE {table} SET {prefix}street = :street, {prefix}district = :district, "
        f"{prefix}city = :city WHERE id = :id"
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                f"SELECT id, {column} FROM {table} WHERE id > :last AND {column} != '' "
                "ORDER BY id LIMIT :chunk"
            ),
            {"last": last, "chunk": CHUNK},
        ).all()
        if not rows:
            return
        values = []
        for row_id, address in rows:
            street, district, city = _split(address)
            values.append(
                {"id": row_id, "street": street[:200], "district": district[:100],
                 "city": city[:100]}
            )
        connection.execute(update, values)
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table('owners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('street', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('district', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('city', sa.String(length=100), nullable=False, server_default=''))
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_street', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('recipient_district', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('recipient_city', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('measured_speed_kmh', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('speed_limit_kmh', sa.Integer(), nullable=True))
    with op.batch_alter_table('jurisdictions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issuing_unit', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('office_address', sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column('signatory_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('signatory_title', sa.String(length=200), nullable=True))
    # The server default '' stays (new rows get theirs from the ORM too): dropping it would
    # make SQLite copy each table once more for nothing.
    _backfill('owners', 'address', '')
    _backfill('notices', 'recipient_address', 'recipient_')
    op.execute(
        "UPDATE notices SET "
        "measured_speed_kmh = (SELECT f.measured_speed_kmh FROM cases c "
        "JOIN frames f ON f.id = c.evidence_frame_id WHERE c.id = notices.case_id), "
        "speed_limit_kmh = (SELECT k.speed_limit_kmh FROM cases c "
        "JOIN cameras k ON k.id = c.camera_id WHERE c.id = notices.case_id) "
        "WHERE case_id IN (SELECT id FROM cases WHERE violation_code = 'speeding')"
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+ has it): a batch copy of `notices` would be refused by
    # the foreign keys of the deliveries pointing at it.
    for table, columns in (
        ('jurisdictions', ('signatory_title', 'signatory_name', 'office_address', 'issuing_unit')),
        ('notices', ('speed_limit_kmh', 'measured_speed_kmh', 'recipient_city',
                     'recipient_district', 'recipient_street')),
        ('owners', ('city', 'district', 'street')),
    ):
        for column in columns:
            op.drop_column(table, column)
