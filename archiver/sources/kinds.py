"""The one table of source kinds: `open_store(source, settings)` gives the store a source's kind calls for.

    open_store(source, settings, env=..., now=...)   a configured source (`[[sources]]`), by its kind
    open_store("local", settings)                    a source named ad hoc (paths on the command line): files

Every stage that reads or writes a source's articles opens its store here (the scan lists and reads,
the rewrite reads and writes back), so a new kind is one entry in `KINDS` and its store module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from archiver.config import ScanSettings, SourceSettings
from archiver.sources.sql import SqlStore
from archiver.sources.store import FileStore

# What `open_store` returns: one store class per kind.
SourceStore = FileStore | SqlStore
Now = Callable[[], datetime]
StoreOpener = Callable[[SourceSettings, ScanSettings, Mapping[str, str], Now | None], SourceStore]


def _files(
    source: SourceSettings, settings: ScanSettings, env: Mapping[str, str], now: Now | None
) -> FileStore:
    return FileStore(source.name, settings, pattern=source.path)


def _sql(source: SourceSettings, settings: ScanSettings, env: Mapping[str, str], now: Now | None) -> SqlStore:
    return SqlStore(source, settings, env, now)


# `SourceSettings.kind` -> how a store of that kind is opened (its settings are checked by config).
KINDS: dict[str, StoreOpener] = {
    "files": _files,
    "sql": _sql,
}


def open_store(
    source: SourceSettings | str,
    settings: ScanSettings,
    *,
    env: Mapping[str, str] | None = None,
    now: Now | None = None,
) -> SourceStore:
    """The store of a configured source, or of a source named ad hoc (a name only: its files).

    `env` is where a source reads secrets named in its settings (a sql source's `url_env`); `now` is
    the clock a store stamps writes with (a sql source's timestamp version column). Nothing is opened
    or read until the store is used."""
    if isinstance(source, str):
        return FileStore(source, settings)
    return KINDS[source.kind](source, settings, env or {}, now)
