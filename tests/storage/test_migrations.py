"""Migrations build the schema (on SQLite and PostgreSQL), match the models, and fail readably."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.command import downgrade
from alembic.command import upgrade as alembic_upgrade
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from archiver.errors import StorageError
from archiver.storage import db
from archiver.storage.models import Article, Base, Source

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"sources", "articles", "embeds", "occurrences", "snapshots", "media", "snapshot_media", "checks"}


def test_upgrade_builds_the_schema_on_an_empty_database(db_url: str) -> None:
    assert db.current_revision(db_url) is None
    assert not db.is_up_to_date(db_url)

    db.upgrade(db_url)

    assert db.current_revision(db_url) in db.head_revisions()
    assert db.is_up_to_date(db_url)
    engine = db.make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_models_and_migrations_do_not_drift(db_url: str) -> None:
    """Fails when a model changed without a migration (or the reverse): write the migration."""
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": db.compared_with_models}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_upgrade_is_idempotent_and_keeps_data(db_url: str) -> None:
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    try:
        with db.session_factory(engine)() as session:
            session.add(Source(name="site", kind="files", created_at=datetime(2026, 1, 1, tzinfo=UTC)))
            session.commit()
        db.upgrade(db_url)
        db.upgrade(db_url)
        with db.session_factory(engine)() as session:
            assert session.scalars(select(Source.name)).all() == ["site"]
        assert db.is_up_to_date(db_url)
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(db_url: str) -> None:
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as connection:
            config = db.alembic_config(db_url)
            config.attributes["connection"] = connection
            downgrade(config, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    db.upgrade(db_url)
    assert db.is_up_to_date(db_url)


def test_the_alembic_command_line_uses_the_environment_url(db_url: str) -> None:
    alembic = Path(sys.executable).parent / "alembic"
    if not alembic.exists():
        pytest.skip("the alembic command is not installed next to this Python")
    env = {**os.environ, "ARCHIVER_DATABASE__URL": db_url}
    result = subprocess.run(
        [str(alembic), "upgrade", "head"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert db.is_up_to_date(db_url)


def test_migration_scripts_are_found_from_a_checkout() -> None:
    folder = db.migrations_dir()
    assert (folder / "env.py").is_file()
    assert (folder / "versions").is_dir()


def test_sqlite_connections_use_wal_foreign_keys_and_full_sync(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'new' / 'folder' / 'archive.db'}")
    try:
        # Two connections at once: the pragmas are set on every one, not just the first.
        with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    finally:
        engine.dispose()
    assert (tmp_path / "new" / "folder" / "archive.db").is_file()


def test_an_unusable_folder_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(StorageError) as caught:
        db.make_engine(f"sqlite:///{blocker / 'archive.db'}")
    message = str(caught.value)
    assert "cannot open database" in message and "not-a-folder" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("nosuchdb://user:s3cret@example.org/archive", "unknown database kind"),
        ("postgresql+nosuchdriver://user:s3cret@example.org/archive", "unknown database kind"),
        ("mysql+mysqldb://user:s3cret@127.0.0.1:1/archive", "is not installed"),
        # Nothing listens on port 1: the driver's refusal, password hidden.
        ("postgresql+psycopg://user:s3cret@127.0.0.1:1/archive", "cannot open database"),
        ("not a url at all", "not valid"),
    ],
)
def test_bad_urls_are_one_line_without_the_password(url: str, expected: str) -> None:
    with pytest.raises(StorageError) as caught:
        db.make_engine(url)
    message = str(caught.value)
    assert expected in message
    assert "s3cret" not in message
    assert "\n" not in message


def test_current_revision_of_an_unreachable_database_is_a_storage_error() -> None:
    with pytest.raises(StorageError):
        db.current_revision("postgresql+psycopg://user:s3cret@127.0.0.1:1/archive")


def scripts_with(tmp_path: Path, migration: str) -> Path:
    """A copy of the migration scripts with one more migration on top of the current head."""
    folder = tmp_path / "scripts"
    shutil.copytree(db.migrations_dir(), folder, ignore=shutil.ignore_patterns("__pycache__"))
    (head,) = db.head_revisions()
    header = "\n".join(
        [
            "import sqlalchemy as sa",
            "from alembic import op",
            'revision = "test_top"',
            f'down_revision = "{head}"',
            "",
        ]
    )
    (folder / "versions" / "9999_test.py").write_text(header + textwrap.dedent(migration))
    return folder


def upgrade_with(url: str, scripts: Path) -> None:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            config = db.alembic_config(url)
            config.set_main_option("script_location", str(scripts))
            config.attributes["connection"] = connection
            alembic_upgrade(config, "head")
    finally:
        engine.dispose()


def test_a_table_rebuild_keeps_the_rows_that_point_at_it(db_url: str, tmp_path: Path) -> None:
    """SQLite batch mode drops and recreates a table; with foreign keys on, that DROP would cascade."""
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with db.session_factory(engine)() as session:
        source = Source(name="site", kind="files", created_at=now)
        session.add(Article(source=source, key="a.html", first_seen_at=now))
        session.commit()
    scripts = scripts_with(
        tmp_path,
        """
        def upgrade():
            recreate = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
            with op.batch_alter_table("sources", recreate=recreate) as batch:
                batch.add_column(sa.Column("note", sa.Text(), nullable=True))
        """,
    )

    upgrade_with(db_url, scripts)

    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM articles").scalar() == 1
            if connection.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_a_failing_migration_leaves_nothing_behind(db_url: str, tmp_path: Path) -> None:
    db.upgrade(db_url)
    scripts = scripts_with(
        tmp_path,
        """
        def upgrade():
            op.create_table("doomed", sa.Column("id", sa.Integer(), primary_key=True))
            raise RuntimeError("migration failed half way")
        """,
    )

    with pytest.raises(RuntimeError, match="half way"):
        upgrade_with(db_url, scripts)

    assert {db.current_revision(db_url)} == db.head_revisions()
    engine = db.make_engine(db_url)
    try:
        assert "doomed" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
