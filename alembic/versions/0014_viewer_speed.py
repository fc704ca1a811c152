"""viewer speed: breakages by day, embeds by state, the dashboard's counts kept by triggers

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 07:00:00

Measured with benchmarks/viewer_speed.py (200,000 articles, 20,000 state changes): the dashboard's
breakages of the last days read `ix_state_changes_to_state_changed_at` newest first instead of every
change of the week; the articles list filtered by a state that few embeds are in starts from those
embeds through `ix_embeds_state`; the residue page's keyset page of articles holding residue reads
`ix_occurrences_embed_id_markup_article_id` in order and stops (it sorted every residue line).

`tallies` (PostgreSQL): counting 200,000 articles and grouping 100,000 embeds by provider and state cost
the dashboard about 30 ms whatever the index, so triggers keep the changes to those counts. Inserts and
deletes add one row a statement (transition tables: a bulk insert or a cascade is one row), an embed
changing state two; nothing is updated in place, so writers never wait on each other for a count. The
reader sums the rows and folds them now and then. SQLite counts them in about a millisecond: no triggers.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The name of an embed count; queries.viewer.dashboard_counts reads it back.
EMBED_KEY = "'embeds:' || provider || ':' || state"
POSTGRES_UP = f"""
CREATE FUNCTION archiver_tally_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tallies (name, n) SELECT TG_ARGV[0], count(*) FROM new_rows HAVING count(*) > 0;
    RETURN NULL;
END $$;
CREATE FUNCTION archiver_tally_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tallies (name, n) SELECT TG_ARGV[0], -count(*) FROM old_rows HAVING count(*) > 0;
    RETURN NULL;
END $$;
CREATE FUNCTION archiver_tally_embeds_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tallies (name, n) SELECT {EMBED_KEY}, count(*) FROM new_rows GROUP BY provider, state;
    RETURN NULL;
END $$;
CREATE FUNCTION archiver_tally_embeds_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tallies (name, n) SELECT {EMBED_KEY}, -count(*) FROM old_rows GROUP BY provider, state;
    RETURN NULL;
END $$;
CREATE FUNCTION archiver_tally_embed_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tallies (name, n) VALUES
        ('embeds:' || OLD.provider || ':' || OLD.state, -1), ('embeds:' || NEW.provider || ':' || NEW.state, 1);
    RETURN NULL;
END $$;
CREATE TRIGGER tally_articles_inserted AFTER INSERT ON articles REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION archiver_tally_inserted('articles');
CREATE TRIGGER tally_articles_deleted AFTER DELETE ON articles REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION archiver_tally_deleted('articles');
CREATE TRIGGER tally_snapshots_inserted AFTER INSERT ON snapshots REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION archiver_tally_inserted('snapshots');
CREATE TRIGGER tally_snapshots_deleted AFTER DELETE ON snapshots REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION archiver_tally_deleted('snapshots');
CREATE TRIGGER tally_embeds_inserted AFTER INSERT ON embeds REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION archiver_tally_embeds_inserted();
CREATE TRIGGER tally_embeds_deleted AFTER DELETE ON embeds REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION archiver_tally_embeds_deleted();
CREATE TRIGGER tally_embeds_moved AFTER UPDATE OF provider, state ON embeds FOR EACH ROW
    WHEN (OLD.provider IS DISTINCT FROM NEW.provider OR OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION archiver_tally_embed_moved();
INSERT INTO tallies (name, n) SELECT 'articles', count(*) FROM articles;
INSERT INTO tallies (name, n) SELECT 'snapshots', count(*) FROM snapshots;
INSERT INTO tallies (name, n) SELECT {EMBED_KEY}, count(*) FROM embeds GROUP BY provider, state;
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS tally_embeds_moved ON embeds;
DROP TRIGGER IF EXISTS tally_embeds_deleted ON embeds;
DROP TRIGGER IF EXISTS tally_embeds_inserted ON embeds;
DROP TRIGGER IF EXISTS tally_snapshots_deleted ON snapshots;
DROP TRIGGER IF EXISTS tally_snapshots_inserted ON snapshots;
DROP TRIGGER IF EXISTS tally_articles_deleted ON articles;
DROP TRIGGER IF EXISTS tally_articles_inserted ON articles;
DROP FUNCTION IF EXISTS archiver_tally_embed_moved();
DROP FUNCTION IF EXISTS archiver_tally_embeds_deleted();
DROP FUNCTION IF EXISTS archiver_tally_embeds_inserted();
DROP FUNCTION IF EXISTS archiver_tally_deleted();
DROP FUNCTION IF EXISTS archiver_tally_inserted();
"""


def statements(script: str) -> list[str]:
    """The statements of a script, one at a time (a function body between $$ keeps its semicolons)."""
    found, current, quoted = [], [], False
    for line in script.strip().splitlines():
        current.append(line)
        quoted ^= line.count("$$") % 2 == 1
        if line.rstrip().endswith(";") and not quoted:
            found.append("\n".join(current))
            current = []
    return found


def upgrade() -> None:
    with op.batch_alter_table('state_changes', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_state_changes_to_state_changed_at'), ['to_state', 'changed_at'], unique=False
        )
    with op.batch_alter_table('embeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_embeds_state'), ['state'], unique=False)
    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_occurrences_embed_id_markup_article_id'), ['embed_id', 'markup', 'article_id'], unique=False
        )
    op.create_table(
        'tallies',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tallies')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        for statement in statements(POSTGRES_UP):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for statement in statements(POSTGRES_DOWN):
            op.execute(statement)
    op.drop_table('tallies')
    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_occurrences_embed_id_markup_article_id'))
    with op.batch_alter_table('embeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_embeds_state'))
    with op.batch_alter_table('state_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_state_changes_to_state_changed_at'))
