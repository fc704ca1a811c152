"""The `sql` source: articles as rows of a table in any database SQLAlchemy reaches (a CMS's own).

    [[sources]]
    name = "cms"
    kind = "sql"
    url_env = "CMS_DATABASE_URL"     # or url = "postgresql+psycopg://archiver@db/cms" (no password)
    table = "wp_posts"
    key_column = "ID"
    body_column = "post_content"
    version_column = ""              # optional: an integer revision or a timestamp the CMS bumps
    where = "post_status = 'publish' AND post_type = 'post'"

The table is reflected once, so a missing table or column is one readable error. A text body is read
as the exact characters the database holds and handled as their UTF-8 bytes (no charset guessing: the
database already decoded it); a binary body is bytes, decoded like a file. Keys are the key column's
value as text, turned back into the column's type to find the row again.

Writes are a compare-and-swap in one transaction: the row is read, its body must still hash to what the
rewrite was planned on, and the UPDATE is conditional on the version column (bumped: +1, or now) or,
without one, on the whole old body. An editor's save in between makes the UPDATE touch no row: nothing
is written and `WriteConflict` says so. A crash mid-write leaves the old row (the transaction).

Connections are not pooled (`NullPool`): a scan reads row after row with one connection at a time, and
nothing stays open between runs of a daemon.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, MetaData, Table, and_, create_engine, select, text, update
from sqlalchemy.engine import URL, CursorResult, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, NoSuchTableError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from archiver.config import ScanSettings, SourceSettings
from archiver.errors import ArticleError, ConfigError, StorageError, WriteConflict
from archiver.records import Article
from archiver.sources.files import decode_html
from archiver.sources.urls import url_in_page

# Rows read per round trip when listing a table's keys.
_KEYS_PER_FETCH = 1_000


class SqlStore:
    """Articles in a SQL table: listed, read and written back by key (an `ArticleStore`)."""

    def __init__(
        self,
        source: SourceSettings,
        settings: ScanSettings,
        env: Mapping[str, str],
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.source = source
        self.settings = settings
        self._now = now or (lambda: datetime.now(UTC))
        self._env = env
        self._url: URL | None = None
        self._engine: Engine | None = None
        self._table: Table | None = None

    # --- the table

    @property
    def url(self) -> URL:
        """The database URL (from `url_env` when set); `ConfigError` when there is none."""
        if self._url is None:
            self._url = _source_url(self.source, self._env)
        return self._url

    @property
    def shown(self) -> str:
        """The database and table, password hidden, for messages."""
        return f"{self.url.render_as_string(hide_password=True)} table {self.source.table}"

    def _open(self) -> tuple[Engine, Table]:
        if self._engine is not None and self._table is not None:
            return self._engine, self._table
        name = self.source.name
        try:
            engine = create_engine(self.url, poolclass=NullPool)
        except (NoSuchModuleError, ImportError) as exc:
            raise ConfigError(f"source {name!r}: no driver for {self.url.drivername!r}: {exc}") from None
        except (ArgumentError, TypeError, ValueError) as exc:
            raise ConfigError(f"source {name!r}: bad database URL: {exc}") from None
        schema, _, table_name = self.source.table.rpartition(".")
        try:
            table = Table(table_name, MetaData(), schema=schema or None, autoload_with=engine)
        except NoSuchTableError:
            engine.dispose()
            raise ConfigError(f"source {name!r}: no table {self.source.table!r} in {self.shown}") from None
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StorageError(f"source {name!r}: cannot open {self.shown}: {_first_line(exc)}") from None
        for setting in ("key_column", "body_column", "version_column", "url_column"):
            column = getattr(self.source, setting)
            if column and column not in table.c:
                engine.dispose()
                raise ConfigError(
                    f"source {name!r}: {setting} {column!r} is not a column of {self.source.table!r} "
                    f"(columns: {', '.join(table.c.keys())})"
                )
        if self.source.version_column:
            _bumped(table.c[self.source.version_column], 1, self._now)  # refuses unknown version types
        self._engine, self._table = engine, table
        return engine, table

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        self._engine = self._table = None

    # --- listing and reading

    def article_keys(self) -> Iterator[str]:
        """The keys of the rows that are articles (`where`), in key order."""
        engine, table = self._open()
        key = table.c[self.source.key_column]
        stmt = select(key).order_by(key)
        if self.source.where.strip():
            stmt = stmt.where(text(self.source.where))
        try:
            with engine.connect() as connection:
                result = connection.execution_options(yield_per=_KEYS_PER_FETCH).execute(stmt)
                keys = [str(value) for value in result.scalars()]
        except SQLAlchemyError as exc:
            raise StorageError(
                f"source {self.source.name!r}: cannot list articles: {_first_line(exc)}"
            ) from None
        yield from keys

    def read(self, key: str) -> Article:
        engine, table = self._open()
        label = self.label(key)
        try:
            with engine.connect() as connection:
                row = connection.execute(self._select_row(table, key)).first()
        except SQLAlchemyError as exc:
            raise ArticleError(f"{label}: cannot read: {_first_line(exc)}") from None
        if row is None:
            raise ArticleError(f"{label}: no such row")
        url = row[-1] if self.source.url_column else None
        article = self._article(key, row[0])
        return replace(article, url=url_in_page(article.text) or (str(url) if url else None))

    def label(self, key: str) -> str:
        return f"{self.source.table}#{key}"

    def _article(self, key: str, body: Any) -> Article:
        label = self.label(key)
        if body is None:
            raise ArticleError(f"{label}: the body is NULL")
        if isinstance(body, memoryview):
            body = body.tobytes()
        if isinstance(body, bytes):
            data = body
            try:
                text_, encoding = decode_html(data, self.settings.fallback_encoding)
            except ArticleError as exc:
                raise ArticleError(f"{label}: {exc}") from None
        elif isinstance(body, str):
            text_, encoding = body, "utf-8"
            # Lone surrogates cannot be UTF-8: such a body is refused, not mangled.
            try:
                data = body.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ArticleError(f"{label}: the body is not valid text ({exc.reason})") from None
        else:
            raise ArticleError(f"{label}: the body column holds {type(body).__name__}, not text")
        if len(data) > self.settings.max_article_bytes:
            raise ArticleError(
                f"{label}: skipped, {len(data) / 1e6:.1f} MB is larger than "
                f"scan.max_article_bytes ({self.settings.max_article_bytes / 1e6:.1f} MB)"
            )
        return Article(
            key=key,
            source=self.source.name,
            data=data,
            text=text_,
            encoding=encoding,
            sha256=hashlib.sha256(data).hexdigest(),
        )

    def _key_value(self, table: Table, key: str) -> Any:
        column = table.c[self.source.key_column]
        try:
            kind = column.type.python_type
        except NotImplementedError:
            return key
        if kind is int:
            try:
                return int(key)
            except ValueError:
                raise ArticleError(f"{self.label(key)}: not a key of this table") from None
        return key

    def _select_row(self, table: Table, key: str) -> Any:
        columns = [table.c[self.source.body_column]]
        if self.source.version_column:
            columns.append(table.c[self.source.version_column])
        if self.source.url_column:
            columns.append(table.c[self.source.url_column])
        return select(*columns).where(table.c[self.source.key_column] == self._key_value(table, key))

    # --- writing back

    def write(self, key: str, data: bytes, expected_sha256: str) -> None:
        engine, table = self._open()
        label = self.label(key)
        body_column = table.c[self.source.body_column]
        version_column = table.c[self.source.version_column] if self.source.version_column else None
        try:
            with engine.begin() as connection:
                row = connection.execute(self._select_row(table, key)).first()
                if row is None:
                    raise WriteConflict(f"{label}: no longer exists; nothing written")
                old_body = row[0]
                if self._article(key, old_body).sha256 != expected_sha256:
                    raise WriteConflict(f"{label}: changed since it was read; nothing written")
                new_body = self._body_value(old_body, data, label)
                where = [table.c[self.source.key_column] == self._key_value(table, key)]
                values: dict[str, Any] = {body_column.key: new_body}
                if version_column is not None:
                    where.append(version_column == row[1] if row[1] is not None else version_column.is_(None))
                    values[version_column.key] = _bumped(version_column, row[1], self._now)
                else:
                    where.append(body_column == old_body)
                result = connection.execute(
                    update(table).where(and_(*where)).values(values).execution_options(preserve_rowcount=True)
                )
                if _rowcount(result) != 1:
                    raise WriteConflict(f"{label}: changed while it was being written; nothing written")
        except (WriteConflict, ArticleError):
            raise
        except SQLAlchemyError as exc:
            raise StorageError(f"{label}: cannot write: {_first_line(exc)}") from None

    def _body_value(self, old_body: Any, data: bytes, label: str) -> Any:
        if isinstance(old_body, bytes | memoryview):
            return data
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ArticleError(f"{label}: the new body is not UTF-8; nothing written") from None


def _source_url(source: SourceSettings, env: Mapping[str, str]) -> URL:
    raw = source.url
    if source.url_env:
        raw = env.get(source.url_env, "")
        if not raw.strip():
            raise ConfigError(f"source {source.name!r}: environment variable {source.url_env} is not set")
    try:
        return make_url(raw.strip())
    except ArgumentError:
        raise ConfigError(f"source {source.name!r}: the database URL is not valid") from None


def _bumped(column: Column[Any], value: Any, now: Callable[[], datetime]) -> Any:
    """The version value after a write: an integer revision plus one, or a timestamp of now."""
    try:
        kind = column.type.python_type
    except NotImplementedError:
        kind = None
    if kind is int:
        return (value or 0) + 1
    if kind is datetime:
        instant = now()
        return instant if getattr(column.type, "timezone", False) else instant.replace(tzinfo=None)
    raise ConfigError(
        f"version column {column.name!r} is neither an integer revision nor a timestamp ({column.type})"
    )


def _rowcount(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else -1


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0][:300]
