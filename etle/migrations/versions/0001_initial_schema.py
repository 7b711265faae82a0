"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 21:49:51.084570
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import etle.db
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('audit_events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('occurred_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('before', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('after', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    op.create_table('cameras',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('road', sa.String(length=200), nullable=False),
    sa.Column('direction', sa.String(length=50), nullable=False),
    sa.Column('speed_limit_kmh', sa.Integer(), nullable=True),
    sa.Column('violation_codes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('token_rotated_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cameras')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_cameras_token_hash'))
    )
    op.create_table('officers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('nik', sa.String(length=16), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officers')),
    sa.UniqueConstraint('username', name=op.f('uq_officers_username'))
    )
    op.create_table('owners',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('nik', sa.String(length=16), nullable=True),
    sa.Column('address', sa.String(length=400), nullable=False),
    sa.Column('postcode', sa.String(length=10), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('created_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owners'))
    )
    with op.batch_alter_table('owners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owners_nik'), ['nik'], unique=False)

    op.create_table('violation_types',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_id', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('legal_basis', sa.String(length=200), nullable=False),
    sa.Column('max_fine_rp', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_violation_types'))
    )
    op.create_table('frames',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('camera_id', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('captured_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('violation_code', sa.String(length=32), nullable=True),
    sa.Column('measured_speed_kmh', sa.Float(), nullable=True),
    sa.Column('plate_box_hint', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('needs_review_reason', sa.String(length=200), nullable=True),
    sa.Column('processed_at', etle.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['camera_id'], ['cameras.id'], name=op.f('fk_frames_camera_id_cameras')),
    sa.ForeignKeyConstraint(['violation_code'], ['violation_types.code'], name=op.f('fk_frames_violation_code_violation_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_frames')),
    sa.UniqueConstraint('camera_id', 'sequence', name=op.f('uq_frames_camera_id_sequence')),
    sa.UniqueConstraint('sha256', name=op.f('uq_frames_sha256'))
    )
    with op.batch_alter_table('frames', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_frames_camera_id'), ['camera_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_frames_captured_at'), ['captured_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_frames_status'), ['status'], unique=False)

    op.create_table('vehicles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('vehicle_class', sa.String(length=32), nullable=False),
    sa.Column('brand', sa.String(length=100), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('colour', sa.String(length=50), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('vin', sa.String(length=32), nullable=True),
    sa.Column('engine_number', sa.String(length=32), nullable=True),
    sa.Column('registration_valid_until', sa.Date(), nullable=True),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('updated_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['owners.id'], name=op.f('fk_vehicles_owner_id_owners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vehicles')),
    sa.UniqueConstraint('plate', name=op.f('uq_vehicles_plate'))
    )
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vehicles_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vehicles_vin'), ['vin'], unique=False)

    op.create_table('ownerships',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('vehicle_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('valid_from', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_to', etle.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('source', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['owners.id'], name=op.f('fk_ownerships_owner_id_owners')),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], name=op.f('fk_ownerships_vehicle_id_vehicles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ownerships'))
    )
    with op.batch_alter_table('ownerships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ownerships_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ownerships_vehicle_id'), ['vehicle_id'], unique=False)

    op.create_table('plate_reads',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('frame_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('box', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('text', sa.String(length=16), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('candidates', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('slot_confidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('created_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['frame_id'], ['frames.id'], name=op.f('fk_plate_reads_frame_id_frames')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plate_reads')),
    sa.UniqueConstraint('frame_id', 'index', name=op.f('uq_plate_reads_frame_id_index'))
    )
    with op.batch_alter_table('plate_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plate_reads_frame_id'), ['frame_id'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('camera_id', sa.String(length=64), nullable=False),
    sa.Column('violation_code', sa.String(length=32), nullable=False),
    sa.Column('vehicle_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('first_captured_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_captured_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('evidence_frame_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('evidence_sha256', sa.String(length=64), nullable=False),
    sa.Column('plate_read_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('flags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('match_candidates', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status_changed_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['camera_id'], ['cameras.id'], name=op.f('fk_cases_camera_id_cameras')),
    sa.ForeignKeyConstraint(['evidence_frame_id'], ['frames.id'], name=op.f('fk_cases_evidence_frame_id_frames')),
    sa.ForeignKeyConstraint(['owner_id'], ['owners.id'], name=op.f('fk_cases_owner_id_owners')),
    sa.ForeignKeyConstraint(['plate_read_id'], ['plate_reads.id'], name=op.f('fk_cases_plate_read_id_plate_reads')),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], name=op.f('fk_cases_vehicle_id_vehicles')),
    sa.ForeignKeyConstraint(['violation_code'], ['violation_types.code'], name=op.f('fk_cases_violation_code_violation_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_camera_id'), ['camera_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_plate'), ['plate'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_vehicle_id'), ['vehicle_id'], unique=False)

    op.create_table('case_frames',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('frame_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plate_read_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('captured_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_frames_case_id_cases')),
    sa.ForeignKeyConstraint(['frame_id'], ['frames.id'], name=op.f('fk_case_frames_frame_id_frames')),
    sa.ForeignKeyConstraint(['plate_read_id'], ['plate_reads.id'], name=op.f('fk_case_frames_plate_read_id_plate_reads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_frames')),
    sa.UniqueConstraint('plate_read_id', name=op.f('uq_case_frames_plate_read_id'))
    )
    with op.batch_alter_table('case_frames', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_frames_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_frames_frame_id'), ['frame_id'], unique=False)

    op.create_table('notices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('notice_number', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('issue', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('recipient_name', sa.String(length=200), nullable=False),
    sa.Column('recipient_address', sa.String(length=400), nullable=False),
    sa.Column('recipient_postcode', sa.String(length=10), nullable=False),
    sa.Column('recipient_email', sa.String(length=254), nullable=True),
    sa.Column('recipient_phone', sa.String(length=32), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('verification_code', sa.String(length=16), nullable=False),
    sa.Column('issued_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('respond_by', sa.Date(), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('rendered_at', etle.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notices_case_id_cases')),
    sa.ForeignKeyConstraint(['owner_id'], ['owners.id'], name=op.f('fk_notices_owner_id_owners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    sa.UniqueConstraint('case_id', 'issue', name=op.f('uq_notices_case_id_issue')),
    sa.UniqueConstraint('notice_number', name=op.f('uq_notices_notice_number')),
    sa.UniqueConstraint('verification_code', name=op.f('uq_notices_verification_code'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_case_id'), ['case_id'], unique=False)

    op.create_table('review_decisions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('officer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('reason_code', sa.String(length=32), nullable=True),
    sa.Column('reason_text', sa.String(length=500), nullable=True),
    sa.Column('corrected_plate', sa.String(length=16), nullable=True),
    sa.Column('decided_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_review_decisions_case_id_cases')),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_review_decisions_officer_id_officers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_decisions'))
    )
    with op.batch_alter_table('review_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_decisions_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_decisions_officer_id'), ['officer_id'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('notice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('provider_ref', sa.String(length=200), nullable=True),
    sa.Column('created_at', etle.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', etle.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_deliveries_notice_id_notices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_deliveries_idempotency_key')),
    sa.UniqueConstraint('notice_id', 'channel', name=op.f('uq_deliveries_notice_id_channel'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_status'), ['status'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_status'))
        batch_op.drop_index(batch_op.f('ix_deliveries_notice_id'))

    op.drop_table('deliveries')
    with op.batch_alter_table('review_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_decisions_officer_id'))
        batch_op.drop_index(batch_op.f('ix_review_decisions_case_id'))

    op.drop_table('review_decisions')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_case_id'))

    op.drop_table('notices')
    with op.batch_alter_table('case_frames', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_frames_frame_id'))
        batch_op.drop_index(batch_op.f('ix_case_frames_case_id'))

    op.drop_table('case_frames')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_vehicle_id'))
        batch_op.drop_index(batch_op.f('ix_cases_status'))
        batch_op.drop_index(batch_op.f('ix_cases_plate'))
        batch_op.drop_index(batch_op.f('ix_cases_owner_id'))
        batch_op.drop_index(batch_op.f('ix_cases_camera_id'))

    op.drop_table('cases')
    with op.batch_alter_table('plate_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plate_reads_frame_id'))

    op.drop_table('plate_reads')
    with op.batch_alter_table('ownerships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ownerships_vehicle_id'))
        batch_op.drop_index(batch_op.f('ix_ownerships_owner_id'))

    op.drop_table('ownerships')
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vehicles_vin'))
        batch_op.drop_index(batch_op.f('ix_vehicles_owner_id'))

    op.drop_table('vehicles')
    with op.batch_alter_table('frames', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_frames_status'))
        batch_op.drop_index(batch_op.f('ix_frames_captured_at'))
        batch_op.drop_index(batch_op.f('ix_frames_camera_id'))

    op.drop_table('frames')
    op.drop_table('violation_types')
    with op.batch_alter_table('owners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owners_nik'))

    op.drop_table('owners')
    op.drop_table('officers')
    op.drop_table('cameras')
    op.drop_table('audit_events')

