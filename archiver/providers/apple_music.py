"""Apple Music: albums, songs, playlists and music videos. No section in reference/providers.md, and
Apple documents no oEmbed endpoint; later capture reads the public iTunes lookup API and the item page
(`lookup_base`, `page_base`).

Detection: players `embed.music.apple.com/CC/(album|playlist|song|music-video)/[SLUG/]ID` (a song of an
album as `album/SLUG/ID?i=SONG`), and the same items on `music.apple.com`, `geo.music.apple.com` and the
old `itunes.apple.com/CC/album/SLUG/idID`, in every generic form. The id is the one in the path: the
album, song or music-video number, or the playlist's `pl.` id (as the corpus labels write Apple Music
ids); the canonical URL is on `music.apple.com` and keeps `?i=` (the song an album embed plays).

Not embeds: artists, stations, curators, and podcast links (Apple Podcasts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from archiver.providers.base import PostUrl
from archiver.providers.players import PLAYER_TAGS, PlayerProvider, UrlParts, on_host, split_url

KINDS = frozenset({"album", "playlist", "song", "music-video"})
_COUNTRY = re.compile(r"[a-z]{2}", re.IGNORECASE)
_NUMBER = re.compile(r"(?:id)?([0-9]{1,20})")
_PLAYLIST = re.compile(r"pl\.[A-Za-z0-9.-]{4,64}")
_SLUG = re.compile(r"[^/?#\s]{1,255}")


class AppleMusic(PlayerProvider):
    name = "apple_music"
    title = "Apple Music"
    hosts = frozenset({"music.apple.com", "itunes.apple.com"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"lookup_base": "https://itunes.apple.com", "page_base": "https://music.apple.com"}
    )
    recognises = (
        "players embed.music.apple.com/CC/(album|playlist|song|music-video)/SLUG/ID (album ?i=SONG kept)",
        "the same items on music.apple.com and itunes.apple.com in WordPress, CKEditor and bare-URL embeds",
        "not embeds: artists, stations, podcast links",
    )
    examples = (
        "https://embed.music.apple.com/us/album/ok-computer/1097861387?i=1097862231",
        "https://embed.music.apple.com/de/playlist/a-list-pop/pl.5ee8333dbe944d9f9151e97d92d1ead9",
        "https://music.apple.com/us/album/ok-computer/1097861387",
        "https://music.apple.com/us/song/paranoid-android/1097862231",
        "https://music.apple.com/gb/music-video/karma-police/1445732165",
        "https://music.apple.com/us/playlist/pl.u-76oNkmaCvPlGrE",
        "https://itunes.apple.com/us/album/ok-computer/id1097861387?i=1097862231&uo=4",
        "https://geo.music.apple.com/us/album/ok-computer/1097861387?app=music",
    )
    not_examples = (
        "https://music.apple.com/us/artist/radiohead/657515",
        "https://music.apple.com/us/station/radiohead-radio/ra.1097861387",
        "https://apps.apple.com/us/app/dkb-handball-bundesliga/id1027336748",
        "https://music.apple.com/us/browse",
        "https://notmusic.apple.com.example/us/album/x/1097861387",
    )

    stem = "apple.com"
    element_tags = PLAYER_TAGS
    names = ("apple music", "apple-music", "applemusic", "music.apple")

    def read_url(self, url: str) -> tuple[PostUrl, bool] | None:
        return self._item(url)

    def _item(self, url: str) -> tuple[PostUrl, bool] | None:
        """(the item, whether the URL is a player URL), or None."""
        parts = split_url(url)
        if parts is None:
            return None
        if on_host(parts.host, "music.apple.com"):
            player = parts.host == "embed.music.apple.com"
        elif parts.host == "itunes.apple.com":
            player = False
        else:
            return None
        post = self._path(parts)
        return (post, player) if post else None

    def _path(self, parts: UrlParts) -> PostUrl | None:
        segments = list(parts.segments)
        country = segments.pop(0).lower() if segments and _COUNTRY.fullmatch(segments[0]) else "us"
        if not segments or segments[0] not in KINDS or len(segments) not in (2, 3):
            return None
        kind, last = segments[0], segments[-1]
        slug = segments[1] if len(segments) == 3 else None
        if slug is not None and not _SLUG.fullmatch(slug):
            return None
        if kind == "playlist":
            item = last if _PLAYLIST.fullmatch(last) else None
        else:
            number = _NUMBER.fullmatch(last)
            item = str(int(number.group(1))) if number else None
        if item is None:
            return None
        song = parts.query.get("i", "")
        query = f"?i={int(song)}" if kind == "album" and song.isdigit() and len(song) <= 20 else ""
        path = "/".join(p for p in (country, kind, slug, item) if p)
        return PostUrl(self.name, item, f"https://music.apple.com/{path}{query}")
