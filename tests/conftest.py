"""Shared fixtures."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.orm import Session
from support.fake_server import FakeServer

from archiver.storage.db import make_engine, session_factory, upgrade


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    """A real HTTP server on 127.0.0.1 playing a provider; stopped after the test."""
    with FakeServer() as server:
        yield server


# --- storage: databases (archiver.storage) -------------------------------------------------------------

# A PostgreSQL server URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres); without it the
# postgresql params are skipped. Each test gets its own database on that server.
POSTGRES_URL_ENV = "ARCHIVER_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
        return
    server = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not server:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_URL_ENV} is not set: CI must test PostgreSQL for real (see .ci/run)")
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    name = f"archiver_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            # FORCE: a test that failed may still hold connections.
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session on a database built by the migrations (never by create_all)."""
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as db_session:
            yield db_session
    finally:
        engine.dispose()
