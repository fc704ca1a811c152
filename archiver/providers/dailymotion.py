"""Dailymotion: videos. No section in reference/providers.md; the forms below are Dailymotion's own
embed and share URLs, and its public oEmbed endpoint (`www.dailymotion.com/services/oembed`).

Detection: players `dailymotion.com/embed/video/ID`, `geo.dailymotion.com/player[/PLAYER].html?video=ID`,
Flash `/swf/video/ID`, AMP `amp-dailymotion[data-videoid]`; video pages `dailymotion.com/video/ID[_slug]`
and short links `dai.ly/ID`, in every generic form. The id is the video's x-id (or the k-id Dailymotion
gives private videos); the canonical URL is `https://www.dailymotion.com/video/ID`.

Not embeds: playlists (`/playlist/ID`, `geo...?playlist=`), channels and users.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from archiver.providers.common.base import PostUrl
from archiver.providers.common.players import PLAYER_TAGS, PlayerProvider
from archiver.providers.common.urlparts import UrlParts, on_host, split_url

CANONICAL = "https://www.dailymotion.com/video/{}"
_ID = re.compile(r"[xk][0-9a-zA-Z]{2,24}")
_ID_PREFIX = re.compile(r"([xk][0-9a-zA-Z]{2,24})(?![0-9a-zA-Z])")
# A video page's last segment: the id, maybe followed by "_" and a title slug (old URLs).
_PAGE_ID = re.compile(r"([xk][0-9a-zA-Z]{2,24})(?:_|$)")


class Dailymotion(PlayerProvider):
    name = "dailymotion"
    title = "Dailymotion"
    hosts = frozenset({"dailymotion.com", "dai.ly"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"oembed_endpoint": "https://www.dailymotion.com/services/oembed"}
    )
    recognises = (
        "players dailymotion.com/embed/video/ID, geo.dailymotion.com/player.html?video=ID,"
        " Flash /swf/video/ID, amp-dailymotion",
        "video URLs dailymotion.com/video/ID[_slug] and dai.ly/ID in WordPress, CKEditor and bare-URL embeds",
        "not embeds: playlists, channels and users",
    )
    examples = (
        "https://www.dailymotion.com/embed/video/x7tgad0",
        "https://www.dailymotion.com/embed/video/x7tgad0?autoplay=1&queue-enable=false",
        "https://geo.dailymotion.com/player.html?video=x8j8sqc",
        "https://geo.dailymotion.com/player/x1abcd.html?video=x8j8sqc&mute=true",
        "https://www.dailymotion.com/video/x7tgad0",
        "http://www.dailymotion.com/video/x2bz6f_some-title_news",
        "https://dai.ly/x7tgad0",
        "http://www.dailymotion.com/swf/video/x2bz6f",
        "https://touch.dailymotion.com/video/x7tgad0",
    )
    not_examples = (
        "https://www.dailymotion.com/playlist/x6hynp",
        "https://geo.dailymotion.com/player/x1abcd.html?playlist=x6hynp",
        "https://www.dailymotion.com/franceinfo",
        "https://www.dailymotion.com/services/oembed?url=https://www.dailymotion.com/video/x7tgad0",
        "https://www.dailymotion.com/video/",
        "https://notdailymotion.com/video/x7tgad0",
    )

    markers = ("amp-dailymotion",)
    stem = "dai"
    amp_elements: ClassVar[Mapping[str, tuple[str, ...]]] = MappingProxyType(
        {"amp-dailymotion": ("data-videoid",)}
    )
    element_tags = (*PLAYER_TAGS, "amp-dailymotion")
    names = ("dailymotion",)

    def read_url(self, url: str) -> tuple[PostUrl, bool] | None:
        parts = split_url(url)
        found = self._video(parts) if parts is not None else None
        return (self._post(found[0]), found[1]) if found else None

    def amp_post(self, tag: str, attribute: str, value: str) -> PostUrl | None:
        return self._post(value) if _ID.fullmatch(value) else None

    def _post(self, video: str) -> PostUrl:
        return PostUrl(self.name, video, CANONICAL.format(video))

    def _video(self, parts: UrlParts) -> tuple[str, bool] | None:
        """(video id, whether the URL is a player URL), or None."""
        host, segments = parts.host, parts.segments
        if host in ("dai.ly", "www.dai.ly"):
            video = _ID_PREFIX.match(segments[0]) if len(segments) == 1 else None
            return (video.group(1), False) if video else None
        if not on_host(host, "dailymotion.com"):
            return None
        if host == "geo.dailymotion.com" or (segments and segments[0] == "player.html"):
            video = _ID_PREFIX.match(parts.param("video") or "")
            player = bool(segments) and (segments[0] == "player.html" or segments[0] == "player")
            return (video.group(1), True) if video and player else None
        if len(segments) >= 3 and segments[0] in ("embed", "swf") and segments[1] == "video":
            video = _ID_PREFIX.match(segments[2])
            return (video.group(1), True) if video else None
        if len(segments) == 2 and segments[0] == "swf":
            video = _ID_PREFIX.match(segments[1])
            return (video.group(1), True) if video else None
        if len(segments) == 2 and segments[0] == "video":
            video = _PAGE_ID.match(segments[1])
            return (video.group(1), False) if video else None
        if segments == ("embed",) and (named := parts.param("video")):
            video = _ID_PREFIX.match(named)
            return (video.group(1), True) if video else None
        return None
