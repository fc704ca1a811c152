"""Facebook capture against a real loopback server playing the recorded Graph oEmbed answers (ruby-oembed
cassettes, 2020: shared/fixtures/providers/facebook), with Graph errors and faults injected.

Since 2025-11 Meta sends only `html`; the "html only" answers below are the recorded ones with the removed
fields (author_name, author_url) dropped, so what is read out of the html is what a 2026 capture gets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from support.fake_server import FIXTURES, Canned, FakeServer, Recorded, canned_from_vcr

from archiver.app import App
from archiver.clock import FixedClock
from archiver.providers.facebook import Facebook, is_video_url
from archiver.records import Capture, EmbedRef, MarkupKind, Outcome
from tests.support.capture_world import (
    START,
    add_and_capture,
    add_embed,
    capture_once,
    context_for,
    embeds,
    settings_for,
)

POST_PATH = "/v26.0/oembed_post"
VIDEO_PATH = "/v26.0/oembed_video"
FACEBOOK = Facebook()

# Post URL (as the scanner stores it) -> the recorded answer for it, and the endpoint that must be asked.
RECORDED = {
    "https://www.facebook.com/rubyonrailstogo/posts/3610333842332884": ("oembed-post-200", POST_PATH),
    "https://www.facebook.com/notes/facebook-app/welcome-to-the-facebook-blog/2207517130/": (
        "oembed-post-notes-200",
        POST_PATH,
    ),
    "https://www.facebook.com/photo/?fbid=3348617585198325": ("oembed-post-photo-group-200", POST_PATH),
    "https://www.facebook.com/381763475170840/videos/474308113397163/": ("oembed-video-200", VIDEO_PATH),
    "https://www.facebook.com/osherove/videos/10157895173751223/": ("oembed-video-user-200", VIDEO_PATH),
}


def recorded(name: str) -> Canned:
    return canned_from_vcr(FIXTURES / "facebook" / f"{name}.vcr.yml")


def html_only(name: str) -> Canned:
    """A recorded answer as Meta sends it since 2025-11: the author and thumbnail fields removed."""
    canned = recorded(name)
    body = json.loads(canned.body)
    for key in ("author_name", "author_url", "thumbnail_url", "thumbnail_width", "thumbnail_height"):
        body.pop(key, None)
    return replace(canned, body=json.dumps(body).encode())


def by_post(request: Recorded) -> Canned:
    fixture, _ = RECORDED.get(request.query.get("url", [""])[0], ("", ""))
    return recorded(fixture) if fixture else Canned(404)


def serve_facebook(server: FakeServer) -> None:
    server.route(POST_PATH, by_post)
    server.route(VIDEO_PATH, by_post)


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    settings = settings_for(fake_server, tmp_path, "facebook", access_token_env="TEST_META_TOKEN")
    application = App(settings, FixedClock(START), {})
    yield application
    application.close()


def capture(app: App, url: str, env: dict[str, str] | None = None, **found: str) -> Capture:
    post = FACEBOOK.parse_url(url)
    assert post is not None
    ref = EmbedRef("facebook", post.post_id, post.url, MarkupKind.DIV, **found)  # type: ignore[arg-type]
    return FACEBOOK.capture(ref, context_for(app, "facebook", env))


def test_live_post_through_the_pipeline_with_provenance(app: App, fake_server: FakeServer) -> None:
    serve_facebook(fake_server)
    url = "https://www.facebook.com/rubyonrailstogo/posts/3610333842332884"
    embed = add_and_capture(app, "facebook", "3610333842332884", url, author_name="Rails (from markup)")
    assert embed.last_outcome == "ok"
    snap = embed.snapshots[0]
    assert (snap.author_name, snap.provenance["author_name"]) == ("Ruby on Rails", "oembed")
    assert snap.author_url == "https://www.facebook.com/1284562961576662"
    assert (snap.text, snap.text_html) == ("Nice Article", "<p>Nice Article</p>")
    assert snap.published == "2020-08-05" and snap.provenance["published"] == "oembed"
    assert [r["rung"] for r in snap.raw] == ["oembed"]
    asked = fake_server.requests[-1]
    assert asked.path == POST_PATH
    assert asked.query["url"] == [url] and asked.query["omitscript"] == ["true"]
    assert "access_token" not in asked.query  # tokenless unless the environment has one


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.facebook.com/rubyonrailstogo/posts/3610333842332884",
            {
                "author_name": "Ruby on Rails",
                "author_url": "https://www.facebook.com/1284562961576662",
                "published": "2020-08-05",
                "text": "Nice Article",
            },
        ),
        (
            "https://www.facebook.com/notes/facebook-app/welcome-to-the-facebook-blog/2207517130/",
            {
                "author_name": "Facebook App",
                "author_url": "https://www.facebook.com/20531316728",
                "published": "2006-08-22",
            },
        ),
        (
            # The 2020 answer named the group as author_name (and a relative author_url); the blockquote
            # names who posted the photo, and wins.
            "https://www.facebook.com/photo/?fbid=3348617585198325&set=gm.1675022489341591",
            {
                "author_name": "Rickson Turra",
                "author_url": "https://www.facebook.com/rickson.rick.9",
                "published": "2020-08-31",
                "text": "Why does the While stop at the gets.chomp inside the While knowing that the prompt "
                "result is still an empty string?",
            },
        ),
        (
            "https://www.facebook.com/381763475170840/videos/474308113397163/",
            {
                "author_name": "Expo 2020 Dubai",
                "author_url": "https://www.facebook.com/381763475170840",
                "published": "2019-07-06",
                "title": "Expo Live I Hello Ruby",
                "text": "🔊 Find out how Finnish #ExpoLive grantee Hello Ruby is transforming the way "
                "educators teach kids how to code. #Expo2020 #Dubai",
            },
        ),
        (
            # author_name was "Roy" in the JSON; the post says "Roy Osherove", and its link is "#".
            "https://www.facebook.com/osherove/videos/10157895173751223/",
            {
                "author_name": "Roy Osherove",
                "published": "2020-04-12",
                "title": "Intro to TDD in Ruby",
                "text": "Intro to TDD in Ruby",
            },
        ),
    ],
    ids=["post", "notes", "photo-group", "video-page", "video-user"],
)
def test_every_recorded_answer_is_read(
    app: App, fake_server: FakeServer, url: str, expected: dict[str, str]
) -> None:
    serve_facebook(fake_server)
    captured = capture(app, url)
    assert captured.outcome is Outcome.OK, captured.reason
    values = {name: field.value for name, field in captured.fields.items() if name != "text_html"}
    assert values == expected
    assert {field.rung for field in captured.fields.values()} == {"oembed"}
    post = FACEBOOK.parse_url(url)
    assert post is not None
    assert fake_server.requests[-1].path == RECORDED[post.url][1]  # post or video endpoint by URL kind
    assert captured.media == ()  # Graph never sent thumbnails for these


@pytest.mark.parametrize("name", ["oembed-post-200", "oembed-video-200", "oembed-post-photo-group-200"])
def test_html_only_answers_since_2025_give_the_same_post(
    app: App, fake_server: FakeServer, name: str
) -> None:
    url = next(u for u, (fixture, _) in RECORDED.items() if fixture == name)
    fake_server.route(POST_PATH, html_only(name))
    fake_server.route(VIDEO_PATH, html_only(name))
    legacy = FACEBOOK.read_oembed_html(json.loads(recorded(name).body)["html"])
    captured = capture(app, url)
    assert captured.outcome is Outcome.OK
    assert {k: f.value for k, f in captured.fields.items()} == legacy
    assert captured.fields["author_name"].rung == "oembed"


def test_markup_fields_stay_when_the_answer_has_none(app: App, fake_server: FakeServer) -> None:
    body = {"type": "rich", "version": "1.0", "html": '<div class="fb-post" data-href="x"></div>'}
    fake_server.route(POST_PATH, Canned(200, {"Content-Type": "application/json"}, json.dumps(body).encode()))
    captured = capture(
        app, "https://www.facebook.com/a/posts/123456789", author_name="Page Name", published="2024-05-01"
    )
    assert captured.outcome is Outcome.OK
    assert {k: (f.value, f.rung) for k, f in captured.fields.items()} == {
        "author_name": ("Page Name", "markup"),
        "published": ("2024-05-01", "markup"),
    }


def test_token_from_the_environment_is_sent_and_never_stored(app: App, fake_server: FakeServer) -> None:
    serve_facebook(fake_server)
    with_token = App(app.settings, FixedClock(START), {"TEST_META_TOKEN": "123|s3cret"})
    url = "https://www.facebook.com/osherove/videos/10157895173751223/"
    embed = add_and_capture(with_token, "facebook", "10157895173751223", url)
    assert fake_server.requests[-1].query["access_token"] == ["123|s3cret"]
    assert embed.last_outcome == "ok"
    assert "s3cret" not in json.dumps(embed.snapshots[0].raw)
    with_token.close()


@pytest.mark.parametrize(
    ("url", "video"),
    [
        ("https://www.facebook.com/watch/?v=474308113397163", True),
        ("https://www.facebook.com/video.php?v=10153231379946729", True),
        ("https://www.facebook.com/reel/1234567890123456", True),
        ("https://www.facebook.com/Expo2020Dubai/videos/expo-live-hello-ruby/474308113397163/", True),
        ("https://www.facebook.com/video/embed?video_id=10153231379946729", True),
        ("https://www.facebook.com/CHCoteBasque/photos/a.182970021827953/1920722881385983/", False),
        ("https://www.facebook.com/permalink.php?story_fbid=10158000000000000&id=100044264924472", False),
        ("https://www.facebook.com/groups/rordevelopers/permalink/1675022489341591/", False),
    ],
)
def test_videos_go_to_oembed_video_and_the_rest_to_oembed_post(
    app: App, fake_server: FakeServer, url: str, video: bool
) -> None:
    post = FACEBOOK.parse_url(url)
    assert post is not None and is_video_url(post.url) is video
    fake_server.route(POST_PATH, recorded("oembed-post-200"))
    fake_server.route(VIDEO_PATH, recorded("oembed-video-200"))
    assert capture(app, url).outcome is Outcome.OK
    assert fake_server.requests[-1].path == (VIDEO_PATH if video else POST_PATH)


def graph_error(code: int, message: str, **extra: object) -> Canned:
    error = {"message": message, "type": "OAuthException", "code": code, **extra}
    return Canned(400, {"Content-Type": "application/json"}, json.dumps({"error": error}).encode())


@pytest.mark.parametrize(
    ("answer", "outcome", "words"),
    [
        (
            graph_error(4, "(#4) Application request limit reached", is_transient=True),
            Outcome.TRANSIENT,
            "#4",
        ),
        (graph_error(17, "(#17) User request limit reached"), Outcome.TRANSIENT, "rate limit"),
        (graph_error(32, "(#32) Page request limit reached"), Outcome.TRANSIENT, "rate limit"),
        (graph_error(613, "Calls to this api have exceeded the rate limit."), Outcome.TRANSIENT, "#613"),
        (graph_error(190, "Invalid OAuth access token."), Outcome.PROVIDER_DOWN, "credentials"),
        (graph_error(102, "Session key invalid"), Outcome.PROVIDER_DOWN, "#102"),
        (graph_error(10, "(#10) Requires Meta oEmbed Read"), Outcome.PROVIDER_DOWN, "#10"),
        (graph_error(200, "(#200) Permissions error"), Outcome.PROVIDER_DOWN, "#200"),
        (graph_error(100, "(#100) Invalid parameter: url"), Outcome.GONE, "cannot embed"),
        (Canned(400, {}, b"Bad Request"), Outcome.AMBIGUOUS, "400"),
        (Canned(404), Outcome.GONE, "404"),
        (Canned(410), Outcome.GONE, "410"),
        (Canned(500), Outcome.TRANSIENT, "500"),
        (Canned(429, {"Retry-After": "120"}), Outcome.TRANSIENT, "429"),
        (Canned(reset=True), Outcome.TRANSIENT, "connection"),
        (replace(recorded("oembed-post-200"), truncate_to=120), Outcome.TRANSIENT, "truncated"),
        (Canned(401), Outcome.AMBIGUOUS, "401"),
        (Canned(403), Outcome.AMBIGUOUS, "403"),
        (
            Canned(200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html>Log in to Facebook</html>"),
            Outcome.AMBIGUOUS,
            "HTML page",
        ),
        (Canned(200, {}, b"Forbidden"), Outcome.AMBIGUOUS, "not valid JSON"),
        (
            Canned(200, {}, b'{"type":"rich","version":"1.0","provider_name":"Facebook"}'),
            Outcome.AMBIGUOUS,
            "no html",
        ),
        (
            Canned(200, {}, b'{"type":"rich","version":"1.0","html":"<p>Something else</p>"}'),
            Outcome.AMBIGUOUS,
            "shows no Facebook post",
        ),
        (Canned(200, {}, b'{"type":"rich","html":42}'), Outcome.AMBIGUOUS, "no html"),
        (Canned(200, {}, b"[" * 100_000 + b"]" * 100_000), Outcome.AMBIGUOUS, "JSON"),
    ],
    ids=[
        "graph-4",
        "graph-17",
        "graph-32",
        "graph-613",
        "graph-190",
        "graph-102",
        "graph-10",
        "graph-200",
        "graph-100",
        "400-not-graph",
        "404",
        "410",
        "500",
        "429-retry-after",
        "reset",
        "truncated-json",
        "401",
        "403",
        "login-wall-200",
        "forbidden-200",
        "json-without-html",
        "html-without-post",
        "html-wrong-type",
        "deeply-nested-json",
    ],
)
def test_answers_are_classified(
    app: App, fake_server: FakeServer, answer: Canned, outcome: Outcome, words: str
) -> None:
    fake_server.route(POST_PATH, answer)
    captured = capture(app, "https://www.facebook.com/rubyonrailstogo/posts/3610333842332884")
    assert captured.outcome is outcome
    assert words in captured.reason
    assert "\n" not in captured.reason
    assert not any(field.rung == "oembed" for field in captured.fields.values())
    if answer.status == 429:
        assert captured.retry_after == 120


def test_failures_are_checks_not_snapshots(app: App, fake_server: FakeServer) -> None:
    fake_server.route(POST_PATH, graph_error(100, "(#100) Invalid parameter"))
    add_embed(
        app, "facebook", "3610333842332884", "https://www.facebook.com/rubyonrailstogo/posts/3610333842332884"
    )
    report = capture_once(app, ["facebook"])
    assert [item.outcome for item in report.items] == [Outcome.GONE]
    embed = embeds(app)["3610333842332884"]
    assert embed.snapshots == [] and embed.checks[-1].outcome == "gone"
    assert embed.next_capture_at is not None and embed.next_capture_at > START


def test_hostile_answer_is_neutralised(app: App, fake_server: FakeServer) -> None:
    html = (
        '<div class="fb-post" data-href="https://www.facebook.com/a/posts/123456789">'
        '<blockquote class="fb-xfbml-parse-ignore"><p><script>alert(1)</script>'
        '<img src=x onerror="alert(2)">Hello <a href="javascript:alert(3)">there</a> '
        + "x"
        * 50_000
        + '</p>Posted by <a href="javascript:alert(4)">Mallory</a> on '
        '<a href="https://www.facebook.com/a/posts/123456789">Monday, May 6, 2024</a></blockquote></div>'
    )
    body = {
        "type": "rich",
        "version": "1.0",
        "html": html,
        "author_name": {"nested": ["object"]},
        "author_url": "javascript:alert(5)",
        "thumbnail_url": "data:image/png;base64,AAAA",
        "title": "t" * 100_000,
    }
    fake_server.route(POST_PATH, Canned(200, {}, json.dumps(body).encode()))
    captured = capture(app, "https://www.facebook.com/a/posts/123456789")
    assert captured.outcome is Outcome.OK
    fields = {k: f.value for k, f in captured.fields.items()}
    assert fields["author_name"] == "Mallory" and "author_url" not in fields
    assert fields["published"] == "2024-05-06"
    assert "alert" not in fields["text"] and "script" not in fields["text_html"]
    assert "onerror" not in fields["text_html"] and "javascript" not in fields["text_html"]
    assert len(fields["text"]) <= 20_000 and len(fields["title"]) <= 10_000
    assert captured.media == ()  # the data: thumbnail is dropped


def test_not_a_facebook_post_url_asks_nothing(app: App, fake_server: FakeServer) -> None:
    ref = EmbedRef("facebook", "x", "https://example.com/a/posts/1", MarkupKind.DIV)
    captured = FACEBOOK.capture(ref, context_for(app, "facebook"))
    assert captured.outcome is Outcome.AMBIGUOUS and fake_server.requests == []
