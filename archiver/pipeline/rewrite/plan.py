"""Plans of stored articles: what rewriting one article would change, worked out and verified, with
nothing written (`plan_article`). `ArticlePlan` carries the bytes before and after, the changes, what
was refused (the article is flagged) and what was skipped (already archived, or an editor said no).

A plan is made from the article as its source holds it now; when those bytes are not the last scan's,
the article is scanned again first, so spans always refer to the current bytes.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from archiver.errors import ArchiverError
from archiver.pipeline.rewrite import splice
from archiver.pipeline.rewrite.deps import Mode, RewriteDeps
from archiver.pipeline.rewrite.fallback import CardData, Variant
from archiver.pipeline.rewrite.states import AUTO_RESTORER, BY_HAND
from archiver.pipeline.rewrite.targets import Target, rewrite_bytes
from archiver.pipeline.scan import scan_article
from archiver.pipeline.scan.archived import archived_cards
from archiver.pipeline.scan.offsets import byte_offsets
from archiver.records import PUT_BACK_VARIANT, JournalState, Span
from archiver.records import Article as ArticleRecord
from archiver.storage import queries
from archiver.storage.models import Article, Embed, Rewrite

_BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """One rewrite of a plan: which embed, where (in the bytes before), the bytes out and in."""

    embed_id: int | None
    provider: str
    post_id: str
    span: Span
    variant: Variant
    snapshot_version: int
    original: bytes
    replacement: bytes
    card_start: int
    note: str | None = None
    review: bool = False
    # The replacement is the post's original embed markup (`putback`), not a card.
    put_back: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "embed": self.embed_id,
            "provider": self.provider,
            "id": self.post_id,
            "span": [self.span.start, self.span.end],
            "variant": self.variant,
            "version": self.snapshot_version,
        }
        if self.note is not None:
            out["note"] = self.note
        if self.review:
            out["review"] = True
        if self.put_back:
            out["put_back"] = True
        return out


@dataclass(frozen=True, slots=True)
class NotPlanned:
    """An embed of the article that is not rewritten, and why (refused, or nothing to do)."""

    embed_id: int | None
    provider: str
    post_id: str
    span: Span | None
    reason: str
    original: bytes = b""
    replacement: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "embed": self.embed_id,
            "provider": self.provider,
            "id": self.post_id,
            "span": [self.span.start, self.span.end] if self.span else None,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ArticlePlan:
    """What a rewrite of one article would do: nothing is written by planning."""

    article_id: int
    key: str
    source: str
    mode: Mode
    encoding: str
    before: bytes
    after: bytes
    changes: tuple[PlannedChange, ...] = ()
    # Rewrites that cannot be done (the article is flagged): verification failed, no snapshot...
    refused: tuple[NotPlanned, ...] = ()
    # Nothing to do: already archived, restored or rejected by an editor.
    skipped: tuple[NotPlanned, ...] = ()
    error: str | None = None
    # Worked out from `before` and `after` when not given.
    before_sha256: str = ""
    after_sha256: str = ""

    def __post_init__(self) -> None:
        if not self.before_sha256:
            object.__setattr__(self, "before_sha256", hashlib.sha256(self.before).hexdigest())
        if not self.after_sha256:
            same = self.after is self.before or self.after == self.before
            digest = self.before_sha256 if same else hashlib.sha256(self.after).hexdigest()
            object.__setattr__(self, "after_sha256", digest)

    def diff(self, context: int = 3) -> str:
        """A unified diff of the article before and after (empty when nothing changes)."""
        if self.before == self.after:
            return ""
        old = self.before.decode(self.encoding, "replace").splitlines(keepends=True)
        new = self.after.decode(self.encoding, "replace").splitlines(keepends=True)
        lines = difflib.unified_diff(old, new, f"a/{self.key}", f"b/{self.key}", n=context)
        return "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "article": self.key,
            "source": self.source,
            "mode": self.mode,
            "changes": [c.to_json() for c in self.changes],
            "refused": [r.to_json() for r in self.refused],
            "skipped": [s.to_json() for s in self.skipped],
        }
        if self.error is not None:
            out["error"] = self.error
        return out


def plan_article(
    session: Session, deps: RewriteDeps, article: Article, extra: Sequence[Target] = ()
) -> ArticlePlan:
    """Plan the rewrite of one article from its broken embeds and their latest snapshots.

    The article is read from its source as it is now. When its bytes are not those of the last scan,
    it is scanned again first (the occurrences are updated in `session`; the caller commits), so spans
    always refer to the current bytes. `extra` adds targets found otherwise (residue matched to a
    snapshot; `RewriteDeps.extra_targets` when not given). Units that already hold our card are
    skipped. Only `session`'s rows change.
    """
    return plan_with_journal(session, deps, article, extra)[0]


def plan_with_journal(
    session: Session, deps: RewriteDeps, article: Article, extra: Sequence[Target] = ()
) -> tuple[ArticlePlan, list[Rewrite]]:
    """`plan_article`, and the article's journal rows (oldest first) as they are now."""
    source = article.source.name
    mode = deps.policy(source).mode
    store = deps.store(source)
    try:
        current = store.read(article.key)
    except ArchiverError as exc:  # unreadable, or its source (a sql database) is not reachable
        return ArticlePlan(article.id, article.key, source, mode, "utf-8", b"", b"", error=str(exc)), []
    if current.sha256 != article.content_sha256:
        result = scan_article(current, deps.providers)
        if result.error is not None:
            return _plan_error(article, source, mode, current, result.error), []
        queries.save_scan(session, article.source, current, result.embeds, deps.clock.now())
        session.refresh(article, ["occurrences"])
    journal = queries.article_rewrites(session, article.id)
    _settle_removed_cards(deps, [row for row in journal if row.state == JournalState.APPLIED], current)
    cards = _card_spans(current)
    # An editor's no is kept per spot and per kind: a rejected put-back of the original markup does not
    # hold back the card the spot needs once the post is gone, nor a rejected card a later put-back.
    sticky = {
        (row.embed_id, row.original_bytes, row.variant == PUT_BACK_VARIANT)
        for row in journal
        if row.state == JournalState.REJECTED
        or (row.state == JournalState.RESTORED and (row.restored_by or "") != AUTO_RESTORER)
    }
    candidates = queries.broken_occurrences(session, article.id, _BROKEN)
    snapshots = queries.latest_snapshots(session, {embed.id for _, embed in candidates})
    targets: list[Target] = []
    skipped: list[NotPlanned] = []
    refused: list[NotPlanned] = []
    for occurrence, embed in candidates:
        if occurrence.span_start is None or occurrence.span_end is None:
            continue
        span = Span(occurrence.span_start, occurrence.span_end)
        original = current.data[span.start : span.end]
        if any(start < span.end and span.start < end for start, end in cards):
            skipped.append(_not_planned(embed, span, "already archived (the unit holds our card)", original))
            continue
        if (embed.id, original, False) in sticky:
            skipped.append(
                _not_planned(embed, span, "restored or rejected by an editor: not rewritten again", original)
            )
            continue
        snapshot = snapshots.get(embed.id)
        if snapshot is None:
            skipped.append(_not_planned(embed, span, "no snapshot of the post to show yet", original))
            continue
        card = CardData.from_snapshot(embed, snapshot, deps.settings.rewrite)
        targets.append(Target(span, card, embed.id))
    if not extra and deps.extra_targets is not None:
        extra = deps.extra_targets(session, article)
    taken = [target.span for target in targets]
    for target in extra:
        if any(_meets(target.span, s.start, s.end) for s in taken):
            continue  # an embed's own unit wins over residue or a recovered spot found around it
        if any(_meets(target.span, start, end) for start, end in cards):
            continue  # our card is there (an insertion's card starts where it would go)
        if (target.embed_id, current.data[target.span.start : target.span.end], target.put_back) in sticky:
            continue
        targets.append(target)
    spliced = rewrite_bytes(current, targets, deps.renderer)
    changes = tuple(
        PlannedChange(
            embed_id=change.target.embed_id,
            provider=change.target.card.provider,
            post_id=change.target.card.post_id,
            span=change.target.span,
            variant=change.variant,
            snapshot_version=change.target.card.version,
            original=change.edit.old,
            replacement=change.edit.new,
            card_start=change.card_start,
            note=change.target.note,
            review=change.target.review,
            put_back=change.target.put_back,
        )
        for change in spliced.changes
    )
    for target, reason in spliced.refused:
        refused.append(
            NotPlanned(
                target.embed_id,
                target.card.provider,
                target.card.post_id,
                target.span,
                reason,
                current.data[target.span.start : target.span.end],
            )
        )
    plan = ArticlePlan(
        article.id,
        article.key,
        source,
        mode,
        current.encoding,
        current.data,
        spliced.after,
        changes,
        tuple(refused),
        tuple(skipped),
        before_sha256=current.sha256,
    )
    return plan, journal


