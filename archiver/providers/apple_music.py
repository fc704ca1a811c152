"""Apple Music: albums, songs, playlists and music videos. No section in reference/providers.md, and
Apple documents no oEmbed endpoint; capture reads the public iTunes lookup API (`lookup_base`; see the
capture section at the end). `page_base` is declared for the item pages but not read.

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

from archiver.providers.common.base import PostUrl
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.itunes import (
    ApplePlayerProvider,
    artwork,
    lookup_results,
    not_in_storefront,
    same_id,
    storefront,
)
from archiver.providers.common.ladder import (
    RungResult,
    assemble,
    iso_utc,
    markup_fields,
    no_url,
    text_field,
    url_field,
)
from archiver.providers.common.urlparts import UrlParts
from archiver.records import Capture, EmbedRef, Field, MediaRef, Outcome

KINDS = frozenset({"album", "playlist", "song", "music-video"})
_NUMBER = re.compile(r"(?:id)?([0-9]{1,20})")
_PLAYLIST = re.compile(r"pl\.[A-Za-z0-9.-]{4,64}")
_SLUG = re.compile(r"[^/?#\s]{1,255}")


class AppleMusic(ApplePlayerProvider):
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

    site = "music.apple.com"
    names = ("apple music", "apple-music", "applemusic", "music.apple")

    def item(self, country: str, segments: list[str], parts: UrlParts) -> PostUrl | None:
        """The album (with the song it plays, `?i=`), song, music video or playlist."""
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
        song = parts.param("i") or ""
        query = f"?i={int(song)}" if kind == "album" and song.isdigit() and len(song) <= 20 else ""
        path = "/".join(p for p in (country, kind, slug, item) if p)
        return PostUrl(self.name, item, f"https://music.apple.com/{path}{query}")

    # ---- capture ------------------------------------------------------------------------------------
    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        """Markup, then the iTunes lookup API: title, artist, release date, artwork (`capture_music`)."""
        return capture_music(self, ref, ctx)


# ---- capture ------------------------------------------------------------------------------------------
# Apple has no oEmbed and providers.md no Apple section; the public source is the iTunes lookup API
# (`itunes.itunes_lookup`), asked in the storefront of the embed's URL (`/de/album/...`: country=de),
# since items are listed per country. Albums are `wrapperType: "collection"` results (collectionId,
# collectionName), songs and music videos `wrapperType: "track"` (trackId, trackName, kind "song" or
# "music-video"); both carry artistName, artistViewUrl, releaseDate (ISO 8601 UTC) and artworkUrl100.
# An album embed that plays one song (`?i=SONG`) is checked as the album, which is what its id names.
# Playlists (`pl.` ids) are not in the lookup API: there is no public source to check them, so their
# capture is ambiguous and asks nothing. A lookup that does not list the item is ambiguous, never gone:
# resultCount 0 also means "not sold in this country".


def capture_music(provider: AppleMusic, ref: EmbedRef, ctx: CaptureContext) -> Capture:
    post = provider.parse_url(ref.url or "")
    if post is None:
        return no_url(provider.name, ref, "an Apple Music item")
    fields = markup_fields(ref)
    media: list[MediaRef] = []
    if post.post_id.startswith("pl."):
        return Capture(
            provider.name,
            ref.post_id,
            ref.url,
            Outcome.AMBIGUOUS,
            "Apple Music playlists are not in the iTunes lookup API: no public source to check",
            fields=fields,
        )
    country = storefront(post.url)
    rung = provider.lookup(ctx, {"id": post.post_id, "country": country})
    if rung.data is not None:
        rung = _read_lookup(post, country, rung, rung.data, fields, media)
    return assemble(provider.name, ref.post_id, ref.url, [rung], fields, media)


def _read_lookup(
    post: PostUrl,
    country: str,
    rung: RungResult,
    data: Mapping[str, object],
    fields: dict[str, Field],
    media: list[MediaRef],
) -> RungResult:
    items = lookup_results(data)
    item = next(
        (i for i in items if same_id(i, "trackId", post.post_id) or same_id(i, "collectionId", post.post_id)),
        None,
    )
    if item is None:
        listed = "does not list it" if not items else "lists other items, not this one"
        return not_in_storefront(rung, country, listed, "not sold")
    is_track = item.get("wrapperType") == "track" and same_id(item, "trackId", post.post_id)
    title = text_field(item, "trackName") if is_track else text_field(item, "collectionName")
    for name, value in (
        ("title", title),
        ("author_name", text_field(item, "artistName")),
        ("author_url", url_field(item, "artistViewUrl")),
        ("published", iso_utc(item.get("releaseDate"), keep_day=True)),
    ):
        if value:
            fields[name] = Field(value, "lookup")
    image = artwork(item)
    if image:
        media.append(MediaRef("thumbnail", image, "lookup"))
    return rung
