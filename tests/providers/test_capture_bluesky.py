"""Bluesky capture against a real loopback server. No response of embed.bsky.app or of the AppView was
recorded, so every answer here is synthetic (test names say so):

* oEmbed: the fields reference/providers.md section 7 lists from bskyweb `cmd/embedr/handlers.go`
  (type rich, version, author_name "Display (@handle)", author_url, provider_name, cache_age, width, html),
  whose html is the one real Bluesky embed snippet recorded
  (shared/fixtures/providers/bluesky/article-blockquote-bluesky-embed-ja.html); its error bodies are the
  plain-text ones handlers.go writes ("post not found", "post is not publicly accessible");
* AppView: the atproto lexicons `app.bsky.feed.getPosts` (`{"posts": [postView]}`),
  `app.bsky.feed.defs#postView` (uri, cid, author, record, embed, indexedAt), `app.bsky.embed.images#view`
  and friends, `com.atproto.identity.resolveHandle` (`{"did"}`), and the XRPC error body
  (`{"error", "message"}`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.fake_server import FIXTURES, Canned, FakeServer

from archiver.app import App
from archiver.clock import FixedClock
from archiver.providers.bluesky import Bluesky
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

BLUESKY = Bluesky()
DID = "did:plc:tjf4apt65s75xiojhiqzvcan"
RKEY = "3kqmooj3ems2w"
POST_URL = f"https://bsky.app/profile/{DID}/post/{RKEY}"
HANDLE_URL = f"https://bsky.app/profile/attakei.dev/post/{RKEY}"
AT_URI = f"at://{DID}/app.bsky.feed.post/{RKEY}"
OEMBED_PATH = "/oembed"
POSTS_PATH = "/xrpc/app.bsky.feed.getPosts"
RESOLVE_PATH = "/xrpc/com.atproto.identity.resolveHandle"
JSON = {"Content-Type": "application/json; charset=utf-8"}
TEXT = {"Content-Type": "text/plain; charset=utf-8"}
POST_TEXT = (
    "今日の #sphinxjp 1個目。先月に来てたPRに昨日気づいたので、"
    "慌てず急いで確認してマージして、ついでに環境整備をした後にリリース。"
)


def synthetic_oembed(**changes: Any) -> dict[str, Any]:
    body = {
        "type": "rich",
        "version": "1.0",
        "author_name": "kAZUYA kAKEI (@attakei.dev)",
        "author_url": f"https://bsky.app/profile/{DID}",
        "provider_name": "Bluesky Social",
        "cache_age": 86400,
        "width": 550,
        "html": (FIXTURES / "bluesky" / "article-blockquote-bluesky-embed-ja.html").read_text("utf-8"),
    }
    body.update(changes)
    return body


def synthetic_post(server: FakeServer, **changes: Any) -> dict[str, Any]:
    """An app.bsky.feed.defs#postView with an images embed on the loopback server."""
    view: dict[str, Any] = {
        "uri": AT_URI,
        "cid": "bafyreicfbeae3zz7fjqwrdquqkwzvv7ixudbgr26ho37r4bbchigm6bkua",
        "author": {"did": DID, "handle": "attakei.dev", "displayName": "kAZUYA kAKEI", "labels": []},
        "record": {
            "$type": "app.bsky.feed.post",
            "text": POST_TEXT,
            "createdAt": "2024-04-21T06:09:31.123Z",
            "langs": ["ja"],
        },
        "embed": {
            "$type": "app.bsky.embed.images#view",
            "images": [
                {"thumb": f"{server.url}/img/thumb.jpg", "fullsize": f"{server.url}/img/full.jpg", "alt": ""}
            ],
        },
        "replyCount": 0,
        "repostCount": 0,
        "likeCount": 3,
        "indexedAt": "2024-04-21T06:09:32.000Z",
        "labels": [],
    }
    view.update(changes)
    return view


def as_json(body: object, status: int = 200) -> Canned:
    return Canned(status, JSON, json.dumps(body, ensure_ascii=False).encode())


def serve(server: FakeServer, oembed: Canned, posts: Canned, resolve: Canned | None = None) -> None:
    server.route(OEMBED_PATH, oembed)
    server.route(POSTS_PATH, posts)
    server.route(RESOLVE_PATH, resolve or as_json({"did": DID}))
    server.route("/img/full.jpg", Canned(200, {"Content-Type": "image/jpeg"}, JPEG))
    server.route("/img/thumb.jpg", Canned(200, {"Content-Type": "image/png"}, PNG))


def serve_alive(server: FakeServer) -> None:
    serve(server, as_json(synthetic_oembed()), as_json({"posts": [synthetic_post(server)]}))


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    application = App(settings_for(fake_server, tmp_path, "bluesky"), FixedClock(START), {})
    yield application
    application.close()


