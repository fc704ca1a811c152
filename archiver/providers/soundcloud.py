"""SoundCloud: tracks and sets (reference/providers.md section 12).

Detection: the widget `w.soundcloud.com/player/?url=URL` (also `p.`/`player.soundcloud.com`, lazy
iframes such as WP Rocket's `data-lazy-src`, `amp-soundcloud`), whose `url=` is unwrapped: the API
resource `api.soundcloud.com/tracks/NUM` or `/playlists/NUM`, or a page `soundcloud.com/USER/SLUG`
(`/USER/sets/SLUG`, with a secret `s-...` token for private ones); and those pages in every generic form.

Ids: the track number for `api.soundcloud.com/tracks/NUM` (the form embeds carry; canonical URL
`https://api.soundcloud.com/tracks/NUM`); `playlists/NUM` for API sets; else the page path
(`user/slug`, `user/sets/slug`, lower case; canonical `https://soundcloud.com/PATH`, the secret token
kept).

Not embeds: users and their tabs (`/USER`, `/USER/tracks`, `/USER/likes`...), user widgets
(`api.soundcloud.com/users/NUM`), site pages (`/discover`, `/charts/...`), `on.soundcloud.com` short
links (they name no track until followed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from archiver.providers.common.av_capture import caption_fields, handle_in, markup_then_oembed
from archiver.providers.common.base import PostUrl
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import RungResult, reclassified, text_field, url_field
from archiver.providers.common.players import PLAYER_TAGS, PlayerProvider
from archiver.providers.common.urlparts import UrlParts, split_url
from archiver.records import Capture, EmbedRef, Field, MediaRef, Outcome

API = "https://api.soundcloud.com/{}/{}"
PAGE = "https://soundcloud.com/{}"
PLAYER_HOSTS = frozenset({"w.soundcloud.com", "p.soundcloud.com", "player.soundcloud.com"})
PAGE_HOSTS = frozenset({"soundcloud.com", "www.soundcloud.com", "m.soundcloud.com"})
API_HOSTS = frozenset({"api.soundcloud.com", "api-widget.soundcloud.com"})
# First path segments that are site pages, not users.
RESERVED_USERS = frozenset((
    "discover", "stream", "search", "you", "upload", "charts", "pages", "settings", "messages",
    "notifications", "mobile", "terms-of-use", "imprint", "jobs", "tags", "people", "popular", "signin",
    "login", "logout", "connect", "oembed", "player", "stations", "premieres", "feed", "home", "explore",
    "pro", "go", "creators", "artists", "for", "community-guidelines", "press", "apps", "widget",
))  # fmt: skip
# Second path segments that are a user's tabs, not tracks.
USER_TABS = frozenset((
    "tracks", "sets", "albums", "reposts", "likes", "followers", "following", "popular-tracks", "comments",
    "spotlight", "playlists", "toptracks", "stations", "info",
))  # fmt: skip
_NUMBER = re.compile(r"([0-9]{1,20})(?![0-9A-Za-z])")
_SLUG = re.compile(r"[A-Za-z0-9_-]{1,255}")
_SECRET = re.compile(r"s-[A-Za-z0-9]{4,64}")


class SoundCloud(PlayerProvider):
    name = "soundcloud"
    title = "SoundCloud"
    hosts = frozenset({"soundcloud.com"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"oembed_endpoint": "https://soundcloud.com/oembed"}
    )
    recognises = (
        "the widget w.soundcloud.com/player/?url=... (iframes, lazy or not, amp-soundcloud, amp-iframe),"
        " its url= unwrapped: api.soundcloud.com/tracks/NUM, /playlists/NUM, or soundcloud.com/USER/SLUG",
        "track and set pages soundcloud.com/USER/SLUG, /USER/sets/SLUG (secret s- tokens kept) in"
        " WordPress, CKEditor and bare-URL embeds",
        "not embeds: user pages and tabs, user widgets, site pages, on.soundcloud.com short links",
    )
    examples = (
        "https://w.soundcloud.com/player/?url=https%3A//api.soundcloud.com/tracks/367477112&color=%23ff5500",
        "https://w.soundcloud.com/player/?url=https%3A%2F%2Fapi.soundcloud.com%2Fplaylists%2F1234567&visual=true",
        "https://w.soundcloud.com/player/?url=https%3A%2F%2Fsoundcloud.com%2Fforss%2Fflickermood",
        "https://api.soundcloud.com/tracks/180961263",
        "https://soundcloud.com/forss/flickermood",
        "https://soundcloud.com/forss/sets/soulhack",
        "https://soundcloud.com/forss/flickermood/s-AbCd1234",
        "https://m.soundcloud.com/forss/flickermood?in=forss/sets/soulhack",
    )
    not_examples = (
        "https://soundcloud.com/forss",
        "https://soundcloud.com/forss/tracks",
        "https://soundcloud.com/forss/likes",
        "https://soundcloud.com/discover/sets/charts-top:all-music",
        "https://w.soundcloud.com/player/?url=https%3A//api.soundcloud.com/users/1234",
        "https://w.soundcloud.com/player/?url=https%3A//example.com/tracks/1",
        "https://on.soundcloud.com/AbCdE",
        "https://soundcloud.com/oembed?url=https://soundcloud.com/forss/flickermood",
        "https://notsoundcloud.com/forss/flickermood",
    )

    markers = ("amp-soundcloud",)
    stem = "soundcloud"
    amp_elements: ClassVar[Mapping[str, tuple[str, ...]]] = MappingProxyType(
        {"amp-soundcloud": ("data-trackid", "data-playlistid")}
    )
    element_tags = (*PLAYER_TAGS, "amp-soundcloud")
    names = ("soundcloud",)

    def read_url(self, url: str) -> tuple[PostUrl, bool] | None:
        return self._sound(url, nested=False)

    def amp_post(self, tag: str, attribute: str, value: str) -> PostUrl | None:
        if _NUMBER.fullmatch(value) is None:
            return None
        return self._api("tracks" if attribute == "data-trackid" else "playlists", value)

    def _api(self, kind: str, number: str) -> PostUrl:
        number = str(int(number))
        post_id = number if kind == "tracks" else f"{kind}/{number}"
        return PostUrl(self.name, post_id, API.format(kind, number))

    def _sound(self, url: str, nested: bool) -> tuple[PostUrl, bool] | None:
        """(the track or set, whether the URL is the player), or None."""
        parts = split_url(url)
        if parts is None:
            return None
        if parts.host in PLAYER_HOSTS:
            if nested or parts.segments[:1] != ("player",):
                return None
            inner = self._sound(parts.param("url") or "", nested=True)
            return (inner[0], True) if inner else None
        if parts.host in API_HOSTS:
            return self._api_path(parts)
        if parts.host in PAGE_HOSTS:
            return self._page(parts)
        return None

    def _api_path(self, parts: UrlParts) -> tuple[PostUrl, bool] | None:
        segments = parts.segments
        if len(segments) >= 2 and segments[0] in ("tracks", "playlists"):
            number = _NUMBER.match(segments[1])
            return (self._api(segments[0], number.group(1)), False) if number else None
        return None

    def _page(self, parts: UrlParts) -> tuple[PostUrl, bool] | None:
        segments = parts.segments
        if len(segments) < 2 or segments[0].lower() in RESERVED_USERS:
            return None
        user, rest = segments[0], list(segments[1:])
        secret = rest.pop() if len(rest) >= 2 and _SECRET.fullmatch(rest[-1]) else None
        if len(rest) == 1 and rest[0].lower() not in USER_TABS:
            path = [user, rest[0]]
        elif len(rest) == 2 and rest[0] == "sets" and rest[1].lower() not in USER_TABS:
            path = [user, "sets", rest[1]]
        else:
            return None
        if not all(_SLUG.fullmatch(segment) for segment in path):
            return None
        post_id = "/".join(path).lower()
        url = PAGE.format(post_id + (f"/{secret}" if secret else ""))
        return PostUrl(self.name, post_id, url), False

    # ---- capture ------------------------------------------------------------------------------------
    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        """Markup, then oEmbed: title, artist, description, artwork (`capture_soundcloud`)."""
        return capture_soundcloud(self, ref, ctx)


# ---- capture ------------------------------------------------------------------------------------------
# oEmbed (reference/providers.md section 12), tokenless; `format=json` is required (without it SoundCloud
# answers XML). The URL asked about is the canonical one: a page `soundcloud.com/USER/SLUG` (no trailing
# slash: with one SoundCloud answers 404, soundcloud/api#46), or for widget embeds the API resource
# `api.soundcloud.com/tracks/NUM` (`/playlists/NUM`), which the endpoint accepts although the oembed.com
# registry lists only soundcloud.com schemes ("any SoundCloud URL", developers.soundcloud.com/docs/oembed;
# itteco/iframely#218 and mpratt/Embera#94 rely on it).
# Fields: title is "TITLE by ARTIST" (the " by ARTIST" SoundCloud appends is cut), author_name and
# author_url (the artist's page: its path is the handle), description (plain text or HTML; empty in
# 2021), thumbnail_url: the artwork, or SoundCloud's generic `fb_placeholder.png`, which is no media of
# the track and is left out.
# Errors: none recorded (providers.md says "unverified"): 404/410 gone as the oEmbed spec says, 401/403
# ambiguous (private), anything but oEmbed JSON ambiguous.
_PLACEHOLDER = "/images/fb_placeholder.png"


def capture_soundcloud(provider: SoundCloud, ref: EmbedRef, ctx: CaptureContext) -> Capture:
    """Rung 1 the article's markup, rung 2 oEmbed for the canonical URL."""
    return markup_then_oembed(provider, ref, ctx, "a SoundCloud track or set", _read_oembed)


