"""TikTok: videos and photo posts (reference/providers.md section 3).

Detection: `blockquote.tiktok-embed` with its `cite` and `data-video-id` (plus the `embed.js` loader,
part of the unit), video and photo URLs `tiktok.com/@user/video/ID`, the iframes `tiktok.com/embed/v2/ID`,
`tiktok.com/embed/ID` and the Embed Player `tiktok.com/player/v1/ID`, AMP `amp-tiktok` (its `data-src`
is the id or a video URL). Bare URLs, Gutenberg blocks and CKEditor tags are the scanner's generic forms.

Not embeds: profile and follow links (`tiktok.com/@user`), tags, music pages, LIVE rooms
(`embed/live/@user`), and short links (`vm.tiktok.com/...`, `tiktok.com/t/...`) that need a redirect to
name a video.

Id: the numeric video id (the `@user` in a URL can change, the id cannot). URL:
`https://www.tiktok.com/@user/video/ID` when the markup names the user, else
`https://www.tiktok.com/embed/v2/ID` (a public page for any embeddable video).

Capture: the blockquote's own fallback text, then oEmbed (`www.tiktok.com/oembed`, no token); see the
capture section at the end.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.providers.common.av_capture import handle_in, markup_then_oembed
from archiver.providers.common.base import MarkupFields, PostUrl, Provider, Sighting, has_class, node_text
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import RungResult, reclassified, text_field, url_field
from archiver.providers.common.urlparts import split_url
from archiver.records import Capture, EmbedRef, Field, MarkupKind, MediaRef, Outcome
from archiver.sanitize import clean_html, plain_text

CANONICAL_BASE = "https://www.tiktok.com"
# Hosts that serve video pages and embeds (not vm./vt. short links).
PAGE_HOSTS = frozenset({"tiktok.com", "www.tiktok.com", "m.tiktok.com", "tiktokv.com", "www.tiktokv.com"})

_VIDEO_ID = re.compile(r"\d{8,25}")
_USER = re.compile(r"@(?P<user>[\w.-]{1,64})")
_OLD_MOBILE = re.compile(r"(?P<id>\d{8,25})\.html")


class TikTok(Provider):
    name = "tiktok"
    title = "TikTok"
    hosts = frozenset({"tiktok.com", "tiktokv.com"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"oembed_endpoint": "https://www.tiktok.com/oembed"}
    )
    recognises = (
        "video and photo post URLs on tiktok.com (tiktok.com/@user/video/ID, /share/video/ID,"
        " m.tiktok.com/v/ID.html)",
        "the official embed blockquote.tiktok-embed (cite, data-video-id) with its embed.js loader",
        "the embed iframes tiktok.com/embed/v2/ID and the Embed Player tiktok.com/player/v1/ID,"
        " AMP amp-tiktok",
        "not: profile and follow links (tiktok.com/@user), tags, music, LIVE rooms,"
        " vm.tiktok.com short links",
    )
    examples = (
        "https://www.tiktok.com/@a3noticias/video/6806030056956251397",
        "https://www.tiktok.com/@shmemmmy/video/7005293332821822726?is_from_webapp=1&sender_device=pc",
        "https://tiktok.com/@scout2015/video/6718335390845095173",
        "https://www.tiktok.com/@scout2015/photo/7215448310284782890",
        "https://www.tiktok.com/embed/v2/6718335390845095173",
        "https://www.tiktok.com/embed/6718335390845095173",
        "https://www.tiktok.com/player/v1/6718335390845095173?music_info=1&description=1",
        "https://www.tiktok.com/share/video/6718335390845095173",
        "https://m.tiktok.com/v/6718335390845095173.html",
        "//www.tiktok.com/@user.name_1/video/6718335390845095173",
    )
    not_examples = (
        "https://www.tiktok.com/@scout2015",
        "https://www.tiktok.com/@kulu.media?lang=de",
        "https://www.tiktok.com/tag/halloween",
        "https://www.tiktok.com/music/original-sound-7005293191817644806",
        "https://www.tiktok.com/embed/live/@scout2015?embed_domain=example.com",
        "https://vm.tiktok.com/ZMeAbCdEf/",
        "https://www.tiktok.com/t/ZTRabcdef/",
        "https://www.tiktok.com/embed.js",
        "https://www.tiktok.com/@scout2015/video/",
        "https://www.tiktok.com.evil.example/@a/video/6718335390845095173",
    )

    markers = ("amp-tiktok",)  # AMP may give only the id
    stem = "tiktok"
    element_tags = ("blockquote", "amp-tiktok")
    shell_classes = ("tiktok-embed",)
    loader_scripts = ("tiktok.com/embed.js",)

    # ---- URLs --------------------------------------------------------------------------------------
    def parse_url(self, url: str) -> PostUrl | None:
        parts = split_url(url)
        if parts is None or parts.host not in PAGE_HOSTS:
            return None
        segments = list(parts.segments)
        if len(segments) < 2:
            return None
        first, second = segments[0], segments[1]
        user = _USER.fullmatch(first)
        if user is not None and len(segments) >= 3 and second in ("video", "photo"):
            return self.post(segments[2], user.group("user"), second)
        if first == "embed" and second == "v2" and len(segments) >= 3:
            return self.post(segments[2])
        if first == "embed" or (first == "share" and second == "video"):
            return self.post(segments[-1] if first == "share" else second)
        if first == "player" and second == "v1" and len(segments) >= 3:
            return self.post(segments[2])
        if first == "v" and parts.host == "m.tiktok.com":
            mobile = _OLD_MOBILE.fullmatch(second)
            return self.post(mobile.group("id")) if mobile else None
        return None

    def post(self, video_id: str, user: str | None = None, kind: str = "video") -> PostUrl | None:
        """The post with this id (a URL naming the user when known)."""
        video_id = video_id.strip()
        if not _VIDEO_ID.fullmatch(video_id):
            return None
        if user:
            return PostUrl(self.name, video_id, f"{CANONICAL_BASE}/@{user}/{kind}/{video_id}")
        return PostUrl(self.name, video_id, f"{CANONICAL_BASE}/embed/v2/{video_id}")

    # ---- markup ------------------------------------------------------------------------------------
    def read_element(self, node: LexborNode) -> Sighting | None:
        if node.tag == "amp-tiktok":
            source = (node.attrs.get("data-src") or "").strip()
            post = self.post(source) if _VIDEO_ID.fullmatch(source) else self.parse_url(source)
            return Sighting(self.name, post, MarkupKind.AMP, node) if post is not None else None
        if node.tag == "blockquote" and has_class(node, "tiktok-embed"):
            return self._read_blockquote(node)
        return None

    def _read_blockquote(self, node: LexborNode) -> Sighting | None:
        cited = self.parse_url(node.attrs.get("cite") or "")
        video_id = (node.attrs.get("data-video-id") or "").strip()
        if _VIDEO_ID.fullmatch(video_id) and (cited is None or cited.post_id != video_id):
            post = self.post(video_id)  # the id attribute is what embed.js loads
        else:
            post = cited
        if post is None:
            return None
        return Sighting(self.name, post, MarkupKind.BLOCKQUOTE, node, self._blockquote_fields(node))

    def _blockquote_fields(self, node: LexborNode) -> MarkupFields:
        """Handle, profile URL and caption of the embed's fallback: `<section><a title="@user">` then
        `<p>CAPTION</p>` (the sound line after it is not caption)."""
        handle = author_url = None
        for link in node.css("a"):
            text = node_text(link)
            if text.startswith("@") and _USER.fullmatch(text):
                handle = text[1:]
                href = split_url(link.attrs.get("href") or "")
                if href is not None and href.host in PAGE_HOSTS:
                    author_url = f"{CANONICAL_BASE}/@{handle}"
                break
        paragraph = node.css_first("p")
        caption = node_text(paragraph) if paragraph is not None else ""
        return MarkupFields(handle=handle, author_url=author_url, caption=caption or None)

    # ---- capture ------------------------------------------------------------------------------------
    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        """Markup, then oEmbed: caption, author, handle, thumbnail (`capture_tiktok`)."""
        return capture_tiktok(self, ref, ctx)


# ---- capture ------------------------------------------------------------------------------------------
# oEmbed (reference/providers.md section 3), tokenless: `title` is the caption (plain text), author_name
# the display name, author_unique_id the handle (2024; the 2022 answer lacks it, so the handle is read
# from author_url `/@handle`), thumbnail_url a signed CDN URL that expires in about two days (the pipeline
# downloads it at capture time). The `<p>` of the blockquote in `html` is the caption with its hashtag
# links: kept, sanitised, as text_html.
# Errors: no recorded source documents them. 404 is gone (the oEmbed spec's "no response for this url");
# the often-reported 400 with a JSON {code, message} for removed or private videos is unverified, so it
# stays ambiguous, as does any 200 that is not oEmbed JSON (a `{"code": ..., "message": ...}` body).
_HANDLE = re.compile(r"[\w.-]{1,64}")


def capture_tiktok(provider: TikTok, ref: EmbedRef, ctx: CaptureContext) -> Capture:
    """Rung 1 the embed's fallback text (handle, caption), rung 2 oEmbed."""
    return markup_then_oembed(provider, ref, ctx, "a TikTok video", _read_oembed)


