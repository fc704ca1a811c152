"""Threads capture against a real loopback server playing graph.threads.net. No Threads response was
recorded, so every answer here is synthetic (test names say so): the oEmbed fields Meta's Threads oEmbed
reference lists (html, provider_name "Threads", provider_url, type, version, width; no author, title or
thumbnail: reference/providers.md section 6) with the documented embed blockquote as html, and Graph's
error object (`{"error": {"message", "type", "code"}}`) read by the Meta helper Instagram shares.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.fake_server import Canned, FakeServer

from archiver.app import App
from archiver.clock import FixedClock
from archiver.providers.threads import Threads
from archiver.records import Capture, EmbedRef, MarkupKind, Outcome
from tests.support.capture_world import (
    START,
    add_and_capture,
    answer_faults,
    context_for,
    endpoint_path,
    settings_for,
)

THREADS = Threads()
OEMBED_PATH = endpoint_path("threads", "oembed_endpoint")
CODE = "C8XyZ_abc12"
POST_URL = f"https://www.threads.com/@zuck/post/{CODE}"
JSON = {"Content-Type": "application/json; charset=UTF-8"}


def synthetic_oembed(permalink: str = POST_URL, **changes: Any) -> Canned:
    body = {
        "version": "1.0",
        "provider_name": "Threads",
        "provider_url": "https://www.threads.com/",
        "type": "rich",
        "width": 658,
        "html": f'<blockquote class="text-post-media" data-text-post-permalink="{permalink}" '
        f'data-text-post-version="0" id="ig-tp-{CODE}"><a href="{permalink}" target="_blank">'
        "<div>Post by @zuck</div><div>View on Threads</div></a></blockquote>\n"
        '<script async src="https://www.threads.com/embed.js"></script>',
    }
    body.update(changes)
    return Canned(200, JSON, json.dumps(body).encode())


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    settings = settings_for(fake_server, tmp_path, "threads", access_token_env="TEST_THREADS_TOKEN")
    application = App(settings, FixedClock(START), {})
    yield application
    application.close()


def capture(app: App, url: str = POST_URL, env: dict[str, str] | None = None) -> Capture:
    post = THREADS.parse_url(url)
    assert post is not None
    ref = EmbedRef("threads", post.post_id, post.url, MarkupKind.BLOCKQUOTE)
    return THREADS.capture(ref, context_for(app, "threads", env))


def test_synthetic_live_post_through_the_pipeline_tokenless(app: App, fake_server: FakeServer) -> None:
    fake_server.route(OEMBED_PATH, synthetic_oembed())
    embed = add_and_capture(app, "threads", CODE, f"https://www.threads.com/t/{CODE}")
    assert embed.last_outcome == "ok", embed.last_reason
    snap = embed.snapshots[0]
    assert snap.handle == "zuck" and snap.provenance == {"handle": "oembed"}
    assert [r["rung"] for r in snap.raw] == ["oembed"]
    asked = fake_server.requests[0]
    assert asked.query["url"] == [f"https://www.threads.com/t/{CODE}"]
    assert "access_token" not in asked.query


def test_synthetic_token_from_the_environment_is_sent_and_redacted(app: App, fake_server: FakeServer) -> None:
    fake_server.route(OEMBED_PATH, synthetic_oembed())
    captured = capture(app, env={"TEST_THREADS_TOKEN": "TH|s3cret"})
    assert captured.outcome is Outcome.OK
    assert fake_server.requests[0].query["access_token"] == ["TH|s3cret"]
    assert all("s3cret" not in r.url and "s3cret" not in r.body for r in captured.responses)


def test_synthetic_old_domain_and_markup_handle(app: App, fake_server: FakeServer) -> None:
    fake_server.route(OEMBED_PATH, synthetic_oembed(html="<p>an html Meta changed</p>"))
    post = THREADS.parse_url(f"https://www.threads.net/@zuck/post/{CODE}")
    assert post is not None
    ref = EmbedRef("threads", post.post_id, post.url, MarkupKind.BLOCKQUOTE, handle="zuck")
    captured = THREADS.capture(ref, context_for(app, "threads"))
    assert captured.outcome is Outcome.OK  # html is there; its form is Meta's to change
    assert captured.fields["handle"].rung == "markup"


@pytest.mark.parametrize(
    ("answer", "outcome", "words"),
    [
        pytest.param(
            b'{"error":{"message":"(#4) Application request limit reached","type":"OAuthException",'
            b'"is_transient":true,"code":4}}',
            Outcome.TRANSIENT,
            "Graph rate limit (#4)",
            id="synthetic-graph-rate-limit",
        ),
        pytest.param(
            b'{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}',
            Outcome.PROVIDER_DOWN,
            "refused our credentials (#190)",
            id="synthetic-graph-bad-token",
        ),
        pytest.param(
            b'{"error":{"message":"Unsupported request: the post is private",'
            b'"type":"OAuthException","code":100}}',
            Outcome.GONE,
            "cannot embed the post (#100)",
            id="synthetic-graph-cannot-embed",
        ),
        pytest.param(b"not json", Outcome.AMBIGUOUS, "400", id="synthetic-400-without-error-object"),
    ],
)
def test_graph_error_answers_are_read_like_instagrams(
    app: App, fake_server: FakeServer, answer: bytes, outcome: Outcome, words: str
) -> None:
    fake_server.route(OEMBED_PATH, Canned(400, JSON, answer))
    captured = capture(app)
    assert captured.outcome is outcome, captured.reason
    assert words in captured.reason


def test_synthetic_html_showing_another_post_is_ambiguous(app: App, fake_server: FakeServer) -> None:
    fake_server.route(OEMBED_PATH, synthetic_oembed("https://www.threads.com/@zuck/post/OTHERcode1"))
    captured = capture(app)
    assert captured.outcome is Outcome.AMBIGUOUS and "another post" in captured.reason


@pytest.mark.parametrize(("answer", "outcome", "words"), answer_faults(synthetic_oembed()))
def test_faults_are_classified(
    app: App, fake_server: FakeServer, answer: Canned, outcome: Outcome, words: str
) -> None:
    fake_server.route(OEMBED_PATH, answer)
    captured = capture(app)
    assert captured.outcome is outcome, captured.reason
    assert words.lower() in captured.reason.lower()


def test_hostile_html_never_crashes(app: App, fake_server: FakeServer) -> None:
    html = "<blockquote class='text-post-media' data-text-post-permalink='javascript:alert(1)'>" * 5_000
    fake_server.route(OEMBED_PATH, synthetic_oembed(html=html, author_name=["x"], thumbnail_url="data:x"))
    captured = capture(app)
    assert captured.outcome is Outcome.OK
    assert "author_name" not in captured.fields and captured.media == ()
