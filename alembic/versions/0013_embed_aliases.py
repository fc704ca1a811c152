"""embed aliases: other ids of a post kept under a lasting one (a Bluesky handle id under its DID id)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:00:00

Embeds already stored twice (a Bluesky post by handle and by DID) are not merged here: the handle-form
embed is merged at its next capture or check that finds the post (`archiver.pipeline.capture`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('embed_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('post_id', sa.String(length=255), nullable=False),
    sa.Column('canonical_url', sa.String(length=2048), nullable=False),
    sa.Column('embed_id', sa.Integer(), nullable=False),
    sa.Column('version_offset', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['embed_id'], ['embeds.id'], name=op.f('fk_embed_aliases_embed_id_embeds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_embed_aliases')),
    sa.UniqueConstraint('provider', 'post_id', name=op.f('uq_embed_aliases_provider_post_id'))
    )
    with op.batch_alter_table('embed_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_embed_aliases_canonical_url'), ['canonical_url'], unique=False)
        batch_op.create_index(batch_op.f('ix_embed_aliases_embed_id'), ['embed_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('embed_aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_embed_aliases_embed_id'))
        batch_op.drop_index(batch_op.f('ix_embed_aliases_canonical_url'))
    op.drop_table('embed_aliases')
