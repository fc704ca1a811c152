"""Where the providers are written in one page, found for all of them at once.

A provider host name matters where it starts a URL: after `//` (any scheme, or none), or after the JSON
escape `\\/\\/` in script data. Every use the scanner makes of a host place (a post URL read there, a
placeholder attribute, a bare URL, script data) needs that, so one regex pass finds them all: it looks for
`/` followed by `/` or `\\/`, skips up to a few subdomain labels and tries the host names of every
provider as one alternation grouped by first letter. The pattern starts with a literal, which sre scans
for without trying the rest of the pattern at other characters; an alternation at the start (or one
search per provider name or stem, as each provider's own `places` does) costs several times as much.
This pass is still about a quarter of a parse: it is the one whole-page regex the scan always runs.

Residue markers ("(@") are found with a search for their rarest character, which str.find does with
memchr.

The same pass finds the host names of embed services (`services`), which belong to no provider.

`PlaceIndex` is built once per provider tuple; `PlaceIndex.find(text)` is the per-page pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from archiver.providers.common.base import Provider, marker_offsets

# Subdomain labels skipped before a host name ("www.", "platform.", "de."): a host name past 64 chars
# from the URL's start is no post URL's anyway (`Provider.post_url_at` looks back 64 chars).
_LABELS = r"(?:[A-Za-z0-9-]{1,63}+\.){0,32}?"
MAX_SUBDOMAINS = 64
# "//", or "\/\/" matched from its first "/" (the "\" before it is not part of the URL's host).
_URL_START = r"/(?:/|\\/)"


def alternation(names: Iterable[str]) -> str:
    """The names as a regex alternation grouped by first letter (a branch per letter, longest first)."""
    groups: dict[str, list[str]] = {}
    for name in sorted(set(names), key=len, reverse=True):
        groups.setdefault(name[0], []).append(name[1:])
    branches = [
        re.escape(first) + "(?:" + "|".join(re.escape(rest) for rest in rests) + ")"
        for first, rests in sorted(groups.items())
    ]
    return "|".join(branches)


@dataclass(slots=True)
class PagePlaces:
    """What one pass found in one page."""

    # Provider name -> (host name, offset) where the host name is written in a URL, in source order.
    hosts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # Offset of a host name -> where its URL's host begins (just after "//"), or -1 when what precedes
    # is not a URL's start after all (a "/\/" that is not "\/\/", subdomains longer than 64 chars).
    begins: dict[int, int] = field(default_factory=dict)
    # Residue marker -> offsets where it is written, in order.
    markers: dict[str, list[int]] = field(default_factory=dict)
    # Where an embed service's host name (`services.SERVICE_HOSTS`) is written in a URL, in order.
    services: list[int] = field(default_factory=list)

    def of(self, provider: str) -> list[tuple[str, int]]:
        return self.hosts.get(provider, [])


class PlaceIndex:
    """The host names and residue markers of a set of providers, compiled for one pass per page."""

    def __init__(self, providers: Sequence[Provider], services: Sequence[str] = ()) -> None:
        owners: dict[str, list[str]] = {}
        for provider in providers:
            for host in sorted(provider.hosts):
                owners.setdefault(host, []).append(provider.name)
        self._services = frozenset(services)
        for host in services:
            owners.setdefault(host, [])
        self._owners = {host: tuple(names) for host, names in owners.items()}
        # Host names by their first three characters (what follows a match is checked with startswith).
        self._by_head: dict[str, tuple[str, ...]] = {}
        for host in sorted(owners, key=len, reverse=True):
            self._by_head[host[:3]] = (*self._by_head.get(host[:3], ()), host)
        self._url = (
            re.compile(_URL_START + _LABELS + "(?P<host>" + alternation(owners) + ")") if owners else None
        )
        self._markers = tuple(dict.fromkeys(m for p in providers for m in p.residue_markers if m))

    def find(self, text: str) -> PagePlaces:
        found = PagePlaces()
        if self._url is not None:
            hosts, begins = found.hosts, found.begins
            by_head, owners = self._by_head, self._owners
            for match in self._url.finditer(text):
                at = match.start("host")
                slash = match.start()
                if text[slash + 1] == "/":
                    begin = slash + 2
                else:  # "/\/": the URL starts only if a "\" comes first ("\/\/")
                    begin = slash + 3 if slash and text[slash - 1] == "\\" else -1
                begins[at] = begin if at - begin <= MAX_SUBDOMAINS else -1
                for host in by_head.get(text[at : at + 3], ()):
                    if text.startswith(host, at):
                        for name in owners[host]:
                            hosts.setdefault(name, []).append((host, at))
                        if host in self._services:
                            found.services.append(at)
        markers = found.markers
        for marker in self._markers:
            markers[marker] = marker_offsets(text, (marker,))
        return found
