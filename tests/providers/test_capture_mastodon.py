"""Mastodon capture against a real loopback server playing an instance. No response of a Mastodon
instance was recorded, so every answer here is synthetic (test names say so), written from Mastodon's
documentation and code:

* `GET /api/v1/statuses/:id`: the Status entity (docs.joinmastodon.org/entities/Status: id, created_at,
  content HTML, account {username, acct, display_name, url}, media_attachments {type, url, preview_url},
  reblog) and the error entity `{"error": "Record not found"}` (docs.joinmastodon.org/entities/Error);
* `GET /api/oembed?url=`: the fields of `app/serializers/oembed_serializer.rb` (type rich, version,
  author_name, author_url, provider_name, provider_url, cache_age, html, width, height); non-public or
  unknown statuses answer 404 (`app/controllers/api/oembed_controller.rb`, reference/providers.md §8).

Every request goes to the post's own instance: here the loopback server is the instance, so the embed's
URL is `http://127.0.0.1:PORT/@alice/ID` and its id `127.0.0.1/ID`, as a scan would store them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from support.fake_server import Canned, FakeServer

from archiver.app import App
from archiver.clock import FixedClock
from archiver.providers import PROVIDERS
from archiver.providers.mastodon import Mastodon, instance_status
from archiver.records import Capture, EmbedRef, MarkupKind, Outcome
from tests.support.capture_world import (
    JPEG,
    PNG,
    START,
    add_and_capture,
    answer_faults,
    context_for,
    settings_for,
)

MASTODON = Mastodon()
STATUS = "110000000000000001"
STATUS_PATH = f"/api/v1/statuses/{STATUS}"
OEMBED_PATH = "/api/oembed"
JSON = {"Content-Type": "application/json; charset=utf-8"}
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(100)
CONTENT = (
    '<p>Hello <a href="https://mastodon.example/tags/fediverse" class="mention hashtag" rel="tag">'
    "#<span>fediverse</span></a> &amp; friends<br />second line</p><p>next paragraph</p>"
)


def post_url(server: FakeServer) -> str:
    return f"{server.url}/@alice/{STATUS}"


def post_id(server: FakeServer) -> str:
    return f"{urlsplit(server.url).hostname}/{STATUS}"


def synthetic_status(server: FakeServer, **changes: Any) -> dict[str, Any]:
    status: dict[str, Any] = {
        "id": STATUS,
        "created_at": "2023-03-27T09:12:45.123Z",
        "in_reply_to_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"{server.url}/users/alice/statuses/{STATUS}",
        "url": post_url(server),
        "content": CONTENT,
        "reblog": None,
        "account": {
            "id": "1",
            "username": "alice",
            "acct": "alice",
            "display_name": "Alice 🐘",
            "url": f"{server.url}/@alice",
        },
        "media_attachments": [
            {
                "id": "1",
                "type": "image",
                "url": f"{server.url}/system/a.jpg",
                "preview_url": f"{server.url}/system/a_small.jpg",
                "description": "a cat",
            },
            {
                "id": "2",
                "type": "video",
                "url": f"{server.url}/system/v.mp4",
                "preview_url": f"{server.url}/system/v.png",
            },
        ],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
    }
    status.update(changes)
    return status


def synthetic_oembed(server: FakeServer) -> dict[str, Any]:
    embed = f"{post_url(server)}/embed"
    return {
        "type": "rich",
        "version": "1.0",
        "author_name": "Alice 🐘",
        "author_url": f"{server.url}/@alice",
        "provider_name": "127.0.0.1",
        "provider_url": f"{server.url}/",
        "cache_age": 86400,
        "html": f'<blockquote class="mastodon-embed" data-embed-url="{embed}"><a href="{post_url(server)}">'
        "<div>Post by @alice@127.0.0.1</div><div>View on Mastodon</div></a></blockquote>",
        "width": 400,
        "height": None,
    }


def as_json(body: object, status: int = 200) -> Canned:
    return Canned(status, JSON, json.dumps(body, ensure_ascii=False).encode())


def serve(server: FakeServer, status: Canned, oembed: Canned) -> None:
    server.route(STATUS_PATH, status)
    server.route(OEMBED_PATH, oembed)
    server.route("/system/a.jpg", Canned(200, {"Content-Type": "image/jpeg"}, JPEG))
    server.route("/system/v.mp4", Canned(200, {"Content-Type": "video/mp4"}, MP4))
    server.route("/system/v.png", Canned(200, {"Content-Type": "image/png"}, PNG))


def serve_alive(server: FakeServer) -> None:
    serve(server, as_json(synthetic_status(server)), as_json(synthetic_oembed(server)))


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    application = App(settings_for(fake_server, tmp_path, "mastodon"), FixedClock(START), {})
    yield application
    application.close()


def capture(app: App, server: FakeServer, url: str | None = None, status_id: str | None = None) -> Capture:
    ref = EmbedRef("mastodon", status_id or post_id(server), url or post_url(server), MarkupKind.BLOCKQUOTE)
    return MASTODON.capture(ref, context_for(app, "mastodon"))


def test_mastodon_can_capture() -> None:
    assert MASTODON.can_capture()
    assert next(p for p in PROVIDERS if p.name == "mastodon").can_capture()


def test_synthetic_live_status_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    serve_alive(fake_server)
    embed = add_and_capture(
        app, "mastodon", post_id(fake_server), post_url(fake_server), handle="alice@127.0.0.1"
    )
    assert embed.last_outcome == "ok", embed.last_reason
    snap = embed.snapshots[0]
    assert snap.text == "Hello #fediverse & friends\nsecond line\nnext paragraph"
    assert (
        snap.text_html is not None and '<a href="https://mastodon.example/tags/fediverse"' in snap.text_html
    )
    assert "class=" not in snap.text_html
    assert (snap.author_name, snap.handle) == ("Alice 🐘", "alice@127.0.0.1")
    assert snap.author_url == f"{fake_server.url}/@alice"
    assert snap.published == "2023-03-27T09:12:45Z"
    assert set(snap.provenance.values()) == {"status_api"}
    kinds = {m.kind: m for m in snap.media}
    assert set(kinds) == {"image", "video", "thumbnail"}
    assert kinds["video"].media_file.mime == "video/mp4"  # type: ignore[union-attr]
    assert kinds["thumbnail"].media_file.mime == "image/png"  # type: ignore[union-attr]
    assert [r["rung"] for r in snap.raw] == ["status_api", "oembed"]
    oembed = next(r for r in fake_server.requests if r.path == OEMBED_PATH)
    assert oembed.query["url"] == [post_url(fake_server)]


def test_synthetic_remote_account_keeps_its_own_domain(app: App, fake_server: FakeServer) -> None:
    account = {
        "username": "bob",
        "acct": "bob@example.social",
        "display_name": "",
        "url": "https://example.social/@bob",
    }
    serve(fake_server, as_json(synthetic_status(fake_server, account=account)), Canned(404))
    captured = capture(app, fake_server)
    assert captured.outcome is Outcome.OK
    assert captured.fields["handle"].value == "bob@example.social"
    assert captured.fields["author_name"].value == "bob"  # no display name: the user name


def test_synthetic_boost_shows_the_boosted_status(app: App, fake_server: FakeServer) -> None:
    original = synthetic_status(fake_server, id="9", content="<p>the original</p>")
    serve(fake_server, as_json(synthetic_status(fake_server, content="", reblog=original)), Canned(404))
    captured = capture(app, fake_server)
    assert captured.outcome is Outcome.OK and captured.fields["text"].value == "the original"


def test_synthetic_oembed_fills_in_when_the_api_needs_a_login(app: App, fake_server: FakeServer) -> None:
    serve(
        fake_server,
        as_json({"error": "This method requires an authenticated user"}, 401),
        as_json(synthetic_oembed(fake_server)),
    )
    captured = capture(app, fake_server)
    assert captured.outcome is Outcome.OK
    assert (
        captured.fields["author_name"].value == "Alice 🐘" and captured.fields["author_name"].rung == "oembed"
    )
    assert "requires an authenticated user" in captured.reason


@pytest.mark.parametrize(
    ("status", "oembed", "outcome", "words"),
    [
        pytest.param(
            as_json({"error": "Record not found"}, 404),
            Canned(404, JSON, b'{"error":"Record not found"}'),
            Outcome.GONE,
            "Record not found",
            id="synthetic-deleted",
        ),
        # An instance in secure mode answers its API with 401 to anyone without a login
        # (mastodon/mastodon app/controllers/api/base_controller.rb@002d505: require_authenticated_user!
        # when authorized_fetch_mode?, body {"error": "This method requires an authenticated user"}),
        # which says nothing of the status. Its oEmbed skips that check and answers 404 only for a status
        # that does not exist or is not public (api/oembed_controller.rb@0486db9:
        # skip_before_action :require_authenticated_user!; not_found if @status.hidden?; RecordNotFound
        # is 404): an embed of it shows nothing to anyone, so the 404 decides.
        pytest.param(
            as_json({"error": "This method requires an authenticated user"}, 401),
            as_json({"error": "Record not found"}, 404),
            Outcome.GONE,
            "oembed gone: oEmbed: 127.0.0.1 answered 404 (not found): Record not found",
            id="synthetic-secure-mode-401-and-oembed-404",
        ),
        pytest.param(
            as_json({"error": "This method requires an authenticated user"}, 401),
            Canned(403),
            Outcome.AMBIGUOUS,
            "401",
            id="synthetic-login-required-and-oembed-403",
        ),
        pytest.param(Canned(410), Canned(503), Outcome.TRANSIENT, "410", id="synthetic-410-but-oembed-5xx"),
        pytest.param(
            as_json({"error": "Too many requests"}, 429),
            Canned(200),
            Outcome.TRANSIENT,
            "Too many requests",
            id="synthetic-429",
        ),
        pytest.param(
            as_json({"id": "1", "content": "<p>x</p>", "account": {"acct": "a"}}),
            Canned(404),
            Outcome.GONE,
            "for another status",
            id="synthetic-another-status",
        ),
        pytest.param(
            as_json({"id": STATUS, "content": 5, "account": []}),
            Canned(500),
            Outcome.TRANSIENT,
            "no content or account",
            id="synthetic-wrong-types",
        ),
    ],
)
def test_error_bodies_and_odd_answers(
    app: App, fake_server: FakeServer, status: Canned, oembed: Canned, outcome: Outcome, words: str
) -> None:
    serve(fake_server, status, oembed)
    captured = capture(app, fake_server)
    assert captured.outcome is outcome, captured.reason
    assert words in captured.reason and "\n" not in captured.reason


@pytest.mark.parametrize(
    ("answer", "outcome", "words"), answer_faults(Canned(200, JSON, b'{"type":"rich","html":"x"}'))
)
def test_faults_on_every_rung_are_classified(
    app: App, fake_server: FakeServer, answer: Canned, outcome: Outcome, words: str
) -> None:
    serve(fake_server, answer, answer)
    captured = capture(app, fake_server)
    assert captured.outcome is outcome, captured.reason
    assert words.lower() in captured.reason.lower()


@pytest.mark.parametrize(
    ("url", "status_id"),
    [
        ("https://mastodon.social/@alice/110000000000000001", "mastodon.social/110000000000000002"),
        ("https://mastodon.social/@alice/110000000000000001", "other.example/110000000000000001"),
        ("javascript://mastodon.social/@alice/110000000000000001", "mastodon.social/110000000000000001"),
        ("https://user@mastodon.social/@alice/110000000000000001", "mastodon.social/110000000000000001"),
        ("https://mastodon.social/@alice/110000000000000001/reblogs", "mastodon.social/110000000000000001"),
        ("https://mastodon.social/@alice", "mastodon.social/110000000000000001"),
    ],
)
def test_a_url_that_is_not_its_status_asks_nothing(
    app: App, fake_server: FakeServer, url: str, status_id: str
) -> None:
    captured = capture(app, fake_server, url, status_id)
    assert captured.outcome is Outcome.AMBIGUOUS and fake_server.requests == []


def test_the_instance_is_the_origin_of_the_post_url() -> None:
    ref = EmbedRef("mastodon", "fosstodon.org/1099", "https://fosstodon.org/@alice/1099", MarkupKind.IFRAME)
    status = instance_status(ref)
    assert status is not None and (status.origin, status.status_id) == ("https://fosstodon.org", "1099")
    remote = EmbedRef(
        "mastodon", "hachyderm.io/42", "https://hachyderm.io/@bob@example.social/42", MarkupKind.IFRAME
    )
    assert instance_status(remote) is not None


def test_private_addresses_are_refused_by_the_guard(fake_server: FakeServer, tmp_path: Path) -> None:
    """The instance comes from article markup: a post URL on a private address is never asked."""
    settings = settings_for(fake_server, tmp_path, "mastodon", http={"read_timeout": 1.0, "deadline": 2.0})
    guarded = App(settings, FixedClock(START), {})
    try:
        ref = EmbedRef(
            "mastodon", f"10.0.0.1/{STATUS}", f"https://10.0.0.1/@alice/{STATUS}", MarkupKind.IFRAME
        )
        captured = MASTODON.capture(ref, context_for(guarded, "mastodon"))
    finally:
        guarded.close()
    assert captured.outcome is Outcome.AMBIGUOUS and "blocked" in captured.reason


def test_hostile_status_is_neutralised(app: App, fake_server: FakeServer) -> None:
    status = synthetic_status(
        fake_server,
        content='<p onclick="x()"><script>steal()</script><a href="javascript:steal()">hi</a></p>'
        + "y" * 100_000,
        account={
            "acct": "evil handle",
            "display_name": ["x"],
            "username": "alice",
            "url": "javascript:alert(1)",
        },
        media_attachments=[
            {"type": "image", "url": "data:image/png;base64,AA"},
            "x",
            {"type": "video", "url": 5},
        ],
        created_at="tomorrow",
    )
    serve(fake_server, as_json(status), Canned(404))
    captured = capture(app, fake_server)
    assert captured.outcome is Outcome.OK
    html = captured.fields["text_html"].value
    assert "script" not in html and "javascript:" not in html and "onclick" not in html
    assert "steal" not in captured.fields["text"].value and len(captured.fields["text"].value) <= 20_000
    assert "handle" not in captured.fields and "author_url" not in captured.fields
    assert "published" not in captured.fields and captured.media == ()
