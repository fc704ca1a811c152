"""recoveries: what web archives showed for residue lines and lost spots

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('recoveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('markup', sa.String(length=16), nullable=False),
    sa.Column('anchor', sa.String(length=1000), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('embed_id', sa.Integer(), nullable=True),
    sa.Column('archive', sa.String(length=200), nullable=True),
    sa.Column('memento_url', sa.String(length=4096), nullable=True),
    sa.Column('memento_datetime', sa.DateTime(timezone=True), nullable=True),
    sa.Column('original_markup', sa.Text(), nullable=True),
    sa.Column('copies', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_recoveries_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['embed_id'], ['embeds.id'], name=op.f('fk_recoveries_embed_id_embeds'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recoveries')),
    sa.UniqueConstraint('article_id', 'markup', 'anchor', name=op.f('uq_recoveries_article_id_markup_anchor'))
    )
    with op.batch_alter_table('recoveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recoveries_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recoveries_embed_id'), ['embed_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recoveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recoveries_embed_id'))
        batch_op.drop_index(batch_op.f('ix_recoveries_article_id'))
    op.drop_table('recoveries')