def _meets(span: Span, start: int, end: int) -> bool:
    """Whether `span` overlaps `start:end`; an insertion (an empty span) meets a span it touches."""
    if span.start == span.end:
        return start <= span.start <= end
    return start < span.end and span.start < end


def _plan_error(article: Article, source: str, mode: Mode, current: ArticleRecord, error: str) -> ArticlePlan:
    return ArticlePlan(
        article.id,
        article.key,
        source,
        mode,
        current.encoding,
        current.data,
        current.data,
        error=error,
        before_sha256=current.sha256,
    )


def _not_planned(embed: Embed, span: Span, reason: str, original: bytes) -> NotPlanned:
    return NotPlanned(embed.id, embed.provider, embed.post_id, span, reason, original)


def _card_spans(article: ArticleRecord) -> list[tuple[int, int]]:
    """Byte spans of our cards in the article (a card whose end is lost reaches to its marker)."""
    cards = archived_cards(article.text)
    if not cards:
        return []
    offsets = [c.start for c in cards] + [c.end if c.end is not None else c.start + 1 for c in cards]
    mapped = byte_offsets(article.text, article.data, article.encoding, offsets) or {}
    spans = []
    for card in cards:
        end = card.end if card.end is not None else card.start + 1
        if card.start in mapped and end in mapped:
            spans.append((mapped[card.start], mapped[end]))
    return spans


def _settle_removed_cards(deps: RewriteDeps, applied: Sequence[Rewrite], current: ArticleRecord) -> None:
    """Applied rows whose card is no longer in the article were undone by hand: restored, sticky."""
    for row in applied:
        card = row.replacement_bytes or b""
        if card and splice.locate(current.data, card, row.card_start or 0) is None:
            row.state = JournalState.RESTORED
            row.restored_at = deps.clock.now()
            row.restored_by = BY_HAND
            row.card_start = None
