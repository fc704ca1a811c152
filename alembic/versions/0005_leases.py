"""leases: embeds held by a daemon (lease_owner, lease_until) and the daemon's job runs

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-21 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('job', sa.String(length=32), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=200), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('job', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('embeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_embeds_lease_owner'), ['lease_owner'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('embeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_embeds_lease_owner'))
        batch_op.drop_column('lease_until')
        batch_op.drop_column('lease_owner')

    op.drop_table('job_runs')
