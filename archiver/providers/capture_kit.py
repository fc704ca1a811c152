"""Small pieces the oEmbed-first ladders share (Facebook aside: Pinterest, Imgur, Giphy, generic
oEmbed discovery): one `Capture` assembled from the rungs climbed, an answer classified again after a
provider-specific reading of its body, and a handle read out of a profile URL.

Classification itself stays in `ladder` (status codes, transport faults, bodies that are not oEmbed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from archiver.providers.ladder import RungResult, combine
from archiver.records import Capture, EmbedRef, Field, MediaRef, Outcome

_HANDLE = re.compile(r"[A-Za-z0-9._-]{1,60}")


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
    if not on_host(host) or len(segments) != 1 or not _HANDLE.fullmatch(segments[0]):
        return None
    return segments[0]
