"""Notices: post batches, webhook receipts, claims and backoff on deliveries, owner language

Revision ID: i7_a
Revises: 0001
Create Date: 2026-11-22 22:07:55.218639
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import etle.db


revision: str = 'i7_a'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('post_batches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('letters', sa.Integer(), nullable=False),
    sa.Column('sums_sha256', sa.String(length=64), nullable=False),
    sa.Column('exported_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('exported_by', sa.String(length=100), nullable=False),
    sa.Column('handed_over_at', etle.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('handed_over_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_batches')),
    sa.UniqueConstraint('name', name=op.f('uq_post_batches_name'))
    )
    op.create_table('webhook_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('received_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_webhook_events_delivery_id_deliveries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('provider', 'event_id', name=op.f('uq_webhook_events_provider_event_id'))
    )
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_events_delivery_id'), ['delivery_id'], unique=False)

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivered_at', etle.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('returned_at', etle.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', etle.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('next_attempt_at', etle.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_index(batch_op.f('ix_deliveries_batch_id'), ['batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_deliveries_batch_id_post_batches'), 'post_batches', ['batch_id'], ['id'])

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attention', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('attention_at', etle.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('owners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('owners', schema=None) as batch_op:
        batch_op.drop_column('language')

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_column('attention_at')
        batch_op.drop_column('attention')

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_deliveries_batch_id_post_batches'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_deliveries_batch_id'))
        batch_op.drop_column('batch_id')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('returned_at')
        batch_op.drop_column('delivered_at')

    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_events_delivery_id'))

    op.drop_table('webhook_events')
    op.drop_table('post_batches')
