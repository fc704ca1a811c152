"""YouTube: videos, shorts and live videos (reference/providers.md section 4).

Detection. Every URL form of one video folds to its 11-character id: `watch?v=`, `youtu.be/`, `/embed/`,
`/v/` and `/e/` (Flash), `/shorts/`, `/live/`, on www., m., music., youtube-nocookie.com,
youtubekids.com and youtube.googleapis.com. Markup forms: player iframes (also lazy ones, with `?list=`
or `?playlist=` after the id: the video is the embed), `<object>`/`<embed>` Flash players, `amp-youtube`,
`lite-youtube`, lazy placeholders (`[data-youtube-id]`, WP YouTube Lyte, `.youtube-player[data-id]` and
the like, `img` posters whose element is the loader), player URLs in any placeholder attribute or in a
small inline script next to an empty placeholder, and every generic form of `parse_url`.

Not embeds: playlists (`/embed/videoseries?list=`, `playlist?list=`), channel live players
(`/embed/live_stream?channel=`), channel, user and subscribe URLs, thumbnails (`i.ytimg.com/vi/ID/`) on
their own, and watch links in running text.

An id is 64 bits written in URL-safe base64, so its last character is one of 16 (`ID_LAST`): that check
keeps 11-letter words and numbers in lazy-loader attributes from passing for ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import ClassVar
from urllib.parse import urljoin

from selectolax.lexbor import LexborNode

from archiver.providers.common.av_capture import handle_in
from archiver.providers.common.base import Page, PostUrl, Sighting
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    RungResult,
    assemble,
    markup_fields,
    no_url,
    oembed_fields,
    oembed_rung,
    reclassified,
    text_field,
    url_field,
)
from archiver.providers.common.players import PLAYER_TAGS, PlayerProvider, attribute_at, start_tag_before
from archiver.providers.common.urlparts import UrlParts, on_host, split_url
from archiver.records import Capture, EmbedRef, Field, MarkupKind, MediaRef, Outcome

CANONICAL = "https://www.youtube.com/watch?v={}"
_ID = re.compile(r"[A-Za-z0-9_-]{10}[AEIMQUYcgkosw048]")
_ID_PREFIX = re.compile(r"([A-Za-z0-9_-]{11})(?![A-Za-z0-9_-])")
# Path words that are 11 characters long but never ids.
NOT_IDS = frozenset({"videoseries", "live_stream"})
# Hosts (besides youtu.be) whose paths name videos.
VIDEO_HOSTS = ("youtube.com", "youtube-nocookie.com", "youtubekids.com", "youtube.googleapis.com")
# First path segments followed by the id.
ID_SEGMENTS = frozenset({"embed", "v", "e", "shorts", "live", "watch"})
PLAYER_SEGMENTS = frozenset({"embed", "v", "e"})
THUMBNAIL_HOSTS = ("ytimg.com", "img.youtube.com")
# Lazy loaders: attributes that hold the bare id of the video they will play.
ID_ATTRIBUTES = ("data-youtube-id", "data-ytid", "data-yt-id", "data-youtube", "data-youtube-video-id")
# ... and attributes that hold it on an element whose class says "youtube".
CLASSED_ID_ATTRIBUTES = ("data-id", "data-video-id", "data-videoid", "data-embed", "data-vid")
# Attributes of lazy poster images.
POSTER_ATTRIBUTES = ("data-src", "data-lazy-src", "data-lazy", "data-original", "data-srcset")
# WP YouTube Lyte: div.lyMe#WYL_{id}, with a youtu.be link in its <noscript>.
LYTE_SELECTOR = '[id^="WYL_"]'
# Elements never read as lazy loaders (links, metadata, and players read elsewhere).
NOT_LOADERS = frozenset(
    {"a", "link", "meta", "script", "iframe", "amp-youtube", "lite-youtube", "html", "body"}
)
_THUMBNAIL_PATH = re.compile(r"/vi(?:_webp)?/([A-Za-z0-9_-]{11})/")
_LOADER_WORDS = ("youtube", "lyte", "ytp-", "yt-lazy", "lazy-yt")


def video_id(value: str) -> str | None:
    """`value` when it is a well-formed video id."""
    return value if _ID.fullmatch(value) and value not in NOT_IDS else None


def _id_prefix(value: str) -> str | None:
    """The id at the start of a path segment or parameter ("oAf4maPIWW8&hl=de" -> "oAf4maPIWW8")."""
    match = _ID_PREFIX.match(value.strip())
    return video_id(match.group(1)) if match else None


class YouTube(PlayerProvider):
    name = "youtube"
    title = "YouTube"
    hosts = frozenset({"youtube.com", "youtu.be", "youtube-nocookie.com", "youtubekids.com"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"oembed_endpoint": "https://www.youtube.com/oembed"}
    )
    recognises = (
        "video URLs: watch?v=, youtu.be, /embed/, /v/, /e/, /shorts/, /live/ on youtube.com (www, m, music),"
        " youtube-nocookie.com and youtubekids.com, folded to the 11-character video id",
        "player iframes (also lazy: data-src, data-lazy-src), <object>/<embed> Flash players, amp-youtube,"
        " lite-youtube, WordPress and CKEditor embeds, bare video URLs",
        "lazy placeholders: [data-youtube-id], WP YouTube Lyte, .youtube-player[data-id], img posters of a"
        " loader, player URLs in placeholder attributes or in a small script beside an empty placeholder",
        "not embeds: playlists (videoseries), channel live players, channel and subscribe links, thumbnails",
    )
    examples = (
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ?t=42",
        "https://www.youtube.com/embed/KPnmmIrD0oc?feature=oembed",
        "https://www.youtube-nocookie.com/embed/Kd2q-MaHMWs?controls=2&rel=0",
        "http://www.youtube.com/v/oAf4maPIWW8&hl=de&fs=1",
        "https://www.youtube.com/shorts/aqz-KE-bpKQ",
        "https://m.youtube.com/watch?feature=share&v=dQw4w9WgXcQ",
        "https://music.youtube.com/watch?v=dQw4w9WgXcQ&list=RDAMVMdQw4w9WgXcQ",
        "//www.youtube.com/embed/wh5M-xjzus4?playlist=mvDHs0LCTf8,N4uJiZmcYbc",
        "https://www.youtube.com/live/jfKfPfyJRdk?si=abc",
    )
    not_examples = (
        "https://www.youtube-nocookie.com/embed/videoseries?list=UUiTaCUT4f6gaQhQ70ZpQyxg",
        "https://www.youtube.com/playlist?list=PLFgquLnL59alCl_2TQvOiD5Vgm1hCaGSI",
        "https://www.youtube.com/embed/live_stream?channel=UCSJ4gkVC6NrvII8umztf0Ow",
        "https://www.youtube.com/user/AmnestyDeutschland",
        "https://www.youtube.com/channel/UCcOIZzJgLCyMPILY7-1Vsdg?sub_confirmation=1",
        "https://www.youtube.com/c/tonedeaf",
        "https://www.youtube.com/@mkbhd",
        "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg",
        "https://img.youtube.com/vi/jP6fEHm-lA0/hqdefault.jpg",
        "https://www.youtube.com/iframe_api",
        "https://www.youtube.com/oembed?url=https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://notyoutube.com/watch?v=dQw4w9WgXcQ",
    )

    # Lazy loaders carry no URL, only "youtube" in a class or an attribute name (data-youtube-id,
    # youtube-player, amp-youtube, lite-youtube): `lazy_sightings` looks where the stem is written.
    markers = ("youtube",)
    detect_markers = markers  # lazy loaders (`lazy_sightings`) name YouTube in a class or attribute
    stem = "youtu"
    amp_elements: ClassVar[Mapping[str, tuple[str, ...]]] = MappingProxyType(
        {"amp-youtube": ("data-videoid",), "lite-youtube": ("videoid", "data-videoid")}
    )
    element_tags = (*PLAYER_TAGS, "amp-youtube", "lite-youtube")
    names = ("youtube",)

    # ---- URLs --------------------------------------------------------------------------------------
    def read_url(self, url: str) -> tuple[PostUrl, bool] | None:
        parts = split_url(url)
        found = self._video(parts) if parts is not None else None
        return (self._post(found[0]), found[1]) if found else None

    def amp_post(self, tag: str, attribute: str, value: str) -> PostUrl | None:
        found = video_id(value)
        return self._post(found) if found else None

    def _post(self, found: str) -> PostUrl:
        return PostUrl(self.name, found, CANONICAL.format(found))

    def _video(self, parts: UrlParts) -> tuple[str, bool] | None:
        """(video id, whether the URL is a player URL), or None."""
        host, segments = parts.host, parts.segments
        if host == "youtu.be" or host == "www.youtu.be":
            found = _id_prefix(segments[0]) if segments else None
            return (found, False) if found else None
        if not any(on_host(host, domain) for domain in VIDEO_HOSTS):
            return None
        nocookie = on_host(host, "youtube-nocookie.com")
        first = segments[0].lower() if segments else ""
        if first == "attribution_link":
            inner = parts.param("u") or ""
            nested = split_url("https://www.youtube.com" + inner) if inner.startswith("/") else None
            return (
                self._video(nested)
                if nested is not None and nested.segments[:1] != ("attribution_link",)
                else None
            )
        if first in ("watch", "watch_popup") and len(segments) == 1:
            found = _id_prefix(parts.param("v") or "")
            return (found, False) if found else None
        if first in ID_SEGMENTS and len(segments) >= 2:
            found = _id_prefix(segments[1])
            return (found, nocookie or first in PLAYER_SEGMENTS) if found else None
        if first == "embed" and len(segments) == 1 and (video := parts.param("v")):
            found = _id_prefix(video)
            return (found, True) if found else None
        return None

    # ---- lazy placeholders -------------------------------------------------------------------------
    def lazy_sightings(self, page: Page, places: Sequence[tuple[str, int]]) -> Iterator[Sighting]:
        """Lazy loaders, looked up only where the source shows them: an element whose class or a
        `data-youtube*` attribute name says "youtube" (read by `_lazy_id`), and Lyte when a youtu.be
        link is in a tag. Where a URL's host name is written (`places`) is no class or attribute name."""
        text = page.text
        in_urls = {at for name, at in places if name.startswith(self.stem)}
        selectors: set[str] = set()
        # (One search for the stem: counting its hits first, to skip pages where every hit is a URL's
        # host name, would read the page twice.)
        for at in self.stem_hits(text):
            if at in in_urls:
                continue
            tag_start = start_tag_before(text, at)
            place = attribute_at(text, tag_start, at) if tag_start is not None else None
            if place is None or place[0] in NOT_LOADERS:
                continue
            tag, attribute, in_value = place
            if attribute == "class" and in_value:
                selectors.add(f'{tag}[class*="{self.stem}"]')
            elif not in_value and attribute.startswith("data-youtube"):
                selectors.add(f"{tag}[{attribute}]")
        if any(name == "youtu.be" and start_tag_before(text, at) is not None for name, at in places):
            selectors.add(LYTE_SELECTOR)
        seen: set[int] = set()
        for selector in sorted(selectors):
            for node in page.tree.css(selector):
                if node.mem_id in seen:
                    continue
                seen.add(node.mem_id)
                found = self._lazy_id(node)
                if found is not None:
                    yield Sighting(self.name, self._post(found), MarkupKind.DIV, node)

    def _lazy_id(self, node: LexborNode) -> str | None:
        """The video of a lazy loader: an id attribute, Lyte's element id, or its one poster image."""
        tag = node.tag or ""
        if tag in NOT_LOADERS:
            return None
        attrs = node.attributes
        if tag == "img":
            return self._poster_id(node, attrs)
        for name in ID_ATTRIBUTES:
            found = _attribute_id(attrs.get(name))
            if found:
                return found
        if "youtu" in (attrs.get("class") or "").lower():
            for name in CLASSED_ID_ATTRIBUTES:
                found = _attribute_id(attrs.get(name))
                if found:
                    return found
        element_id = attrs.get("id") or ""
        if element_id.startswith("WYL_"):
            return video_id(element_id[4:])
        posters = [
            found for img in node.css("img") if (found := self._poster_id(img, img.attributes, inside=node))
        ]
        return posters[0] if len(posters) == 1 else None

    def _poster_id(
        self, node: LexborNode, attrs: Mapping[str, str | None], inside: LexborNode | None = None
    ) -> str | None:
        """The video of a poster image, when the image is a lazy YouTube loader itself (its class or data
        attributes say so), or is the one unlinked thumbnail inside a loader (`inside`). A linked
        thumbnail, or one in a list of related videos, is no embed."""
        found: str | None = None
        for name in POSTER_ATTRIBUTES if inside is None else ("src", *POSTER_ATTRIBUTES):
            value = attrs.get(name) or ""
            parts = split_url(value.split(",")[0].split(" ")[0]) if value else None
            if parts is None or not any(on_host(parts.host, host) for host in THUMBNAIL_HOSTS):
                continue
            match = _THUMBNAIL_PATH.match(parts.path)
            found = video_id(match.group(1)) if match else None
            if found:
                break
        if found is None:
            return None
        if inside is not None:
            return None if _linked(node, inside) else found
        parent = node.parent
        if parent is not None and parent.tag == "picture":
            parent = parent.parent
        if parent is None or parent.tag == "a":
            return None
        return found if _is_loader(node, found) or _is_loader(parent, found) else None

    # ---- capture ------------------------------------------------------------------------------------
    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        """Markup, then oEmbed: title, channel, thumbnail (see `capture_youtube`)."""
        return capture_youtube(self, ref, ctx)


