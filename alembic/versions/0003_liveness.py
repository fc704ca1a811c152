"""liveness: check schedule, state changes, provider health, alerts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-20 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_provider_raised_at'), ['provider', 'raised_at'], unique=False)

    op.create_table('provider_health',
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('probed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('provider', name=op.f('pk_provider_health'))
    )
    op.create_table('state_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('embed_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=False),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['embed_id'], ['embeds.id'], name=op.f('fk_state_changes_embed_id_embeds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_state_changes'))
    )
    with op.batch_alter_table('state_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_state_changes_embed_id_changed_at'), ['embed_id', 'changed_at'], unique=False)

    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counted', sa.Boolean(), server_default=sa.text('(true)'), nullable=False))

    with op.batch_alter_table('embeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_check_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_ok_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('state_changed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_embeds_next_check_at'), ['next_check_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('embeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_embeds_next_check_at'))
        batch_op.drop_column('state_changed_at')
        batch_op.drop_column('last_ok_at')
        batch_op.drop_column('next_check_at')

    with op.batch_alter_table('checks', schema=None) as batch_op:
        batch_op.drop_column('counted')

    with op.batch_alter_table('state_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_state_changes_embed_id_changed_at'))

    op.drop_table('state_changes')
    op.drop_table('provider_health')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_provider_raised_at'))

    op.drop_table('alerts')
