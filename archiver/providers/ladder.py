"""The capture ladder's shared rungs: one request, the response classified, the fields read.

Classification follows DESIGN.md section 6. A 200 is only `ok` when the body really is an oEmbed
object; anything else a provider would not send (a login wall, "Forbidden" with 200, truncated or
hostile JSON, a rich type without `html`) is `ambiguous`, never `ok`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from archiver.http import FetchErrorKind, FetchResult, redact_url
from archiver.providers.base import CaptureContext
from archiver.records import Outcome, RawResponse

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


def fetch(
    ctx: CaptureContext, url: str, rung: str, *, max_bytes: int, accept: str | None = None
) -> FetchResult:
    """One GET through the shared client, counted against this provider's budget for the host."""
    return ctx.http.get(url, max_bytes=max_bytes, accept=accept, budget_key=ctx.budget_key(url))


def raw_response(rung: str, result: FetchResult) -> RawResponse:
    body = result.text() if result.body else ""
    return RawResponse(
        rung=rung,
        url=redact_url(result.url),
        status=result.status,
        content_type=result.content_type or None,
        body=body[:MAX_STORED_BODY],
        error=result.error.message if result.error else None,
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
    url = f"{endpoint}{separator}{urlencode(query)}"
    result = fetch(ctx, url, "oembed", max_bytes=ctx.max_json_bytes, accept="application/json")
    response = raw_response("oembed", result)
    failure = classify_failure(result, "oEmbed")
    if failure is not None:
        return RungResult(
            *failure, result.status, response, body=response.body, retry_after=_retry_after(result)
        )
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


def _retry_after(result: FetchResult) -> float | None:
    if result.error is not None and result.error.kind is FetchErrorKind.BUDGET:
        return None  # the pipeline asks the budget itself
    return retry_after_seconds(result)


# When rungs disagree: anything alive means alive; a refusal of our credentials or a transient failure
# means we cannot tell; otherwise gone beats ambiguous (the provider's own "not found" is specific).
_PRECEDENCE = (Outcome.OK, Outcome.PROVIDER_DOWN, Outcome.TRANSIENT, Outcome.GONE, Outcome.AMBIGUOUS)


def combine(results: list[RungResult]) -> RungResult:
    """The one outcome of a ladder climb, with every rung's reason in its `reason`."""
    if not results:
        raise ValueError("combine() needs at least one rung result")
    rank = {outcome: i for i, outcome in enumerate(_PRECEDENCE)}
    decisive = min(results, key=lambda r: rank[r.outcome])
    reason = "; ".join(f"{r.response.rung} {r.outcome.value}: {r.reason}" for r in results)
    retry = max((r.retry_after for r in results if r.retry_after is not None), default=None)
    return RungResult(decisive.outcome, reason, decisive.status, decisive.response, retry_after=retry)
