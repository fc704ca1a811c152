"""Apple Podcasts: episodes and shows. No section in reference/providers.md, and Apple documents no oEmbed
endpoint; later capture reads the public iTunes lookup API and the episode page (`lookup_base`,
`page_base`).

Detection: players `embed.podcasts.apple.com/CC/podcast/SLUG/idSHOW?i=EPISODE`, and the same on
`podcasts.apple.com` and the old `itunes.apple.com/CC/podcast/SLUG/idSHOW`, in every generic form. The id
is the episode id from `?i=` (as the corpus labels write it), else the show's number for a whole-show
embed; the canonical URL is on `podcasts.apple.com` and keeps `?i=`.

Not embeds: Apple Music and App Store links, podcast channels and categories.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from archiver.providers.base import PostUrl
from archiver.providers.players import PLAYER_TAGS, PlayerProvider, UrlParts, on_host, split_url

_COUNTRY = re.compile(r"[a-z]{2}", re.IGNORECASE)
_SHOW = re.compile(r"id([0-9]{1,20})")
_EPISODE = re.compile(r"[0-9]{1,20}")
_SLUG = re.compile(r"[^/?#\s]{1,255}")


class ApplePodcasts(PlayerProvider):
    name = "apple_podcasts"
    title = "Apple Podcasts"
    hosts = frozenset({"podcasts.apple.com", "itunes.apple.com"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"lookup_base": "https://itunes.apple.com", "page_base": "https://podcasts.apple.com"}
    )
    recognises = (
        "players embed.podcasts.apple.com/CC/podcast/SLUG/idSHOW?i=EPISODE (episode id from ?i=), whole-show"
        " players without ?i=",
        "the same on podcasts.apple.com and itunes.apple.com in WordPress, CKEditor and bare-URL embeds",
        "not embeds: Apple Music and App Store links",
    )
    examples = (
        "https://embed.podcasts.apple.com/us/podcast/how-to-avoid-inadvertently-being-a-bad-boss/id1393035987?i=1000561514664",
        "https://podcasts.apple.com/us/podcast/the-daily/id1200361736?i=1000650000000",
        "https://podcasts.apple.com/de/podcast/id1200361736",
        "https://embed.podcasts.apple.com/us/podcast/the-daily/id1200361736",
        "https://itunes.apple.com/us/podcast/electrek/id1320055779?mt=2",
    )
    not_examples = (
        "https://apps.apple.com/us/app/podcasts/id525463029",
        "https://podcasts.apple.com/us/genre/podcasts-news/id1489",
        "https://podcasts.apple.com/us/channel/the-new-york-times/id6442468580",
        "https://podcasts.apple.com/us/podcast/the-daily/1200361736",
    )

    stem = "apple.com"
    element_tags = PLAYER_TAGS
    names = ("apple podcasts", "apple-podcasts", "applepodcasts", "podcasts.apple")

    def read_url(self, url: str) -> tuple[PostUrl, bool] | None:
        return self._item(url)

    def _item(self, url: str) -> tuple[PostUrl, bool] | None:
        """(the episode or show, whether the URL is a player URL), or None."""
        parts = split_url(url)
        if parts is None:
            return None
        if on_host(parts.host, "podcasts.apple.com"):
            player = parts.host == "embed.podcasts.apple.com"
        elif parts.host == "itunes.apple.com":
            player = False
        else:
            return None
        post = self._path(parts)
        return (post, player) if post else None

    def _path(self, parts: UrlParts) -> PostUrl | None:
        segments = list(parts.segments)
        country = segments.pop(0).lower() if segments and _COUNTRY.fullmatch(segments[0]) else "us"
        if not segments or segments[0] != "podcast" or len(segments) not in (2, 3):
            return None
        show = _SHOW.fullmatch(segments[-1])
        slug = segments[1] if len(segments) == 3 else None
        if show is None or (slug is not None and not _SLUG.fullmatch(slug)):
            return None
        show_id = str(int(show.group(1)))
        episode = parts.query.get("i", "").strip()
        path = "/".join(p for p in (country, "podcast", slug, f"id{show_id}") if p)
        if _EPISODE.fullmatch(episode):
            episode = str(int(episode))
            return PostUrl(self.name, episode, f"https://podcasts.apple.com/{path}?i={episode}")
        return PostUrl(self.name, show_id, f"https://podcasts.apple.com/{path}")
