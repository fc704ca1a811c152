"""Vimeo: videos (reference/providers.md section 10).

Detection: `player.vimeo.com/video/ID[?h=HASH]` players (iframes, lazy or not, AMP `amp-vimeo`, old Flash
`moogaloop.swf?clip_id=ID`), and video pages `vimeo.com/ID[/HASH]`, `/channels/NAME/ID`,
`/groups/NAME/videos/ID`, `/album/N/video/ID`, `/showcase/N/video/ID` in every generic form. The id is
the numeric video id; an unlisted video's hash is kept in the canonical URL (`https://vimeo.com/ID/HASH`),
which oEmbed needs to answer for it.

Not embeds: users, channels, groups and showcases as a whole, live events (`/event/`), and site pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from archiver.providers.common.av_capture import caption_fields, handle_in, markup_then_oembed
from archiver.providers.common.base import PostUrl
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    RungResult,
    iso_utc,
    oembed_fields,
    reclassified,
    text_field,
    url_field,
)
from archiver.providers.common.players import PLAYER_TAGS, PlayerProvider
from archiver.providers.common.urlparts import UrlParts, on_host, split_url
from archiver.records import Capture, EmbedRef, Field, MediaRef, Outcome

CANONICAL = "https://vimeo.com/{}"
_ID = re.compile(r"[0-9]{1,12}")
_ID_PREFIX = re.compile(r"([0-9]{1,12})(?![0-9A-Za-z])")
# /groups/NAME/videos/ID, /album/N/video/ID, /showcase/N/video/ID
VIDEO_IN_COLLECTION = frozenset({("groups", "videos"), ("album", "video"), ("showcase", "video")})
_HASH = re.compile(r"[0-9a-f]{6,20}")


class Vimeo(PlayerProvider):
    name = "vimeo"
    title = "Vimeo"
    hosts = frozenset({"vimeo.com"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"oembed_endpoint": "https://vimeo.com/api/oembed.json"}
    )
    recognises = (
        "player iframes player.vimeo.com/video/ID (also lazy, with ?h= hash), amp-vimeo, Flash moogaloop.swf",
        "video URLs vimeo.com/ID[/HASH], /channels/NAME/ID, /groups/NAME/videos/ID, /album/N/video/ID,"
        " /showcase/N/video/ID, in WordPress, CKEditor and bare-URL embeds",
        "not embeds: user, channel, group and showcase pages, live events",
    )
    examples = (
        "https://player.vimeo.com/video/77911159",
        "https://player.vimeo.com/video/130513216?color=ff9933&byline=0&portrait=0",
        "https://player.vimeo.com/video/235352744?h=ebd66989cc&app_id=122963",
        "https://vimeo.com/76979871",
        "https://vimeo.com/235352744/ebd66989cc",
        "https://vimeo.com/channels/staffpicks/76979871",
        "https://vimeo.com/groups/motion/videos/76979871",
        "https://vimeo.com/album/2222222/video/76979871",
        "https://vimeo.com/showcase/7654321/video/76979871",
        "http://vimeo.com/moogaloop.swf?clip_id=76979871&server=vimeo.com",
    )
    not_examples = (
        "https://vimeo.com/channels/ndspodcast",
        "http://vimeo.com/todamax",
        "https://vimeo.com/privacy",
        "https://vimeo.com/user12345",
        "https://vimeo.com/event/1234567/embed",
        "https://vimeo.com/showcase/7654321",
        "https://vimeo.com/api/oembed.json?url=https://vimeo.com/76979871",
        "https://notvimeo.com/76979871",
    )

    markers = ("amp-vimeo",)
    stem = "vimeo"
    amp_elements: ClassVar[Mapping[str, tuple[str, ...]]] = MappingProxyType({"amp-vimeo": ("data-videoid",)})
    element_tags = (*PLAYER_TAGS, "amp-vimeo")
    names = ("vimeo",)

    def read_url(self, url: str) -> tuple[PostUrl, bool] | None:
        parts = split_url(url)
        return self._video(parts) if parts is not None else None

    def amp_post(self, tag: str, attribute: str, value: str) -> PostUrl | None:
        return self._post(value, None) if _ID.fullmatch(value) else None

    def _post(self, video: str, unlisted: str | None) -> PostUrl:
        video = str(int(video))
        path = f"{video}/{unlisted}" if unlisted else video
        return PostUrl(self.name, video, CANONICAL.format(path))

    def _video(self, parts: UrlParts) -> tuple[PostUrl, bool] | None:
        """(the video, whether the URL is a player URL), or None."""
        host, segments = parts.host, parts.segments
        if not on_host(host, "vimeo.com") or not segments:
            return None
        unlisted = parts.param("h")
        unlisted = unlisted if unlisted and _HASH.fullmatch(unlisted) else None
        if host == "player.vimeo.com":
            number = _ID_PREFIX.match(segments[1]) if len(segments) >= 2 and segments[0] == "video" else None
            return (self._post(number.group(1), unlisted), True) if number else None
        if host not in ("vimeo.com", "www.vimeo.com"):
            return None
        first = segments[0].lower()
        if first == "moogaloop.swf":
            clip = parts.param("clip_id") or ""
            return (self._post(clip, None), True) if _ID.fullmatch(clip) else None
        candidates: list[tuple[str, str | None]] = []
        if _ID.fullmatch(segments[0]):
            candidates.append((segments[0], segments[1] if len(segments) > 1 else None))
        elif first == "channels" and len(segments) >= 3:
            candidates.append((segments[2], None))
        elif len(segments) >= 4 and (first, segments[2]) in VIDEO_IN_COLLECTION:
            candidates.append((segments[3], None))
        elif first == "video" and len(segments) >= 2:
            candidates.append((segments[1], None))
        for video, extra in candidates:
            if not _ID.fullmatch(video):
                continue
            if extra is not None and _HASH.fullmatch(extra):
                unlisted = extra
            elif extra is not None and extra not in ("embed", "likes", "comments", "collections"):
                return None
            return self._post(video, unlisted), False
        return None

    # ---- capture ------------------------------------------------------------------------------------
    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        """Markup, then oEmbed: title, author, description, upload date, thumbnail (`capture_vimeo`)."""
        return capture_vimeo(self, ref, ctx)


# ---- capture ------------------------------------------------------------------------------------------
# oEmbed (reference/providers.md section 10), tokenless. Public videos (2021) carry title, author_name and
# author_url, description, upload_date ("2017-09-25 10:36:56", no zone: kept as the day), thumbnail_url.
# The same video answered in 2024 with only html, video_id and `uri` (with its unlisted hash): an answer
# without metadata is still a live video (its player html), not an error. Errors: 404 = deleted, or a
# private-link video asked without its hash (oEmbed refuses those, vimeo/player.js#122 and #396), which is
# gone for the reader as well: since 2021-09 the player shows "This video does not exist" without the
# hash (vimeo/player.js#783; the test of it cites the evidence); 403 = private (ambiguous); a 200 with
# `"domain_status_code": 403` = embedding allowed on some domains only (ambiguous: the article's domain
# may be one of them; vimeo/player.js#270).


def capture_vimeo(provider: Vimeo, ref: EmbedRef, ctx: CaptureContext) -> Capture:
    """Rung 1 the article's markup, rung 2 oEmbed (with the unlisted hash when the embed had one)."""
    return markup_then_oembed(provider, ref, ctx, "a Vimeo video", _read_oembed)


def _read_oembed(
    _post: PostUrl,
    rung: RungResult,
    data: Mapping[str, object],
    fields: dict[str, Field],
    media: list[MediaRef],
) -> RungResult:
    if str(data.get("domain_status_code", "")).strip() == "403":
        return reclassified(
            rung,
            Outcome.AMBIGUOUS,
            "oEmbed: Vimeo says embedding is allowed on some domains only (domain_status_code 403)",
        )
    oembed_fields(data, fields, media)
    caption_fields(text_field(data, "description"), "oembed", fields)
    published = iso_utc(data.get("upload_date"), keep_day=True)
    if published:
        fields["published"] = Field(published, "oembed")
    handle = handle_in(url_field(data, "author_url"), "vimeo.com")
    if handle:
        fields["handle"] = Field(handle, "oembed")
    if not (text_field(data, "title") or text_field(data, "author_name")):
        return reclassified(
            rung,
            Outcome.OK,
            "oEmbed answered without title, author or thumbnail (Vimeo's reduced answer, seen for unlisted"
            " videos)",
        )
    return rung
