"""What Meta's Graph API (Instagram, Facebook and Threads oEmbed) shares: reading its error answers.

Graph answers an oEmbed request it cannot serve with HTTP 400 and an `error` object
(`{"error": {"message", "type", "code", "is_transient"}}`, reference/providers.md sections 0.4, 1 and 5).
Its code says what happened: a rate limit (4, 17, 32, 613: try later), our credentials refused (102, 190,
10, 200: the provider is down for us, nothing is known about the post), or any other refusal to embed the
post (private, deleted, age-restricted, embedding disabled: gone as far as Graph is concerned).
"""

from __future__ import annotations

import json

from archiver.providers.common.ladder import RungResult
from archiver.records import Outcome

# Graph error codes meaning "slow down" (rate limits), and "your credentials are refused".
GRAPH_THROTTLE = frozenset({4, 17, 32, 613})
GRAPH_AUTH = frozenset({102, 190, 10, 200})


def graph_outcome(result: RungResult) -> RungResult:
    """Refine a Graph API error answer (400 with an `error` object) into what it means for the post."""
    if result.status != 400 or result.outcome is Outcome.OK:
        return result
    try:
        error = json.loads(result.body).get("error", {})
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    message = str(error.get("message", ""))[:200]
    if code in GRAPH_THROTTLE or error.get("is_transient") is True:
        outcome, reason = Outcome.TRANSIENT, f"oEmbed: Graph rate limit (#{code}) {message}"
    elif code in GRAPH_AUTH or "access token" in message.lower():
        outcome, reason = Outcome.PROVIDER_DOWN, f"oEmbed: Graph refused our credentials (#{code}) {message}"
    elif error:
        outcome, reason = Outcome.GONE, f"oEmbed: Graph cannot embed the post (#{code}) {message}"
    else:
        return result
    return RungResult(outcome, reason.strip(), result.status, result.response, body=result.body)
