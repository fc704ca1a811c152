"""The web viewer: `create_app(app)` builds the Flask app that `archive serve` runs with waitress.

    auth      /login, /logout, /healthz; who is asking (session cookie, or API token on /api/)
    editors   /editors/...: dashboard, review queue, articles, embeds, accounts, residue (login required)
    api       /api/...: read-only JSON in the CLI's --json shapes (session or API token)
    public    /embeds/PROVIDER/POST_ID[/vN], Memento, media (no login; `web.public` turns it off)
    search    /search over captions, authors, handles and articles (login required)

Server-rendered Jinja2 with autoescape; htmx (vendored in static/) only enhances. `security` puts the
Content-Security-Policy and the other security headers on every response and checks the CSRF token of
every POST. Provider HTML is shown only inside `<iframe sandbox srcdoc>`; other provider text is escaped
or reduced by nh3.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, InternalServerError

from archiver import accounts
from archiver.app import App
from archiver.web import api, auth, editors, public, search
from archiver.web.common import EXTENSION, register_filters
from archiver.web.security import init_security


class _JsonProvider(DefaultJSONProvider):
    """The API answers keys in the CLI's order, not sorted."""

    sort_keys = False
    ensure_ascii = False


def create_app(app: App) -> flask.Flask:
    """A Flask app over `app`'s database and media store; raises `ConfigError` without a session secret."""
    web = app.settings.web
    secret = accounts.session_secret(web, app.env)
    app.sessions  # noqa: B018  built now: checks the schema once, before any request thread needs it
    flask_app = flask.Flask(__name__)
    flask_app.config.update(
        SECRET_KEY=secret,
        SESSION_COOKIE_NAME="archiver_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=web.base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=web.session_hours),
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    flask_app.json = _JsonProvider(flask_app)
    flask_app.extensions[EXTENSION] = app
    init_security(flask_app)
    register_filters(flask_app)
    flask_app.register_blueprint(auth.bp)
    flask_app.register_blueprint(editors.bp)
    flask_app.register_blueprint(api.bp)
    flask_app.register_blueprint(public.bp)
    flask_app.register_blueprint(search.bp)
    flask_app.register_error_handler(HTTPException, _http_error)
    flask_app.register_error_handler(Exception, _server_error)
    flask_app.add_url_rule("/", "home", _home)
    return flask_app


def _home() -> Any:
    return flask.redirect(flask.url_for("editors.dashboard"))


def _http_error(error: HTTPException) -> Any:
    code = error.code or 500
    if flask.request.path.startswith("/api/"):
        return flask.jsonify({"error": error.name, "message": error.description}), code
    return flask.render_template("error.html", code=code, title=error.name, message=error.description), code


def _server_error(error: Exception) -> Any:
    if isinstance(error, HTTPException):
        return _http_error(error)
    flask.current_app.logger.exception("unhandled error on %s", flask.request.path)
    return _http_error(InternalServerError("Something went wrong on our side; it was logged."))
