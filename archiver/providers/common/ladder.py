"""The capture ladder's shared rungs: one request, the response classified, the fields read.

Classification follows DESIGN.md section 6. A 200 is only `ok` when the body really is an oEmbed
object; anything else a provider would not send (a login wall, "Forbidden" with 200, truncated or
hostile JSON, a rich type without `html`) is `ambiguous`, never `ok`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import urlencode, urlsplit

from archiver.http import FetchErrorKind, FetchResult, redact_url
from archiver.providers.common.context import CaptureContext
from archiver.records import Capture, EmbedRef, Field, MediaRef, Outcome, RawResponse

OEMBED_TYPES = frozenset({"photo", "video", "link", "rich"})
MAX_STORED_BODY = 64 * 1024
_MAX_FIELD_CHARS = 10_000


@dataclass(frozen=True, slots=True)
class RungResult:
    """What one rung of the ladder gave: its outcome, and the parsed body when there is one."""

    outcome: Outcome
    reason: str
    status: int | None
    response: RawResponse
    data: Mapping[str, Any] | None = None
    body: str = ""
    retry_after: float | None = None
    # Our own throttling (budget or host backoff) stopped this rung before it asked anything.
    deferred: bool = False


def fetch(
    ctx: CaptureContext, url: str, rung: str, *, max_bytes: int, accept: str | None = None
) -> FetchResult:
    """One GET through the shared client, counted against this provider's budget for the host.

    On a recapture the request carries the validators of the stored response for the same URL; a 304
    (alive and unchanged) is answered with the stored body, marked `x-archiver-revalidated`, so every
    rung reads it as it read the original and the snapshot's content hash stays the same.
    """
    previous = _revalidatable(ctx.previous.get(redact_url(url)))
    headers = {}
    if previous is not None:
        prior = previous.get("headers") or {}
        if prior.get("etag"):
            headers["If-None-Match"] = str(prior["etag"])
        if prior.get("last-modified"):
            headers["If-Modified-Since"] = str(prior["last-modified"])
    result = ctx.http.get(
        url, max_bytes=max_bytes, accept=accept, budget_key=ctx.budget_key(url), headers=headers
    )
    if previous is None or result.status != 304 or result.error is not None:
        return result
    replayed = {str(k): str(v) for k, v in (previous.get("headers") or {}).items()}
    replayed.update({k: v for k, v in result.headers.items() if k in ("etag", "last-modified", "date")})
    replayed["x-archiver-revalidated"] = "304 Not Modified"
    # The stored body is decoded text: it is replayed as UTF-8, whatever charset it first came in.
    media_type = str(previous.get("content_type") or "application/octet-stream")
    replayed["content-type"] = f"{media_type}; charset=utf-8"
    return FetchResult(
        result.url,
        200,
        MappingProxyType(replayed),
        str(previous.get("body") or "").encode("utf-8"),
        result.elapsed,
    )


def _revalidatable(previous: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """A stored response that can stand in for a 304: a complete 200 body with a validator."""
    if previous is None or previous.get("status") != 200 or previous.get("error"):
        return None
    prior = previous.get("headers") or {}
    body = str(previous.get("body") or "")
    if not (prior.get("etag") or prior.get("last-modified")) or len(body) >= MAX_STORED_BODY:
        return None  # a body cut at the storage cap cannot be replayed faithfully
    return previous


# Headers kept with a raw response: enough to replay it as a WARC record and to revalidate it.
KEPT_HEADERS = (
    "content-type",
    "etag",
    "last-modified",
    "date",
    "cache-control",
    "expires",
    "retry-after",
    "x-archiver-revalidated",
)


def raw_response(rung: str, result: FetchResult, fetched_at: str | None = None) -> RawResponse:
    body = result.text() if result.body else ""
    return RawResponse(
        rung=rung,
        url=redact_url(result.url),
        status=result.status,
        content_type=result.content_type or None,
        body=body[:MAX_STORED_BODY],
        error=result.error.message if result.error else None,
        headers={name: result.headers[name] for name in KEPT_HEADERS if name in result.headers},
        fetched_at=fetched_at,
    )


def classify_failure(result: FetchResult, what: str) -> tuple[Outcome, str] | None:
    """The outcome of a response that is not a 2xx success, or None when it is one."""
    host = urlsplit(result.url).hostname or "the provider"
    if result.error is not None:
        kind = result.error.kind
        if kind in (
            FetchErrorKind.TIMEOUT,
            FetchErrorKind.CONNECTION,
            FetchErrorKind.TRUNCATED,
            FetchErrorKind.BUDGET,
            FetchErrorKind.BACKOFF,
        ):
            return Outcome.TRANSIENT, result.error.message
        return Outcome.AMBIGUOUS, result.error.message
    status = result.status or 0
    if 200 <= status < 300 or status == 304:
        return None
    if status in (404, 410):
        return Outcome.GONE, f"{what}: {host} answered {status} (not found)"
    if status == 429:
        return Outcome.TRANSIENT, f"{what}: {host} answered 429 (rate limited)"
    if status >= 500:
        return Outcome.TRANSIENT, f"{what}: {host} answered {status} (server error)"
    if status in (401, 403):
        return Outcome.AMBIGUOUS, f"{what}: {host} answered {status} (not allowed to see it)"
    return Outcome.AMBIGUOUS, f"{what}: {host} answered {status}"


def retry_after_seconds(result: FetchResult) -> float | None:
    """Retry-After as seconds (delta form only; HTTP dates are rare from APIs and treated as absent)."""
    value = result.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(min(int(value), 6 * 3600))
    return None


def request_oembed(
    ctx: CaptureContext, endpoint: str, post_url: str, params: Mapping[str, str] | None = None
) -> RungResult:
    """GET the oEmbed endpoint for `post_url` and classify the answer."""
    query = {"url": post_url, "format": "json", **(params or {})}
    separator = "&" if urlsplit(endpoint).query else "?"
    return oembed_at(ctx, f"{endpoint}{separator}{urlencode(query)}")


def oembed_at(ctx: CaptureContext, url: str) -> RungResult:
    """GET a full oEmbed URL (with `url=` and `format=` in it) and classify the answer."""
    result = fetch(ctx, url, "oembed", max_bytes=ctx.max_json_bytes, accept="application/json")
    response = raw_response("oembed", result, ctx.clock.now().isoformat())
    failed = failed_rung(ctx, result, response, "oEmbed")
    if failed is not None:
        return failed
    data, problem = parse_oembed_body(result.body)
    if data is None:
        return RungResult(
            Outcome.AMBIGUOUS, f"oEmbed: 200 but {problem}", result.status, response, body=response.body
        )
    return RungResult(Outcome.OK, "oEmbed answered", result.status, response, data=data)


def parse_oembed_body(body: bytes) -> tuple[dict[str, Any] | None, str]:
    """A validated oEmbed object, or None and what is wrong with the body."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "the body is not UTF-8 JSON"
    except RecursionError:
        return None, "the JSON is nested too deeply"
    except ValueError:
        stripped = body.lstrip()[:200].lower()
        if stripped.startswith((b"<!doctype", b"<html", b"<")):
            return None, "the body is an HTML page (login wall or error page), not oEmbed JSON"
        return None, "the body is not valid JSON (truncated or not oEmbed)"
    if not isinstance(data, dict):
        return None, "the JSON is not an object"
    kind = data.get("type")
    if kind not in OEMBED_TYPES:
        return None, f"the JSON has no valid oEmbed type ({str(kind)[:40]!r})"
    if kind in ("rich", "video") and not (isinstance(data.get("html"), str) and data["html"].strip()):
        return None, f"the {kind} oEmbed JSON has no html"
    return data, ""


