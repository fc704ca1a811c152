"""Generic oEmbed discovery against a real loopback server: the post's page names its oEmbed URL, and that
URL is asked through the same guarded client.

The discovery page is a real saved WordPress article (shared/corpus/dev/pages/fouryears.eu-b12a552a.html,
from adbar/trafilatura) with its host pointed at the loopback server. Its oEmbed answer is SYNTHETIC: no
recorded WordPress oEmbed answer exists in shared/fixtures; it follows the keys WordPress core writes in
get_oembed_response_data() (wp-includes/embed.php: version, provider_name, provider_url, author_name,
author_url, title, type "rich", width, height, html, thumbnail_url when the post has one).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from support.fake_server import FIXTURES, Canned, FakeServer

from archiver.app import App
from archiver.clock import FixedClock
from archiver.providers import PLATFORMS
from archiver.providers.generic import Generic
from archiver.records import Capture, EmbedRef, MarkupKind, Outcome
from tests.support.capture_world import JPEG, START, add_and_capture, answer_faults, context_for, settings_for

PAGE = FIXTURES.parents[1] / "corpus" / "dev" / "pages" / "fouryears.eu-b12a552a.html"
ARTICLE_PATH = "/2019/10/21/interning-of-small-integers-in-python/"
OEMBED_PATH = "/wp-json/oembed/1.0/embed"
HTML = {"Content-Type": "text/html; charset=UTF-8"}
GENERIC = Generic(PLATFORMS)


def page(server: FakeServer) -> bytes:
    """The recorded page as the loopback server serves it (its own host replaced by the server's)."""
    return PAGE.read_bytes().replace(b"http://fouryears.eu", server.url.encode())


def synthetic_oembed(server: FakeServer, **changes: object) -> Canned:
    """A WordPress oEmbed answer for the page (see the module docstring)."""
    post = f"{server.url}{ARTICLE_PATH}"
    body: dict[str, object] = {
        "version": "1.0",
        "provider_name": "Four Years",
        "provider_url": server.url,
        "author_name": "Konstantin",
        "author_url": f"{server.url}/author/konstantin/",
        "title": "Interning of small integers in Python",
        "type": "rich",
        "width": 600,
        "height": 338,
        "html": f'<blockquote class="wp-embedded-content"><a href="{post}">Interning</a></blockquote>'
        f'<iframe sandbox="allow-scripts" security="restricted" src="{post}embed/"></iframe>',
        "thumbnail_url": f"{server.url}/media/thumb.jpg",
        "thumbnail_width": 600,
        "thumbnail_height": 338,
    }
    body.update(changes)
    return Canned(200, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(body).encode())


def serve_site(server: FakeServer) -> None:
    server.route(ARTICLE_PATH, Canned(200, HTML, page(server)))
    server.route(OEMBED_PATH, synthetic_oembed(server))
    server.route("/media/thumb.jpg", Canned(200, {"Content-Type": "image/jpeg"}, JPEG))


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    application = App(settings_for(fake_server, tmp_path, "generic"), FixedClock(START), {})
    yield application
    application.close()


def capture(app: App, url: str) -> Capture:
    return GENERIC.capture(
        EmbedRef("generic", url, url, MarkupKind.BLOCK_COMMENT), context_for(app, "generic")
    )


def test_recorded_page_discovers_its_oembed_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    serve_site(fake_server)
    url = f"{fake_server.url}{ARTICLE_PATH}"
    embed = add_and_capture(app, "generic", url, url)
    assert embed.last_outcome == "ok"
    snap = embed.snapshots[0]
    assert snap.title == "Interning of small integers in Python"
    assert (snap.author_name, snap.author_url) == ("Konstantin", f"{fake_server.url}/author/konstantin/")
    assert set(snap.provenance.values()) == {"oembed"}
    assert [r["rung"] for r in snap.raw] == ["page", "oembed"]
    [thumbnail] = snap.media
    assert thumbnail.kind == "thumbnail" and thumbnail.media_file is not None
    asked_page, asked_oembed = (r for r in fake_server.requests if r.path in (ARTICLE_PATH, OEMBED_PATH))
    assert asked_page.path == ARTICLE_PATH and "text/html" in asked_page.headers["accept"]
    # The href as the page wrote it: WordPress names the post (its original URL) and leaves format out.
    assert asked_oembed.query["url"] == [
        "http://fouryears.eu/2019/10/21/interning-of-small-integers-in-python/"
    ]
    assert "page ok" in embed.last_reason and "oembed ok" in embed.last_reason


def test_link_header_discovery(app: App, fake_server: FakeServer) -> None:
    href = f"{fake_server.url}{OEMBED_PATH}?url={quote('https://example.org/v/1', safe='')}&format=json"
    links = (
        f'<{fake_server.url}/feed/>; rel="alternate"; type="application/rss+xml", '
        f'<{href}>; rel=alternate; type="application/json+oembed"'
    )
    fake_server.route("/v/1", Canned(200, {"Content-Type": "text/html", "Link": links}, b"<html></html>"))
    fake_server.route(OEMBED_PATH, synthetic_oembed(fake_server))
    captured = capture(app, f"{fake_server.url}/v/1")
    assert captured.outcome is Outcome.OK and captured.fields["title"].rung == "oembed"
    assert fake_server.requests[-1].query["format"] == ["json"]


def test_relative_discovery_link_follows_the_redirected_page(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/old", Canned(301, {"Location": "/new/post"}))
    fake_server.route(
        "/new/post",
        Canned(
            200, HTML, b'<head><LINK REL="Alternate" TYPE="text/json+oembed" href="oembed.json?x=1"></head>'
        ),
    )
    fake_server.route("/new/oembed.json", synthetic_oembed(fake_server))
    captured = capture(app, f"{fake_server.url}/old")
    assert captured.outcome is Outcome.OK
    assert fake_server.requests[-1].path == "/new/oembed.json"


@pytest.mark.parametrize(
    ("head", "words"),
    [
        ("<title>An ordinary page</title>", "no oEmbed discovery link"),
        ('<link rel="alternate" type="application/rss+xml" href="/feed/">', "no oEmbed discovery link"),
        ('<link rel="alternate" type="text/xml+oembed" href="/oembed?format=xml">', "only an XML oEmbed"),
        ('<link rel="stylesheet" type="application/json+oembed" href="/oembed">', "no oEmbed discovery link"),
        (
            '<link rel="alternate" type="application/json+oembed" href="javascript:alert(1)">',
            "not an http(s)",
        ),
        ('<link rel="alternate" type="application/json+oembed" href="file:///etc/passwd">', "not an http(s)"),
        (
            '<link rel="alternate" type="application/json+oembed" href="data:application/json,{}">',
            "not an http",
        ),
    ],
    ids=["none", "rss-only", "xml-only", "not-alternate", "javascript", "file", "data"],
)
def test_pages_without_a_usable_discovery_link_are_ambiguous(
    app: App, fake_server: FakeServer, head: str, words: str
) -> None:
    fake_server.route("/post", Canned(200, HTML, f"<html><head>{head}</head><body>x</body></html>".encode()))
    fake_server.route(OEMBED_PATH, synthetic_oembed(fake_server))
    captured = capture(app, f"{fake_server.url}/post")
    assert captured.outcome is Outcome.AMBIGUOUS and words in captured.reason
    assert [r.path for r in fake_server.requests] == ["/post"]  # nothing else was asked
    assert [r.rung for r in captured.responses] == ["page"] and captured.fields == {}


@pytest.mark.parametrize("target", ["http://10.0.0.1/oembed", "http://169.254.169.254/latest/meta-data/"])
def test_discovery_link_to_a_private_address_is_refused_by_the_guard(
    app: App, fake_server: FakeServer, target: str
) -> None:
    link = f'<link rel="alternate" type="application/json+oembed" href="{target}">'
    fake_server.route("/post", Canned(200, HTML, link.encode()))
    captured = capture(app, f"{fake_server.url}/post")
    assert captured.outcome is Outcome.AMBIGUOUS and "blocked" in captured.reason


@pytest.mark.parametrize(
    ("answer", "outcome", "words"),
    [
        (Canned(404), Outcome.GONE, "page: "),
        (Canned(410), Outcome.GONE, "410"),
        (Canned(500), Outcome.TRANSIENT, "500"),
        (Canned(429, {"Retry-After": "60"}), Outcome.TRANSIENT, "429"),
        (Canned(reset=True), Outcome.TRANSIENT, "connection"),
        (Canned(403), Outcome.AMBIGUOUS, "403"),
        (Canned(200, HTML, b"x", declared_length=200 * 1024 * 1024), Outcome.AMBIGUOUS, "too large"),
    ],
    ids=["404", "410", "500", "429", "reset", "403", "huge"],
)
def test_the_page_itself_failing_is_classified(
    app: App, fake_server: FakeServer, answer: Canned, outcome: Outcome, words: str
) -> None:
    fake_server.route("/post", answer)
    captured = capture(app, f"{fake_server.url}/post")
    assert captured.outcome is outcome and words in captured.reason
    assert not any(r.path == OEMBED_PATH for r in fake_server.requests)


@pytest.mark.parametrize(("answer", "outcome", "words"), answer_faults(Canned(200, {}, b"x" * 300)))
def test_the_discovered_oembed_answer_is_classified(
    app: App, fake_server: FakeServer, answer: Canned, outcome: Outcome, words: str
) -> None:
    serve_site(fake_server)
    fake_server.route(OEMBED_PATH, answer)
    captured = capture(app, f"{fake_server.url}{ARTICLE_PATH}")
    # The page answered, but it is only the way to the oEmbed: the oEmbed decides.
    assert captured.outcome is outcome and words in captured.reason
    assert [r.rung for r in captured.responses] == ["page", "oembed"] and captured.fields == {}


def test_hostile_page_and_answer_never_crash(app: App, fake_server: FakeServer) -> None:
    nested = b"<div>" * 50_000
    link = b'<link rel="alternate" type="application/json+oembed" href="/oembed?u=' + b"a" * 5_000 + b'">'
    fake_server.route("/post", Canned(200, HTML, nested + link))
    fake_server.route(
        "/oembed",
        synthetic_oembed(fake_server, title=["x"], author_name="n" * 100_000, thumbnail_url="javascript:x"),
    )
    captured = capture(app, f"{fake_server.url}/post")
    assert captured.outcome is Outcome.OK
    assert set(captured.fields) == {"author_name", "author_url"}
    assert len(captured.fields["author_name"].value) <= 10_000 and captured.media == ()


def test_a_url_that_is_not_http_asks_nothing(app: App, fake_server: FakeServer) -> None:
    captured = capture(app, "ftp://example.org/file")
    assert captured.outcome is Outcome.AMBIGUOUS and fake_server.requests == []
