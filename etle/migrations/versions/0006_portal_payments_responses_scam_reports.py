"""issue 8: the public portal: payments and bank callbacks, owners' responses, scam reports;
login_attempts gains a purpose (the portal's rate limits share the table); audit events indexed
by entity (a case's public timeline)

Revision ID: i8_a
Revises: i4_a
Create Date: 2026-11-22 23:33:40.393668
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import etle.db


revision: str = 'i8_a'
down_revision: str | None = 'i4_a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('payment_callbacks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('transaction_id', sa.String(length=64), nullable=False),
    sa.Column('payment_code', sa.String(length=24), nullable=False),
    sa.Column('amount_rp', sa.Integer(), nullable=False),
    sa.Column('received_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_callbacks')),
    sa.UniqueConstraint('request_id', name=op.f('uq_payment_callbacks_request_id'))
    )
    with op.batch_alter_table('payment_callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_callbacks_transaction_id'), ['transaction_id'], unique=False)

    op.create_table('scam_reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('received_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('sender', sa.String(length=200), nullable=True),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('message', sa.String(length=2000), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scam_reports'))
    )
    with op.batch_alter_table('scam_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scam_reports_received_at'), ['received_at'], unique=False)

    op.create_table('case_responses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('notice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('driver_name', sa.String(length=200), nullable=True),
    sa.Column('driver_nik', sa.String(length=16), nullable=True),
    sa.Column('driver_address', sa.String(length=400), nullable=True),
    sa.Column('buyer_owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('sold_on', sa.Date(), nullable=True),
    sa.Column('photo_sha256', sa.String(length=64), nullable=True),
    sa.Column('photo_content_type', sa.String(length=32), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('details_sha256', sa.String(length=64), nullable=False),
    sa.Column('responded_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['buyer_owner_id'], ['owners.id'], name=op.f('fk_case_responses_buyer_owner_id_owners')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_responses_case_id_cases')),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_case_responses_notice_id_notices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_responses'))
    )
    with op.batch_alter_table('case_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_responses_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_responses_notice_id'), ['notice_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('notice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payment_code', sa.String(length=24), nullable=False),
    sa.Column('amount_rp', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('issued_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('pay_by', sa.Date(), nullable=True),
    sa.Column('bank_transaction_id', sa.String(length=64), nullable=True),
    sa.Column('paid_amount_rp', sa.Integer(), nullable=True),
    sa.Column('paid_at', etle.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recorded_at', etle.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('bank_channel', sa.String(length=32), nullable=True),
    sa.Column('receipt_sha256', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_payments_case_id_cases')),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_payments_notice_id_notices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('bank_transaction_id', name=op.f('uq_payments_bank_transaction_id')),
    sa.UniqueConstraint('case_id', name=op.f('uq_payments_case_id')),
    sa.UniqueConstraint('payment_code', name=op.f('uq_payments_payment_code'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_entity', ['entity_type', 'entity_id'], unique=False)

    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), server_default='login', nullable=False))
        batch_op.create_index('ix_login_attempts_purpose_address_at', ['purpose', 'address', 'attempted_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_purpose_address_at')
        batch_op.drop_column('purpose')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_entity')

    op.drop_table('payments')
    with op.batch_alter_table('case_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_responses_notice_id'))
        batch_op.drop_index(batch_op.f('ix_case_responses_case_id'))

    op.drop_table('case_responses')
    with op.batch_alter_table('scam_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scam_reports_received_at'))

    op.drop_table('scam_reports')
    with op.batch_alter_table('payment_callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_callbacks_transaction_id'))

    op.drop_table('payment_callbacks')