def text_field(data: Mapping[str, Any], key: str) -> str | None:
    """A string field of a provider body, or None when absent, empty or not a string."""
    value = data.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()[:_MAX_FIELD_CHARS]
    return None


def url_field(data: Mapping[str, Any], key: str) -> str | None:
    """An http(s) URL field, or None: other schemes (javascript:, data:) are dropped."""
    value = text_field(data, key)
    if value and urlsplit(value).scheme in ("http", "https") and urlsplit(value).hostname:
        return value
    return None


def iso_utc(value: object, *, keep_day: bool = False) -> str | None:
    """An ISO 8601 time with a zone (`2023-09-17T15:52:15.000Z`) as UTC (`2023-09-17T15:52:15Z`); None
    when it is not one. A time without a zone would be a guess: None, or with `keep_day` (sources whose
    dates stand for a day: release and upload dates) its date, a bare date kept as it is."""
    if not isinstance(value, str):
        return None
    text = value.strip()[:40].replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.date().isoformat() if keep_day else None
    try:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except OverflowError:  # "9999-12-31T23:59:59-05:00" is past the last year a datetime holds
        return None


def failed_rung(
    ctx: CaptureContext, result: FetchResult, response: RawResponse, what: str
) -> RungResult | None:
    """The rung result of a response that is not a success (None when it is one), with how long to
    wait: the provider's Retry-After, or what our own budget or the host's backoff asks."""
    failure = classify_failure(result, what)
    if failure is None:
        return None
    kind = result.error.kind if result.error is not None else None
    if kind is FetchErrorKind.BUDGET:
        key = ctx.budget_key(result.url)
        wait = ctx.http.budgets.retry_after(key) if key else None
        return RungResult(*failure, None, response, retry_after=wait, deferred=True)
    if kind is FetchErrorKind.BACKOFF:
        waiting = ctx.http.backoffs.until((urlsplit(result.url).hostname or "").lower())
        wait = (waiting[0] - ctx.clock.now()).total_seconds() if waiting else None
        return RungResult(*failure, None, response, retry_after=wait, deferred=True)
    return RungResult(
        *failure, result.status, response, body=response.body, retry_after=retry_after_seconds(result)
    )


