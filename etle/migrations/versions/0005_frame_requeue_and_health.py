"""frames: requeue_at for the sweep; indexes for the sweep and camera health

The two indexes dropped were covered by others: camera_id by the unique (camera_id, sequence)
and the new (camera_id, received_at); status by the new (status, requeue_at). Fewer indexes keep
the frame insert, the hottest write of the system, cheap.

Revision ID: i4_a
Revises: i5_a
Create Date: 2026-11-22 22:08:52.481813
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import etle.db


revision: str = 'i4_a'
down_revision: str | None = 'i5_a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('frames', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requeue_at', etle.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_index(batch_op.f('ix_frames_camera_id'))
        batch_op.drop_index(batch_op.f('ix_frames_status'))
        batch_op.create_index('ix_frames_camera_id_received_at', ['camera_id', 'received_at'], unique=False)
        batch_op.create_index('ix_frames_status_requeue_at', ['status', 'requeue_at'], unique=False)
    # Frames already waiting are due for the sweep straight away.
    op.execute("UPDATE frames SET requeue_at = received_at WHERE status = 'queued'")


def downgrade() -> None:
    with op.batch_alter_table('frames', schema=None) as batch_op:
        batch_op.drop_index('ix_frames_status_requeue_at')
        batch_op.drop_index('ix_frames_camera_id_received_at')
        batch_op.create_index(batch_op.f('ix_frames_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_frames_camera_id'), ['camera_id'], unique=False)
        batch_op.drop_column('requeue_at')
