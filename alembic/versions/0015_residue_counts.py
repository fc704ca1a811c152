"""residue counts: the residue lines matched, ambiguous and orphaned at the last whole-archive rewrite run

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 11:10:00

The dashboard shows how many residue lines no archived post matches; matching every line costs seconds
on a large archive, and the rewrite run already matches them all to find the articles it visits, so it
keeps the counts here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('residue_counts',
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('status', name=op.f('pk_residue_counts'))
    )


def downgrade() -> None:
    op.drop_table('residue_counts')
