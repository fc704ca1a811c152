"""The parts a command needs, built once from settings and handed to pipeline functions.

Edges (CLI, later the daemon and the viewer) build an `App`; pipeline functions receive its parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from archiver.clock import Clock
from archiver.config import Settings
from archiver.errors import StorageError
from archiver.http import HttpClient
from archiver.pipeline.capture import CaptureDeps
from archiver.storage import db
from archiver.storage.blobs import BlobStore, blob_store
from archiver.storage.throttle import DbHostBackoffs, DbRateBudgets


@dataclass
class App:
    settings: Settings
    clock: Clock
    env: Mapping[str, str]
    config_path: Path | None = None
    _closers: list[object] = field(default_factory=list)

    @cached_property
    def engine(self) -> Engine:
        engine = db.make_engine(self.settings.database.url)
        self._closers.append(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on a database at the newest schema; an empty database is created on first use."""
        url = self.settings.database.url
        if db.current_revision(url) is None:
            db.upgrade(url)
        elif not db.is_up_to_date(url):
            raise StorageError("the database schema is older than this archiver: run `archive db upgrade`")
        return db.session_factory(self.engine)

    @cached_property
    def budgets(self) -> DbRateBudgets:
        """Rate budgets counted in the database, so every process spends the same ones."""
        return DbRateBudgets(self.sessions, self.clock)

    @cached_property
    def http(self) -> HttpClient:
        backoffs = DbHostBackoffs(self.sessions, self.clock)
        client = HttpClient(self.settings.http, self.clock, self.budgets, backoffs=backoffs)
        self._closers.append(client)
        return client

    @cached_property
    def blobs(self) -> BlobStore:
        """The media store `[media] backend` chooses: the local folder (default) or an S3 bucket."""
        return blob_store(self.settings.media)

    def capture_deps(self) -> CaptureDeps:
        return CaptureDeps(self.settings, self.http, self.budgets, self.blobs, self.clock, self.env)

    def close(self) -> None:
        for thing in reversed(self._closers):
            if isinstance(thing, HttpClient):
                thing.close()
            elif isinstance(thing, Engine):
                thing.dispose()
        self._closers.clear()