def _is_loader(node: LexborNode, found: str) -> bool:
    """Whether the element's class or data attributes make it a YouTube loader of video `found`: a word
    such as "youtube" or "lyte" (thumbnail URLs aside), or an attribute holding the bare id."""
    for key, value in node.attributes.items():
        if key in POSTER_ATTRIBUTES or not (key == "class" or key.startswith("data-")):
            continue
        if "youtube" in key:
            return True
        if (
            value
            and len(value) < 256
            and (value.strip().lstrip("#") == found or any(word in value.lower() for word in _LOADER_WORDS))
        ):
            return True
    return False


def _linked(node: LexborNode, inside: LexborNode) -> bool:
    """Whether a link lies between `node` and its ancestor `inside`."""
    parent = node.parent
    for _ in range(16):
        if parent is None or parent.mem_id == inside.mem_id:
            return False
        if parent.tag == "a":
            return True
        parent = parent.parent
    return True


def _attribute_id(value: str | None) -> str | None:
    """The id a lazy loader's attribute holds ("ID", or "#ID" once the player has been inserted)."""
    if not value or len(value) > 64:
        return None
    return video_id(value.strip().lstrip("#"))


# ---- capture ------------------------------------------------------------------------------------------
# oEmbed (reference/providers.md section 4) is YouTube's only tokenless source: the Data API, the one place
# with descriptions and upload times, needs an API key. oEmbed gives the title, the channel's name and URL
# (`/user/NAME`, at times relative, in 2021; `https://www.youtube.com/@handle` since) and the thumbnail.
# Its errors are plain-text bodies, not JSON: 401 "Unauthorized" = embedding disabled by the owner and
# 403 "Forbidden" = private (ambiguous: the video exists), 404 = deleted or never existed (gone), 400 =
# malformed (ambiguous). In 2020 a private video answered HTTP 200 with the body "Forbidden": a 200 that is
# not oEmbed JSON is ambiguous, never ok.
SITE = "https://www.youtube.com/"
_STATUS_MEANING = {401: "embedding disabled by the owner?", 403: "a private video?"}
_PLAIN_ERRORS = frozenset({"unauthorized", "forbidden", "not found", "bad request"})
_RELATIVE_PATH = re.compile(r"/(?!/)[\w@.%/-]{1,200}")


