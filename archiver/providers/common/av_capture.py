"""Capture helpers shared by the video, audio and music providers (YouTube, Vimeo, Dailymotion, Spotify,
SoundCloud, TikTok, Apple Music and Apple Podcasts).

Their ladders are short: the article's markup, then one public source (oEmbed, or Apple's iTunes lookup
API), read a little further than `ladder.oembed_fields` reads it (descriptions, dates, handles). The
classification of each answer stays in `ladder`; these helpers only read fields and assemble the
`Capture`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from archiver.providers.common.base import CaptureContext, PostUrl, Provider
from archiver.providers.common.ladder import (
    RungResult,
    assemble,
    failed_rung,
    fetch,
    markup_fields,
    raw_response,
    reclassified,
    request_oembed,
    url_field,
)
from archiver.records import Capture, EmbedRef, Field, MediaRef, Outcome
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
        return no_url(provider, ref, what)
    fields = markup_fields(ref)
    media: list[MediaRef] = []
    rung = oembed_rung(provider, ctx, post.url)
    if rung.data is not None:
        rung = read(post, rung, rung.data, fields, media)
    return assemble(provider.name, ref.post_id, ref.url, [rung], fields, media)


def oembed_rung(
    provider: Provider, ctx: CaptureContext, post_url: str, params: Mapping[str, str] | None = None
) -> RungResult:
    """The provider's oEmbed endpoint (`oembed_endpoint`, configurable) asked about `post_url`; a token
    is sent only when `access_token_env` names one (none of these providers needs it)."""
    endpoint = ctx.url("oembed_endpoint", provider.endpoints["oembed_endpoint"])
    token = ctx.token()
    query = {**(params or {}), **({"access_token": token} if token else {})}
    return request_oembed(ctx, endpoint, post_url, query)


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


def iso_utc(value: object) -> str | None:
    """An ISO 8601 time with a zone, as UTC (`2017-06-23T07:00:00Z`); a bare date stays a date. Times
    without a zone are cut to their date: the day is what the source really says."""
    if not isinstance(value, str):
        return None
    text = value.strip()[:40]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.date().isoformat()
    try:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except OverflowError:  # "9999-12-31T23:59:59-05:00"
        return None


def handle_in(url: str | None, host: str, prefix: str = "") -> str | None:
    """The handle in a profile URL whose path is one segment (`/@name`, `/name`) on `host` or its
    subdomains; `prefix` is what the segment must start with ("@")."""
    if not url:
        return None
    parts = urlsplit(url)
    hostname = (parts.hostname or "").lower()
    if hostname != host and not hostname.endswith("." + host):
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) != 1 or not segments[0].startswith(prefix):
        return None
    handle = segments[0][len(prefix) :]
    return handle if _HANDLE.fullmatch(handle) else None


def no_url(provider: Provider, ref: EmbedRef, what: str) -> Capture:
    """The answer for an embed whose URL is not one of the provider's posts (nothing is asked)."""
    return Capture(provider.name, ref.post_id, ref.url, Outcome.AMBIGUOUS, f"not {what} URL: nothing to ask")


# ---- Apple's iTunes lookup API (Apple Music, Apple Podcasts) -------------------------------------------
# `GET {lookup_base}/lookup?id=ID&country=CC[&entity=podcastEpisode&limit=200]`, tokenless, documented with
# the iTunes Search API (performance-partners.apple.com/search-api): always HTTP 200 with
# `{"resultCount": N, "results": [...]}`. An item the storefront does not list is `resultCount: 0`, which
# does not say why (removed, or not sold in that country, or not yet): never gone, only ambiguous. The
# status codes are the API's own, not the item's: a 404 from it is no statement about the item either.


def itunes_lookup(ctx: CaptureContext, base: str, query: Mapping[str, str]) -> RungResult:
    """One lookup request, classified; `data` is the answer when it has the lookup API's shape."""
    url = f"{base.rstrip('/')}/lookup?{urlencode(query)}"
    result = fetch(ctx, url, "lookup", max_bytes=ctx.max_json_bytes, accept="application/json")
    response = raw_response("lookup", result, ctx.clock.now().isoformat())
    failed = failed_rung(ctx, result, response, "iTunes lookup")
    if failed is not None:
        if failed.outcome is Outcome.GONE:
            return reclassified(
                failed,
                Outcome.AMBIGUOUS,
                f"iTunes lookup: the API itself answered {failed.status} (an item it does not list is"
                " resultCount 0, never a status)",
            )
        return failed
    try:
        data = json.loads(result.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return RungResult(
            Outcome.AMBIGUOUS, "iTunes lookup: 200 but the body is not JSON", result.status, response
        )
    count = data.get("resultCount") if isinstance(data, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or not isinstance(data.get("results"), list):
        return RungResult(
            Outcome.AMBIGUOUS,
            "iTunes lookup: 200 but not the lookup API's answer (no resultCount and results)",
            result.status,
            response,
            body=response.body,
        )
    return RungResult(Outcome.OK, "iTunes lookup answered", result.status, response, data=data)


def lookup_results(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The result objects of a lookup answer (anything else in the list is ignored)."""
    results = data.get("results")
    return [item for item in results if isinstance(item, dict)] if isinstance(results, list) else []


def same_id(item: Mapping[str, Any], key: str, wanted: str) -> bool:
    """Whether the item's numeric id `key` is `wanted` (Apple sends numbers; strings are tolerated)."""
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str):
        return False
    return str(value).strip() == wanted


def storefront(url: str) -> str:
    """The two-letter country of an Apple URL's path (`music.apple.com/de/...`), "us" by default."""
    first = next((s for s in urlsplit(url).path.split("/") if s), "")
    return first.lower() if re.fullmatch(r"[A-Za-z]{2}", first) else "us"


def artwork(item: Mapping[str, Any]) -> str | None:
    """The largest artwork URL a lookup result names."""
    return (
        url_field(item, "artworkUrl600")
        or url_field(item, "artworkUrl100")
        or url_field(item, "artworkUrl60")
    )
