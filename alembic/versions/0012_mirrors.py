"""mirrors: posts pushed to Save Page Now on their first capture, and the copies it made

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mirrors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('embed_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.String(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('memento_url', sa.String(length=4096), nullable=True),
    sa.Column('memento_datetime', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_ext', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['embed_id'], ['embeds.id'], name=op.f('fk_mirrors_embed_id_embeds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mirrors')),
    sa.UniqueConstraint('embed_id', name=op.f('uq_mirrors_embed_id'))
    )
    with op.batch_alter_table('mirrors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mirrors_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mirrors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mirrors_state'))
    op.drop_table('mirrors')