def capture_youtube(provider: YouTube, ref: EmbedRef, ctx: CaptureContext) -> Capture:
    """Rung 1 the article's markup, rung 2 oEmbed; nothing else is public without a key."""
    post = provider.parse_url(ref.url or "")
    if post is None:
        return no_url(provider.name, ref, "a YouTube video")
    fields = markup_fields(ref)
    media: list[MediaRef] = []
    rung = oembed_rung(ctx, provider.endpoints["oembed_endpoint"], post.url)
    if rung.data is not None:
        rung = _read_oembed(rung, rung.data, fields, media)
    elif rung.status in _STATUS_MEANING:
        meaning = _STATUS_MEANING[rung.status or 0]
        rung = reclassified(rung, rung.outcome, f"oEmbed: YouTube answered {rung.status} ({meaning})")
    elif rung.status == 200 and rung.body.strip().lower() in _PLAIN_ERRORS:
        rung = reclassified(
            rung,
            Outcome.AMBIGUOUS,
            f"oEmbed: 200 with the plain-text body {rung.body.strip()[:20]!r} instead of JSON"
            " (how YouTube answered for private videos in 2020)",
        )
    return assemble(provider.name, ref.post_id, ref.url, [rung], fields, media)


def _read_oembed(
    rung: RungResult, data: Mapping[str, object], fields: dict[str, Field], media: list[MediaRef]
) -> RungResult:
    if not (text_field(data, "title") or text_field(data, "author_name")):
        return reclassified(
            rung, Outcome.AMBIGUOUS, "oEmbed: 200 but neither title nor channel (YouTube always sends both)"
        )
    oembed_fields(data, fields, media)
    author_url = url_field(data, "author_url")
    relative = text_field(data, "author_url")
    if author_url is None and relative and _RELATIVE_PATH.fullmatch(relative):
        author_url = urljoin(SITE, relative)  # "/user/NAME" (2021)
        fields["author_url"] = Field(author_url, "oembed")
    handle = handle_in(author_url, "youtube.com", "@")
    if handle:
        fields["handle"] = Field(handle, "oembed")
    return rung
