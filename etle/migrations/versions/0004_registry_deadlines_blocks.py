"""issue 5: jurisdictions (deadlines), registration blocks, camera-reported vehicle class,
case deadlines and flag details, plate reads indexed by text (cloned-plate checks),
ownership start dates that may be unknown

Revision ID: i5_a
Revises: i6_a
Create Date: 2026-11-22 22:10:37.973714
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import etle.db
from sqlalchemy.dialects import postgresql

revision: str = 'i5_a'
down_revision: str | None = 'i6_a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('jurisdictions',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('respond_days', sa.Integer(), nullable=False),
    sa.Column('pay_days', sa.Integer(), nullable=False),
    sa.Column('created_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_jurisdictions'))
    )
    op.create_table('registration_blocks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('vehicle_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('blocked_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('listed_on', sa.Date(), nullable=True),
    sa.Column('lifted_at', etle.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lift_reason', sa.String(length=32), nullable=True),
    sa.Column('lift_listed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_registration_blocks_case_id_cases')),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], name=op.f('fk_registration_blocks_vehicle_id_vehicles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_blocks')),
    sa.UniqueConstraint('case_id', name=op.f('uq_registration_blocks_case_id'))
    )
    with op.batch_alter_table('registration_blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_blocks_lifted_at'), ['lifted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_blocks_plate'), ['plate'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_blocks_vehicle_id'), ['vehicle_id'], unique=False)

    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.add_column(sa.Column('jurisdiction_code', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_cameras_jurisdiction_code'), ['jurisdiction_code'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cameras_jurisdiction_code_jurisdictions'), 'jurisdictions', ['jurisdiction_code'], ['code'])

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flag_details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_due_on'), ['due_on'], unique=False)

    with op.batch_alter_table('frames', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vehicle_class', sa.String(length=32), nullable=True))

    with op.batch_alter_table('plate_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plate_reads_text'), ['text'], unique=False)

    with op.batch_alter_table('ownerships', schema=None) as batch_op:
        batch_op.alter_column('valid_from', existing_type=etle.db.UTCDateTime(timezone=True), nullable=True)



def downgrade() -> None:
    with op.batch_alter_table('ownerships', schema=None) as batch_op:
        batch_op.alter_column('valid_from', existing_type=etle.db.UTCDateTime(timezone=True), nullable=False)

    with op.batch_alter_table('plate_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plate_reads_text'))

    with op.batch_alter_table('frames', schema=None) as batch_op:
        batch_op.drop_column('vehicle_class')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_due_on'))
        batch_op.drop_column('due_on')
        batch_op.drop_column('flag_details')

    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cameras_jurisdiction_code_jurisdictions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cameras_jurisdiction_code'))
        batch_op.drop_column('jurisdiction_code')

    with op.batch_alter_table('registration_blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_blocks_vehicle_id'))
        batch_op.drop_index(batch_op.f('ix_registration_blocks_plate'))
        batch_op.drop_index(batch_op.f('ix_registration_blocks_lifted_at'))

    op.drop_table('registration_blocks')
    op.drop_table('jurisdictions')
