"""Alembic environment of the archiver.

Two ways in:
- `archive db upgrade` (archiver.storage.db.upgrade) builds a Config in code and hands over an open
  connection in `config.attributes["connection"]`;
- the `alembic` CLI with alembic.ini, for developers: the URL comes from `-x url=...`, else
  ARCHIVER_DATABASE__URL, else the archiver's default.

SQLite migrates in batch mode (it has almost no ALTER TABLE), which is why the models' MetaData has a
naming convention: batch mode finds constraints again by name.
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from typing import Any

import alembic.context as context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from archiver.config import DatabaseSettings
from archiver.errors import StorageError
from archiver.storage.db import compared_with_models, make_engine
from archiver.storage.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata
# Any constant will do: it only has to be the same for every archiver process.
MIGRATION_LOCK_ID = 0x656D6264  # "embd"

if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    url = config.attributes.get("database_url") or context.get_x_argument(as_dictionary=True).get("url")
    return str(url or os.environ.get("ARCHIVER_DATABASE__URL") or DatabaseSettings().url)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    # Migrations stay free of application imports: UTCDateTime is a plain aware DateTime in the schema.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: print the SQL instead of running it."""
    url = database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
        render_item=render_item,
        include_name=compared_with_models,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    if is_sqlite:
        # Batch mode rebuilds a table (copy, DROP, rename); with foreign keys on, that DROP deletes the
        # rows of child tables through ON DELETE CASCADE. The pragma is ignored inside a transaction,
        # so it is set (and committed) before the migration transaction begins.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=is_sqlite,
            compare_type=True,
            render_item=render_item,
            include_name=compared_with_models,
            # SQLite's DDL is transactional too; one transaction means a failed migration leaves nothing.
            transactional_ddl=True,
        )
        with context.begin_transaction():
            # Several daemons may start at once: one migrates, the others wait here (SQLite: up to its
            # busy timeout) and then find the schema already at head.
            if is_sqlite:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            elif connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
            context.run_migrations()
        if is_sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise StorageError(f"migration left {len(broken)} rows breaking foreign keys: {broken[0]}")
    finally:
        if is_sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
