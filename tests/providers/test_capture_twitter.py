"""X / Twitter capture against a real loopback server playing the recorded answers of
shared/fixtures/providers/twitter: four publish.twitter.com oEmbed 200s (ruby-oembed 2020 and 2024, php-embed
2021), the publish.x.com redirect (php-embed 2024), the format=xml 400, and a saved syndication
tweet-result payload (reveddit's copy of react-tweet's getTweet answer: its "data" is what the API sends).

Syndication answers for tweets that were never recorded are synthetic: the recorded payload's shape with
that tweet's values (react-tweet `packages/react-tweet/src/api/types/tweet.ts` names `photos[].url` and
`video.poster`). Media URLs are pointed at the loopback server.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from support.fake_server import (
    FIXTURES,
    Canned,
    FakeServer,
    Recorded,
    canned_from_response_json,
    canned_from_vcr,
)

from archiver.app import App
from archiver.clock import FixedClock
from archiver.providers.twitter import Twitter
from archiver.providers.twitter_syndication import syndication_token
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

HERE = FIXTURES / "twitter"
OEMBED_PATH = "/oembed"
SYNDICATION_PATH = "/tweet-result"
TWITTER = Twitter()
RAILS = "702136612822634496"
RAILS_URL = f"https://x.com/RailsGirlsSoC/status/{RAILS}"
WYDEN = "1703436713362870723"
WYDEN_URL = f"https://x.com/rhaksw/status/{WYDEN}"
JSON = {"Content-Type": "application/json; charset=utf-8"}


def recorded_syndication() -> dict[str, Any]:
    """The recorded tweet-result payload (react-tweet wrapped it as {"data": ...})."""
    data = json.loads((HERE / "syndication-tweet-result-1703436713362870723.json").read_text("utf-8"))
    return dict(data["data"])


def syndication(body: dict[str, Any]) -> Canned:
    return Canned(200, JSON, json.dumps(body, ensure_ascii=False).encode())


def synthetic_rails_syndication(server: FakeServer) -> dict[str, Any]:
    """Synthetic: the recorded payload's shape with the RailsGirlsSoC tweet's values (created_at from its
    snowflake id), a photo and a video poster on the loopback server."""
    body = copy.deepcopy(recorded_syndication())
    text = (
        "Our 2016 fundraising campaign is now open!! Let’s make another amazing summer happen!✨💜💪💚✨👉 "
        "https://t.co/R8Jg36xaQx https://t.co/mIwKR0fzGR"
    )
    body.update(
        id_str=RAILS,
        text=text,
        created_at="2016-02-23T14:23:08.000Z",
        display_text_range=[0, len(text.encode("utf-16-le")) // 2 - len(" https://t.co/mIwKR0fzGR")],
        user={"id_str": "1", "name": "Rails Girls Summer of Code", "screen_name": "RailsGirlsSoC"},
        photos=[
            {
                "url": f"{server.url}/media/photo.jpg",
                "expandedUrl": "https://x.com/x",
                "width": 1,
                "height": 1,
            }
        ],
        video={"poster": f"{server.url}/media/poster.jpg", "variants": []},
    )
    body.pop("card")
    return body


def serve(server: FakeServer, oembed: Canned, tweet: Canned) -> None:
    server.route(OEMBED_PATH, oembed)
    server.route(SYNDICATION_PATH, tweet)
    server.route("/media/photo.jpg", Canned(200, {"Content-Type": "image/jpeg"}, JPEG))
    server.route("/media/poster.jpg", Canned(200, {"Content-Type": "image/png"}, PNG))


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    application = App(settings_for(fake_server, tmp_path, "twitter"), FixedClock(START), {})
    yield application
    application.close()


def capture(app: App, url: str = RAILS_URL, **found: str) -> Capture:
    post = TWITTER.parse_url(url)
    assert post is not None
    ref = EmbedRef("twitter", post.post_id, post.url, MarkupKind.BLOCKQUOTE, **found)  # type: ignore[arg-type]
    return TWITTER.capture(ref, context_for(app, "twitter"))


def test_live_tweet_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    serve(
        fake_server,
        canned_from_vcr(HERE / "oembed-publish-twitter-status-200.vcr.yml"),
        syndication(synthetic_rails_syndication(fake_server)),
    )
    embed = add_and_capture(app, "twitter", RAILS, RAILS_URL, author_name="RGSoC", caption="Our 2016 ...")
    assert embed.last_outcome == "ok", embed.last_reason
    snap = embed.snapshots[0]
    assert snap.author_name == "Rails Girls Summer of Code" and snap.handle == "RailsGirlsSoC"
    assert snap.author_url == "https://twitter.com/RailsGirlsSoC"
    assert snap.text.startswith("Our 2016 fundraising campaign is now open!!")
    assert snap.text.endswith("https://t.co/R8Jg36xaQx pic.twitter.com/mIwKR0fzGR")
    assert '<a href="https://t.co/R8Jg36xaQx"' in (snap.text_html or "")
    assert snap.published == "2016-02-23T14:23:08Z"
    assert snap.provenance == {
        "author_name": "syndication",
        "handle": "syndication",
        "author_url": "oembed",
        "text": "oembed",
        "text_html": "oembed",
        "published": "syndication",
    }
    kinds = {m.kind: m for m in snap.media}
    assert kinds["image"].media_file.mime == "image/jpeg"  # type: ignore[union-attr]
    assert kinds["thumbnail"].media_file.mime == "image/png"  # type: ignore[union-attr]
    assert [r["rung"] for r in snap.raw] == ["oembed", "syndication"]
    oembed = next(r for r in fake_server.requests if r.path == OEMBED_PATH)
    assert oembed.query["url"] == [RAILS_URL] and oembed.query["omit_script"] == ["1"]
    asked = next(r for r in fake_server.requests if r.path == SYNDICATION_PATH)
    assert asked.query == {"id": [RAILS], "token": [syndication_token(RAILS)], "lang": ["en"]}


def test_recorded_syndication_payload_when_oembed_is_down(app: App, fake_server: FakeServer) -> None:
    serve(fake_server, Canned(503), syndication(recorded_syndication()))
    captured = capture(app, WYDEN_URL)
    assert captured.outcome is Outcome.OK, captured.reason
    fields = {name: (f.value, f.rung) for name, f in captured.fields.items()}
    assert fields["author_name"] == ("Robert Hawkins", "syndication")
    assert fields["handle"] == ("rhaksw", "syndication")
    assert fields["author_url"] == ("https://x.com/rhaksw", "syndication")
    assert fields["published"] == ("2023-09-17T15:52:15Z", "syndication")
    text = fields["text"][0]
    assert text.startswith("Senator @RonWyden is doing an AMA") and text.endswith("1/2 🧵")
    assert "text_html" not in fields  # the API sends plain text: no HTML is made up
    assert captured.media == ()  # a link card is not the tweet's media
    assert "oembed transient" in captured.reason and "syndication ok" in captured.reason
    asked = next(r for r in fake_server.requests if r.path == SYNDICATION_PATH)
    assert asked.query["token"] == ["44ni5iyte19"]


@pytest.mark.parametrize(
    ("fixture", "handle", "published", "text_start"),
    [
        ("oembed-publish-twitter-status-200.vcr.yml", "RailsGirlsSoC", "2016-02-23", "Our 2016 fundraising"),
        ("oembed-publish-twitter-old-status-200.vcr.yml", "bpoweski", "2007-05-20", "working on my Ruby"),
        ("oembed-publish-xcom-url-200.vcr.yml", "RailsGirlsSoC", "2016-02-23", "Our 2016 fundraising"),
        ("oembed-publish-twitter-200-2021.response.json", "pepephone", "2014-02-20", "RT @PabloHerreros"),
    ],
)
def test_every_recorded_oembed_answer_gives_text_author_and_day(
    app: App, fake_server: FakeServer, fixture: str, handle: str, published: str, text_start: str
) -> None:
    oembed = (canned_from_vcr if fixture.endswith(".vcr.yml") else canned_from_response_json)(HERE / fixture)
    serve(fake_server, oembed, Canned(404, JSON, b"{}"))
    captured = capture(app)
    assert captured.outcome is Outcome.OK  # alive by oEmbed; the syndication 404 does not outweigh it
    fields = {name: (f.value, f.rung) for name, f in captured.fields.items()}
    assert fields["handle"] == (handle, "oembed") and fields["published"] == (published, "oembed")
    assert fields["text"][0].startswith(text_start) and fields["text_html"][1] == "oembed"
    assert fields["author_url"][0] == f"https://twitter.com/{handle}"
    assert "syndication gone" in captured.reason


def test_publish_x_com_redirect_is_followed_to_the_recorded_answer(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    """publish.x.com/oembed answers 301 to publish.twitter.com/oembed (php-embed record, 2024: its final
    answer; the 301 hop is played by a route that sends the same query on)."""

    def moved(request: Recorded) -> Canned:
        query = urlencode({name: values[0] for name, values in request.query.items()})
        return Canned(301, {"Location": f"{fake_server.url}/oembed?{query}"})

    fake_server.route("/x/oembed", moved)
    serve(
        fake_server,
        canned_from_response_json(HERE / "oembed-publish-x-com-redirect-200-2024.response.json"),
        Canned(404),
    )
    settings = settings_for(fake_server, tmp_path, "twitter", oembed_endpoint=f"{fake_server.url}/x/oembed")
    redirected = App(settings, FixedClock(START), {})
    try:
        post = TWITTER.parse_url("https://x.com/pepephone/status/436461658601713664")
        assert post is not None
        ref = EmbedRef("twitter", post.post_id, post.url, MarkupKind.BARE_URL)
        captured = TWITTER.capture(ref, context_for(redirected, "twitter"))
    finally:
        redirected.close()
    assert captured.outcome is Outcome.OK
    assert captured.fields["handle"].value == "pepephone"
    assert (
        captured.fields["text"].value
        == "RT @PabloHerreros Pepephone rompe la baraja - http://t.co/mFn7mcB1vy"
    )
    oembed = next(r for r in captured.responses if r.rung == "oembed")
    assert oembed.url.startswith(f"{fake_server.url}/oembed?")  # the final URL after the redirect
    assert [r.path for r in fake_server.requests][:2] == ["/x/oembed", "/oembed"]


def test_recorded_format_xml_400_is_ambiguous_with_x_words(app: App, fake_server: FakeServer) -> None:
    serve(fake_server, canned_from_vcr(HERE / "oembed-publish-format-xml-400.vcr.yml"), Canned(503))
    captured = capture(app)
    assert captured.outcome is Outcome.TRANSIENT  # the syndication 503 says: try again
    assert "oembed ambiguous" in captured.reason and "(#356) xml not implemented" in captured.reason


def test_tombstone_is_gone(app: App, fake_server: FakeServer) -> None:
    tombstone = {
        "__typename": "TweetTombstone",
        "tombstone": {"text": {"text": "This Post is from an account that no longer exists. Learn more"}},
    }
    serve(fake_server, Canned(404, JSON, b""), syndication(tombstone))
    captured = capture(app)
    assert captured.outcome is Outcome.GONE
    assert "tombstone" in captured.reason and "no longer exists" in captured.reason


@pytest.mark.parametrize(
    ("oembed", "tweet", "outcome", "words"),
    [
        pytest.param(
            Canned(
                403,
                JSON,
                b'{"errors":[{"message":"Your current API plan does not include access","code":467}]}',
            ),
            Canned(404),
            Outcome.TRANSIENT,
            "X platform outage (#467)",
            id="outage-467-never-a-verdict",
        ),
        pytest.param(
            Canned(403, JSON, b'{"error":"Sorry, you are not authorized to see this status."}'),
            Canned(403),
            Outcome.AMBIGUOUS,
            "not authorized",
            id="protected-403",
        ),
        pytest.param(
            Canned(400, JSON, b'{"errors":[{"message":"Sorry, that page does not exist","code":34}]}'),
            Canned(500),
            Outcome.TRANSIENT,
            "does not exist (#34)",
            id="code-34-gone-but-syndication-5xx",
        ),
        pytest.param(
            Canned(400, JSON, b'{"errors":[{"message":"Sorry, that page does not exist","code":34}]}'),
            Canned(404),
            Outcome.GONE,
            "does not exist (#34)",
            id="code-34-and-404",
        ),
        pytest.param(
            Canned(200, JSON, b'{"type":"rich","version":"1.0","html":"<p>no blockquote</p>"}'),
            Canned(404),
            Outcome.GONE,
            "holds no tweet blockquote",
            id="html-without-blockquote",
        ),
        pytest.param(
            Canned(404),
            syndication({"__typename": "Tweet", "id_str": "1", "text": "x", "user": {"screen_name": "a"}}),
            Outcome.GONE,
            "for another tweet",
            id="syndication-for-another-tweet",
        ),
        pytest.param(
            Canned(503),
            syndication({"id_str": RAILS, "text": 5, "user": "x"}),
            Outcome.TRANSIENT,
            "not a tweet",
            id="syndication-wrong-types",
        ),
        pytest.param(
            Canned(403), syndication({}), Outcome.AMBIGUOUS, "not a tweet", id="syndication-empty-object"
        ),
    ],
)
def test_x_error_bodies_and_odd_answers(
    app: App, fake_server: FakeServer, oembed: Canned, tweet: Canned, outcome: Outcome, words: str
) -> None:
    serve(fake_server, oembed, tweet)
    captured = capture(app)
    assert captured.outcome is outcome, captured.reason
    assert words in captured.reason and "\n" not in captured.reason


@pytest.mark.parametrize(
    ("answer", "outcome", "words"),
    answer_faults(canned_from_vcr(HERE / "oembed-publish-twitter-status-200.vcr.yml")),
)
def test_faults_on_every_rung_are_classified(
    app: App, fake_server: FakeServer, answer: Canned, outcome: Outcome, words: str
) -> None:
    serve(fake_server, answer, answer)
    captured = capture(app)
    assert captured.outcome is outcome, captured.reason
    assert words.lower() in captured.reason.lower()
    assert {r.rung for r in captured.responses} <= {"oembed", "syndication"}


def test_retry_after_is_kept_and_the_host_is_left_alone(app: App, fake_server: FakeServer) -> None:
    serve(fake_server, Canned(429, {"Retry-After": "900"}), syndication(recorded_syndication()))
    captured = capture(app, WYDEN_URL)
    assert captured.outcome is Outcome.TRANSIENT and captured.retry_after == 900
    assert [r.path for r in fake_server.requests] == [OEMBED_PATH]  # the same host: syndication waits too


def test_hostile_bodies_are_neutralised(app: App, fake_server: FakeServer) -> None:
    oembed = json.loads(canned_from_vcr(HERE / "oembed-publish-twitter-status-200.vcr.yml").body)
    oembed["html"] = oembed["html"].replace(
        "Our 2016", '<script>steal()</script><a href="javascript:steal()" onclick="x()">Our</a> 2016'
    )
    body = synthetic_rails_syndication(fake_server)
    body["photos"] = [{"url": "javascript:alert(1)"}, {"url": 7}, "nope"]
    body["video"] = {"poster": "data:image/png;base64,AAAA"}
    body["user"]["screen_name"] = "not a handle!"
    body["created_at"] = "yesterday"
    serve(fake_server, Canned(200, JSON, json.dumps(oembed).encode()), syndication(body))
    captured = capture(app)
    assert captured.outcome is Outcome.OK
    html = captured.fields["text_html"].value
    assert "script" not in html and "javascript:" not in html and "onclick" not in html
    assert "steal" not in captured.fields["text"].value
    assert captured.media == ()
    assert captured.fields["handle"].value == "RailsGirlsSoC"  # the oEmbed's; the odd one is dropped
    assert captured.fields["published"].value == "2016-02-23"


def test_huge_syndication_text_is_clipped(app: App, fake_server: FakeServer) -> None:
    body = recorded_syndication()
    body["text"] = "x" * 500_000
    body["display_text_range"] = [0, 500_000]
    serve(fake_server, Canned(404), syndication(body))
    captured = capture(app, WYDEN_URL)
    assert captured.outcome is Outcome.OK and len(captured.fields["text"].value) <= 20_000


@pytest.mark.parametrize(
    ("tweet_id", "token"),
    [
        # What `((Number(id) / 1e15) * Math.PI).toString(36).replace(/(0+|\.)/g, '')` gives in node 18+.
        ("1790637656616943991", "4c9gcitu1vq"),
        ("1703436713362870723", "44ni5iyte19"),
        ("702136612822634496", "1p9ts2zrvt9"),
        ("1256696015702425601", "31oyycgolv"),
        ("20", "6dq1a2xwd93"),
        ("1000000000000000", "353i5ab8p5f"),
    ],
)
def test_syndication_token_is_the_widgets(tweet_id: str, token: str) -> None:
    assert syndication_token(tweet_id) == token


def test_not_a_tweet_url_asks_nothing(app: App, fake_server: FakeServer) -> None:
    ref = EmbedRef("twitter", None, None, MarkupKind.RESIDUE, handle="someone")
    captured = TWITTER.capture(ref, context_for(app, "twitter"))
    assert captured.outcome is Outcome.AMBIGUOUS and fake_server.requests == []


def test_oembed_answer_is_recorded_raw(app: App, fake_server: FakeServer) -> None:
    canned = canned_from_vcr(HERE / "oembed-publish-twitter-status-200.vcr.yml")
    serve(fake_server, replace(canned, headers={**canned.headers, "ETag": '"abc"'}), Canned(404))
    captured = capture(app)
    oembed = next(r for r in captured.responses if r.rung == "oembed")
    assert oembed.status == 200 and oembed.headers.get("etag") == '"abc"'
    assert json.loads(oembed.body)["author_name"] == "Rails Girls Summer of Code"
