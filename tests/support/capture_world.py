"""A loopback world for any provider's capture tests: settings that point one provider at the fake
server, an embed stored the way a scan stores it, one capture run through the real pipeline, and a
CaptureContext built the way `archiver.pipeline.capture.climb` builds it for direct `provider.capture`
calls.

Endpoints and bases are moved to the fake server by keeping their path: the default
`https://graph.facebook.com/v26.0/oembed_post` becomes `{server.url}/v26.0/oembed_post` (see
`endpoint_path`), a base such as `https://www.instagram.com` becomes `{server.url}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from support.fake_server import Canned, FakeServer

from archiver.app import App
from archiver.config import Settings, parse_rate
from archiver.pipeline.capture import CaptureReport, capture_due
from archiver.providers import provider_named
from archiver.providers.common.context import CaptureContext
from archiver.records import Article, EmbedRef, MarkupKind, Outcome
from archiver.storage import queries
from archiver.storage.models import Embed

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# Smallest well-formed JPEG/PNG/GIF headers: the archiver sniffs magic bytes, it never decodes images.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(200) + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)
GIF = b"GIF89a" + bytes(100)


def endpoint_path(provider: str, key: str) -> str:
    """The path the fake server answers for one of the provider's endpoints or bases ("" for a base
    without a path)."""
    path = urlsplit(provider_named(provider).endpoints[key]).path
    return path.rstrip("/") if key.endswith("_base") else path


def settings_for(server: FakeServer, tmp_path: Path, provider: str, **overrides: Any) -> Settings:
    """Settings with a SQLite database and media folder in `tmp_path`, loopback allowed, and every
    endpoint and base of `provider` pointed at `server`.

    Keyword arguments naming a top-level settings section (`http`, `capture`, `media`, ...) replace
    that section; the others (`access_token_env`, `rate`, an endpoint key...) go into the provider's
    `[providers.NAME]` table."""
    table: dict[str, Any] = {
        key: f"{server.url}{endpoint_path(provider, key)}" for key in provider_named(provider).endpoints
    }
    data: dict[str, Any] = {
        "database": {"url": f"sqlite:///{tmp_path / 'archive.db'}"},
        "media": {"dir": str(tmp_path / "media")},
        "http": {"allow_networks": ["127.0.0.0/8"], "read_timeout": 2.0, "deadline": 5.0},
    }
    for key, value in overrides.items():
        if key in Settings.model_fields and key != "providers":
            data[key] = value
        else:
            table[key] = value
    data["providers"] = {provider: table}
    return Settings(**data)


def add_embed(
    app: App,
    provider: str,
    post_id: str | None,
    url: str | None,
    markup: MarkupKind = MarkupKind.BLOCKQUOTE,
    **found: str,
) -> EmbedRef:
    """Store one embed as a scan would (with what its markup said: author_name, handle, caption...)."""
    ref = EmbedRef(provider, post_id, url, markup, **found)  # type: ignore[arg-type]
    article = Article(f"{provider}-{post_id}.html", "test", b"<p>x</p>", "<p>x</p>", "utf-8", "0" * 64)
    with app.sessions() as session, session.begin():
        source = queries.ensure_source(session, "test", "files", START)
        queries.save_scan(session, source, article, [ref], START)
    return ref


def capture_once(app: App, providers: list[str] | None = None) -> CaptureReport:
    """One capture run through the real pipeline (every due embed of the given providers)."""
    return capture_due(app.sessions, app.capture_deps(), providers=providers)


def embeds(app: App) -> dict[str | None, Embed]:
    """Every embed by post id, with snapshots, checks and media loaded."""
    with app.sessions() as session:
        found = {embed.post_id: embed for embed in session.query(Embed)}
        for embed in found.values():
            embed.snapshots, embed.checks  # noqa: B018 - load before the session closes
            for snap in embed.snapshots:
                for media in snap.media:
                    media.media_file  # noqa: B018
        return found


def add_and_capture(app: App, provider: str, post_id: str | None, url: str | None, **found: str) -> Embed:
    """Store one embed, run one capture, and return the embed as stored afterwards."""
    add_embed(app, provider, post_id, url, **found)
    capture_once(app, [provider])
    return embeds(app)[post_id]


def context_for(app: App, provider: str, env: Mapping[str, str] | None = None) -> CaptureContext:
    """The CaptureContext `climb()` would hand the provider (for direct `provider.capture` calls)."""
    settings = app.settings.provider(provider)
    rate = settings.rate or provider_named(provider).default_rate
    return CaptureContext(
        provider=provider,
        http=app.http,
        settings=settings,
        env=app.env if env is None else env,
        clock=app.clock,
        budgets=app.budgets,
        rate=parse_rate(rate) if rate else None,
        max_json_bytes=app.settings.http.max_json_bytes,
        max_page_bytes=app.settings.http.max_page_bytes,
    )


def answer_faults(valid: Canned) -> list[Any]:
    """The faults every oEmbed-style answer is tested against, as pytest params (answer, outcome, words
    the reason must hold); `valid` is a good answer, cut short for the truncated case."""
    html = {"Content-Type": "text/html"}
    cases = [
        ("404", Canned(404), Outcome.GONE, "404"),
        ("410", Canned(410), Outcome.GONE, "410"),
        ("500", Canned(500), Outcome.TRANSIENT, "500"),
        ("503", Canned(503), Outcome.TRANSIENT, "503"),
        ("429-retry-after", Canned(429, {"Retry-After": "120"}), Outcome.TRANSIENT, "429"),
        ("reset", Canned(reset=True), Outcome.TRANSIENT, "connection"),
        (
            "truncated",
            replace(valid, truncate_to=max(len(valid.body) // 2, 1)),
            Outcome.TRANSIENT,
            "truncated",
        ),
        ("401", Canned(401), Outcome.AMBIGUOUS, "401"),
        ("403", Canned(403), Outcome.AMBIGUOUS, "403"),
        (
            "login-wall-200",
            Canned(200, html, b"<!DOCTYPE html><html>Log in</html>"),
            Outcome.AMBIGUOUS,
            "HTML",
        ),
        ("forbidden-200", Canned(200, {}, b"Forbidden"), Outcome.AMBIGUOUS, "not valid JSON"),
        (
            "rich-without-html",
            Canned(200, {}, b'{"version":"1.0","type":"rich"}'),
            Outcome.AMBIGUOUS,
            "no html",
        ),
        ("no-type", Canned(200, {}, b'{"version":"1.0","title":"x"}'), Outcome.AMBIGUOUS, "oEmbed type"),
        ("json-list", Canned(200, {}, b'[{"type":"rich"}]'), Outcome.AMBIGUOUS, "not an object"),
        ("deeply-nested", Canned(200, {}, b"[" * 100_000 + b"]" * 100_000), Outcome.AMBIGUOUS, "nested"),
    ]
    return [pytest.param(answer, outcome, words, id=name) for name, answer, outcome, words in cases]
