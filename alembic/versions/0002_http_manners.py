"""shared HTTP manners: rate windows and host backoffs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-20 23:09:29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('host_backoffs',
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('host', name=op.f('pk_host_backoffs'))
    )
    op.create_table('rate_windows',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('window_start', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_windows'))
    )


def downgrade() -> None:
    op.drop_table('rate_windows')
    op.drop_table('host_backoffs')
