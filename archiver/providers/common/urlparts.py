"""Reading the URLs providers are given: one tolerant splitter for every provider, query parameters, the
corpus form.

Provider `parse_url` methods see URLs from attributes (decoded by the parser), from raw page text (where
`&amp;` is still written), protocol-relative (`//host/...`), with or without a scheme, with whitespace
around, and sometimes huge or malformed. `split_url` reads all of them and never raises: a URL is read up
to the first whitespace after its host, and only its first `MAX_URL` characters are looked at.

`as_written` is the URL normalised the way the corpus labels write it (shared/corpus/README.md): scheme
https, host lower-cased, path as written, fragment dropped, and the query reduced to the parameters that
name the content (given per provider).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl

# Longer than any post URL a provider writes; anything beyond is not looked at.
MAX_URL = 4_096

_URL = re.compile(
    r"[\t\n\f\r ]*(?:(?:https?:)?//)?(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)\.?"
    r"(?::\d{1,5})?(?=[/?#\s]|$)(?P<path>/[^?#\s]*)?(?:\?(?P<query>[^#\s]*))?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class UrlParts:
    """A URL split for matching: host lower-cased (no port, no final dot), path and query as written
    (`&amp;` decoded), and the non-empty path segments."""

    host: str
    path: str
    query: str
    segments: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(segment for segment in self.path.split("/") if segment))

    def params(self) -> list[tuple[str, str]]:
        """The query parameters, percent-decoded, in order (blank values kept)."""
        return parse_qsl(self.query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        """The first value of query parameter `name`, percent-decoded and stripped, if any."""
        if name not in self.query and "%" not in self.query and "+" not in self.query:
            return None  # (a name written with escapes could still decode to `name`)
        for key, value in self.params():
            if key == name:
                return value.strip()
        return None


def split_url(url: str) -> UrlParts | None:
    """`url` split into host, path and query; None when it does not start with a host name.

    Accepts `https://`, `http://`, `//` and scheme-less `host/path` forms; any other scheme is refused.
    """
    if not isinstance(url, str):
        return None
    # Every provider asks about the same iframe URLs: the splits are remembered.
    return _split(url[:MAX_URL])


@lru_cache(maxsize=1_024)
def _split(url: str) -> UrlParts | None:
    match = _URL.match(url)
    if match is None:
        return None
    query = (match.group("query") or "").replace("&amp;", "&")
    return UrlParts(match.group("host").lower(), match.group("path") or "", query)


def on_host(host: str, domain: str) -> bool:
    """Whether `host` is `domain` or one of its subdomains."""
    return host == domain or host.endswith("." + domain)


def as_written(parts: UrlParts, keep: Iterable[str] = ()) -> str:
    """The URL the way the corpus labels write it: https, lower-case host, the path as written, and only
    the query parameters named in `keep` (in their order in the URL, as written)."""
    wanted = frozenset(keep)
    kept = [piece for piece in parts.query.split("&") if piece and piece.split("=", 1)[0] in wanted]
    query = "?" + "&".join(kept) if kept else ""
    return f"https://{parts.host}{parts.path}{query}"
