"""Memento (RFC 7089) over the Wayback layout: TimeMaps and raw copies of one archive.

    parse_link_format(text)          application/link-format -> [Link(uri, params)], commas and
                                     semicolons inside <...> and quotes respected, rel split in words
    Archive(settings, http).timemap(url)   every memento of `url`, following rel="next" pages
    Archive(settings, http).copy(memento)  the raw copy ({base}/{timestamp}id_/{url}): the bytes as
                                     captured, with the Memento-Datetime the archive states
    Archive(settings, http).raw_file(memento, url)   the raw copy of a file (an image) that page showed

Every request goes through the guarded `HttpClient` with the archive's own rate budget (key
`archive:NAME`). What goes wrong is a result: `wait` (429 and Retry-After, 5xx, timeouts, truncated
bodies, our own budget or backoff: try again on a later run, never a sleep here), `none` (the archive
holds nothing: 404 on a TimeMap), `ignored` (a copy that is not the article: an archive's error page,
a login wall, a consent page, not HTML).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

from archiver.config import ArchiveSettings, parse_rate
from archiver.http import FetchErrorKind, FetchResult, HttpClient

# A TimeMap of a busy page runs to thousands of lines; pages beyond this many are not followed.
MAX_TIMEMAP_PAGES = 10
MAX_TIMEMAP_BYTES = 8 * 1024 * 1024
# A title that says a copy is not the article but a wall or an error page: one of its parts (between the
# separators sites put around their name, "Login • Instagram", "Page Not Found | Site") is only these
# words. A headline that merely holds one ("The error that cost the title") stays an article.
_TITLE_PART_SAYS = re.compile(
    r"(?:\d{3}\s*)?(?:error|page not found|not found|file not found|log ?in|sign ?in|access denied"
    r"|forbidden|service unavailable|internal server error|something went wrong)(?:\s*\(?\d{3}\)?)?"
)
_TITLE_SEPARATORS = re.compile(r"\s+[|•·–—:\-]\s+|\s*[|•·]\s*|:\s+")
# Phrases no article writes, looked for anywhere in the first part of the body (lower case).
_BODY_SAYS = (
    "wayback machine doesn't have that page archived",
    "hrm. the wayback machine has not archived that url",
    "this url has been excluded from the wayback machine",
    "resource not archived",
    "pywb error",
    "log in to continue",
    "sign in to continue",
    "before you continue to",
    "consent.google.com",
    "consent.yahoo.com",
)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)

Result = Literal["ok", "wait", "none", "ignored"]


@dataclass(frozen=True, slots=True)
class Link:
    uri: str
    params: dict[str, str]

    @property
    def rels(self) -> tuple[str, ...]:
        return tuple(self.params.get("rel", "").lower().split())


@dataclass(frozen=True, slots=True)
class Memento:
    uri: str
    datetime: datetime

    @property
    def timestamp(self) -> str:
        return self.datetime.strftime("%Y%m%d%H%M%S")


@dataclass(frozen=True, slots=True)
class TimeMap:
    result: Result
    mementos: tuple[Memento, ...] = ()
    reason: str = ""
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Copy:
    """One raw copy of the article: its bytes, or why there are none to use."""

    result: Result
    memento: Memento
    raw_url: str
    data: bytes = b""
    content_type: str = ""
    # The Memento-Datetime the archive states for these bytes (may differ from the TimeMap's).
    datetime: datetime | None = None
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def parse_link_format(text: str) -> list[Link]:
    """Links of an `application/link-format` document (RFC 6690): `<uri>; name="value"; name=token, ...`."""
    links: list[Link] = []
    for entry in _entries(text):
        entry = entry.strip()
        if not entry.startswith("<") or ">" not in entry:
            continue
        close = entry.index(">")
        uri = entry[1:close].strip()
        params: dict[str, str] = {}
        for piece in _split_outside_quotes(entry[close + 1 :], ";"):
            name, sep, value = piece.strip().partition("=")
            if not sep or not name.strip():
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1].replace('\\"', '"')
            params.setdefault(name.strip().lower(), value)
        links.append(Link(uri, params))
    return links


def _entries(text: str) -> Iterator[str]:
    """The link entries: split on commas outside <...> and outside quotes."""
    start, quoted, angled = 0, False, False
    for at, char in enumerate(text):
        if char == '"' and not angled and (at == 0 or text[at - 1] != "\\"):
            quoted = not quoted
        elif char == "<" and not quoted:
            angled = True
        elif char == ">" and not quoted:
            angled = False
        elif char == "," and not quoted and not angled:
            yield text[start:at]
            start = at + 1
    yield text[start:]


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    pieces, start, quoted = [], 0, False
    for at, char in enumerate(text):
        if char == '"' and (at == 0 or text[at - 1] != "\\"):
            quoted = not quoted
        elif char == separator and not quoted:
            pieces.append(text[start:at])
            start = at + 1
    pieces.append(text[start:])
    return pieces


def http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Archive:
    """One `[[archives]]` entry, spoken to through the guarded client within its own rate budget."""

    def __init__(self, settings: ArchiveSettings, http: HttpClient) -> None:
        self.settings = settings
        self.http = http
        self.budget_key = f"archive:{settings.name}"
        http.budgets.set_limit(self.budget_key, *parse_rate(settings.rate))

    @property
    def name(self) -> str:
        return self.settings.name

    def timemap(self, url: str) -> TimeMap:
        """Every memento of `url`, oldest first, over all pages of the TimeMap."""
        mementos: dict[str, Memento] = {}
        page: str | None = f"{self.settings.base}/timemap/link/{url}"
        seen: set[str] = set()
        for _ in range(MAX_TIMEMAP_PAGES):
            if page is None or page in seen:
                break
            seen.add(page)
            fetched = self.http.get(
                page,
                max_bytes=MAX_TIMEMAP_BYTES,
                budget_key=self.budget_key,
                accept="application/link-format",
            )
            if fetched.status == 404 and fetched.error is None:
                return TimeMap("none", reason=f"{self.name} holds no copy of {url}")
            problem = _problem(fetched)
            if problem is not None:
                return TimeMap("wait", reason=f"{self.name} TimeMap: {problem}", retry_after=_retry(fetched))
            if "link-format" not in fetched.content_type and not fetched.text().lstrip().startswith("<"):
                return TimeMap(
                    "wait", reason=f"{self.name} TimeMap: not link-format ({fetched.content_type})"
                )
            page = None
            for link in parse_link_format(fetched.text()):
                if "memento" in link.rels:
                    when = http_date(link.params.get("datetime", ""))
                    if when is not None:
                        mementos.setdefault(link.uri, Memento(link.uri, when))
                elif "next" in link.rels:  # a further page of this TimeMap
                    page = link.uri
        ordered = tuple(sorted(mementos.values(), key=lambda m: m.datetime))
        return TimeMap("ok" if ordered else "none", ordered, "" if ordered else f"{self.name}: no mementos")

    def raw_url(self, memento: Memento, url: str) -> str:
        return f"{self.settings.base}/{memento.timestamp}id_/{url}"

    def copy(self, memento: Memento, url: str, max_bytes: int) -> Copy:
        """The raw copy the memento stands for, checked to be an HTML page that is not a wall."""
        raw = self.raw_url(memento, url)
        fetched = self.http.get(raw, max_bytes=max_bytes, budget_key=self.budget_key, accept="text/html")
        headers = dict(fetched.headers)
        problem = _problem(fetched)
        if problem is not None:
            return Copy("wait", memento, raw, reason=problem, headers=headers)
        stated = http_date(fetched.headers.get("memento-datetime", ""))
        if not fetched.ok:
            return Copy("ignored", memento, raw, reason=f"HTTP {fetched.status}", headers=headers)
        if fetched.content_type not in ("text/html", "application/xhtml+xml"):
            return Copy("ignored", memento, raw, reason=f"not HTML ({fetched.content_type or 'no type'})")
        if stated is None:
            return Copy("ignored", memento, raw, reason="no Memento-Datetime: not an archived copy")
        wall = wall_reason(fetched.body)
        if wall is not None:
            return Copy("ignored", memento, raw, reason=f"not the article ({wall})", headers=headers)
        return Copy(
            "ok", memento, raw, fetched.body, fetched.headers.get("content-type", ""), stated, headers=headers
        )

    def raw_file(self, memento: Memento, url: str, max_bytes: int) -> RawFile:
        """The raw copy of a file (an image) the page of `memento` showed, as the archive holds it nearest
        to the page's time; its type is the caller's to check (from the bytes)."""
        raw = self.raw_url(memento, url)
        fetched = self.http.get(raw, max_bytes=max_bytes, budget_key=self.budget_key, accept="image/*")
        problem = _problem(fetched)
        if problem is not None:
            return RawFile("wait", raw, reason=problem)
        if not fetched.ok:
            return RawFile("ignored", raw, reason=f"HTTP {fetched.status}")
        return RawFile("ok", raw, fetched.body, fetched.content_type)


@dataclass(frozen=True, slots=True)
class RawFile:
    """The archive's raw copy of a file a page showed (an image): its bytes, or why there are none."""

    result: Result
    raw_url: str
    data: bytes = b""
    content_type: str = ""
    reason: str = ""


