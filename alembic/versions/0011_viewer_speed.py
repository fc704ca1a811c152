"""viewer speed: breakages by day, embeds by state

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 07:00:00

Measured with benchmarks/viewer_speed.py (200,000 articles, 20,000 state changes): the dashboard's
breakages of the last days read `ix_state_changes_to_state_changed_at` newest first instead of every
change of the week; the articles list filtered by a state that few embeds are in starts from those
embeds through `ix_embeds_state`.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("state_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_state_changes_to_state_changed_at"), ["to_state", "changed_at"], unique=False
        )
    with op.batch_alter_table("embeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_embeds_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("embeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_embeds_state"))
    with op.batch_alter_table("state_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_state_changes_to_state_changed_at"))
