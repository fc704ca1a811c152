"""What every blueprint of the viewer shares: the archiver `App` of this Flask app, a database session
per request, the rewrite stage's dependencies, and the template filters that show provider text safely."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import flask
from markupsafe import Markup
from sqlalchemy.orm import Session

from archiver.app import App
from archiver.pipeline import rewrite as rewrite_stage
from archiver.sanitize import clean_html

EXTENSION = "archiver"
PAGE_SIZE = 50


def current_archive() -> App:
    """The archiver `App` the running Flask app was made for (`create_app(app)`)."""
    archive: App = flask.current_app.extensions[EXTENSION]
    return archive


@contextmanager
def db_session() -> Iterator[Session]:
    """A session for this request; the caller commits what it changes."""
    with current_archive().sessions() as session:
        yield session


def rewrite_deps() -> rewrite_stage.RewriteDeps:
    archive = current_archive()
    return rewrite_stage.RewriteDeps.from_settings(archive.settings, archive.clock, env=archive.env)


def media_path(sha256: str) -> str:
    """Where the public archive serves a stored file (the blob store's own ab/cd/SHA256 layout)."""
    return f"/media/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def when(value: datetime | str | None) -> str:
    """An instant as `2026-03-01 12:00 UTC` (ISO strings as given are shortened the same way)."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        return value[:16].replace("T", " ") + (" UTC" if len(value) >= 16 else "")
    return value.strftime("%Y-%m-%d %H:%M UTC")


def safe_caption(html_text: str | None) -> Markup:
    """Provider HTML reduced by nh3 to p/br/a/em/strong with http(s) links: safe to show as markup."""
    return Markup(clean_html(html_text or ""))


def text_diff(older: str | None, newer: str | None, older_label: str, newer_label: str) -> list[str]:
    """Unified diff lines of two texts (shown escaped, one line each)."""
    return list(
        difflib.unified_diff(
            (older or "").splitlines(), (newer or "").splitlines(), older_label, newer_label, lineterm=""
        )
    )


def bytes_text(data: bytes | None) -> str:
    """Article bytes shown as text: undecodable bytes are replaced, never guessed."""
    return (data or b"").decode("utf-8", errors="replace")


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str, sort_keys=True)


def http_url(value: str | None) -> str | None:
    """`value` when it is an http(s) URL (safe in an href), else None: no `javascript:` links."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def has_endpoint(name: str) -> bool:
    """Whether a blueprint serves `name` (the search page is a blueprint of its own)."""
    return name in flask.current_app.view_functions


def wants_fragment() -> bool:
    """An htmx request asks for the part of the page it swaps, not the whole page."""
    return flask.request.headers.get("HX-Request") == "true"


def register_filters(app: flask.Flask) -> None:
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["safe_caption"] = safe_caption
    app.jinja_env.filters["bytes_text"] = bytes_text
    app.jinja_env.filters["pretty_json"] = pretty_json
    app.jinja_env.filters["http_url"] = http_url
    app.jinja_env.globals["media_path"] = media_path
    app.jinja_env.globals["has_endpoint"] = has_endpoint