def capture(app: App, url: str = POST_URL) -> Capture:
    post = BLUESKY.parse_url(url)
    assert post is not None
    ref = EmbedRef("bluesky", post.post_id, post.url, MarkupKind.BLOCKQUOTE)
    return BLUESKY.capture(ref, context_for(app, "bluesky"))


def test_synthetic_live_post_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    serve_alive(fake_server)
    post = BLUESKY.parse_url(POST_URL)
    assert post is not None
    embed = add_and_capture(
        app, "bluesky", post.post_id, post.url, handle="attakei.dev", published="2024-04-21"
    )
    assert embed.last_outcome == "ok", embed.last_reason
    snap = embed.snapshots[0]
    assert (snap.author_name, snap.handle) == ("kAZUYA kAKEI", "attakei.dev")
    assert snap.author_url == "https://bsky.app/profile/attakei.dev"
    assert snap.published == "2024-04-21T06:09:31Z"
    assert snap.text.startswith(POST_TEXT) and "[image or embed]" not in snap.text
    assert "Sphinx拡張モード" in snap.text and "<p>" not in snap.text
    assert snap.text_html is not None and "[image or embed]" not in snap.text_html
    assert snap.provenance == {
        "author_name": "appview",
        "handle": "appview",
        "author_url": "appview",
        "published": "appview",
        "text": "oembed",
        "text_html": "oembed",
    }
    [image] = snap.media
    assert image.kind == "image" and image.media_file is not None and image.media_file.mime == "image/jpeg"
    assert [r["rung"] for r in snap.raw] == ["oembed", "appview"]
    oembed = next(r for r in fake_server.requests if r.path == OEMBED_PATH)
    assert oembed.query["url"] == [POST_URL]
    posts = next(r for r in fake_server.requests if r.path == POSTS_PATH)
    assert posts.query["uris"] == [AT_URI]
    assert not any(r.path == RESOLVE_PATH for r in fake_server.requests)  # a DID needs no resolving


def test_synthetic_handle_is_resolved_to_its_did_first(app: App, fake_server: FakeServer) -> None:
    serve_alive(fake_server)
    captured = capture(app, HANDLE_URL)
    assert captured.outcome is Outcome.OK, captured.reason
    resolve = next(r for r in fake_server.requests if r.path == RESOLVE_PATH)
    assert resolve.query["handle"] == ["attakei.dev"]
    posts = next(r for r in fake_server.requests if r.path == POSTS_PATH)
    assert posts.query["uris"] == [AT_URI]
    assert [r.rung for r in captured.responses] == ["resolve_handle", "oembed", "appview"]


def test_synthetic_appview_text_when_oembed_is_down(app: App, fake_server: FakeServer) -> None:
    serve(fake_server, Canned(502), as_json({"posts": [synthetic_post(fake_server)]}))
    captured = capture(app)
    assert captured.outcome is Outcome.OK
    assert captured.fields["text"].value == POST_TEXT and captured.fields["text"].rung == "appview"
    assert "text_html" not in captured.fields


