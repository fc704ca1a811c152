"""What keeps the viewer safe in a browser: the security headers on every response (errors included) and
the CSRF token every state-changing request must carry (a form field, or a header for htmx)."""

from __future__ import annotations

import hmac
import secrets

import flask
from werkzeug.exceptions import BadRequest

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def add_security_headers(response: flask.Response) -> flask.Response:
    """Set on every response, including 404s, 500s and static files (`after_request`)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    if flask.session.modified or "Cookie" in flask.request.headers:
        response.vary.add("Cookie")
    return response


def csrf_token() -> str:
    """The session's CSRF token (made on first use); templates put it in every POST form."""
    token = flask.session.get(CSRF_FIELD)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        flask.session[CSRF_FIELD] = token
    return token


def new_csrf_token() -> str:
    """A fresh token (after signing in: a token seen before the login is not trusted after it)."""
    flask.session.pop(CSRF_FIELD, None)
    return csrf_token()


def check_csrf() -> None:
    """Refuse (400) a state-changing request without the session's CSRF token (`before_request`)."""
    if flask.request.method in _SAFE_METHODS:
        return
    expected = flask.session.get(CSRF_FIELD)
    given = flask.request.headers.get(CSRF_HEADER) or flask.request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not given or not hmac.compare_digest(expected, given):
        raise BadRequest("The form was stale or did not come from this site (CSRF token missing or wrong).")


def init_security(app: flask.Flask) -> None:
    app.before_request(check_csrf)
    app.after_request(add_security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["csrf_field"] = CSRF_FIELD
    app.jinja_env.globals["csrf_header"] = CSRF_HEADER