def _read_oembed(
    post: PostUrl,
    rung: RungResult,
    data: Mapping[str, object],
    fields: dict[str, Field],
    media: list[MediaRef],
) -> RungResult:
    shown_id, caption_html = _embed_blockquote(data.get("html"))
    if shown_id and shown_id != post.post_id:
        return reclassified(
            rung, Outcome.AMBIGUOUS, f"oEmbed: 200 but its html embeds another video ({shown_id[:30]})"
        )
    author_name = text_field(data, "author_name")
    if author_name:
        fields["author_name"] = Field(author_name, "oembed")
    author_url = url_field(data, "author_url")
    if author_url:
        fields["author_url"] = Field(author_url, "oembed")
    unique_id = text_field(data, "author_unique_id")
    if not (unique_id and _HANDLE.fullmatch(unique_id)):
        unique_id = handle_in(author_url, "tiktok.com", "@")  # the 2022 answer has no author_unique_id
    handle = unique_id
    if handle:
        fields["handle"] = Field(handle, "oembed")
    caption = text_field(data, "title")
    html = clean_html(caption_html) if caption_html else ""
    if html:
        fields["text_html"] = Field(html, "oembed")
    text = caption or (plain_text(caption_html) if caption_html else "")
    if text:
        fields["text"] = Field(text, "oembed")
    thumbnail = url_field(data, "thumbnail_url")
    if thumbnail:
        media.append(MediaRef("thumbnail", thumbnail, "oembed"))
    return rung


def _embed_blockquote(html: object) -> tuple[str, str | None]:
    """The video id and the caption `<p>` (inner HTML) of the `blockquote.tiktok-embed` in an oEmbed
    `html`; ("", None) when there is none."""
    if not isinstance(html, str):
        return "", None
    tree = LexborHTMLParser(html[:200_000])
    for node in tree.css("blockquote"):
        if has_class(node, "tiktok-embed"):
            paragraph = node.css_first("p")
            caption = paragraph.inner_html if paragraph is not None else None
            return (node.attrs.get("data-video-id") or "").strip(), caption or None
    return "", None