@pytest.mark.parametrize(
    ("oembed", "posts", "resolve", "outcome", "words"),
    [
        pytest.param(
            Canned(404, TEXT, b"post not found"),
            as_json({"posts": []}),
            None,
            Outcome.GONE,
            "post not found",
            id="synthetic-deleted-empty-posts",
        ),
        pytest.param(
            Canned(503),
            as_json({"error": "NotFound", "message": f"Post not found: {AT_URI}"}, 400),
            None,
            Outcome.TRANSIENT,
            "appview gone: AppView getPosts: NotFound: Post not found",
            id="synthetic-xrpc-not-found-but-oembed-5xx",
        ),
        pytest.param(
            Canned(404, TEXT, b"post not found"),
            as_json({"error": "NotFound", "message": f"Post not found: {AT_URI}"}, 400),
            None,
            Outcome.GONE,
            "Post not found",
            id="synthetic-xrpc-not-found",
        ),
        pytest.param(
            Canned(403, TEXT, b"post is not publicly accessible"),
            Canned(401, JSON, b'{"error":"AuthMissing","message":"Authentication Required"}'),
            None,
            Outcome.AMBIGUOUS,
            "not publicly accessible",
            id="synthetic-not-public",
        ),
        pytest.param(
            Canned(501, TEXT, b"not implemented"),
            as_json({"posts": []}),
            None,
            Outcome.GONE,
            "oembed ambiguous",
            id="synthetic-501-is-no-server-fault",
        ),
        pytest.param(
            Canned(404, TEXT, b"post not found"),
            as_json({"posts": []}),
            as_json({"error": "InvalidRequest", "message": "Unable to resolve handle"}, 400),
            Outcome.GONE,
            "resolve_handle ambiguous: AppView resolveHandle: InvalidRequest: Unable to resolve handle",
            id="synthetic-handle-gone",
        ),
        pytest.param(
            as_json(synthetic_oembed()),
            as_json({"posts": []}),
            as_json({"did": "not a did"}),
            Outcome.OK,
            "names no DID",
            id="synthetic-resolve-without-did",
        ),
        pytest.param(
            Canned(500),
            as_json({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, 400),
            None,
            Outcome.TRANSIENT,
            "RateLimitExceeded",
            id="synthetic-xrpc-rate-limit",
        ),
        pytest.param(
            as_json(synthetic_oembed(html="<p>no blockquote</p>")),
            as_json({"posts": "x"}),
            None,
            Outcome.AMBIGUOUS,
            "has no posts",
            id="synthetic-odd-bodies",
        ),
        pytest.param(
            Canned(404, TEXT, b"post not found"),
            as_json({"posts": [{"uri": f"at://{DID}/app.bsky.feed.post/other", "record": {"text": "x"}}]}),
            None,
            Outcome.GONE,
            "for another post",
            id="synthetic-another-post",
        ),
        pytest.param(
            Canned(503),
            as_json({"posts": [{"uri": AT_URI, "record": {"text": 5}, "author": "me"}]}),
            None,
            Outcome.TRANSIENT,
            "no record text or author",
            id="synthetic-wrong-types",
        ),
    ],
)
def test_error_bodies_and_odd_answers(
    app: App,
    fake_server: FakeServer,
    oembed: Canned,
    posts: Canned,
    resolve: Canned | None,
    outcome: Outcome,
    words: str,
) -> None:
    serve(fake_server, oembed, posts, resolve)
    captured = capture(app, HANDLE_URL if resolve is not None else POST_URL)
    assert captured.outcome is outcome, captured.reason
    assert words in captured.reason and "\n" not in captured.reason


@pytest.mark.parametrize(("answer", "outcome", "words"), answer_faults(as_json(synthetic_oembed())))
def test_faults_on_every_rung_are_classified(
    app: App, fake_server: FakeServer, answer: Canned, outcome: Outcome, words: str
) -> None:
    serve(fake_server, answer, answer, answer)
    captured = capture(app, HANDLE_URL)
    assert captured.outcome is outcome, captured.reason
    assert words.lower() in captured.reason.lower()


@pytest.mark.parametrize(
    ("embed", "kinds"),
    [
        pytest.param(
            {
                "$type": "app.bsky.embed.video#view",
                "cid": "b",
                "playlist": "https://v/p.m3u8",
                "thumbnail": "THUMB",
            },
            ["thumbnail"],
            id="video",
        ),
        pytest.param(
            {
                "$type": "app.bsky.embed.external#view",
                "external": {"uri": "https://e", "title": "t", "thumb": "THUMB"},
            },
            ["thumbnail"],
            id="external",
        ),
        pytest.param(
            {
                "$type": "app.bsky.embed.recordWithMedia#view",
                "record": {"record": {}},
                "media": {
                    "$type": "app.bsky.embed.images#view",
                    "images": [{"fullsize": "FULL", "thumb": "THUMB"}],
                },
            },
            ["image"],
            id="record-with-media",
        ),
        pytest.param(
            {
                "$type": "app.bsky.embed.images#view",
                "images": [{"fullsize": "javascript:alert(1)"}, {"thumb": 3}, 7],
            },
            [],
            id="hostile-urls-dropped",
        ),
        pytest.param({"$type": "app.bsky.embed.record#view", "record": {}}, [], id="quote-post-no-media"),
    ],
)
def test_synthetic_embed_views_give_their_media(
    app: App, fake_server: FakeServer, embed: dict[str, Any], kinds: list[str]
) -> None:
    body = json.loads(
        json.dumps(embed)
        .replace("THUMB", f"{fake_server.url}/img/thumb.jpg")
        .replace("FULL", f"{fake_server.url}/img/full.jpg")
    )
    serve(fake_server, Canned(404), as_json({"posts": [synthetic_post(fake_server, embed=body)]}))
    captured = capture(app)
    assert captured.outcome is Outcome.OK
    assert [m.kind for m in captured.media] == kinds
    assert all(m.url.startswith(fake_server.url) and m.rung == "appview" for m in captured.media)


def test_hostile_text_is_neutralised(app: App, fake_server: FakeServer) -> None:
    html = synthetic_oembed()["html"].replace(
        "今日の", '<script>steal()</script><a href="javascript:steal()" onmouseover="x()">今日の</a>'
    )
    post = synthetic_post(fake_server, author={"handle": "evil handle!", "displayName": "x" * 50_000})
    serve(fake_server, as_json(synthetic_oembed(html=html, author_name=5)), as_json({"posts": [post]}))
    captured = capture(app)
    assert captured.outcome is Outcome.OK
    html_kept = captured.fields["text_html"].value
    assert "script" not in html_kept and "javascript:" not in html_kept and "onmouseover" not in html_kept
    assert "steal" not in captured.fields["text"].value
    assert captured.fields["handle"].value == "attakei.dev"  # from the blockquote; the odd one dropped
    assert len(captured.fields["author_name"].value) <= 10_000
