"""Capture helpers shared by the video, audio and music providers (YouTube, Vimeo, Dailymotion, Spotify,
SoundCloud, TikTok).

Their ladders are short: the article's markup, then oEmbed (Apple's two ask the iTunes lookup API instead:
`itunes`), read a little further than `ladder.oembed_fields` reads it (descriptions, dates, handles). The
classification of each answer stays in `ladder`; these helpers only read fields and assemble the
`Capture`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from archiver.providers.common.base import PostUrl, Provider
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import RungResult, assemble, markup_fields, no_url, oembed_rung
from archiver.providers.common.urlparts import on_host
from archiver.records import Capture, EmbedRef, Field, MediaRef
from archiver.sanitize import clean_html, plain_text

# Markup, or character references, in a provider's text: then it is HTML, not plain text.
_LOOKS_LIKE_HTML = re.compile(r"</?[a-zA-Z][^<>]{0,300}>|&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_HANDLE = re.compile(r"[\w.-]{1,100}")

# Reads a provider's oEmbed answer (the post asked about, the rung, its JSON) into the fields and media of
# the capture; returns the rung, reclassified when the answer does not show the post.
OembedReader = Callable[
    [PostUrl, RungResult, Mapping[str, object], dict[str, Field], list[MediaRef]], RungResult
]


def markup_then_oembed(
    provider: Provider, ref: EmbedRef, ctx: CaptureContext, what: str, read: OembedReader
) -> Capture:
    """The two-rung ladder: the article's markup, then oEmbed asked about the post's canonical URL and
    read by `read`. An embed whose URL is not one of the provider's posts (`what`) asks nothing."""
    post = provider.parse_url(ref.url or "")
    if post is None:
        return no_url(provider.name, ref, what)
    fields = markup_fields(ref)
    media: list[MediaRef] = []
    rung = oembed_rung(ctx, provider.endpoints["oembed_endpoint"], post.url)
    if rung.data is not None:
        rung = read(post, rung, rung.data, fields, media)
    return assemble(provider.name, ref.post_id, ref.url, [rung], fields, media)


def caption_fields(value: str | None, rung: str, fields: dict[str, Field]) -> None:
    """A caption or description as `text` (plain) and, when the provider sent HTML, `text_html`
    (sanitised). Plain text is kept as it is, line breaks included."""
    if not value:
        return
    if _LOOKS_LIKE_HTML.search(value):
        text = plain_text(value)
        html = clean_html(value)
        if html:
            fields["text_html"] = Field(html, rung)
    else:
        lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        text = "\n".join(line.rstrip() for line in lines).strip()
    if text:
        fields["text"] = Field(text, rung)


def handle_in(url: str | None, host: str, prefix: str = "") -> str | None:
    """The handle in a profile URL whose path is one segment (`/@name`, `/name`) on `host` or its
    subdomains; `prefix` is what the segment must start with ("@")."""
    if not url:
        return None
    parts = urlsplit(url)
    hostname = (parts.hostname or "").lower()
    if not on_host(hostname, host):
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) != 1 or not segments[0].startswith(prefix):
        return None
    handle = segments[0][len(prefix) :]
    return handle if _HANDLE.fullmatch(handle) else None
