"""rewrites: the rewrite journal (original bytes of every replaced embed unit, states, hashes)

Revision ID: 0004
Revises: 0005
Create Date: 2026-11-20 23:56:44

0004 follows 0005 (leases), which was written first against 0003: ids are names, not an order.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rewrites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('embed_id', sa.Integer(), nullable=True),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('post_id', sa.String(length=255), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('variant', sa.String(length=8), nullable=True),
    sa.Column('snapshot_version', sa.Integer(), nullable=True),
    sa.Column('span_start', sa.BigInteger(), nullable=False),
    sa.Column('span_end', sa.BigInteger(), nullable=False),
    sa.Column('original_bytes', sa.LargeBinary(), nullable=False),
    sa.Column('replacement_bytes', sa.LargeBinary(), nullable=True),
    sa.Column('card_start', sa.BigInteger(), nullable=True),
    sa.Column('article_sha256_before', sa.String(length=64), nullable=False),
    sa.Column('article_sha256_after', sa.String(length=64), nullable=True),
    sa.Column('restore_sha256_before', sa.String(length=64), nullable=True),
    sa.Column('restore_sha256_after', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.String(length=200), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('restored_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('restored_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_rewrites_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['embed_id'], ['embeds.id'], name=op.f('fk_rewrites_embed_id_embeds'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rewrites'))
    )
    with op.batch_alter_table('rewrites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rewrites_article_id_state'), ['article_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_rewrites_embed_id'), ['embed_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rewrites_state_created_at'), ['state', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rewrites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rewrites_state_created_at'))
        batch_op.drop_index(batch_op.f('ix_rewrites_embed_id'))
        batch_op.drop_index(batch_op.f('ix_rewrites_article_id_state'))

    op.drop_table('rewrites')
