"""review leases, decision details, login attempts, officer auth version

Revision ID: i6_a
Revises: i7_a
Create Date: 2026-11-22 22:08:32.021718

Adds columns with plain ALTER TABLE ... ADD COLUMN on every backend. On SQLite the lease
foreign key is declared inline: batch mode would rebuild `cases`, and dropping the old table
fails once other tables (case_frames, notices) reference its rows.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import etle.db

revision: str = 'i6_a'
down_revision: str | None = 'i7_a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'login_attempts',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('succeeded', sa.Boolean(), nullable=False),
        sa.Column('attempted_at', etle.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts')),
    )
    op.create_index('ix_login_attempts_address_at', 'login_attempts', ['address', 'attempted_at'])
    op.create_index('ix_login_attempts_username_at', 'login_attempts', ['username', 'attempted_at'])

    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            'ALTER TABLE cases ADD COLUMN lease_officer_id INTEGER '
            'CONSTRAINT fk_cases_lease_officer_id_officers REFERENCES officers (id)'
        )
    else:
        op.add_column('cases', sa.Column('lease_officer_id', BigId, nullable=True))
        op.create_foreign_key(
            op.f('fk_cases_lease_officer_id_officers'),
            'cases',
            'officers',
            ['lease_officer_id'],
            ['id'],
        )
    op.add_column('cases', sa.Column('lease_expires_at', etle.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('cases', sa.Column('claimed_at', etle.db.UTCDateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_cases_lease_officer_id'), 'cases', ['lease_officer_id'])
    op.create_index('ix_cases_queue', 'cases', ['status', 'first_captured_at'])

    op.add_column(
        'officers',
        sa.Column('auth_version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    )

    op.add_column('review_decisions', sa.Column('from_status', sa.String(length=32), nullable=True))
    op.add_column('review_decisions', sa.Column('plate_before', sa.String(length=16), nullable=True))
    op.add_column(
        'review_decisions',
        sa.Column('claimed_at', etle.db.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table('review_decisions', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('plate_before')
        batch_op.drop_column('from_status')
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.drop_column('auth_version')
    op.drop_index('ix_cases_queue', table_name='cases')
    op.drop_index(op.f('ix_cases_lease_officer_id'), table_name='cases')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('lease_expires_at')
        if op.get_bind().dialect.name != 'sqlite':
            batch_op.drop_constraint(op.f('fk_cases_lease_officer_id_officers'), type_='foreignkey')
        batch_op.drop_column('lease_officer_id')
    op.drop_index('ix_login_attempts_username_at', table_name='login_attempts')
    op.drop_index('ix_login_attempts_address_at', table_name='login_attempts')
    op.drop_table('login_attempts')
