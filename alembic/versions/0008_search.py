"""search: full-text indexes over posts (captions, authors, handles, titles) and article paths

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 04:00:00

SQLite: FTS5 external-content tables (`search_posts` over snapshots, `search_articles` over articles)
kept current by triggers, and filled from the rows already there. PostgreSQL: GIN indexes on the very
`to_tsvector` expressions `archiver.storage.queries.search` asks for (an expression index is current
by itself). The models cannot describe either: `archiver.storage.db.compared_with_models` leaves every
object named `search_*` out of the comparison. A later batch migration of `snapshots` or `articles`
on SQLite rebuilds the table and drops its triggers: such a migration must create them again
(tests/storage/test_search.py checks they exist at head).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POST_COLUMNS = ("author_name", "handle", "title", "text")
TOKENIZER = "unicode61 remove_diacritics 2"


def _sqlite_index(name: str, table: str, columns: Sequence[str]) -> list[str]:
    listed = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete_old = f"INSERT INTO {name}({name}, rowid, {listed}) VALUES ('delete', old.id, {old});"
    insert_new = f"INSERT INTO {name}(rowid, {listed}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE {name} USING fts5({listed}, content='{table}', content_rowid='id', "
        f"tokenize='{TOKENIZER}')",
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {insert_new} END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {delete_old} END",
        f"CREATE TRIGGER {name}_update AFTER UPDATE OF {listed} ON {table} BEGIN {delete_old} {insert_new} END",
        f"INSERT INTO {name}({name}) VALUES ('rebuild')",
    ]


# Keep these two expressions identical to archiver/storage/queries/search.py, or PostgreSQL will not
# use the indexes.
PG_POST_DOCUMENT = (
    "to_tsvector('simple', coalesce(author_name, '') || ' ' || coalesce(handle, '') || ' ' || "
    "coalesce(title, '') || ' ' || coalesce(text, ''))"
)
PG_ARTICLE_DOCUMENT = "to_tsvector('simple', translate(key, '/._-', '    '))"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _sqlite_index("search_posts", "snapshots", POST_COLUMNS):
            op.execute(statement)
        for statement in _sqlite_index("search_articles", "articles", ("key",)):
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(f"CREATE INDEX search_posts_gin ON snapshots USING gin ({PG_POST_DOCUMENT})")
        op.execute(f"CREATE INDEX search_articles_gin ON articles USING gin ({PG_ARTICLE_DOCUMENT})")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("search_posts", "search_articles"):
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {name}_{event}")
            op.execute(f"DROP TABLE IF EXISTS {name}")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS search_posts_gin")
        op.execute("DROP INDEX IF EXISTS search_articles_gin")