# When rungs disagree: anything alive means alive; a refusal of our credentials or a transient failure
# means we cannot tell; otherwise gone beats ambiguous (the provider's own "not found" is specific).
_PRECEDENCE = (Outcome.OK, Outcome.PROVIDER_DOWN, Outcome.TRANSIENT, Outcome.GONE, Outcome.AMBIGUOUS)


def combine(results: list[RungResult]) -> RungResult:
    """The one outcome of a ladder climb, with every rung's reason in its `reason`."""
    if not results:
        raise ValueError("combine() needs at least one rung result")
    rank = {outcome: i for i, outcome in enumerate(_PRECEDENCE)}
    reason = "; ".join(f"{r.response.rung} {r.outcome.value}: {r.reason}" for r in results)
    retry = max((r.retry_after for r in results if r.retry_after is not None), default=None)
    deferred = [r for r in results if r.deferred]
    asked = [r for r in results if not r.deferred]
    if deferred and (not asked or any(r.outcome is Outcome.OK for r in asked)):
        # Cut short by our own manners with nothing against the post: climb again later, whole, rather
        # than keep a snapshot that lacks the rungs we did not ask.
        return RungResult(
            Outcome.TRANSIENT, reason, None, deferred[0].response, retry_after=retry, deferred=True
        )
    results = asked
    decisive = min(results, key=lambda r: rank[r.outcome])
    return RungResult(decisive.outcome, reason, decisive.status, decisive.response, retry_after=retry)


def oembed_fields(data: Mapping[str, Any], fields: dict[str, Field], media: list[MediaRef]) -> None:
    """The fields every oEmbed answer may carry (spec section 2.3.4), as rung "oembed"."""
    for name in ("author_name", "title"):
        value = text_field(data, name)
        if value:
            fields[name] = Field(value, "oembed")
    author_url = url_field(data, "author_url")
    if author_url:
        fields["author_url"] = Field(author_url, "oembed")
    thumbnail = url_field(data, "thumbnail_url")
    if thumbnail:
        media.append(MediaRef("thumbnail", thumbnail, "oembed"))
    if data.get("type") == "photo":
        image = url_field(data, "url")
        if image:
            media.append(MediaRef("image", image, "oembed"))