def _problem(fetched: FetchResult) -> str | None:
    """Why an answer is to be tried again later, or None: 429/5xx, timeouts, truncation, our manners."""
    if fetched.error is not None:
        kind = fetched.error.kind
        if kind in (FetchErrorKind.BLOCKED, FetchErrorKind.INVALID_URL):
            return fetched.error.message  # a setting to fix; still nothing learned about the copy
        return fetched.error.message
    if fetched.status is not None and (fetched.status == 429 or fetched.status >= 500):
        after = fetched.headers.get("retry-after", "")
        return f"HTTP {fetched.status}" + (f" (Retry-After {after})" if after else "")
    return None


def _retry(fetched: FetchResult) -> float | None:
    value = fetched.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


def wall_reason(body: bytes) -> str | None:
    """What makes a 200 answer not the article: an archive's error page, a login wall, a consent page."""
    head = body[:20_000].decode("utf-8", errors="replace").lower()
    found = _TITLE.search(head)
    title = found.group(1) if found else ""
    for part in _TITLE_SEPARATORS.split(" ".join(html.unescape(title).split())):
        if _TITLE_PART_SAYS.fullmatch(part.strip(" .!")):
            return f"title says {part.strip(' .!')!r}"
    for words in _BODY_SAYS:
        if words in head:
            return words
    if 'type="password"' in head and head.count("<p") < 3:
        return "a login form"
    return None
