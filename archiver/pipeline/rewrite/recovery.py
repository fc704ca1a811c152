"""Crash recovery: `recover` settles journal rows a crash left `applying` or `restoring`, by the
article's bytes now, so every article is wholly old or wholly new and the journal says which.

The old bytes put rows back where they were (`approved`, `applied`); the new bytes finish them; bytes
that are neither are judged unit by unit (the card is there, or the unit is, or the row is refused).
Leftover temporary files of interrupted file writes are removed. `runs.run` calls it first, always.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from archiver.errors import ArchiverError
from archiver.pipeline.rewrite import splice
from archiver.pipeline.rewrite.apply import finish_apply
from archiver.pipeline.rewrite.deps import RewriteDeps
from archiver.pipeline.rewrite.restore import finish_restore
from archiver.records import Article as ArticleRecord
from archiver.records import JournalState
from archiver.sources.store import FileStore, stale_temp_files
from archiver.storage import queries
from archiver.storage.models import Article, Rewrite


@dataclass
class RecoverReport:
    """What `recover` settled: rewrite ids finished, rolled back, and refused; articles it could not read."""

    finished: list[int] = field(default_factory=list)
    rolled_back: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "finished": self.finished,
            "rolled_back": self.rolled_back,
            "refused": self.refused,
            "errors": self.errors,
        }


def recover(sessions: sessionmaker[Session], deps: RewriteDeps) -> RecoverReport:
    """Settle rows left `applying` or `restoring` by a crash, by the article's bytes now.

    applying:  article == after  -> applied (finished);  == before -> approved (rolled back, written
               again by the next run); else its card found -> applied, its unit found -> approved, else
               refused (changed beyond recognition).
    restoring: article == after  -> restored;  == before -> applied; else likewise by the bytes.
    Leftover temporary files of interrupted writes are removed.
    """
    report = RecoverReport()
    with sessions() as session:
        groups = queries.unsettled_rewrites(session, (JournalState.APPLYING, JournalState.RESTORING))
    for article_id in sorted(groups):
        with sessions() as session, session.begin():
            article = session.get(Article, article_id)
            rows = queries.rewrites_by_id(session, groups[article_id])
            if article is None:
                continue
            store = deps.store(article.source.name)
            if isinstance(store, FileStore):
                for temp in stale_temp_files(store.path(article.key)):
                    temp.unlink(missing_ok=True)
            try:
                current = store.read(article.key)
            except ArchiverError as exc:
                report.errors.append(str(exc))
                continue
            _recover_applying(
                session, deps, article, [r for r in rows if r.state == JournalState.APPLYING], current, report
            )
            _recover_restoring(
                session,
                deps,
                article,
                [r for r in rows if r.state == JournalState.RESTORING],
                current,
                report,
            )
    return report


def _recover_applying(
    session: Session,
    deps: RewriteDeps,
    article: Article,
    rows: list[Rewrite],
    current: ArticleRecord,
    report: RecoverReport,
) -> None:
    for after_sha, group in _grouped(rows, lambda row: row.article_sha256_after):
        if current.sha256 == after_sha:
            finish_apply(session, deps, article.id, group, current.data)
            report.finished += [row.id for row in group]
            continue
        for row in group:
            if current.sha256 == row.article_sha256_before:
                state = JournalState.APPROVED
            elif (
                row.replacement_bytes
                and splice.locate(current.data, row.replacement_bytes, row.card_start or 0) is not None
            ):
                state = JournalState.APPLIED
            elif splice.locate(current.data, row.original_bytes, row.span_start) is not None:
                state = JournalState.APPROVED
            else:
                state = JournalState.REFUSED
            if state == JournalState.APPLIED:
                at = splice.locate(current.data, row.replacement_bytes or b"", row.card_start or 0)
                row.state, row.card_start, row.applied_at = JournalState.APPLIED, at, deps.clock.now()
                report.finished.append(row.id)
            elif state == JournalState.APPROVED:
                row.state, row.reason = (
                    JournalState.APPROVED,
                    "the write was interrupted; it is written again by the next run",
                )
                report.rolled_back.append(row.id)
            else:
                row.state, row.reason = (
                    JournalState.REFUSED,
                    "the article changed while it was being rewritten",
                )
                report.refused.append(row.id)


def _recover_restoring(
    session: Session,
    deps: RewriteDeps,
    article: Article,
    rows: list[Rewrite],
    current: ArticleRecord,
    report: RecoverReport,
) -> None:
    for after_sha, group in _grouped(rows, lambda row: row.restore_sha256_after):
        if current.sha256 == after_sha:
            positions = [row.card_start for row in group]
            edits = sorted(
                (
                    splice.Edit(
                        at or 0,
                        (at or 0) + len(row.replacement_bytes or b""),
                        row.replacement_bytes or b"",
                        row.original_bytes,
                        row.post_id,
                    )
                    for row, at in zip(group, positions, strict=True)
                ),
                key=lambda edit: edit.start,
            )
            finish_restore(session, deps, article, group, edits, current.data)
            report.finished += [row.id for row in group]
            continue
        for row in group:
            card_there = (
                row.replacement_bytes
                and splice.locate(current.data, row.replacement_bytes, row.card_start or 0) is not None
            )
            if current.sha256 == row.restore_sha256_before or card_there:
                row.state, row.restored_by = JournalState.APPLIED, None
                row.reason = "the restore was interrupted; run it again"
                report.rolled_back.append(row.id)
            else:
                row.state, row.restored_at = JournalState.RESTORED, deps.clock.now()
                report.finished.append(row.id)


def _grouped(
    rows: list[Rewrite], key: Callable[[Rewrite], str | None]
) -> list[tuple[str | None, list[Rewrite]]]:
    """Rows grouped by the article hash they were meant to leave behind, in first-seen order."""
    groups: dict[str | None, list[Rewrite]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return list(groups.items())
