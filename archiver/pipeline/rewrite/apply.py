"""Writing approved rewrites: `apply_article` writes exactly the bytes an editor approved, verified
against the article as it is now; `write_rows` is the crash-safe write both it and `runs` use.

The rows of a write are committed as `applying` with the article's sha256 before and after, then the
article is replaced atomically through its store (a compare-and-swap: an editor's save in between is a
conflict, nothing is written), then the rows become `applied` and the article's other cards and
occurrences move with the new bytes (`finish_apply`, which crash recovery uses too).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session, sessionmaker

from archiver.errors import ArchiverError, ArticleError, WriteConflict
from archiver.pipeline.rewrite import splice
from archiver.pipeline.rewrite.deps import RewriteDeps
from archiver.pipeline.rewrite.fallback import CardData, Variant
from archiver.pipeline.rewrite.plan import ArticlePlan
from archiver.pipeline.rewrite.targets import Target, rewrite_bytes
from archiver.records import PUT_BACK_VARIANT, JournalState, Span
from archiver.storage import queries
from archiver.storage.models import Article, Rewrite


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What writing one article did: applied, refused, conflict (changed meanwhile), unchanged, error."""

    article_id: int
    status: str
    rewrite_ids: tuple[int, ...] = ()
    error: str | None = None


def apply_article(sessions: sessionmaker[Session], deps: RewriteDeps, article_id: int) -> WriteResult:
    """Write the approved rewrites of one article, exactly as approved, verified against its bytes now.

    A unit whose bytes moved (the article was edited elsewhere) is found again by its exact bytes; one
    that changed, or that no longer verifies, is refused.
    """
    with sessions() as session:
        article = session.get(Article, article_id)
        if article is None:
            return WriteResult(article_id, "error", error=f"no article {article_id}")
        rows = queries.article_rewrites(session, article_id, (JournalState.APPROVED,))
        if not rows:
            return WriteResult(article_id, "unchanged")
        store = deps.store(article.source.name)
        try:
            current = store.read(article.key)
        except ArticleError as exc:
            return WriteResult(article_id, "error", tuple(r.id for r in rows), str(exc))
        targets: dict[int, Target] = {}
        for row in rows:
            at = splice.locate(current.data, row.original_bytes, row.span_start)
            if not row.original_bytes and current.sha256 != row.article_sha256_before:
                # An insertion has no bytes of its own to be found by: only the very bytes it was
                # planned on say where it goes. The next run plans it again.
                row.state, row.reason = (
                    JournalState.REFUSED,
                    "the article changed since the insertion was approved; the next run plans it again",
                )
                continue
            if at is None or row.replacement_bytes is None:
                row.state, row.reason = (
                    JournalState.REFUSED,
                    "the embed's markup changed since it was approved",
                )
                continue
            span = Span(at, at + len(row.original_bytes))
            card = _row_card(row)
            fixed = (_variant(row.variant), row.replacement_bytes)
            put_back = row.variant == PUT_BACK_VARIANT
            targets[row.id] = Target(span, card, row.embed_id, fixed, put_back=put_back)
        spliced = rewrite_bytes(current, list(targets.values()), deps.renderer)
        by_target = {id(target): row_id for row_id, target in targets.items()}
        row_by_id = {row.id: row for row in rows}
        for target, reason in spliced.refused:
            row = row_by_id[by_target[id(target)]]
            row.state, row.reason = JournalState.REFUSED, reason
        if not spliced.changes:
            session.commit()
            return WriteResult(article_id, "refused", tuple(row_by_id))
        after_sha = hashlib.sha256(spliced.after).hexdigest()
        applying = []
        for change in spliced.changes:
            row = row_by_id[by_target[id(change.target)]]
            row.state = JournalState.APPLYING
            row.span_start, row.span_end = change.edit.start, change.edit.end
            row.card_start = change.card_start
            row.article_sha256_before, row.article_sha256_after = current.sha256, after_sha
            applying.append(row)
        session.commit()
        plan = ArticlePlan(
            article.id,
            article.key,
            article.source.name,
            "approve",
            current.encoding,
            current.data,
            spliced.after,
            before_sha256=current.sha256,
            after_sha256=after_sha,
        )
        result = write_rows(session, deps, applying, plan)
    return replace(result, rewrite_ids=tuple(row_by_id))


