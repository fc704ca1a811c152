"""Memento (RFC 7089) for the public archive: the words an archive and its clients exchange.

    URI-R  the original post (the embed's canonical URL, as the archiver stores it)
    URI-M  one archived version: BASE/embeds/PROVIDER/POST_ID/vN (a fallback card's archived-copy link)
    URI-G  BASE/timegate/URI-R: `Accept-Datetime` in, 302 to the nearest version out
    URI-T  BASE/timemap/link/URI-R: every version as application/link-format

Dates on the wire are RFC 1123 (`Sun, 01 Mar 2026 12:00:00 GMT`), parsed here without the C library's
locale. Nothing here reads the database or Flask: the routes in `archiver.web.public` hand versions in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import quote

LINK_FORMAT = "application/link-format"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RFC1123 = re.compile(
    r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (" + "|".join(_MONTHS) + r") (\d{4}) "
    r"(\d{2}):(\d{2}):(\d{2}) GMT$"
)
# Characters a URI may carry as they are; anything else (spaces, quotes, <, >, non-ASCII) is
# percent-encoded so a Link header or a link-format line stays one well-formed value.
_URI_SAFE = ":/?#[]@!$&'()*+,;=%~"


@dataclass(frozen=True, slots=True)
class Version:
    """One memento: its number, when it was captured, and its URI-M."""

    number: int
    captured_at: datetime
    uri: str


def http_date(moment: datetime) -> str:
    """`moment` as an RFC 1123 date in GMT, the only form Memento headers use."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def parse_accept_datetime(value: str) -> datetime | None:
    """The instant an `Accept-Datetime` header asks for; None when it is not an RFC 1123 date."""
    match = _RFC1123.match(value.strip())
    if match is None:
        return None
    day, month, year, hour, minute, second = match.groups()
    try:
        return datetime(
            int(year), _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError:  # 31 Feb, 25:00 and the like
        return None


def link_uri(uri: str) -> str:
    """`uri` fit to stand between < and > in a Link header or a TimeMap."""
    return quote(uri, safe=_URI_SAFE)


def nearest(versions: Sequence[Version], wanted: datetime) -> Version:
    """The version captured closest to `wanted`; of two equally close, the earlier one."""
    if not versions:
        raise ValueError("no versions to choose from")
    return min(versions, key=lambda v: (abs((v.captured_at - wanted).total_seconds()), v.captured_at))


def _memento_rel(index: int, count: int) -> str:
    words = []
    if index == 0:
        words.append("first")
    if index == count - 1:
        words.append("last")
    return " ".join([*words, "memento"])


def memento_links(original: str, timegate: str, timemap: str) -> str:
    """The `Link` header of a memento: where the original, the TimeGate and the TimeMap are."""
    return ", ".join(
        [
            f'<{link_uri(original)}>; rel="original"',
            f'<{link_uri(timegate)}>; rel="timegate"',
            f'<{link_uri(timemap)}>; rel="timemap"; type="{LINK_FORMAT}"',
        ]
    )


def timegate_links(original: str, timemap: str, chosen: Version) -> str:
    """The `Link` header of a TimeGate's redirect: the original, the TimeMap and the memento chosen."""
    return ", ".join(
        [
            f'<{link_uri(original)}>; rel="original"',
            f'<{link_uri(timemap)}>; rel="timemap"; type="{LINK_FORMAT}"',
            f'<{link_uri(chosen.uri)}>; rel="memento"; datetime="{http_date(chosen.captured_at)}"',
        ]
    )


def timemap(original: str, timegate: str, self_uri: str, versions: Sequence[Version]) -> str:
    """A TimeMap in link-format (RFC 6690): one link per line, lines separated by ",\\n"."""
    ordered = sorted(versions, key=lambda v: (v.captured_at, v.number))
    self_link = f'<{link_uri(self_uri)}>; rel="self"; type="{LINK_FORMAT}"'
    if ordered:
        first, last = http_date(ordered[0].captured_at), http_date(ordered[-1].captured_at)
        self_link += f'; from="{first}"; until="{last}"'
    lines = [
        f'<{link_uri(original)}>; rel="original"',
        self_link,
        f'<{link_uri(timegate)}>; rel="timegate"',
    ]
    lines += [
        f'<{link_uri(v.uri)}>; rel="{_memento_rel(i, len(ordered))}"; datetime="{http_date(v.captured_at)}"'
        for i, v in enumerate(ordered)
    ]
    return ",\n".join(lines) + "\n"
