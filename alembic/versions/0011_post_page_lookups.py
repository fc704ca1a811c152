"""post_page_lookups: a recovered post's own pages looked up in web archives

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 06:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('post_page_lookups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('embed_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('archive', sa.String(length=200), nullable=True),
    sa.Column('memento_url', sa.String(length=4096), nullable=True),
    sa.Column('memento_datetime', sa.DateTime(timezone=True), nullable=True),
    sa.Column('copies', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['embed_id'], ['embeds.id'], name=op.f('fk_post_page_lookups_embed_id_embeds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_page_lookups')),
    sa.UniqueConstraint('embed_id', name=op.f('uq_post_page_lookups_embed_id'))
    )


def downgrade() -> None:
    op.drop_table('post_page_lookups')