def _row_card(row: Rewrite) -> CardData:
    """A stand-in card for a journal row (only its marker is read: the bytes are fixed)."""
    return CardData(row.provider, row.provider, row.post_id, "", row.snapshot_version or 0, "", "", "")


def _variant(value: str | None) -> Variant:
    return "inline" if value == "inline" else "block"


def write_rows(
    session: Session,
    deps: RewriteDeps,
    rows: Sequence[Rewrite],
    plan: ArticlePlan,
    applied: Sequence[Rewrite] | None = None,
) -> WriteResult:
    """Write the new bytes of rows just committed as `applying` in `session`, then mark them applied
    (`applied`: the article's rows applied before, when the caller knows them)."""
    ids = tuple(row.id for row in rows)
    try:
        deps.store(plan.source).write(plan.key, plan.after, plan.before_sha256)
    except (WriteConflict, ArchiverError, OSError) as exc:
        for row in rows:
            if row.state == JournalState.APPLYING:
                row.state = JournalState.APPROVED
                row.reason = f"not written: {exc}"
        session.commit()
        status = "conflict" if isinstance(exc, WriteConflict) else "error"
        return WriteResult(plan.article_id, status, ids, str(exc))
    finish_apply(session, deps, plan.article_id, rows, plan.after, plan.after_sha256, applied)
    session.commit()
    return WriteResult(plan.article_id, "applied", ids)


def finish_apply(
    session: Session,
    deps: RewriteDeps,
    article_id: int,
    rows: Sequence[Rewrite],
    after: bytes,
    after_sha256: str | None = None,
    applied: Sequence[Rewrite] | None = None,
) -> None:
    """Rows written: applied; the other applied cards and the occurrences move with the new bytes."""
    now = deps.clock.now()
    edits = _edits_of(rows)
    if applied is None:
        applied = queries.article_rewrites(session, article_id, (JournalState.APPLIED,))
    moving = [row for row in applied if row not in rows]
    for row in moving:
        if row.card_start is not None:
            row.card_start = splice.shifted(row.card_start, edits)
    for row in rows:
        row.state = JournalState.APPLIED
        row.applied_at = now  # `reason` stays: a residue card's note says which line it replaced
    article = session.get(Article, article_id)
    if article is not None:
        move_occurrences(article, edits)
        article.content_sha256 = after_sha256 or hashlib.sha256(after).hexdigest()
        article.size_bytes = len(after)
        if any(row.variant == PUT_BACK_VARIANT for row in rows):
            # Markup put back is an embed of the article now, not a moved spot: scan the article again.
            article.content_sha256 = None
    session.flush()


def _edits_of(rows: Sequence[Rewrite]) -> list[splice.Edit]:
    """The edits a set of applying rows made (old = unit, new = card), in byte order."""
    return sorted(
        (
            splice.Edit(
                row.span_start, row.span_end, row.original_bytes, row.replacement_bytes or b"", row.post_id
            )
            for row in rows
        ),
        key=lambda edit: edit.start,
    )


def move_occurrences(article: Article, edits: Sequence[splice.Edit]) -> None:
    """Occurrence spans after `edits`: a replaced unit's span becomes its card's; others shift."""
    shifts = 0
    new_start = {}
    for edit in edits:
        new_start[(edit.start, edit.end)] = edit.start + shifts
        shifts += edit.delta
    for occurrence in article.occurrences:
        if occurrence.span_start is None or occurrence.span_end is None:
            continue
        start, end = occurrence.span_start, occurrence.span_end
        replaced = next((e for e in edits if (e.start, e.end) == (start, end)), None)
        if replaced is not None:
            occurrence.span_start = new_start[(start, end)]
            occurrence.span_end = occurrence.span_start + len(replaced.new)
        elif any(e.start < end and start < e.end for e in edits):
            occurrence.span_start = occurrence.span_end = None
        else:
            occurrence.span_start = splice.shifted(start, edits)
            occurrence.span_end = occurrence.span_start + (end - start)
