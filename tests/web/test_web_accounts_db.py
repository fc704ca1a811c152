"""Accounts, tokens and the sign-in throttle on both databases (SQLite, and PostgreSQL when configured):
an empty archive served by the viewer, signed into, throttled and read through the API."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from support.viewer_world import PASSWORD, SECRET, TEST_COST, csrf_of

from archiver import accounts
from archiver.app import App
from archiver.clock import FixedClock
from archiver.config import DatabaseSettings, MediaSettings, Settings
from archiver.storage.queries import users as user_queries
from archiver.web import create_app


def test_accounts_on_each_database(db_url: str, tmp_path: Path) -> None:
    settings = Settings(database=DatabaseSettings(url=db_url), media=MediaSettings(dir=tmp_path / "media"))
    app = App(settings, FixedClock(datetime(2026, 5, 1, tzinfo=UTC)), {"ARCHIVER_WEB_SECRET": SECRET})
    try:
        flask_app = create_app(app)
        token = accounts.new_api_token()
        with app.sessions() as session, session.begin():
            user = user_queries.add_user(
                session,
                "ann",
                accounts.EDITOR,
                accounts.hash_password(PASSWORD, n=TEST_COST),
                app.clock.now(),
            )
            user_queries.add_token(session, user, accounts.token_digest(token), "ci", app.clock.now())
        client = flask_app.test_client()

        def attempt(password: str) -> int:
            csrf = csrf_of(client.get("/login").get_data(as_text=True))
            data = {"name": "ann", "password": password, "csrf_token": csrf}
            return client.post("/login", data=data).status_code

        assert [attempt("not the one at all") for _ in range(5)] == [401] * 5
        assert attempt(PASSWORD) == 429
        with app.sessions() as session:
            assert user_queries.failures_since(session, "user:ann", datetime(2026, 4, 30, tzinfo=UTC)) == 5
        status = client.get("/api/status", headers={"Authorization": f"Bearer {token}"})
        assert status.status_code == 200 and status.get_json()["embeds"] == 0
        with app.sessions() as session, session.begin():
            assert user_queries.remove_user(session, "ann")
        assert client.get("/api/status", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    finally:
        app.close()
