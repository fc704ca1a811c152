"""viewer indexes: counts by provider and state, article counts, embeds by handle

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 04:40:00

Measured with benchmarks/viewer_speed.py (200,000 articles, 100,000 embeds): the dashboard's counts by
provider and state read `ix_embeds_provider_state` alone; counting articles reads the small
`ix_articles_scan_error`; an account's embeds are found through `search_snapshots_handle` on the
expression `queries.embeds_with_handle` compares, `lower(trim(handle))`. SQLite's reflection cannot read
an expression index, so that one is not in the models: named `search_*`, model comparisons skip it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('embeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_embeds_provider_state'), ['provider', 'state'], unique=False)
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articles_scan_error'), ['scan_error'], unique=False)
    op.execute('CREATE INDEX search_snapshots_handle ON snapshots (lower(trim(handle)))')


def downgrade() -> None:
    op.execute('DROP INDEX IF EXISTS search_snapshots_handle')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articles_scan_error'))
    with op.batch_alter_table('embeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_embeds_provider_state'))
