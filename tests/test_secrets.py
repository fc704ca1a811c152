"""Secrets stay hidden (issue 18): after the main flows run with configured secrets, not one of them is
in a log line (as caught and as the daemon's JSON lines), a CLI output or error message, a stored raw
response, a WARC record, a media file or any text column of any table of the database.

The providers play it hostile: one redirects to a URL that carries the token back, then answers an
error page that echoes it; one resets the connection; one redirects in a loop. A secret is looked for
as it is and URL-encoded. To add a secret, configure it in `configured_world` and append it to the
world's `secrets`.

The viewer's session secret and a WordPress application password have a test of their own (the last
one here): WordPress sources whose error answers echo the request with its Basic credential (a JSON
error message, an HTML page title, a redirect), scans and dry runs of each, and every kind of viewer
answer (signed-in pages, error pages, the API), looked through with the logs and the database.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import MetaData, create_engine, make_url, select

from archiver import accounts
from archiver.app import App
from archiver.clock import FixedClock
from archiver.config import load_settings
from archiver.daemon import Daemon, JsonFormatter
from archiver.storage.queries import users as user_queries
from archiver.web import create_app
from tests.support.archive_cli import Result, run_archive
from tests.support.fake_server import Canned, FakeServer, Recorded
from tests.support.instagram_world import OEMBED_PATH, oembed_canned, serve_instagram, toml_for

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
META_TOKEN = "metaTOKEN-5c1e9a7f3b2d"
DB_PASSWORD = "dbPASSWORD-8e2f4a6c0d1b"
SPN_ACCESS = "spnACCESS-2a9c4e1f7d"
SPN_SECRET = "spnSECRET-6d0b3f8a2c5e"
ECHOED = "Bad request for {path}"  # what the hostile error page says, with the path it was asked


@dataclass(frozen=True)
class Secret:
    what: str
    value: str

    def forms(self) -> set[str]:
        """The ways it could be written down: as it is and URL-encoded."""
        return {self.value, quote(self.value, safe=""), quote_plus(self.value)}


@dataclass
class World:
    tmp_path: Path
    server: FakeServer
    database_url: str
    env: dict[str, str]
    secrets: list[Secret]
    outputs: list[tuple[str, str]] = field(default_factory=list)  # (what, text) seen so far


def hostile_oembed(server: FakeServer) -> object:
    """The recorded answer for the first post; for the second a redirect that carries the token back,
    to an error page that echoes it; for the third a reset; for any other a redirect loop."""
    good = oembed_canned(server)

    def answer(request: Recorded) -> Canned:
        post = request.query.get("url", [""])[0]
        token = request.query.get("access_token", [""])[0]
        if "B9bOM-6Ax_d" in post:
            return good
        if "CIyNZQhH4DQ" in post:
            return Canned(302, {"Location": f"{server.url}/moved?access_token={token}&post=2"})
        if "CCX-gcHArcJ" in post:
            return Canned(reset=True)
        return Canned(302, {"Location": f"{server.url}{OEMBED_PATH}?url={post}&access_token={token}"})

    return answer


def echo_error(request: Recorded) -> Canned:
    query = "&".join(f"{k}={v[0]}" for k, v in request.query.items())
    body = ECHOED.format(path=f"{request.path}?{query}").encode()
    return Canned(500, {"Content-Type": "text/plain"}, body)


def hostile_spn(server: FakeServer) -> str:
    """Save Page Now ([mirror]) on the same server: a job, whose status echoes the keys it was sent back in
    its error message. Returns the [mirror] table that points the archiver at it."""
    server.route(
        "/save", Canned(200, {"Content-Type": "application/json"}, b'{"job_id": "spn2-echo"}'), method="POST"
    )

    def echo_keys(request: Recorded) -> Canned:
        said = {
            "status": "error",
            "status_ext": "error:no-access",
            "message": f"refused {request.headers['authorization']}",
        }
        return Canned(200, {"Content-Type": "application/json"}, json.dumps(said).encode())

    server.route("/save/status/spn2-echo", echo_keys)
    return f'\n[mirror]\nenabled = true\nbase = "{server.url}"\n'


@pytest.fixture
def configured_world(
    db_url: str, fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    serve_instagram(fake_server, (("p", "B9bOM-6Ax_d"), ("reel", "CIyNZQhH4DQ"), ("tv", "CCX-gcHArcJ")))
    fake_server.route(OEMBED_PATH, hostile_oembed(fake_server))  # type: ignore[arg-type]
    fake_server.route("/moved", echo_error)
    secrets = [Secret("Meta access token (providers.instagram.access_token_env)", META_TOKEN)]
    url = db_url
    if db_url.startswith("postgresql"):
        # The test server trusts loopback: the password is sent nowhere, but every part of the
        # archiver holds it in its settings.
        url = make_url(db_url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
        secrets.append(Secret("database password (in database.url)", DB_PASSWORD))
    env = {"TEST_META_TOKEN": META_TOKEN, "ARCHIVER_DATABASE__URL": url}
    env |= {"ARCHIVER_SPN_ACCESS_KEY": SPN_ACCESS, "ARCHIVER_SPN_SECRET_KEY": SPN_SECRET}
    secrets += [
        Secret("Save Page Now access key", SPN_ACCESS),
        Secret("Save Page Now secret key", SPN_SECRET),
    ]
    mirror = hostile_spn(fake_server)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ARCHIVER_NOW", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "archiver.toml").write_text(toml_for(fake_server, tmp_path) + mirror, encoding="utf-8")
    shutil.copytree(SAMPLES, tmp_path / "samples")
    yield World(tmp_path, fake_server, url, env, secrets)


def run(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> Result:
    result = run_archive(monkeypatch, capsys, *args)
    world.outputs.append((f"archive {' '.join(args)}: stdout", result.out))
    world.outputs.append((f"archive {' '.join(args)}: stderr", result.err))
    return result


def database_dump(url: str) -> list[tuple[str, str]]:
    """Every row of every table, each value as text (JSON columns as their JSON)."""
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        dumped = []
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    text = " ".join(json.dumps(v, default=str) for v in row)
                    dumped.append((f"database row of {table.name}", text))
        return dumped
    finally:
        engine.dispose()


def files_under(folder: Path, what: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)  # every gzip member of a WARC file
        found.append((f"{what} {path.relative_to(folder)}", data.decode("latin-1")))
    return found


def leaks(secrets: list[Secret], surfaces: list[tuple[str, str]]) -> list[str]:
    return [
        f"{secret.what} in {what}: ...{text[max(text.find(form) - 80, 0) : text.find(form) + 40]!r}..."
        for secret in secrets
        for what, text in surfaces
        for form in secret.forms()
        if form in text
    ]


def test_no_secret_in_logs_outputs_raw_responses_warc_media_or_database(
    configured_world: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = configured_world
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ARCHIVER_NOW", "2026-11-20T12:00:00Z")
    assert run(world, monkeypatch, capsys, "run", "samples").code == 0
    for instant in ("2026-11-20T20:00:00Z", "2026-11-22T12:00:00Z"):
        monkeypatch.setenv("ARCHIVER_NOW", instant)
        assert run(world, monkeypatch, capsys, "check", "--json").code == 0
    for command in (
        ("status", "--json"),
        ("embeds", "--json"),
        ("show", "B9bOM-6Ax_d", "--json"),
        ("show", "CIyNZQhH4DQ"),
        ("providers", "--json"),
        ("rewrite", "--dry-run"),
        ("export", "--warc", "out.warc.gz", "--json"),
        ("mirror", "--json"),  # asks Save Page Now (with the keys)...
        ("mirror", "--json"),  # ...whose job status echoes them back
        ("mirror", "--list", "--json"),
    ):
        result = run(world, monkeypatch, capsys, *command)
        assert result.code == 0, (command, result.err)

    # The daemon's jobs on the same archive: its check job, its reports.
    settings = load_settings(world.tmp_path / "archiver.toml", world.env)
    app = App(settings, FixedClock(datetime(2026, 11, 24, 12, tzinfo=UTC)), world.env)
    try:
        daemon = Daemon(app, "secrets-test")
        daemon.capture_settled.set()
        daemon._job("check", daemon._check)
        world.outputs.append(("daemon /metrics", daemon.metrics()))
        world.outputs.append(("daemon /healthz", json.dumps(daemon.health())))
    finally:
        app.close()

    # The hostile answers were met: the token went out, came back, and was asked about.
    asked = [r for r in world.server.requests if r.path in (OEMBED_PATH, "/moved")]
    assert any(r.path == "/moved" and r.query.get("access_token") == [META_TOKEN] for r in asked)
    echoed = [r for r in world.server.requests if r.path == "/save/status/spn2-echo"]
    assert echoed and SPN_SECRET in echoed[0].headers["authorization"]
    assert any(
        "mirror --list" in what and "refused" in text and "REDACTED" in text for what, text in world.outputs
    )
    formatter = JsonFormatter()
    logs = [(f"log line ({r.name})", formatter.format(r)) for r in caplog.records]
    assert len(logs) > 0
    surfaces = [
        *world.outputs,
        *logs,
        *database_dump(world.database_url),
        *files_under(world.tmp_path / "media", "media file"),
        ("WARC export", gzip.decompress((world.tmp_path / "out.warc.gz").read_bytes()).decode("latin-1")),
    ]
    assert any("raw" in what or "snapshots" in what for what, _ in surfaces)
    found = leaks(world.secrets, surfaces)
    assert not found, "\n".join(found)


def test_a_database_error_names_no_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing listens on port 9 of loopback: the connection is refused, and the one-line error says so.
    url = f"postgresql+psycopg://archiver:{DB_PASSWORD}@127.0.0.1:9/archive"
    monkeypatch.setenv("ARCHIVER_DATABASE__URL", url)
    monkeypatch.chdir(tmp_path)
    for command in (("status",), ("status", "--json"), ("scan", str(tmp_path)), ("db", "upgrade")):
        result = run_archive(monkeypatch, capsys, *command)
        assert result.code != 0, command
        assert "127.0.0.1" in result.err or "127.0.0.1" in result.out, (command, result.err)
        assert not leaks([Secret("database password", DB_PASSWORD)], [("stderr", result.err)]), result.err
        assert DB_PASSWORD not in result.out


# ---- the viewer's session secret and a WordPress application password -----------------------------------

WEB_SECRET = "webSECRET-3f9a1c7e5b2d8f4a6c0e1b3d5f7a9c2e4b6d8f0a"
WP_USER = "archiver"
WP_PASSWORD = "wpAP Pp4s 5d2e 9c1a 7f3b Xq8z"  # an application password: six groups of four
WP_POST = (
    "<p>A post with an embed.</p>\n\n<p>https://www.instagram.com/p/B9bOM-6Ax_d/</p>\n\n"
    "<p>https://bsky.app/profile/attakei.dev/post/3kqmooj3ems2w</p>"
)


def wordpress_secrets() -> list[Secret]:
    credential = base64.b64encode(f"{WP_USER}:{WP_PASSWORD}".encode()).decode("ascii")
    return [
        Secret("WordPress application password (sources.password_env)", WP_PASSWORD),
        Secret("WordPress application password without its spaces", WP_PASSWORD.replace(" ", "")),
        Secret("WordPress Basic credential (user:application password)", credential),
        Secret("viewer session secret (web.secret_env)", WEB_SECRET),
    ]


def hostile_wordpress(server: FakeServer) -> None:
    """One site, three faces by the path prefix its source's url names: `/ok` answers a post; `/json`
    a WordPress error object whose message echoes the request with its Authorization header; `/html` an
    HTML error page whose title echoes it; `/moved` a redirect carrying it in the query."""

    def answer(request: Recorded) -> Canned:
        route = request.query.get("rest_route", [""])[0]
        echoed = f"{request.method} {route} Authorization: {request.headers.get('authorization', '')}"
        if request.path == "/ok/":
            if route == "/wp/v2/types":
                body = {"post": {"slug": "post", "rest_base": "posts", "rest_namespace": "wp/v2"}}
            elif route == "/wp/v2/posts":
                body = [
                    {
                        "id": 7,
                        "type": "post",
                        "link": "https://news.example.org/?p=7",
                        "content": {"raw": WP_POST},
                    }
                ]
            else:
                body = {"code": "rest_no_route", "message": f"No route: {echoed}", "data": {"status": 404}}
            headers = {"Content-Type": "application/json", "X-WP-Total": "1", "X-WP-TotalPages": "1"}
            return Canned(
                200 if isinstance(body, list) or "post" in body else 404, headers, json.dumps(body).encode()
            )
        if request.path == "/json/":
            body = {
                "code": "rest_forbidden",
                "message": f"Sorry, you cannot: {echoed}",
                "data": {"status": 401},
            }
            return Canned(401, {"Content-Type": "application/json"}, json.dumps(body).encode())
        if request.path == "/html/":
            page = f"<html><head><title>Blocked {echoed}</title></head><body>{echoed}</body></html>"
            return Canned(403, {"Content-Type": "text/html"}, page.encode())
        credential = request.headers.get("authorization", "").removeprefix("Basic ")
        return Canned(302, {"Location": f"{server.url}/moved/?login={credential}&rest_route={route}"})

    for path in ("/ok/", "/json/", "/html/", "/moved/"):
        server.route(path, answer)
        server.route(path, answer, method="POST")


def viewer_pages(app: App) -> list[tuple[str, str]]:
    """Every kind of viewer answer, signed in and not: pages, error pages, the API, as (what, text)."""
    password = "viewer password 42"
    with app.sessions() as session, session.begin():
        user = user_queries.add_user(
            session, "edna", accounts.EDITOR, accounts.hash_password(password, n=2**10), app.clock.now()
        )
        token = accounts.new_api_token()
        user_queries.add_token(session, user, accounts.token_digest(token), "secrets test", app.clock.now())
    client = create_app(app).test_client()
    seen: list[tuple[str, str]] = []

    def keep(what: str, response: Any) -> Any:
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        seen.append(
            (f"viewer {what} ({response.status_code})", f"{headers}\n\n{response.get_data(as_text=True)}")
        )
        return response

    login_page = keep("GET /login", client.get("/login")).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page)
    assert csrf is not None
    keep(
        "POST /login, wrong password",
        client.post(
            "/login", data={"name": "edna", "password": "nope nope nope", "csrf_token": csrf.group(1)}
        ),
    )
    keep("POST /login, no CSRF token", client.post("/login", data={"name": "edna", "password": password}))
    signed_in = keep(
        "POST /login",
        client.post("/login", data={"name": "edna", "password": password, "csrf_token": csrf.group(1)}),
    )
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    for path in (
        "/editors/",
        "/editors/queue",
        "/editors/articles",
        "/editors/articles/1",
        "/editors/embeds/1",
        "/editors/residue",
        "/search?q=post",
        "/editors/articles/999999",
        "/editors/no-such-page",
        "/embeds/instagram/B9bOM-6Ax_d",
        "/healthz",
    ):
        keep(f"GET {path}", client.get(path))
    keep(
        "POST /editors/queue/decide, no CSRF token",
        client.post("/editors/queue/decide", data={"decision": "approve"}),
    )
    api = create_app(app).test_client()
    for path in (
        "/api/status",
        "/api/embeds",
        "/api/embeds/B9bOM-6Ax_d",
        "/api/embeds/nothing-here",
        "/api/rewrites",
    ):
        keep(f"GET {path} with a token", api.get(path, headers={"Authorization": f"Bearer {token}"}))
    keep("GET /api/status, a wrong token", api.get("/api/status", headers={"Authorization": "Bearer wrong"}))
    assert any(what.startswith("viewer GET /editors/ (200)") for what, _ in seen)
    return seen


def test_no_session_secret_or_application_password_in_logs_outputs_database_or_viewer_pages(
    db_url: str,
    fake_server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    hostile_wordpress(fake_server)
    env = {"TEST_WP_PASSWORD": WP_PASSWORD, "TEST_WEB_SECRET": WEB_SECRET, "ARCHIVER_DATABASE__URL": db_url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ARCHIVER_NOW", "2026-11-20T12:00:00Z")
    monkeypatch.chdir(tmp_path)
    sources = "".join(
        f'[[sources]]\nname = "{face}"\nkind = "wordpress"\nurl = "{fake_server.url}/{face}/"\n'
        f'user = "{WP_USER}"\npassword_env = "TEST_WP_PASSWORD"\npost_types = ["post"]\n'
        for face in ("ok", "json", "html", "moved")
    )
    (tmp_path / "archiver.toml").write_text(
        f'[media]\ndir = "{tmp_path / "media"}"\n[http]\nallow_networks = ["127.0.0.0/8"]\n'
        f'[web]\nsecret_env = "TEST_WEB_SECRET"\n{sources}',
        encoding="utf-8",
    )
    world = World(tmp_path, fake_server, db_url, env, wordpress_secrets())
    assert run(world, monkeypatch, capsys, "scan", "ok").code == 0
    for face in ("json", "html", "moved"):
        failed = run(world, monkeypatch, capsys, "scan", face)
        assert failed.code != 0 and "REDACTED" in failed.err, failed.err  # echoed, and hidden
        assert run(world, monkeypatch, capsys, "scan", "--dry-run", "--json", face).code != 0
    for command in (("status", "--json"), ("embeds", "--json"), ("show", "B9bOM-6Ax_d", "--json")):
        assert run(world, monkeypatch, capsys, *command).code == 0, command

    settings = load_settings(tmp_path / "archiver.toml", env)
    app = App(settings, FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC)), env)
    try:
        pages = viewer_pages(app)
    finally:
        app.close()

    # The hostile answers were met: the credential went out and came back in every face.
    assert {r.path for r in fake_server.requests if "authorization" in r.headers} >= {
        "/ok/",
        "/json/",
        "/html/",
        "/moved/",
    }
    formatter = JsonFormatter()
    logs = [(f"log line ({r.name})", formatter.format(r)) for r in caplog.records]
    surfaces = [*world.outputs, *logs, *database_dump(db_url), *pages]
    assert any("instagram" in text for what, text in surfaces if "occurrences" in what)
    found = leaks(world.secrets, surfaces)
    assert not found, "\n".join(found)
