"""The route table and the security rules of the viewer, through Flask's test client: every route but
sign-in, health, static files and the public archive needs a session; the security headers are on every
response, errors included; POSTs without the CSRF token are refused; sign-in is throttled; viewers read
and editors decide."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import flask
import pytest
from support.viewer_world import EDITOR, PASSWORD, SECRET, TEST_COST, VIEWER, Viewer, csrf_of, login
from werkzeug.routing import Rule

from archiver import accounts
from archiver.app import App
from archiver.errors import ConfigError
from archiver.storage.queries import users as user_queries
from archiver.web import create_app
from archiver.web.security import CONTENT_SECURITY_POLICY

EXPECTED_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
OPEN_ENDPOINTS = {"auth.login", "auth.health", "static"}


def is_open(endpoint: str) -> bool:
    return endpoint in OPEN_ENDPOINTS or endpoint.startswith("public.")


def sample_url(rule: Rule) -> str:
    values: dict[str, object] = {}
    for name in rule.arguments:
        converter = rule._converters[name]  # the converter says what a sample value must look like
        values[name] = 1 if type(converter).__name__ == "IntegerConverter" else "x"
    return rule.build(values, append_unknown=False)[1]  # type: ignore[index]


def assert_security_headers(response: flask.Response) -> None:
    assert response.headers["Content-Security-Policy"] == EXPECTED_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_policy_is_the_one_the_issue_asks_for() -> None:
    assert CONTENT_SECURITY_POLICY == EXPECTED_CSP


def test_every_route_but_login_health_static_and_public_needs_a_session(viewer: Viewer) -> None:
    client = viewer.client()
    checked = []
    for rule in viewer.flask_app.url_map.iter_rules():
        if is_open(rule.endpoint):
            continue
        url = sample_url(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            data = None
            if method == "POST":  # an anonymous session with a CSRF token: only the missing sign-in refuses
                data = {"csrf_token": csrf_of(client.get("/login").get_data(as_text=True))}
            response = client.open(url, method=method, data=data, follow_redirects=False)
            if rule.endpoint == "home":
                assert response.status_code == 302
                response = client.get(response.headers["Location"])
            if url.startswith("/api/"):
                assert response.status_code == 401, (method, url)
                assert response.is_json
            else:
                assert response.status_code == 302, (method, url, response.status_code)
                assert response.headers["Location"].startswith("/login"), (method, url)
            assert_security_headers(response)
            checked.append((method, url))
    endpoints = {rule.endpoint for rule in viewer.flask_app.url_map.iter_rules()}
    assert {
        "editors.dashboard",
        "editors.queue",
        "editors.decide",
        "editors.restore",
        "api.show",
    } <= endpoints
    assert len(checked) >= 15


def test_open_routes_answer_without_a_session(viewer: Viewer) -> None:
    client = viewer.client()
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").get_json() == {"ok": True}
    with client.get("/static/archive.css") as static:
        assert static.status_code == 200 and static.mimetype == "text/css"
        assert_security_headers(static)
    with client.get("/static/htmx.min.js") as htmx:
        assert htmx.status_code == 200 and b"htmx" in htmx.data[:200]


def test_security_headers_on_pages_errors_and_failures(viewer: Viewer) -> None:
    client = viewer.client()
    login(client)
    for url, status in (
        ("/editors/", 200),
        ("/editors/queue", 200),
        ("/api/status", 200),
        ("/no/such/page", 404),
        ("/editors/embeds/99999", 404),
        ("/api/embeds/nothing-like-this", 404),
        ("/editors/articles?after=abc", 400),
    ):
        response = client.get(url)
        assert response.status_code == status, url
        assert_security_headers(response)
    wrong_method = client.get("/editors/queue/decide")
    assert wrong_method.status_code == 405
    assert_security_headers(wrong_method)
    missing = client.get("/no/such/page").get_data(as_text=True)
    assert "404" in missing and "<script>" not in missing


def test_a_server_error_is_a_small_page_with_the_headers(viewer: Viewer) -> None:
    app = create_app(viewer.app)

    def explode() -> str:
        raise RuntimeError("boom: secret detail")

    app.add_url_rule("/explode", "explode", explode)
    response = app.test_client().get("/explode")
    assert response.status_code == 500
    assert_security_headers(response)
    body = response.get_data(as_text=True)
    assert "500" in body and "secret detail" not in body


def test_a_post_without_the_csrf_token_is_refused(viewer: Viewer) -> None:
    client = viewer.client()
    token = login(client)
    first = viewer.planned()[0]
    for data, headers in (
        ({"rewrite": first, "decision": "approve"}, {}),
        ({"rewrite": first, "decision": "approve", "csrf_token": "forged" * 8}, {}),
        ({"rewrite": first, "decision": "approve"}, {"X-CSRF-Token": "x" * 43}),
    ):
        response = client.post("/editors/queue/decide", data=data, headers=headers)
        assert response.status_code == 400
        assert "CSRF" in response.get_data(as_text=True)
        assert_security_headers(response)
    assert viewer.rewrite_row(first).state == "planned"
    # The header is how htmx sends it: accepted.
    response = client.post(
        "/editors/queue/decide",
        data={"rewrite": first, "decision": "reject"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 302
    assert viewer.rewrite_row(first).state == "rejected"


def test_login_post_needs_the_csrf_token_too(viewer: Viewer) -> None:
    client = viewer.client()
    response = client.post("/login", data={"name": EDITOR, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/editors/").status_code == 302


def test_logout_ends_the_session(viewer: Viewer) -> None:
    client = viewer.client()
    token = login(client)
    assert client.get("/editors/").status_code == 200
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/editors/").status_code == 302


def wrong_login(client: flask.testing.FlaskClient, name: str, password: str = "wrong password!") -> int:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token}).status_code


def test_sign_in_is_throttled_per_account_across_processes_and_addresses(viewer: Viewer) -> None:
    first = viewer.flask_app.test_client()
    for _ in range(5):
        assert wrong_login(first, EDITOR) == 401
    # The right password no longer opens the account, from another address and another server process
    # (a second app over the same database).
    other_process = create_app(viewer.app).test_client()
    other_process.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert wrong_login(other_process, EDITOR, PASSWORD) == 429
    assert other_process.get("/editors/").status_code == 302
    # Another account is not locked.
    assert wrong_login(first, VIEWER, PASSWORD) == 302
    # Fifteen minutes later the account opens again.
    viewer.world.clock.advance(timedelta(minutes=16))
    assert wrong_login(other_process, EDITOR, PASSWORD) == 302


def test_sign_in_is_throttled_per_address(viewer: Viewer) -> None:
    names = [f"user{n}" for n in range(4)]
    with viewer.app.sessions() as session, session.begin():
        for name in names:
            cheap = accounts.hash_password(PASSWORD, n=TEST_COST)
            user_queries.add_user(session, name, accounts.VIEWER, cheap, viewer.app.clock.now())
    client = viewer.client()
    client.environ_base["REMOTE_ADDR"] = "192.0.2.55"
    assert wrong_login(client, "nobody") == 401  # unknown names count too
    for name in names:
        for _ in range(4):
            assert wrong_login(client, name) == 401
    same_place = viewer.client()
    same_place.environ_base["REMOTE_ADDR"] = "192.0.2.55"
    assert wrong_login(same_place, "user0", PASSWORD) == 302  # 17 failures from here: still open
    for n in range(3):
        assert wrong_login(client, f"nobody{n}") == 401
    assert wrong_login(client, EDITOR, PASSWORD) == 429  # 20 failures from this address
    elsewhere = viewer.client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.56"
    assert wrong_login(elsewhere, EDITOR, PASSWORD) == 302


def test_a_viewer_reads_but_cannot_decide(viewer: Viewer) -> None:
    client = viewer.client()
    token = login(client, VIEWER)
    queue = client.get("/editors/queue")
    assert queue.status_code == 200
    assert "Approve rewrite" not in queue.get_data(as_text=True)
    first = viewer.planned()[0]
    response = client.post(
        "/editors/queue/decide", data={"rewrite": first, "decision": "approve", "csrf_token": token}
    )
    assert response.status_code == 403
    assert_security_headers(response)
    assert viewer.rewrite_row(first).state == "planned"
    assert client.post("/editors/articles/1/restore", data={"csrf_token": token}).status_code == 403


def test_state_changes_only_by_post(viewer: Viewer) -> None:
    client = viewer.client()
    login(client)
    first = viewer.planned()[0]
    response = client.get(f"/editors/queue/decide?rewrite={first}&decision=approve")
    assert response.status_code == 405
    assert client.get(f"/editors/rewrites/{first}/restore").status_code == 405
    assert viewer.rewrite_row(first).state == "planned"


def test_removing_a_user_or_changing_the_password_ends_their_sessions(viewer: Viewer) -> None:
    client = viewer.client()
    login(client, VIEWER)
    assert client.get("/editors/").status_code == 200
    with viewer.app.sessions() as session, session.begin():
        user = user_queries.user_named(session, VIEWER)
        assert user is not None
        user.password_hash = user.password_hash[:-4] + "AAAA"
    assert client.get("/editors/").status_code == 302
    editor = viewer.client()
    login(editor)
    with viewer.app.sessions() as session, session.begin():
        assert user_queries.remove_user(session, EDITOR)
    assert editor.get("/editors/").status_code == 302


def test_a_session_expires(viewer: Viewer) -> None:
    client = viewer.client()
    login(client)
    viewer.world.clock.advance(timedelta(hours=13))
    assert client.get("/editors/").status_code == 302


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_no_open_redirect_after_sign_in(viewer: Viewer, target: str) -> None:
    client = viewer.client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"name": EDITOR, "password": PASSWORD, "csrf_token": token, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/editors/"


def test_sign_in_returns_to_the_page_asked_for(viewer: Viewer) -> None:
    client = viewer.client()
    first = client.get("/editors/residue?status=orphaned")
    assert first.status_code == 302
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    next_value = re.search(r'name="next" value="([^"]*)"', page)
    assert next_value is not None
    token = csrf_of(page)
    response = client.post(
        "/login",
        data={"name": EDITOR, "password": PASSWORD, "csrf_token": token, "next": next_value.group(1)},
    )
    assert response.headers["Location"] == "/editors/residue?status=orphaned"


def test_the_session_cookie_is_signed_http_only_and_same_site(viewer: Viewer) -> None:
    client = viewer.client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"name": EDITOR, "password": PASSWORD, "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("archiver_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # A cookie signed with another secret is not a session.
    forged = App(viewer.world.settings, viewer.world.clock, {"ARCHIVER_WEB_SECRET": "f" * 48})
    forger = create_app(forged).test_client()
    login(forger)
    stolen = forger.get_cookie("archiver_session")
    assert stolen is not None
    victim = viewer.client()
    victim.set_cookie("archiver_session", stolen.value)
    assert victim.get("/editors/").status_code == 302
    forged.close()


def test_without_a_secret_the_app_is_not_made(viewer: Viewer, tmp_path: Path) -> None:
    settings = viewer.world.settings.model_copy(
        update={"web": viewer.world.settings.web.model_copy(update={"secret_file": tmp_path / "none.key"})}
    )
    with pytest.raises(ConfigError, match="no session secret: set ARCHIVER_WEB_SECRET or create"):
        create_app(App(settings, viewer.world.clock, {}))
    with pytest.raises(ConfigError, match="shorter than 32"):
        create_app(App(settings, viewer.world.clock, {"ARCHIVER_WEB_SECRET": "short"}))
    (tmp_path / "none.key").write_text(SECRET + "\n", encoding="utf-8")
    assert create_app(App(settings, viewer.world.clock, {})) is not None
