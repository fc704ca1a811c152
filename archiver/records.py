"""Frozen records passed between stages.

scan:    Article  -> ScanResult(EmbedRef...)
capture: EmbedRef -> Capture(Field..., MediaRef..., RawResponse...)

Expected failures are carried as data (`Outcome`, `reason`), never raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class MarkupKind(StrEnum):
    """How an embed is present in an article (the `markup` key of `archive scan --json`)."""

    BLOCKQUOTE = "blockquote"
    IFRAME = "iframe"
    DIV = "div"
    LINK = "link"
    BARE_URL = "bare-url"
    BLOCK_COMMENT = "block-comment"
    OEMBED_TAG = "oembed-tag"
    AMP = "amp"
    SCRIPT = "script"
    RESIDUE = "residue"
    # Our own fallback card: the embed was rewritten to its archived copy (pipeline/fallback.py).
    ARCHIVED = "archived"
    # Where an embed stood and nothing of it is left: a lead-in over nothing, or an empty embed shell
    # (pipeline/scan/lost.py). No post: recovery from web archives may pair it with one.
    LOST = "lost"


class EmbedState(StrEnum):
    """An embed's liveness state (the `embeds.state` column; DESIGN.md section 6).

    new ──ok──► live ──gone──► suspect ──gone x N over >= span, no ok between──► broken
                 ▲   ◄──ok────────┘  ◄──────────────────ok─────────────────────────┘
                 └──ok── needs_review ◄──ambiguous (login walls, soft 404s, 401/403)
    """

    NEW = "new"
    LIVE = "live"
    SUSPECT = "suspect"
    BROKEN = "broken"
    NEEDS_REVIEW = "needs_review"


class JournalState(StrEnum):
    """A rewrite's state in the journal (the `rewrites.state` column).

        planned -> approved -> applying -> applied -> restoring -> restored
        planned or approved -> rejected     an editor said no (sticky)
        applied -> restored                 an editor removed the card by hand (sticky)
        any unit that cannot be done -> refused (the article is flagged)

    `applying` and `restoring` are the only states a crash can leave (the rewrite stage's recovery
    settles them).
    """

    PLANNED = "planned"
    APPROVED = "approved"
    APPLYING = "applying"
    APPLIED = "applied"
    REFUSED = "refused"
    REJECTED = "rejected"
    RESTORING = "restoring"
    RESTORED = "restored"


# `Rewrite.variant` of a journal row that puts a live post's original embed markup back (recovery from
# web archives) instead of a card (`block`, `inline`): the post being alive does not undo it.
PUT_BACK_VARIANT = "embed"


class Outcome(StrEnum):
    """What one capture or check says about a post (DESIGN.md section 6)."""

    OK = "ok"
    GONE = "gone"
    TRANSIENT = "transient"
    AMBIGUOUS = "ambiguous"
    PROVIDER_DOWN = "provider_down"


@dataclass(frozen=True, slots=True)
class Article:
    """One article as read from its source: the exact bytes, and their decoding."""

    key: str
    source: str
    data: bytes
    text: str
    encoding: str
    sha256: str
    # Its public address when the source knows it: canonical link, og:url, the source's url_template or
    # url_column, a WordPress post's link (what recovery from web archives looks up).
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """Byte offsets of an embed unit in `Article.data`; `end` is exclusive."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class EmbedRef:
    """One embed (or residue of one) found in one article.

    `post_id` and `url` are the provider's stable id and canonical URL; both are None for residue.
    The optional fields hold what the markup itself says about the post (capture rung 1).
    """

    provider: str
    post_id: str | None
    url: str | None
    markup: MarkupKind
    span: Span | None = None
    author_name: str | None = None
    handle: str | None = None
    author_url: str | None = None
    published: str | None = None
    caption: str | None = None
    # A lost spot only: the provider its text names, what it announces (video, post, tweet, photo), the
    # lead-in sentence, or the shell element ("blockquote.instagram-media").
    hint: str | None = None
    announces: str | None = None
    lead_in: str | None = None
    shell: str | None = None
    # A shell with no sentence before it, from the second such shell of the page on: its number among
    # them (the first has none), so that each has its own recovery key (`spot_anchor`).
    shell_number: int | None = None

    @property
    def is_residue(self) -> bool:
        return self.markup is MarkupKind.RESIDUE

    @property
    def is_lost(self) -> bool:
        return self.markup is MarkupKind.LOST

    def occurrence_fields(self) -> dict[str, str]:
        """What an occurrence row keeps of this ref (`Occurrence.found`): the markup's fields, and for a
        lost spot what its text says."""
        found = self.markup_fields()
        if self.is_lost:
            lost = {
                "hint": self.hint,
                "announces": self.announces,
                "lead_in": self.lead_in,
                "shell": self.shell,
                "shell_number": str(self.shell_number) if self.shell_number else None,
            }
            found.update({name: value for name, value in lost.items() if value})
        return found

    def markup_fields(self) -> dict[str, str]:
        """What the article's markup told us, by snapshot field name."""
        found = {
            "author_name": self.author_name,
            "handle": self.handle,
            "author_url": self.author_url,
            "published": self.published,
            "text": self.caption,
        }
        return {name: value for name, value in found.items() if value}

    def to_json(self) -> dict[str, Any]:
        """The `archive scan --json` shape of one embed."""
        out: dict[str, Any] = {
            "provider": self.provider,
            "id": self.post_id,
            "url": self.url,
            "markup": self.markup.value,
        }
        if self.is_residue:
            out["author"] = self.author_name
            out["handle"] = self.handle
            out["date"] = self.published
        if self.is_lost:
            out["hint"] = self.hint
            out["announces"] = self.announces
            out["lead_in"] = self.lead_in
            out["shell"] = self.shell
        if self.span is not None:
            out["span"] = [self.span.start, self.span.end]
        return out