def _read_oembed(
    _post: PostUrl,
    rung: RungResult,
    data: Mapping[str, object],
    fields: dict[str, Field],
    media: list[MediaRef],
) -> RungResult:
    title = text_field(data, "title")
    author_name = text_field(data, "author_name")
    if not (title or author_name):
        return reclassified(
            rung, Outcome.AMBIGUOUS, "oEmbed: 200 but neither title nor artist (SoundCloud always sends both)"
        )
    if title and author_name and title.endswith(f" by {author_name}") and len(title) > len(author_name) + 4:
        title = title[: -len(f" by {author_name}")].strip()
    if title:
        fields["title"] = Field(title, "oembed")
    if author_name:
        fields["author_name"] = Field(author_name, "oembed")
    author_url = url_field(data, "author_url")
    if author_url:
        fields["author_url"] = Field(author_url, "oembed")
    handle = handle_in(author_url, "soundcloud.com")
    if handle:
        fields["handle"] = Field(handle, "oembed")
    caption_fields(text_field(data, "description"), "oembed", fields)
    thumbnail = url_field(data, "thumbnail_url")
    if thumbnail and not thumbnail.split("?")[0].endswith(_PLACEHOLDER):
        media.append(MediaRef("thumbnail", thumbnail, "oembed"))
    return rung
