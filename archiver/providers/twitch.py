"""Twitch: past broadcasts (VODs) and clips (reference/providers.md section 17).

Detection: players `player.twitch.tv/?video=vID` (or `video=ID`), `player.twitch.tv/?clip=SLUG`,
`clips.twitch.tv/embed?clip=SLUG` (the required `&parent=` is ignored), `embed.twitch.tv/?video=`; pages
`twitch.tv/videos/ID`, `twitch.tv/CHANNEL/v/ID`, `twitch.tv/CHANNEL/clip/SLUG`, `clips.twitch.tv/SLUG`, in
every generic form. Ids: the VOD's number (canonical `https://www.twitch.tv/videos/ID`) or the clip's
slug (canonical `https://clips.twitch.tv/SLUG`).

Decided not to be embeds (reference/providers.md section 17: "live channels are inherently ephemeral"):
live channel players (`player.twitch.tv/?channel=NAME`), collections (`?collection=`, a playlist of VODs,
like YouTube playlists), chat embeds and channel pages. A live player shows whatever the channel streams
when the page is read: there is no post to capture, check or fall back to.

No oEmbed exists (providers.md: no registry entry, none documented); later capture reads the public
pages (`page_base`, `clips_base`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from archiver.providers.common.base import PostUrl
from archiver.providers.common.players import PLAYER_TAGS, PlayerProvider
from archiver.providers.common.urlparts import UrlParts, on_host, split_url

VIDEO = "https://www.twitch.tv/videos/{}"
CLIP = "https://clips.twitch.tv/{}"
PLAYER_HOSTS = frozenset({"player.twitch.tv", "embed.twitch.tv"})
PAGE_HOSTS = frozenset({"twitch.tv", "www.twitch.tv", "m.twitch.tv", "go.twitch.tv"})
_VIDEO = re.compile(r"v?([0-9]{1,20})")
_CLIP = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{2,100}")
# clips.twitch.tv paths that are not clip slugs.
NOT_CLIPS = frozenset({"embed", "create", "api"})


class Twitch(PlayerProvider):
    name = "twitch"
    title = "Twitch"
    hosts = frozenset({"twitch.tv"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"page_base": "https://www.twitch.tv", "clips_base": "https://clips.twitch.tv"}
    )
    recognises = (
        "VOD players player.twitch.tv/?video=vID, clip players player.twitch.tv/?clip=SLUG and"
        " clips.twitch.tv/embed?clip=SLUG (iframes, lazy or not, amp-iframe)",
        "VOD and clip pages twitch.tv/videos/ID, twitch.tv/CHANNEL/clip/SLUG, clips.twitch.tv/SLUG",
        "not embeds (decided): live channel players (?channel=), collections, chat, channel pages",
    )
    examples = (
        "https://player.twitch.tv/?video=v1234567890&parent=example.com&autoplay=false",
        "https://player.twitch.tv/?video=1234567890&parent=example.com",
        "https://player.twitch.tv/?clip=AwkwardHelplessSalamanderSwiftRage&parent=example.com",
        "https://clips.twitch.tv/embed?clip=AwkwardHelplessSalamanderSwiftRage&parent=example.com",
        "https://www.twitch.tv/videos/1234567890",
        "https://www.twitch.tv/somechannel/clip/AwkwardHelplessSalamanderSwiftRage-Ab12Cd34",
        "https://clips.twitch.tv/AwkwardHelplessSalamanderSwiftRage",
        "https://www.twitch.tv/somechannel/v/123456789",
    )
    not_examples = (
        "https://player.twitch.tv/?channel=somechannel&parent=example.com",
        "https://player.twitch.tv/?collection=abcDEF123&parent=example.com",
        "https://www.twitch.tv/embed/somechannel/chat?parent=example.com",
        "https://www.twitch.tv/somechannel",
        "https://www.twitch.tv/directory/game/Chess",
        "https://clips.twitch.tv/embed?parent=example.com",
        "https://nottwitch.tv/videos/1234567890",
    )

    stem = "twitch"
    element_tags = PLAYER_TAGS
    names = ("twitch",)

    def read_url(self, url: str) -> tuple[PostUrl, bool] | None:
        return self._item(url)

    def _video(self, value: str) -> PostUrl | None:
        match = _VIDEO.fullmatch(value.strip())
        if match is None:
            return None
        number = str(int(match.group(1)))
        return PostUrl(self.name, number, VIDEO.format(number))

    def _clip(self, value: str) -> PostUrl | None:
        slug = value.strip()
        if not _CLIP.fullmatch(slug) or slug.lower() in NOT_CLIPS:
            return None
        return PostUrl(self.name, slug, CLIP.format(slug))

    def _item(self, url: str) -> tuple[PostUrl, bool] | None:
        """(the VOD or clip, whether the URL is a player URL), or None."""
        parts = split_url(url)
        if parts is None or not on_host(parts.host, "twitch.tv"):
            return None
        post: PostUrl | None = None
        player = False
        if parts.host in PLAYER_HOSTS:
            player = True
            post = self._player(parts)
        elif parts.host == "clips.twitch.tv":
            if parts.segments == ("embed",):
                player = True
                post = self._clip(parts.param("clip") or "")
            elif len(parts.segments) == 1:
                post = self._clip(parts.segments[0])
        elif parts.host in PAGE_HOSTS:
            post = self._page(parts)
        return (post, player) if post else None

    def _player(self, parts: UrlParts) -> PostUrl | None:
        if parts.segments and parts.segments != ("embed",):
            return None
        if video := parts.param("video"):
            return self._video(video)
        if clip := parts.param("clip"):
            return self._clip(clip)
        return None  # a live channel or a collection: not a post

    def _page(self, parts: UrlParts) -> PostUrl | None:
        segments = parts.segments
        if len(segments) == 2 and segments[0] == "videos":
            return self._video(segments[1])
        if len(segments) == 3 and segments[1] in ("v", "video", "videos"):
            return self._video(segments[2])
        if len(segments) == 3 and segments[1] == "clip":
            return self._clip(segments[2])
        return None
