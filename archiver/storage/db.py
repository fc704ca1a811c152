"""Opening the database, and migrating it.

    make_engine(url)         an Engine (SQLite tuned for crash safety); StorageError when unusable
    session_factory(engine)  the sessionmaker every unit of work uses
    upgrade(url)             bring the schema to the newest migration (Alembic, batch mode on SQLite)

The schema is only ever built by the migrations, in tests too, so what runs in production is what
was tested. Errors name the database with its password hidden.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from alembic.command import upgrade as alembic_upgrade
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archiver.errors import StorageError
from archiver.storage.models import UTCDateTime as UTCDateTime

# Crash safety (reference/ecosystem.md section 9): WAL lets the viewer read while a daemon writes;
# synchronous=FULL keeps a committed transaction through a power loss, which NORMAL does not in WAL.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=FULL",
)
# Full-text search objects the models cannot describe (SQLite FTS5 tables and their shadow tables,
# PostgreSQL expression indexes): migration 0008 writes them by hand; model comparisons skip them.
SEARCH_OBJECT_PREFIX = "search_"
# Where the Alembic scripts live in an installed wheel (pyproject maps the top-level `alembic/` here).
MIGRATIONS_PACKAGE = "archiver._migrations"


def compared_with_models(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's `include_name`: whether the models describe a database object (search ones they do not)."""
    return not (name or "").startswith(SEARCH_OBJECT_PREFIX)


def display_url(url: str | URL) -> str:
    """The URL as it may be shown to a user or written to a log: password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable database URL)"


def make_engine(url: str) -> Engine:
    """An Engine for `url`, checked by opening one connection.

    SQLite gets WAL, foreign keys, a busy timeout and synchronous=FULL on every connection, and the
    folder of its file is created when missing. Raises `StorageError` (one line, password hidden) when
    the URL is malformed, the driver is missing, or the database cannot be opened.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(
            "database URL is not valid (expected e.g. sqlite:///archive.db or postgresql+psycopg://...)"
        ) from None
    shown = display_url(parsed)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite:
        _make_sqlite_folder(parsed, shown)
    try:
        engine = create_engine(parsed)
    except NoSuchModuleError:
        raise StorageError(
            f"cannot open database {shown}: unknown database kind {parsed.drivername!r}"
        ) from None
    except ImportError as exc:
        postgres = parsed.get_backend_name() == "postgresql"
        hint = " (pip install 'embed-archiver[postgres]')" if postgres else ""
        raise StorageError(
            f"cannot open database {shown}: driver {exc.name or parsed.drivername!r} is not installed{hint}"
        ) from None
    except (ArgumentError, TypeError, ValueError) as exc:
        raise StorageError(f"cannot open database {shown}: {_first_line(exc, parsed)}") from None
    if is_sqlite:
        event.listen(engine, "connect", _set_sqlite_pragmas)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StorageError(f"cannot open database {shown}: {_first_line(exc, parsed)}") from exc
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (the CLI prints them after the transaction)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def migrations_dir() -> Path:
    """The Alembic script folder: the `archiver._migrations` package of an installed wheel, else the
    `alembic/` folder of a source checkout."""
    try:
        spec = importlib.util.find_spec(MIGRATIONS_PACKAGE)
    except ModuleNotFoundError:
        spec = None
    # `alembic/` has no __init__.py (it would shadow the alembic library when the checkout is on
    # sys.path), so the packaged copy is a namespace package: read its folder from the spec.
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        if (Path(location) / "env.py").is_file():
            return Path(location)
    checkout = Path(__file__).resolve().parents[2] / "alembic"
    if (checkout / "env.py").is_file():
        return checkout
    raise StorageError(f"database migrations not found (no {MIGRATIONS_PACKAGE} package, no {checkout})")


def alembic_config(url: str) -> Config:
    """An Alembic `Config` built in code: our script folder, and `url` (not alembic.ini's)."""
    config = Config()
    # configparser interpolates '%'; a path may contain one.
    config.set_main_option("script_location", str(migrations_dir()).replace("%", "%%"))
    # Handed over as an attribute, not an option, so a percent-encoded password survives intact.
    config.attributes["database_url"] = url
    return config


def upgrade(url: str) -> None:
    """Migrate the database at `url` to the newest schema (`alembic upgrade head`). Idempotent."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            alembic_upgrade(config, "head")
    except (SQLAlchemyError, CommandError) as exc:
        raise StorageError(f"cannot migrate database {display_url(url)}: {_first_line(exc, url)}") from exc
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The migration the database is at; None for a database never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            revision: str | None = MigrationContext.configure(connection).get_current_revision()
            return revision
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read database {display_url(url)}: {_first_line(exc, url)}") from exc
    finally:
        engine.dispose()


def head_revisions() -> set[str]:
    """The newest migration(s) this version of the archiver ships."""
    return set(ScriptDirectory(str(migrations_dir())).get_heads())


def is_up_to_date(url: str) -> bool:
    """Whether the database schema is at the newest migration."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot read database {display_url(url)}: {_first_line(exc, url)}") from exc
    finally:
        engine.dispose()
    return current == head_revisions()


def _make_sqlite_folder(url: URL, shown: str) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    folder = Path(database).expanduser().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StorageError(f"cannot open database {shown}: cannot create folder {folder}: {reason}") from None


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _first_line(exc: BaseException, url: str | URL) -> str:
    """The driver's own message, on one line, never showing the password."""
    cause: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    text = lines[0] if lines else type(cause).__name__
    try:
        password = make_url(url).password
    except ArgumentError:
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text
