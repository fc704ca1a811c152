"""The one table of source kinds: `open_store(source, settings)` gives the store a source's kind calls for.

    open_store(source, settings, env=..., now=..., http=...)   a configured source (`[[sources]]`), by kind
    open_store("local", settings)                              a source named ad hoc (paths): files

Every stage that reads or writes a source's articles opens its store here (the scan lists and reads,
the rewrite reads and writes back), so a new kind is one entry in `KINDS` and its store module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from archiver.config import ScanSettings, SourceSettings
from archiver.errors import UsageError
from archiver.http import HttpClient
from archiver.sources.sql import SqlStore
from archiver.sources.store import FileStore
from archiver.sources.wordpress import WordPressStore

# What `open_store` returns: one store class per kind.
SourceStore = FileStore | SqlStore | WordPressStore
Now = Callable[[], datetime]
StoreOpener = Callable[
    [SourceSettings, ScanSettings, Mapping[str, str], Now | None, HttpClient | None], SourceStore
]


def _files(
    source: SourceSettings,
    settings: ScanSettings,
    env: Mapping[str, str],
    now: Now | None,
    http: HttpClient | None,
) -> FileStore:
    return FileStore(source.name, settings, pattern=source.path)


def _sql(
    source: SourceSettings,
    settings: ScanSettings,
    env: Mapping[str, str],
    now: Now | None,
    http: HttpClient | None,
) -> SqlStore:
    return SqlStore(source, settings, env, now)


def _wordpress(
    source: SourceSettings,
    settings: ScanSettings,
    env: Mapping[str, str],
    now: Now | None,
    http: HttpClient | None,
) -> WordPressStore:
    if http is None:
        raise UsageError(
            f"source {source.name!r}: a wordpress source is reached over HTTP, and none was given"
        )
    return WordPressStore(source, settings, http, env)


# `SourceSettings.kind` -> how a store of that kind is opened (its settings are checked by config).
KINDS: dict[str, StoreOpener] = {
    "files": _files,
    "sql": _sql,
    "wordpress": _wordpress,
}


def open_store(
    source: SourceSettings | str,
    settings: ScanSettings,
    *,
    env: Mapping[str, str] | None = None,
    now: Now | None = None,
    http: HttpClient | None = None,
) -> SourceStore:
    """The store of a configured source, or of a source named ad hoc (a name only: its files).

    `env` is where a source reads secrets named in its settings (a sql source's `url_env`, a wordpress
    source's `password_env`); `now` is the clock a store stamps writes with (a sql source's timestamp
    version column); `http` is the client a wordpress source is reached through (its `rate` is set on
    that client's budgets: the app's are kept in the database, shared by every process). Nothing is
    opened or read until the store is used."""
    if isinstance(source, str):
        return FileStore(source, settings)
    return KINDS[source.kind](source, settings, env or {}, now, http)
