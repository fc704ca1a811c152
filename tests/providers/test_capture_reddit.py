"""Reddit capture against a real loopback server playing the two recorded oEmbed answers of
shared/fixtures/providers/reddit (php-embed cache: the 2021 `reddit-card` and the 2024 `reddit-embed-bq`
html for the same post).

The `.json` of a post was never recorded: those answers are synthetic (test names say so), written from
the shape Reddit documents for `GET /comments/{article}` (reddit.com/dev/api: "a listing of the link and
a listing of its comments", things `{"kind": "t3"|"t1", "data": {...}}`), with the fields Reddit's JSON
carries for them (title, selftext, selftext_html entity-escaped, author, created_utc, subreddit,
thumbnail, preview.images[].source.url with "&amp;", removed_by_category; body, body_html for comments).

A post taken down: Reddit's API documentation does not describe it. The synthetic answers follow what
public API clients model: the post stays in the listing with `removed_by_category` naming who took it
down ("moderator", "deleted" for its author, "reddit", "copyright_takedown", ...; null while it is
shown), `author` "[deleted]" when the account or post was deleted, and `selftext` (`body` for a
comment) replaced by "[removed]" or "[deleted]". Not verified against a live answer. Meanwhile Reddit's
oEmbed keeps answering 200 for such a post (the recorded 2024 answer stands in for it): the `.json`
alone decides, and the post is gone.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.fake_server import FIXTURES, Canned, FakeServer, canned_from_response_json

from archiver.app import App
from archiver.clock import FixedClock
from archiver.providers.reddit import Reddit
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

REDDIT = Reddit()
OEMBED_PATH = "/oembed"
POST = "7pfpeq"
POST_URL = (
    f"https://www.reddit.com/r/investing/comments/{POST}/buffett_on_cyrptocurrencies_i_can_say_almost_with/"
)
JSON_PATH = f"/comments/{POST}/.json"
COMMENT = "dsh2x9k"
TITLE = "Buffett on cyrptocurrencies: 'I can say almost with certainty that they will come to a bad ending'"
JSON = {"Content-Type": "application/json; charset=UTF-8"}
SELFTEXT = "What do you think?\n\n**Bold** & [a link](https://example.com/a?b=1&c=2)"
SELFTEXT_HTML = (
    '<!-- SC_OFF --><div class="md"><p>What do you think?</p>\n\n<p><strong>Bold</strong> &amp; '
    '<a href="https://example.com/a?b=1&amp;c=2">a link</a></p>\n</div><!-- SC_ON -->'
)


def recorded_oembed(year: int) -> Canned:
    name = "oembed-post-200-2021-reddit-card" if year == 2021 else "oembed-post-200-2024-reddit-embed-bq"
    return canned_from_response_json(FIXTURES / "reddit" / f"{name}.response.json")


def synthetic_post(server: FakeServer, **changes: Any) -> dict[str, Any]:
    post: dict[str, Any] = {
        "id": POST,
        "name": f"t3_{POST}",
        "subreddit": "investing",
        "title": TITLE.replace("&", "&amp;"),
        "selftext": SELFTEXT,
        "selftext_html": html.escape(SELFTEXT_HTML, quote=False),
        "author": "dennisrieves",
        "created_utc": 1515700800.0,
        "permalink": f"/r/investing/comments/{POST}/buffett_on_cyrptocurrencies_i_can_say_almost_with/",
        "url": POST_URL,
        "thumbnail": f"{server.url}/thumbs/t.jpg",
        "preview": {
            "images": [
                {
                    "source": {
                        "url": f"{server.url}/preview/p.jpg?width=640&amp;s=abc",
                        "width": 640,
                        "height": 480,
                    },
                    "resolutions": [],
                    "id": "x",
                }
            ],
            "enabled": True,
        },
        "removed_by_category": None,
        "is_self": True,
        "over_18": False,
    }
    post.update(changes)
    return post


def synthetic_comment(**changes: Any) -> dict[str, Any]:
    comment: dict[str, Any] = {
        "id": COMMENT,
        "name": f"t1_{COMMENT}",
        "parent_id": f"t3_{POST}",
        "author": "someone_else",
        "body": "He said the same about *gold*.",
        "body_html": html.escape(
            '<div class="md"><p>He said the same about <em>gold</em>.</p>\n</div>', quote=False
        ),
        "created_utc": 1515704400,
    }
    comment.update(changes)
    return comment


def listing(post: dict[str, Any], comments: list[dict[str, Any]] | None = None) -> Canned:
    """Synthetic: the pair Reddit answers for /comments/ID/.json."""
    body = [
        {"kind": "Listing", "data": {"after": None, "dist": 1, "children": [{"kind": "t3", "data": post}]}},
        {
            "kind": "Listing",
            "data": {"after": None, "children": [{"kind": "t1", "data": c} for c in comments or []]},
        },
    ]
    return Canned(200, JSON, json.dumps(body).encode())


def serve(server: FakeServer, oembed: Canned, post_json: Canned, path: str = JSON_PATH) -> None:
    server.route(OEMBED_PATH, oembed)
    server.route(path, post_json)
    server.route("/preview/p.jpg", Canned(200, {"Content-Type": "image/jpeg"}, JPEG))
    server.route("/thumbs/t.jpg", Canned(200, {"Content-Type": "image/png"}, PNG))


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    application = App(settings_for(fake_server, tmp_path, "reddit"), FixedClock(START), {})
    yield application
    application.close()


def capture(app: App, url: str = POST_URL) -> Capture:
    post = REDDIT.parse_url(url)
    assert post is not None
    ref = EmbedRef("reddit", post.post_id, post.url, MarkupKind.BLOCKQUOTE)
    return REDDIT.capture(ref, context_for(app, "reddit"))


def test_live_post_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    serve(fake_server, recorded_oembed(2024), listing(synthetic_post(fake_server)))
    embed = add_and_capture(app, "reddit", POST, POST_URL, caption=TITLE, handle="dennisrieves")
    assert embed.last_outcome == "ok", embed.last_reason
    snap = embed.snapshots[0]
    assert snap.title == TITLE
    assert (snap.author_name, snap.handle) == ("dennisrieves", "dennisrieves")
    assert snap.author_url == "https://www.reddit.com/user/dennisrieves/"
    assert snap.published == "2018-01-11T20:00:00Z"
    assert snap.text == "What do you think?\n\nBold & a link"
    assert snap.text_html is not None and '<a href="https://example.com/a?b=1&amp;c=2"' in snap.text_html
    assert "<!--" not in snap.text_html and "<strong>Bold</strong>" in snap.text_html
    assert set(snap.provenance.values()) == {"json"}
    kinds = {m.kind: m for m in snap.media}
    assert kinds["image"].original_url == f"{fake_server.url}/preview/p.jpg?width=640&s=abc"
    assert kinds["image"].media_file.mime == "image/jpeg"  # type: ignore[union-attr]
    assert kinds["thumbnail"].media_file.mime == "image/png"  # type: ignore[union-attr]
    assert [r["rung"] for r in snap.raw] == ["oembed", "json"]
    oembed = next(r for r in fake_server.requests if r.path == OEMBED_PATH)
    assert oembed.query["url"] == [POST_URL]


@pytest.mark.parametrize("year", [2021, 2024])
def test_recorded_oembed_answers_give_title_and_user(app: App, fake_server: FakeServer, year: int) -> None:
    serve(
        fake_server,
        recorded_oembed(year),
        Canned(403, {"Content-Type": "text/html"}, b"<html>blocked</html>"),
    )
    captured = capture(app)
    assert captured.outcome is Outcome.OK, captured.reason  # Reddit blocking .json says nothing of the post
    fields = {name: (f.value, f.rung) for name, f in captured.fields.items()}
    assert fields["title"] == (TITLE, "oembed")
    assert fields["author_name"] == ("dennisrieves", "oembed") and fields["handle"] == (
        "dennisrieves",
        "oembed",
    )
    assert fields["author_url"] == ("https://www.reddit.com/user/dennisrieves/", "oembed")
    assert "json ambiguous" in captured.reason and "403" in captured.reason


def test_synthetic_comment_embed_reads_the_comment(app: App, fake_server: FakeServer) -> None:
    comment_path = f"/comments/{POST}/_/{COMMENT}/.json"
    serve(
        fake_server,
        recorded_oembed(2024),
        listing(synthetic_post(fake_server), [synthetic_comment()]),
        comment_path,
    )
    captured = capture(app, f"https://www.reddit.com/r/investing/comments/{POST}/buffett/{COMMENT}/")
    assert captured.outcome is Outcome.OK, captured.reason
    assert captured.post_id == f"{POST}/{COMMENT}"
    fields = {name: (f.value, f.rung) for name, f in captured.fields.items()}
    assert fields["text"] == ("He said the same about gold.", "json")
    assert fields["handle"] == ("someone_else", "json") and fields["published"] == (
        "2018-01-11T21:00:00Z",
        "json",
    )
    assert fields["title"] == (TITLE, "json")
    assert captured.media == ()


@pytest.mark.parametrize(
    ("oembed", "post_json", "outcome", "words"),
    [
        pytest.param(
            Canned(404),
            "deleted",
            Outcome.GONE,
            "the post was deleted (author [deleted], text [deleted])",
            id="synthetic-deleted-by-author",
        ),
        pytest.param(
            "recorded",
            "removed",
            Outcome.GONE,
            "oembed ok: oEmbed answered; json gone: .json: the post was removed (moderator)",
            id="synthetic-removed-by-moderator-but-oembed-still-answers",
        ),
        pytest.param(
            "recorded",
            "removed-by-author",
            Outcome.GONE,
            "json gone: .json: the post was removed (deleted)",
            id="synthetic-deleted-by-author-but-oembed-still-answers",
        ),
        pytest.param(
            "recorded",
            "deleted",
            Outcome.GONE,
            "json gone: .json: the post was deleted (author [deleted], text [deleted])",
            id="synthetic-deleted-text-but-oembed-still-answers",
        ),
        pytest.param(
            Canned(404),
            "removed",
            Outcome.GONE,
            "was removed (moderator)",
            id="synthetic-removed-by-moderator",
        ),
        pytest.param(
            Canned(404), "link-by-deleted-account", Outcome.OK, "json ok", id="synthetic-deleted-account-link"
        ),
        pytest.param(
            Canned(403, JSON, b'{"reason": "private", "message": "Forbidden", "error": 403}'),
            "private",
            Outcome.AMBIGUOUS,
            "private Forbidden",
            id="synthetic-private-subreddit",
        ),
        pytest.param(
            Canned(404, JSON, b'{"reason": "banned", "message": "Not Found", "error": 404}'),
            "banned",
            Outcome.GONE,
            "banned Not Found",
            id="synthetic-banned-subreddit",
        ),
        pytest.param(
            Canned(503), "object", Outcome.TRANSIENT, "not a list", id="synthetic-object-not-listing"
        ),
        pytest.param(
            Canned(404), "other", Outcome.GONE, "does not hold the post", id="synthetic-another-post"
        ),
        pytest.param(
            Canned(200, JSON, b'{"type":"rich","html":"<p>no embed</p>"}'),
            Canned(429, {"Retry-After": "60"}),
            Outcome.TRANSIENT,
            "holds no Reddit embed",
            id="html-without-embed-and-429",
        ),
    ],
)
def test_removed_deleted_blocked_and_odd_answers(
    app: App,
    fake_server: FakeServer,
    oembed: Canned | str,
    post_json: Canned | str,
    outcome: Outcome,
    words: str,
) -> None:
    answers: dict[str, Canned] = {
        "deleted": listing(
            synthetic_post(fake_server, author="[deleted]", selftext="[deleted]", selftext_html=None)
        ),
        "removed": listing(
            synthetic_post(fake_server, selftext="[removed]", removed_by_category="moderator")
        ),
        "removed-by-author": listing(
            synthetic_post(
                fake_server,
                author="[deleted]",
                selftext="[deleted]",
                selftext_html=None,
                removed_by_category="deleted",
            )
        ),
        "link-by-deleted-account": listing(
            synthetic_post(fake_server, author="[deleted]", selftext="", selftext_html=None, is_self=False)
        ),
        "private": Canned(403, JSON, b'{"reason": "private", "message": "Forbidden", "error": 403}'),
        "banned": Canned(404, JSON, b'{"reason": "banned", "message": "Not Found", "error": 404}'),
        "object": Canned(200, JSON, b'{"kind": "Listing", "data": {"children": []}}'),
        "other": listing(synthetic_post(fake_server, id="zzzzzz")),
    }
    serve(
        fake_server,
        recorded_oembed(2024) if oembed == "recorded" else oembed,  # type: ignore[arg-type]
        answers[post_json] if isinstance(post_json, str) else post_json,
    )
    captured = capture(app)
    assert captured.outcome is outcome, captured.reason
    assert words in captured.reason and "\n" not in captured.reason


def test_synthetic_deleted_comment_is_gone(app: App, fake_server: FakeServer) -> None:
    comment_path = f"/comments/{POST}/_/{COMMENT}/.json"
    deleted = synthetic_comment(author="[deleted]", body="[removed]", body_html=None)
    serve(fake_server, Canned(404), listing(synthetic_post(fake_server), [deleted]), comment_path)
    captured = capture(app, f"https://www.reddit.com/r/investing/comments/{POST}/x/{COMMENT}/")
    assert captured.outcome is Outcome.GONE and "the comment was deleted" in captured.reason


@pytest.mark.parametrize(("answer", "outcome", "words"), answer_faults(recorded_oembed(2024)))
def test_faults_on_every_rung_are_classified(
    app: App, fake_server: FakeServer, answer: Canned, outcome: Outcome, words: str
) -> None:
    serve(fake_server, answer, answer)
    captured = capture(app)
    assert captured.outcome is outcome, captured.reason
    assert words.lower() in captured.reason.lower()


def test_hostile_listing_is_neutralised(app: App, fake_server: FakeServer) -> None:
    post = synthetic_post(
        fake_server,
        title=["not", "text"],
        selftext_html=html.escape(
            '<p onclick="x()"><script>steal()</script><a href="javascript:x()">hi</a></p>'
        ),
        author="not a user name!",
        created_utc="yesterday",
        thumbnail="self",
        preview={"images": [{"source": {"url": "javascript:alert(1)"}}]},
    )
    serve(fake_server, Canned(404), listing(post))
    captured = capture(app)
    assert captured.outcome is Outcome.OK
    html_kept = captured.fields["text_html"].value
    assert "script" not in html_kept and "javascript:" not in html_kept and "onclick" not in html_kept
    assert captured.fields["text"].value == "hi"
    assert not {"title", "author_name", "handle", "published"} & set(captured.fields)
    assert captured.media == ()
