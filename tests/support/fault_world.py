"""A loopback X and YouTube for runs under faults: recorded answers, deletions at a set instant, seeded
faults, and providers that never answer well (only 429, only timeouts, only slow drips).

X (publish.twitter.com oEmbed and the syndication JSON) and YouTube (oEmbed) are two `FakeServer`s on
two loopback addresses (127.0.0.1 and 127.0.0.2), so each is its own host to the archiver, with its own
backoffs. A live post is answered with the recorded fixtures, its id written in; a deleted one with the
404s the providers send. Faults are decided per request by a hash of the seed, the rung, the post and
how many times that rung was asked about that post: the same run asks the same questions and gets the
same answers, whatever order the worker threads ask in.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from archiver.providers import names
from tests.support.fake_server import FIXTURES, Canned, FakeServer, Recorded

JSON = {"Content-Type": "application/json; charset=utf-8"}
X_OEMBED = "/oembed"
X_SYNDICATION = "/tweet-result"
YT_OEMBED = "/yt/oembed"
_RECORDED_TWEET = "702136612822634496"
_RECORDED_VIDEO = "pO5L6vXtxsI"
_VIDEO_ID = re.compile(r"(?:v=|youtu\.be/|embed/|vi/)([A-Za-z0-9_-]{11})")
_STATUS_ID = re.compile(r"/status(?:es)?/(\d+)")


def tweet_ids(n: int, start: int = 0) -> list[str]:
    return [str(1_600_000_000_000_000_000 + start + i) for i in range(n)]


def video_ids(n: int, start: int = 0) -> list[str]:
    """Valid-looking YouTube ids (11 characters, the last one of the 16 YouTube allows)."""
    return [f"vid{start + i:07d}A" for i in range(n)]


def article_html(tweets: list[str], videos: list[str], title: str = "An article") -> str:
    """An article with the official tweet blockquotes and YouTube iframes, the way CMSs write them."""
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"]
    parts.append(f"<h1>{title}</h1><p>What people said.</p>")
    for tweet in tweets:
        parts.append(
            '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Our 2016 fundraising campaign is '
            f"now open ({tweet})</p>&mdash; Rails Girls Summer of Code (@RailsGirlsSoC) "
            f'<a href="https://twitter.com/RailsGirlsSoC/status/{tweet}?ref_src=twsrc%5Etfw">'
            "February 23, 2016</a></blockquote>\n"
            '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>\n'
            "<p>More words between the embeds.</p>"
        )
    for video in videos:
        parts.append(
            f'<figure><iframe width="560" height="315" src="https://www.youtube.com/embed/{video}" '
            'title="YouTube video player" frameborder="0" allowfullscreen></iframe></figure><p>And more.</p>'
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def _recorded_oembed() -> dict[str, Any]:
    body = (FIXTURES / "twitter" / "oembed-publish-twitter-status-200.body.json").read_text("utf-8")
    return dict(json.loads(body))


def _recorded_syndication() -> dict[str, Any]:
    body = (FIXTURES / "twitter" / "syndication-tweet-result-1703436713362870723.json").read_text("utf-8")
    return dict(json.loads(body)["data"])  # react-tweet wrapped it as {"data": ...}


def _recorded_video() -> str:
    return (FIXTURES / "youtube" / "oembed-watch-200.body.json").read_text("utf-8")


@dataclass(frozen=True)
class Faults:
    """Shares of requests that fail: 500s, 429 with Retry-After 2, connection resets, truncated bodies."""

    seed: int
    server_error: float = 0.05
    rate_limited: float = 0.02
    reset: float = 0.01
    truncated: float = 0.01

    def pick(self, key: str) -> str | None:
        digest = hashlib.sha256(f"{self.seed}:{key}".encode()).digest()
        roll = int.from_bytes(digest[:8], "big") / 2**64
        for name, share in (
            ("500", self.server_error),
            ("429", self.rate_limited),
            ("reset", self.reset),
            ("truncated", self.truncated),
        ):
            if roll < share:
                return name
            roll -= share
        return None


# What a provider that never answers well does, by name (the `Providers.bad` setting).
BAD_ANSWERS: dict[str, Canned] = {
    "429": Canned(429, {"Retry-After": "2", **JSON}, b'{"errors": [{"message": "Rate limit exceeded"}]}'),
    "timeout": Canned(delay=60.0),  # never answers within any deadline
    "drip": Canned(
        200, JSON, b'{"version": "1.0", "type": "rich"}' + b" " * 2000, drip_seconds_per_byte=0.05
    ),
}


@dataclass
class Providers:
    """The two loopback providers and what they answer: `now` is their idea of the time (the test sets
    it with ARCHIVER_NOW), posts in `deleted` answer 404 from `deleted_at` on, `faults` decide the
    rest, and `bad` (a key of BAD_ANSWERS) overrides everything."""

    x: FakeServer
    youtube: FakeServer
    now: Callable[[], datetime]
    deleted: set[str] = field(default_factory=set)
    deleted_at: datetime | None = None
    faults: Faults | None = None
    bad: str | None = None
    asked: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def settings(self) -> dict[str, Any]:
        """The `[providers]` tables pointing X and YouTube here (no canaries: the breaker guards)."""
        return {
            "twitter": {
                "oembed_endpoint": f"{self.x.url}{X_OEMBED}",
                "syndication_base": self.x.url,
                "canaries": [],
            },
            "youtube": {"oembed_endpoint": f"{self.youtube.url}{YT_OEMBED}", "canaries": []},
        }

    def _answer(self, rung: str, post: str, live: Callable[[], Canned], gone: Canned) -> Canned:
        with self._lock:
            self.asked[f"{rung}:{post}"] += 1
            nth = self.asked[f"{rung}:{post}"]
        if self.bad is not None:
            return BAD_ANSWERS[self.bad]
        fault = self.faults.pick(f"{rung}:{post}:{nth}") if self.faults is not None else None
        if fault == "500":
            return Canned(500, JSON, b'{"errors": [{"message": "Internal error"}]}')
        if fault == "429":
            return Canned(429, {"Retry-After": "2", **JSON}, b'{"errors": [{"message": "Rate limit"}]}')
        if fault == "reset":
            return Canned(reset=True)
        answer = gone if self.is_deleted(post) else live()
        if fault == "truncated":
            return Canned(answer.status, answer.headers, answer.body, truncate_to=len(answer.body) // 2)
        return answer

    def is_deleted(self, post: str) -> bool:
        return post in self.deleted and self.deleted_at is not None and self.now() >= self.deleted_at

    def x_oembed(self, request: Recorded) -> Canned:
        found = _STATUS_ID.search(request.query.get("url", [""])[0])
        tweet = found.group(1) if found else ""

        def live() -> Canned:
            body = json.dumps(_recorded_oembed()).replace(_RECORDED_TWEET, tweet)
            return Canned(200, JSON, body.encode())

        gone = Canned(404, JSON, b'{"errors": [{"code": 34, "message": "Sorry, that page does not exist."}]}')
        return self._answer("x-oembed", tweet, live, gone)

    def x_syndication(self, request: Recorded) -> Canned:
        tweet = request.query.get("id", [""])[0]

        def live() -> Canned:
            data = _recorded_syndication()
            data["id_str"] = tweet
            return Canned(200, JSON, json.dumps(data, ensure_ascii=False).encode())

        return self._answer("x-syndication", tweet, live, Canned(404, JSON, b""))

    def youtube_oembed(self, request: Recorded) -> Canned:
        found = _VIDEO_ID.search(request.query.get("url", [""])[0])
        video = found.group(1) if found else ""

        def live() -> Canned:
            return Canned(200, JSON, _recorded_video().replace(_RECORDED_VIDEO, video).encode())

        gone = Canned(404, {"Content-Type": "text/html; charset=utf-8"}, b"Not Found")
        return self._answer("youtube-oembed", video, live, gone)


@contextmanager
def providers(now: Callable[[], datetime]) -> Iterator[Providers]:
    """X on 127.0.0.1 and YouTube on 127.0.0.2, answering well until told otherwise."""
    with ExitStack() as stack:
        x = stack.enter_context(FakeServer("127.0.0.1"))
        youtube = stack.enter_context(FakeServer("127.0.0.2"))
        world = Providers(x, youtube, now)
        x.route(X_OEMBED, world.x_oembed)
        x.route(X_SYNDICATION, world.x_syndication)
        youtube.route(YT_OEMBED, world.youtube_oembed)
        yield world


def write_config(
    path: Path, world: Providers, sources: tuple[dict[str, Any], ...] = (), **sections: dict[str, Any]
) -> Path:
    """An `archiver.toml` for a database and media folder beside `path`, loopback allowed, X and YouTube
    pointed at `world`, every other provider off; `sections` replace or add whole tables."""
    folder = path.parent
    tables: dict[str, dict[str, Any]] = {
        "database": {"url": f"sqlite:///{folder / 'archive.db'}"},
        "media": {"dir": str(folder / "media"), "download": False},
        "http": {"allow_networks": ["127.0.0.0/8"], "read_timeout": 0.5, "deadline": 1.0},
        **sections,
    }
    lines: list[str] = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    for source in sources:
        lines.append("[[sources]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in source.items()]
    for provider, table in world.settings().items():
        lines.append(f"[providers.{provider}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    for other in names():
        if other not in ("twitter", "youtube"):
            lines += [f"[providers.{other}]", "enabled = false"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
