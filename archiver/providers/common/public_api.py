"""Public read-only JSON sources as capture rungs (DESIGN.md section 5, rung 3): the X syndication API,
the Bluesky AppView, a Mastodon instance's statuses API, Reddit's `.json` of a post.

`request_json` asks and classifies the way `ladder.request_oembed` does: a failure status or transport
fault through `ladder.failed_rung` (its body kept, for the provider to read the error it names); a 200
is only `ok` when its body is JSON of the expected kind (an object, or for Reddit a list). HTML (a login
wall), truncated, hostile or too deeply nested JSON is `ambiguous`. What the JSON means for the post (a
tombstone, an empty list, "[deleted]") is the provider's to read.

Field helpers: `put` sets a field from a rung; `fill` sets it only when no network rung gave it yet
(what the article's markup said is always replaced by what the provider says now).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import RungResult, failed_rung, fetch, raw_response
from archiver.records import Field, Outcome

# How much of a provider's own error message goes into a reason.
_MESSAGE_CHARS = 200


def request_json(
    ctx: CaptureContext, url: str, rung: str, what: str, *, expect: type = dict
) -> tuple[RungResult, Any]:
    """GET `url` (JSON), classified; the parsed body (of type `expect`) when the answer is `ok`."""
    result = fetch(ctx, url, rung, max_bytes=ctx.max_json_bytes, accept="application/json")
    response = raw_response(rung, result, ctx.clock.now().isoformat())
    failed = failed_rung(ctx, result, response, what)
    if failed is not None:
        return failed, None
    parsed, problem = parse_json(result.body, expect)
    if problem:
        return (
            RungResult(
                Outcome.AMBIGUOUS, f"{what}: 200 but {problem}", result.status, response, body=response.body
            ),
            None,
        )
    return RungResult(Outcome.OK, f"{what} answered", result.status, response, body=response.body), parsed


def parse_json(body: bytes, expect: type = dict) -> tuple[Any, str]:
    """The JSON of `body` when it is of type `expect`, else None and what is wrong with it."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None, "the body is not UTF-8 JSON"
    except RecursionError:
        return None, "the JSON is nested too deeply"
    except ValueError:
        if body.lstrip()[:1] == b"<":
            return None, "the body is an HTML page (login wall or error page), not JSON"
        return None, "the body is not valid JSON (truncated or not the API's)"
    if not isinstance(data, expect):
        kind = "an object" if expect is dict else "a list" if expect is list else expect.__name__
        return None, f"the JSON is not {kind}"
    return data, ""


def error_object(body: str) -> Mapping[str, Any]:
    """The JSON object of an error body, or {} when the body is not one."""
    data, _ = parse_json(body.encode("utf-8"))
    return data if isinstance(data, dict) else {}


def one_line(text: object, limit: int = _MESSAGE_CHARS) -> str:
    """A provider's message as one short line (whitespace folded, clipped)."""
    return " ".join(str(text).split())[:limit]


def obj(data: object, key: str) -> Mapping[str, Any]:
    """The object under `key`, or {} when `data` is not an object or the value is not one."""
    value = data.get(key) if isinstance(data, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def items(data: object, key: str) -> list[Mapping[str, Any]]:
    """The objects of the list under `key` (other elements skipped), or []."""
    value = data.get(key) if isinstance(data, Mapping) else None
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def put(fields: dict[str, Field], name: str, value: str | None, rung: str) -> None:
    """Set a field from this rung (a later, more precise source wins)."""
    if value:
        fields[name] = Field(value, rung)


def fill(fields: dict[str, Field], name: str, value: str | None, rung: str) -> None:
    """Set a field unless a network rung already gave it (markup values are replaced)."""
    if value and (name not in fields or fields[name].rung == "markup"):
        fields[name] = Field(value, rung)


def epoch_utc(value: object) -> str | None:
    """Seconds since the epoch (Reddit's `created_utc`) as UTC ISO 8601, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    if not 0 < value < 32_503_680_000:  # before the year 3000
        return None
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
