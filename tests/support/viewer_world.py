"""The viewer's test world: a files source in mode approve whose embeds are broken (synthetic snapshots),
planned rewrites waiting in the queue, an editor and a viewer account, and the Flask app over it all
(the `viewer` fixture of tests/web/conftest.py builds it; tests import the helpers from here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import flask
from flask.testing import FlaskClient
from sqlalchemy import select
from support.rewrite_world import World, break_everything, make_world, scan

from archiver import accounts
from archiver.app import App
from archiver.pipeline import rewrite
from archiver.storage.models import Rewrite
from archiver.storage.queries import users as user_queries
from archiver.web import create_app

SECRET = "s" * 48
EDITOR, VIEWER = "edna", "victor"
PASSWORD = "correct horse battery"
BLOCKQUOTE = (
    '<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/{code}/" '
    'data-instgrm-version="14"><div><a href="https://www.instagram.com/p/{code}/">A post shared by Ann '
    "(@ann)</a></div></blockquote>\n"
    '<script async src="//www.instagram.com/embed.js"></script>'
)
PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body><article>
<p>First paragraph of {title}.</p>
{first}
<p>Between the embeds.</p>
{second}
<p>Last paragraph.</p>
</article></body></html>
"""
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def page(title: str, first: str, second: str) -> str:
    return PAGE.format(
        title=title, first=BLOCKQUOTE.format(code=first), second=BLOCKQUOTE.format(code=second)
    )


@dataclass
class Viewer:
    world: World
    app: App
    flask_app: flask.Flask

    def client(self) -> FlaskClient:
        return self.flask_app.test_client()

    def planned(self) -> list[int]:
        with self.world.sessions() as session:
            return list(
                session.scalars(select(Rewrite.id).where(Rewrite.state == "planned").order_by(Rewrite.id))
            )

    def rewrite_row(self, rewrite_id: int) -> Rewrite:
        with self.world.sessions() as session:
            row = session.get(Rewrite, rewrite_id)
            assert row is not None
            session.expunge(row)
            return row


def build_world(root: Path, pages: dict[str, str], caption: str = "Caption line one\nline two") -> World:
    source = root / "src"
    source.mkdir(parents=True)
    for name, text in pages.items():
        (source / name).write_text(text, encoding="utf-8")
    world = make_world(root / "w", sorted(source.glob("*.html")), mode="approve")
    scan(world)
    break_everything(world, caption)
    rewrite.run(world.sessions, world.deps())
    return world


# A cheap scrypt cost for the test accounts (the cost travels in the hash; the default is 2**15).
TEST_COST = 2**10


def add_accounts(app: App) -> None:
    password_hash = accounts.hash_password(PASSWORD, n=TEST_COST)
    with app.sessions() as session, session.begin():
        user_queries.add_user(session, EDITOR, accounts.EDITOR, password_hash, app.clock.now())
        user_queries.add_user(session, VIEWER, accounts.VIEWER, password_hash, app.clock.now())


def open_viewer(world: World) -> Viewer:
    app = App(world.settings, world.clock, {"ARCHIVER_WEB_SECRET": SECRET}, world.config)
    add_accounts(app)
    return Viewer(world, app, create_app(app))


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def login(client: FlaskClient, name: str = EDITOR, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the CSRF token of the signed-in session."""
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_of(client.get("/editors/").get_data(as_text=True))