def oembed_rung(
    ctx: CaptureContext, endpoint: str, post_url: str, params: Mapping[str, str] | None = None
) -> RungResult:
    """The provider's oEmbed endpoint (`oembed_endpoint`, configurable; `endpoint` is its default) asked
    about `post_url`; a token is sent only when `access_token_env` names one."""
    token = ctx.token()
    query = {**(params or {}), **({"access_token": token} if token else {})}
    return request_oembed(ctx, ctx.url("oembed_endpoint", endpoint), post_url, query)


def oembed_capture(provider: str, endpoint: str, ref: EmbedRef, ctx: CaptureContext) -> Capture:
    """The default ladder (`Provider.capture`): what the article's markup said, then the provider's oEmbed
    endpoint (`endpoint` by default) asked about the embed's URL."""
    fields = markup_fields(ref)
    media: list[MediaRef] = []
    if not ref.url:
        return Capture(provider, ref.post_id, ref.url, Outcome.AMBIGUOUS, "no post URL to ask about")
    rung = oembed_rung(ctx, endpoint, ref.url)
    if rung.data is not None:
        oembed_fields(rung.data, fields, media)
    return assemble(provider, ref.post_id, ref.url, [rung], fields, media)


# ---- assembling a climb (shared by every provider ladder) ----------------------------------------

_PROFILE_NAME = re.compile(r"[A-Za-z0-9._-]{1,60}")


def markup_fields(ref: EmbedRef) -> dict[str, Field]:
    """Rung 1: what the article's own markup said about the post."""
    return {name: Field(value, "markup") for name, value in ref.markup_fields().items()}


def reclassified(result: RungResult, outcome: Outcome, reason: str) -> RungResult:
    """The same answer with another outcome (a 200 whose body is not what the provider sends)."""
    return RungResult(
        outcome,
        reason,
        result.status,
        result.response,
        data=result.data if outcome is Outcome.OK else None,
        body=result.body,
        retry_after=result.retry_after,
        deferred=result.deferred,
    )


def no_url(provider: str, ref: EmbedRef, what: str) -> Capture:
    """The answer for an embed whose URL is not one of the provider's posts (`what`: "a tweet"): nothing
    is asked."""
    return Capture(provider, ref.post_id, ref.url, Outcome.AMBIGUOUS, f"not {what} URL: nothing to ask")


def add_media(media: list[MediaRef], found: list[MediaRef]) -> None:
    """Append the media of `found` whose URL `media` does not hold yet, in order."""
    known = {m.url for m in media}
    for ref in found:
        if ref.url not in known:
            known.add(ref.url)
            media.append(ref)


def assemble(
    provider: str,
    post_id: str | None,
    url: str | None,
    rungs: list[RungResult],
    fields: dict[str, Field],
    media: list[MediaRef],
    before: tuple[RungResult, ...] = (),
) -> Capture:
    """The Capture of a climb: one outcome for `rungs`, every raw response kept. `before` are rungs
    that only led to the others (a page that named its oEmbed endpoint): their responses are kept and
    their reasons told, but they are no evidence about the post."""
    overall = combine(rungs)
    told = "; ".join(f"{r.response.rung} {r.outcome.value}: {r.reason}" for r in before)
    return Capture(
        provider=provider,
        post_id=post_id,
        url=url,
        outcome=overall.outcome,
        reason=f"{told}; {overall.reason}" if told else overall.reason,
        http_status=overall.status,
        fields=fields,
        media=tuple(media),
        responses=tuple(r.response for r in (*before, *rungs)),
        retry_after=overall.retry_after,
        deferred=overall.deferred,
    )


def handle_from(author_url: str | None, on_host: Callable[[str], bool]) -> str | None:
    """The account name of a profile URL with one path segment (`https://giphy.com/NAME`), when its
    host is the provider's (`on_host`); None otherwise."""
    if not author_url:
        return None
    parts = urlsplit(author_url)
    host = (parts.hostname or "").lower()
    segments = [s for s in parts.path.split("/") if s]
    if not on_host(host) or len(segments) != 1 or not _PROFILE_NAME.fullmatch(segments[0]):
        return None
    return segments[0]
