"""Secrets stay hidden (issue 18): after the main flows run with configured secrets, not one of them is
in a log line (as caught and as the daemon's JSON lines), a CLI output or error message, a stored raw
response, a WARC record, a media file or any text column of any table of the database.

The providers play it hostile: one redirects to a URL that carries the token back, then answers an
error page that echoes it; one resets the connection; one redirects in a loop. A secret is looked for
as it is and URL-encoded. To add a secret (the viewer's session secret, WordPress application
passwords), configure it in `configured_world` and append it to the world's `secrets`.
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import MetaData, create_engine, make_url, select

from archiver.app import App
from archiver.clock import FixedClock
from archiver.config import load_settings
from archiver.daemon import Daemon, JsonFormatter
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
