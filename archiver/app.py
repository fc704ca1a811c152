"""The parts a command needs, built once from settings and handed to pipeline functions.

Edges (the CLI, the daemon, the viewer) build an `App` with `App.from_environment` (the one bootstrap:
settings file, environment, clock); pipeline functions receive its parts. HTTP clients are built here only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from archiver.clock import Clock, clock_from_env
from archiver.config import Settings, find_config, load_settings
from archiver.errors import StorageError
from archiver.http import HttpClient
from archiver.pipeline.capture import CaptureDeps
from archiver.providers import names
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

    @classmethod
    def from_environment(cls, config: Path | None, env: Mapping[str, str], cwd: Path) -> App:
        """The app a process runs: settings from `config` (else `archiver.toml` in `cwd`, if there) and
        `env`, and the clock `env` asks for. ConfigError (one readable line) when the settings are bad."""
        path = find_config(config, cwd)
        settings = load_settings(path, env, known_providers=names())
        return cls(settings, clock_from_env(env), env, path)

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
        """The app's own HTTP client, closed with the app."""
        client = self.new_http_client()
        self._closers.append(client)
        return client

    def new_http_client(self) -> HttpClient:
        """An HTTP client on the shared rate budgets and host backoffs, for the caller to close (the daemon
        gives each job run its own, so a run's pool threads do not keep their sessions afterwards)."""
        backoffs = DbHostBackoffs(self.sessions, self.clock)
        return HttpClient(self.settings.http, self.clock, self.budgets, backoffs=backoffs)

    def local_http_client(self) -> HttpClient:
        """An HTTP client whose rate budgets and host backoffs live in this process only, for work that
        opens no database (a dry run); the caller closes it."""
        return HttpClient(self.settings.http, self.clock)

    @cached_property
    def blobs(self) -> BlobStore:
        """The media store `[media] backend` chooses: the local folder (default) or an S3 bucket."""
        return blob_store(self.settings.media)

    def capture_deps(self, http: HttpClient | None = None) -> CaptureDeps:
        """What capture and check need; with `http`, that client instead of the app's own."""
        client = http if http is not None else self.http
        return CaptureDeps(self.settings, client, self.budgets, self.blobs, self.clock, self.env)

    def close(self) -> None:
        for thing in reversed(self._closers):
            if isinstance(thing, HttpClient):
                thing.close()
            elif isinstance(thing, Engine):
                thing.dispose()
        self._closers.clear()
