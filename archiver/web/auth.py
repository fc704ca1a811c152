"""Signing in and out, who is asking (a signed session cookie, or an API token for `/api/`), and the
decorators the other blueprints use: `login_required` (viewers and editors read) and `editor_required`
(only editors decide)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import flask
from werkzeug.exceptions import Forbidden, Unauthorized

from archiver import accounts
from archiver.storage.models import User
from archiver.storage.queries import users as user_queries
from archiver.web.common import current_archive, db_session
from archiver.web.security import new_csrf_token

bp = flask.Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])
THROTTLE = accounts.LoginThrottle(accounts.ThrottlePolicy())


@dataclass(frozen=True, slots=True)
class CurrentUser:
    id: int
    name: str
    role: str
    # "session" (signed in with a password) or "token" (an API bearer token).
    via: str

    @property
    def is_editor(self) -> bool:
        return self.role == accounts.EDITOR


def password_fingerprint(user: User) -> str:
    """Kept in the session: a new password (or a removed user) ends every session signed in before."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:24]


def _session_user(now: datetime) -> CurrentUser | None:
    user_id, fingerprint, since = (flask.session.get(k) for k in ("uid", "pw", "since"))
    if not isinstance(user_id, int) or not isinstance(fingerprint, str) or not isinstance(since, str):
        return None
    hours = current_archive().settings.web.session_hours
    try:
        if now - datetime.fromisoformat(since) > timedelta(hours=hours):
            return None
    except ValueError:
        return None
    with db_session() as session:
        user = user_queries.user_by_id(session, user_id)
        if user is None or password_fingerprint(user) != fingerprint:
            return None
        return CurrentUser(user.id, user.name, user.role, "session")


def _token_user(header: str, now: datetime) -> CurrentUser | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    with db_session() as session:
        row = user_queries.token_with_digest(session, accounts.token_digest(token.strip()))
        if row is None:
            return None
        row.last_used_at = now
        user = CurrentUser(row.user.id, row.user.name, row.user.role, "token")
        session.commit()
        return user


@bp.before_app_request
def load_user() -> None:
    """`g.user`: the signed-in user, or the API token's user on `/api/` (tokens open nothing else)."""
    now = current_archive().clock.now()
    flask.g.user = None
    header = flask.request.headers.get("Authorization", "")
    if header and flask.request.path.startswith("/api/"):
        flask.g.user = _token_user(header, now)
        return
    flask.g.user = _session_user(now)


def login_required(view: F) -> F:
    """Any signed-in user; others go to the login page (API callers get 401)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if flask.g.get("user") is None:
            if flask.request.path.startswith("/api/"):
                raise Unauthorized("Sign in, or send an API token: Authorization: Bearer TOKEN.")
            return flask.redirect(flask.url_for("auth.login", next=flask.request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def editor_required(view: F) -> F:
    """Only editors decide (approve, reject, restore); viewers get 403."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = flask.g.get("user")
        if user is None:
            return flask.redirect(flask.url_for("auth.login"))
        if not user.is_editor or user.via != "session":
            raise Forbidden("Only editors may do this; your account may read.")
        return view(*args, **kwargs)

    return cast(F, wrapped)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never `//host` or a scheme): no open redirect after signing in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return flask.url_for("editors.dashboard")
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else flask.url_for("editors.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if flask.request.method == "GET":
        if flask.g.get("user") is not None:
            return flask.redirect(_safe_next(flask.request.args.get("next")))
        return flask.render_template("login.html", next=flask.request.args.get("next", ""), error=None)
    name = flask.request.form.get("name", "").strip()
    password = flask.request.form.get("password", "")
    next_url = flask.request.form.get("next", "")
    address = flask.request.remote_addr or "unknown"
    archive = current_archive()
    now = archive.clock.now()
    with db_session() as session:
        if THROTTLE.blocked(session, name, address, now):
            error = "Too many failed sign-ins for this account or from this address; wait 15 minutes."
            return flask.render_template("login.html", next=next_url, error=error), 429
        user = user_queries.user_named(session, name) if name else None
        if user is None:
            accounts.burn_decoy_hash(password)
        if user is None or not accounts.verify_password(password, user.password_hash):
            THROTTLE.failed(session, name, address, now)
            session.commit()
            error = "That name and password do not match an account."
            return flask.render_template("login.html", next=next_url, error=error), 401
        THROTTLE.succeeded(session, name, address)
        user.last_login_at = now
        session.commit()
        flask.session.clear()
        flask.session.permanent = True
        flask.session.update({"uid": user.id, "pw": password_fingerprint(user), "since": now.isoformat()})
    new_csrf_token()
    return flask.redirect(_safe_next(next_url))


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    flask.session.clear()
    return flask.redirect(flask.url_for("auth.login"))


@bp.route("/healthz")
def health() -> Any:
    """For load balancers: answers without a session when the database answers."""
    with db_session() as session:
        user_queries.failures_since(session, "health", current_archive().clock.now())
    return flask.jsonify({"ok": True})
