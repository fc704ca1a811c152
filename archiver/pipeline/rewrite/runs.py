"""`run`: every article with broken embeds (or residue a snapshot matches), each as its source's mode
says: monitor reports, approve journals `planned` rows and writes what editors approved, apply writes
at once. It settles crashes first (`recover`) and undoes rewrites of embeds that came back alive last
(`restore_returned`). The journal rows a run adds or brings up to date are written here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, joinedload, sessionmaker

from archiver.pipeline.rewrite.apply import apply_article, write_rows
from archiver.pipeline.rewrite.deps import RewriteDeps
from archiver.pipeline.rewrite.plan import ArticlePlan, PlannedChange, plan_with_journal
from archiver.pipeline.rewrite.recovery import RecoverReport, recover
from archiver.pipeline.rewrite.repairs import repair_articles
from archiver.pipeline.rewrite.restore import RestoreResult, restore_returned
from archiver.pipeline.rewrite.states import AUTO_APPROVER
from archiver.records import PUT_BACK_VARIANT, JournalState
from archiver.storage import queries
from archiver.storage.models import Article, Rewrite


@dataclass(frozen=True, slots=True)
class ArticleOutcome:
    """What `run` did with one article."""

    plan: ArticlePlan
    # planned, applied, reported (monitor or dry run), unchanged, refused, conflict, error
    status: str
    rewrite_ids: tuple[int, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = self.plan.to_json()
        out["status"] = self.status
        out["rewrites"] = list(self.rewrite_ids)
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class RunReport:
    articles: list[ArticleOutcome] = field(default_factory=list)
    recovered: RecoverReport | None = None
    restored: list[RestoreResult] = field(default_factory=list)
    # Residue lines by status, matched to find the articles to visit (None: only `article_ids` asked).
    residue: dict[str, int] | None = None

    @property
    def failed(self) -> bool:
        return any(a.status in ("error", "conflict") for a in self.articles) or any(
            r.error for r in self.restored
        )


def run(
    sessions: sessionmaker[Session],
    deps: RewriteDeps,
    *,
    article_ids: Iterable[int] | None = None,
    sources: Iterable[str] | None = None,
    dry_run: bool = False,
    on_article: Callable[[ArticleOutcome], None] | None = None,
    stop: threading.Event | None = None,
) -> RunReport:
    """Rewrite the articles holding broken embeds (or `article_ids`), each as its source's mode says.

    First settles what a crash left (`recover`); then per article: monitor and `dry_run` only report
    (the plan has the unified diff); approve journals `planned` rows and writes rows editors approved;
    apply writes at once. Finally, rewrites of embeds that came back alive are undone where the
    source's policy says so (not in a dry run). One article's failure never stops the run; `stop`
    (the daemon stopping) does, between two articles: every article is written whole or not at all.
    """
    report = RunReport()
    if not dry_run:
        report.recovered = recover(sessions, deps)
    wanted = set(sources) if sources is not None else None
    with sessions() as session:
        if article_ids is not None:
            ids = sorted(set(article_ids))
        else:
            named = sorted(wanted) if wanted is not None else None
            # Articles holding broken embeds, residue a snapshot matches, or spots recovered from web
            # archives whose post is broken or live.
            survey = repair_articles(session, wanted)
            ids = sorted(set(queries.articles_to_rewrite(session, named)) | set(survey.article_ids))
            report.residue = survey.residue_lines
            if wanted is None and not dry_run:  # every line was matched: the dashboard's counts
                queries.save_residue_counts(session, survey.residue_lines, deps.clock.now())
                session.commit()
    for article_id in ids:
        if stop is not None and stop.is_set():
            return report
        outcome = _run_article(sessions, deps, article_id, dry_run)
        if outcome is None:
            continue
        report.articles.append(outcome)
        if on_article is not None:
            on_article(outcome)
    if not dry_run:
        report.restored = restore_returned(sessions, deps, sources=wanted, stop=stop)
    return report


def _run_article(
    sessions: sessionmaker[Session], deps: RewriteDeps, article_id: int, dry_run: bool
) -> ArticleOutcome | None:
    with sessions() as session:
        article = session.get(Article, article_id, options=[joinedload(Article.source)])
        if article is None:
            return None
        plan, journal = plan_with_journal(session, deps, article)
        if plan.error is not None:
            session.rollback()
            return ArticleOutcome(plan, "error", error=plan.error)
        if dry_run or plan.mode == "monitor":
            session.rollback()
            return ArticleOutcome(plan, "reported")
        now = deps.clock.now()
        refused = _journal_refusals(session, article, plan, journal, now)
        writes_at_once = not any(change.review for change in plan.changes)
        if (
            plan.mode == "apply"
            and writes_at_once
            and not any(row.state == JournalState.APPROVED for row in journal)
        ):
            # The plan was verified against the article's bytes of this very moment: write it.
            rows = _journal_open_rows(session, article, plan, journal, JournalState.APPLYING, now)
            session.commit()
            refused_ids = tuple(row.id for row in refused)
            if not rows:
                return ArticleOutcome(plan, "refused" if plan.refused else "unchanged", refused_ids)
            others = [row for row in journal if row.state == JournalState.APPLIED]
            result = write_rows(session, deps, rows, plan, others)
            return ArticleOutcome(plan, result.status, tuple(r.id for r in rows) + refused_ids, result.error)
        state = JournalState.APPROVED if plan.mode == "apply" else JournalState.PLANNED
        planned = _journal_open_rows(session, article, plan, journal, state, now)
        has_approved = any(row.state == JournalState.APPROVED for row in [*journal, *planned])
        session.commit()
        ids = tuple(row.id for row in [*planned, *refused])
    if has_approved:
        applied = apply_article(sessions, deps, article_id)
        return ArticleOutcome(
            plan, applied.status, tuple(dict.fromkeys(applied.rewrite_ids + ids)), applied.error
        )
    status = "planned" if planned else "refused" if plan.refused else "unchanged"
    return ArticleOutcome(plan, status, ids)


def _journal_refusals(
    session: Session, article: Article, plan: ArticlePlan, journal: Sequence[Rewrite], now: Any
) -> list[Rewrite]:
    """A `refused` row per refusal, unless the latest row of that unit says the same already."""
    latest: dict[tuple[int | None, bytes], Rewrite] = {}
    for row in journal:
        latest[(row.embed_id, row.original_bytes)] = row  # oldest first: the last one wins
    added = []
    for refusal in plan.refused:
        previous = latest.get((refusal.embed_id, refusal.original))
        if (
            previous is not None
            and previous.state == JournalState.REFUSED
            and previous.reason == refusal.reason
        ):
            continue
        row = queries.add_rewrite(
            session,
            article_id=article.id,
            embed_id=refusal.embed_id,
            provider=refusal.provider,
            post_id=refusal.post_id,
            mode=plan.mode,
            state=JournalState.REFUSED,
            reason=refusal.reason,
            span_start=refusal.span.start if refusal.span else 0,
            span_end=refusal.span.end if refusal.span else 0,
            original_bytes=refusal.original,
            replacement_bytes=refusal.replacement,
            article_sha256_before=plan.before_sha256,
            created_at=now,
        )
        added.append(row)
    session.flush()
    return added


def _journal_open_rows(
    session: Session, article: Article, plan: ArticlePlan, journal: Sequence[Rewrite], state: str, now: Any
) -> list[Rewrite]:
    """A row in `state` (planned, approved or applying) per change of the plan.

    Rows still open for the same unit (same embed, same original bytes) are reused: a planned row is
    brought up to date (or, in mode apply, taken over); an approved row keeps what the editor approved
    unless the plan writes at once. A change for review is planned whatever `state` says. Planned rows
    the plan no longer has are superseded (refused).
    """
    open_rows: dict[tuple[int | None, bytes], list[Rewrite]] = {}
    for row in journal:
        if row.state in (JournalState.PLANNED, JournalState.APPROVED):
            open_rows.setdefault((row.embed_id, row.original_bytes), []).append(row)
    rows = []
    for change in plan.changes:
        candidates = open_rows.get((change.embed_id, change.original))
        existing = candidates.pop(0) if candidates else None
        if (
            existing is not None
            and existing.state == JournalState.APPROVED
            and state != JournalState.APPLYING
        ):
            continue  # approved as it was: apply_article writes exactly that
        row_state = JournalState.PLANNED if change.review else state
        values = _row_values(article, plan, change, row_state, now)
        if row_state in (JournalState.APPROVED, JournalState.APPLYING):
            values.update(approved_at=now, approved_by=AUTO_APPROVER)
        if row_state == JournalState.APPLYING:
            values["card_start"] = change.card_start
        if existing is None:
            rows.append(queries.add_rewrite(session, **values))
            continue
        for name, value in values.items():
            if name != "created_at":
                setattr(existing, name, value)
        rows.append(existing)
    for leftovers in open_rows.values():
        for row in leftovers:
            if row.state == JournalState.PLANNED:
                row.state, row.reason = (
                    JournalState.REFUSED,
                    "superseded: the embed is no longer broken there, or its unit changed",
                )
    session.flush()
    return rows


def _row_values(
    article: Article, plan: ArticlePlan, change: PlannedChange, state: str, now: Any
) -> dict[str, Any]:
    return {
        "article_id": article.id,
        "embed_id": change.embed_id,
        "provider": change.provider,
        "post_id": change.post_id,
        "mode": plan.mode,
        "state": state,
        "variant": PUT_BACK_VARIANT if change.put_back else change.variant,
        "snapshot_version": change.snapshot_version,
        "span_start": change.span.start,
        "span_end": change.span.end,
        "original_bytes": change.original,
        "replacement_bytes": change.replacement,
        "article_sha256_before": plan.before_sha256,
        "article_sha256_after": plan.after_sha256,
        "reason": change.note,
        "created_at": now,
    }
