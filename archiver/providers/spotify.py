"""Spotify: tracks, albums, playlists, podcast episodes and shows, artists (reference/providers.md
section 11).

Detection: players `open.spotify.com/embed/TYPE/ID` (with `?utm_source=generator`, `?si=`, `/intl-xx/`),
`open.spotify.com/embed-podcast/TYPE/ID`, the legacy `embed.spotify.com/?uri=spotify:TYPE:ID`; item pages
`open.spotify.com/TYPE/ID` (also `play.spotify.com`, `/user/NAME/playlist/ID`) and `spotify:TYPE:ID`
URIs, in every generic form. The id is the bare base-62 id; the canonical URL keeps the type:
`https://open.spotify.com/TYPE/ID`.

Not embeds: follow buttons (`open.spotify.com/follow/1/?uri=...`), user pages, `spotify.link` short
links (they name no id until followed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar
from urllib.parse import unquote

from archiver.providers.common.base import PostUrl
from archiver.providers.common.players import PLAYER_TAGS, PlayerProvider
from archiver.providers.common.urlparts import UrlParts, on_host, split_url

CANONICAL = "https://open.spotify.com/{}/{}"
TYPES = frozenset({"track", "album", "playlist", "episode", "show", "artist"})
_ID = re.compile(r"[0-9A-Za-z]{22}")
_ID_PREFIX = re.compile(r"([0-9A-Za-z]{22})(?![0-9A-Za-z])")
_URI = re.compile(r"spotify:(?:user:[^:\s]{1,64}:)?(?P<type>[a-z]+):(?P<id>[0-9A-Za-z]{22})(?![0-9A-Za-z])")
_INTL = re.compile(r"intl-[a-z]{2}(?:-[a-z]{2,4})?", re.IGNORECASE)


class Spotify(PlayerProvider):
    name = "spotify"
    title = "Spotify"
    hosts = frozenset({"spotify.com"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"oembed_endpoint": "https://open.spotify.com/oembed"}
    )
    recognises = (
        "players open.spotify.com/embed/(track|album|playlist|episode|show|artist)/ID, /embed-podcast/,"
        " legacy embed.spotify.com/?uri=spotify:TYPE:ID (iframes, lazy or not, amp-iframe)",
        "item URLs open.spotify.com/TYPE/ID (also /intl-xx/, play.spotify.com) and spotify:TYPE:ID URIs",
        "not embeds: follow buttons, user pages, spotify.link short links",
    )
    examples = (
        "https://open.spotify.com/embed/album/5xPxMLvzGXqfOD5hZ0h3or",
        "https://open.spotify.com/embed/playlist/7ckS4o26uQWPUNGty6fSQu?locale=de",
        "https://open.spotify.com/embed/show/6YxsFKbM7cULU4sXU7hSxe?utm_source=generator",
        "https://open.spotify.com/embed-podcast/episode/512ojhOuo1ktJprKbVcKyQ",
        "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC?si=abc123",
        "https://open.spotify.com/intl-de/track/4uLU6hMCjMI75M1A2tKUQC",
        "https://open.spotify.com/user/spotify/playlist/37i9dQZF1DXcBWIGoYBM5M",
        "https://play.spotify.com/artist/0OdUWJ0sBjDrqHygGUXeCF",
        "https://embed.spotify.com/?uri=spotify:track:4uLU6hMCjMI75M1A2tKUQC",
        "spotify:episode:512ojhOuo1ktJprKbVcKyQ",
    )
    not_examples = (
        "https://open.spotify.com/follow/1/?uri=spotify:artist:0OdUWJ0sBjDrqHygGUXeCF&size=detail",
        "https://open.spotify.com/user/spotify",
        "https://spotify.link/AbCdEfGhIjK",
        "https://open.spotify.com/track/tooshort",
        "https://open.spotify.com/oembed?url=https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC",
        "https://www.spotify.com/de/premium/",
        "https://notspotify.com/track/4uLU6hMCjMI75M1A2tKUQC",
    )

    stem = "spotify"
    element_tags = PLAYER_TAGS
    names = ("spotify",)

    def read_url(self, url: str) -> tuple[PostUrl, bool] | None:
        return self._item(url)

    def _post(self, kind: str, item: str) -> PostUrl | None:
        return PostUrl(self.name, item, CANONICAL.format(kind, item)) if kind in TYPES else None

    def _item(self, url: str) -> tuple[PostUrl, bool] | None:
        """(the item, whether the URL is a player URL), or None."""
        stripped = url.strip()
        if stripped[:8].lower() == "spotify:":
            return self._uri(stripped, player=False)
        parts = split_url(stripped)
        if parts is None or not on_host(parts.host, "spotify.com"):
            return None
        if parts.host == "embed.spotify.com":
            return self._uri(parts.param("uri") or "", player=True)
        if parts.host not in ("open.spotify.com", "play.spotify.com"):
            return None
        return self._path(parts)

    def _uri(self, uri: str, player: bool) -> tuple[PostUrl, bool] | None:
        match = _URI.fullmatch(unquote(uri.strip()))
        post = self._post(match.group("type"), match.group("id")) if match else None
        return (post, player) if post else None

    def _path(self, parts: UrlParts) -> tuple[PostUrl, bool] | None:
        segments = list(parts.segments)
        if segments and _INTL.fullmatch(segments[0]):
            segments = segments[1:]
        player = bool(segments) and segments[0] in ("embed", "embed-podcast")
        if player:
            segments = segments[1:]
            if not segments and (uri := parts.param("uri")):  # the old open.spotify.com/embed?uri=spotify:...
                return self._uri(uri, player=True)
        if len(segments) >= 4 and segments[0] == "user" and segments[2] == "playlist":
            segments = segments[2:]
        if len(segments) < 2:
            return None
        match = _ID_PREFIX.match(segments[1])
        post = self._post(segments[0], match.group(1)) if match else None
        return (post, player) if post else None
