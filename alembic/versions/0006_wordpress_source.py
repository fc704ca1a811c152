"""wordpress source: an article's public URL (articles.url) and a source's incremental scan cursor

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('url', sa.String(length=2048), nullable=True))
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scan_cursor', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('scan_cursor')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('url')