def spot_anchor(markup: str, found: Mapping[str, Any]) -> str:
    """The text that tells a residue line or lost spot in its article (`Recovery.anchor`), from what its
    occurrence keeps (`EmbedRef.occurrence_fields`): the residue's "@handle", or the lost spot's
    lead-in sentence (for a shell: the last sentence before it). Byte spans move; this does not. A shell
    with no sentence before it has none ("", as rows made before numbering have it), or from the second
    such shell of the article on its number: "#2 blockquote.instagram-media"."""
    if markup == MarkupKind.RESIDUE.value:
        handle = found.get("handle")
        return f"@{handle}" if handle else ""
    lead_in = found.get("lead_in")
    if lead_in:
        return str(lead_in)
    number = found.get("shell_number")
    return f"#{number} {found.get('shell') or 'shell'}" if number else ""


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The embeds of one article, or the one-line reason it could not be scanned."""

    article: str
    embeds: tuple[EmbedRef, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Field:
    """One snapshot field and the capture rung that gave it (provenance)."""

    value: str
    rung: str


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A media file the post shows; `kind` is image, video or thumbnail."""

    kind: str
    url: str
    rung: str


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A provider response kept for provenance; secrets already redacted from `url`."""

    rung: str
    url: str
    status: int | None
    content_type: str | None
    body: str
    error: str | None = None
    # Response headers worth keeping (validators, dates, type), names lower-cased.
    headers: Mapping[str, str] = field(default_factory=dict)
    fetched_at: str | None = None


def _frozen(mapping: Mapping[str, Field]) -> Mapping[str, Field]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class Capture:
    """What climbing one provider's capture ladder produced for one post.

    `outcome` is the liveness verdict of this attempt; `fields` and `media` may be partly filled even
    when a later rung failed.
    """

    provider: str
    post_id: str | None
    url: str | None
    outcome: Outcome
    reason: str
    http_status: int | None = None
    fields: Mapping[str, Field] = field(default_factory=dict)
    media: tuple[MediaRef, ...] = ()
    responses: tuple[RawResponse, ...] = ()
    # Seconds the provider (Retry-After) or our own rate budget asks us to wait before trying again.
    retry_after: float | None = None
    # True when our own manners (a rate budget, a host's backoff) stopped the climb: nothing was
    # learned about the post, so this is no check of it; it is simply tried again later.
    deferred: bool = False
    # The post's lasting id and canonical URL, when the climb found the post under another name than
    # `post_id` (a Bluesky handle resolved to its DID): the archive keeps the post under this id.
    lasting_id: str | None = None
    lasting_url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", _frozen(self.fields))
