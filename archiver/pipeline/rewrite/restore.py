"""Undoing rewrites, byte for byte: `restore_article` puts every card of an article (or of one embed)
back to its unit's exact original bytes; `restore_returned` does it for embeds that came back alive,
where the source's policy says so.

Like a write, a restore is committed as `restoring` first, written atomically, then `restored`
(`finish_restore`, which crash recovery uses too). An editor's restore is sticky: that embed is not
rewritten again in that article; the archiver's own (`AUTO_RESTORER`) is not.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from archiver.errors import ArchiverError, ArticleError, RestoreError
from archiver.pipeline.rewrite import splice
from archiver.pipeline.rewrite.apply import move_occurrences
from archiver.pipeline.rewrite.deps import RewriteDeps
from archiver.pipeline.rewrite.states import AUTO_RESTORER
from archiver.records import PUT_BACK_VARIANT, JournalState
from archiver.storage import queries
from archiver.storage.models import Article, Rewrite

_ALIVE = "live"


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What undoing rewrites of one article did."""

    article_id: int
    key: str
    rewrite_ids: tuple[int, ...] = ()
    before_sha256: str | None = None
    after_sha256: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "article": self.key,
            "restored": list(self.rewrite_ids),
            "sha256": self.after_sha256,
        }
        if self.error is not None:
            out["error"] = self.error
        return out


def restore_article(
    sessions: sessionmaker[Session],
    deps: RewriteDeps,
    article_id: int,
    embed_id: int | None = None,
    *,
    by: str,
) -> RestoreResult:
    """Undo the applied rewrites of one article (or only those of `embed_id`): every card is put back
    to the exact original bytes of its unit. With all of them undone and no other edit since, the
    article's sha256 is what it was before the first rewrite. An editor's restore is sticky (`by` is
    who asked; `AUTO_RESTORER` for embeds that came back alive, which may be rewritten again)."""
    with sessions() as session:
        article = session.get(Article, article_id)
        if article is None:
            return RestoreResult(article_id, str(article_id), error=f"no article {article_id}")
        rows = [
            row
            for row in queries.article_rewrites(session, article_id, (JournalState.APPLIED,))
            if (embed_id is None or row.embed_id == embed_id)
            # A post that came back alive undoes its cards, not its original markup put back.
            and not (by == AUTO_RESTORER and row.variant == PUT_BACK_VARIANT)
        ]
        key = article.key
        if not rows:
            return RestoreResult(article_id, key)
        store = deps.store(article.source.name)
        try:
            current = store.read(key)
            layers = _restore_layers(current.data, rows)
        except (ArticleError, RestoreError) as exc:
            return RestoreResult(article_id, key, tuple(r.id for r in rows), error=str(exc))
        restored = current.data
        for _, edits in layers:
            restored = splice.apply(restored, splice.Plan(tuple(edits)))
        after_sha = hashlib.sha256(restored).hexdigest()
        for row in rows:
            row.state = JournalState.RESTORING
            row.restore_sha256_before, row.restore_sha256_after = current.sha256, after_sha
            row.restored_by = by
        session.commit()
        ids = tuple(row.id for row in rows)
        try:
            store.write(key, restored, current.sha256)
        except (ArchiverError, OSError) as exc:
            for row in rows:
                row.state = JournalState.APPLIED
                row.restored_by = None
                row.reason = f"restore not written: {exc}"
            session.commit()
            return RestoreResult(article_id, key, ids, error=str(exc))
        for layer, edits in layers:
            finish_restore(session, deps, article, layer, edits, restored)
        session.commit()
    return RestoreResult(article_id, key, ids, current.sha256, after_sha)


def _restore_layers(data: bytes, rows: Sequence[Rewrite]) -> list[tuple[list[Rewrite], list[splice.Edit]]]:
    """The rows' restore edits in layers, newest first: a row whose bytes a later row replaced (a
    post's original markup put back, then its card when the post broke) is undone after that row, in
    the bytes that row gives back. Each layer's edits are in the bytes the layer before left."""
    layers: list[tuple[list[Rewrite], list[splice.Edit]]] = []
    remaining = list(rows)
    while remaining:
        top = [row for row in remaining if not any(_covers(other, row) for other in remaining)]
        edits = _restore_edits(data, top)
        layers.append((top, edits))
        data = splice.apply(data, splice.Plan(tuple(edits)))
        remaining = [row for row in remaining if row not in top]
    return layers


def _covers(later: Rewrite, row: Rewrite) -> bool:
    """Whether `later` replaced bytes that hold `row`'s replacement (it was written over it)."""
    written = row.replacement_bytes
    return later.id > row.id and written is not None and written != b"" and written in later.original_bytes


def _restore_edits(data: bytes, rows: Sequence[Rewrite]) -> list[splice.Edit]:
    """Where each row's card is now, as an edit putting its original bytes back."""
    entries = [
        splice.JournalEntry(
            row.card_start if row.card_start is not None else row.span_start,
            row.replacement_bytes or b"",
            row.original_bytes,
        )
        for row in rows
    ]
    return splice.restore_edits(data, entries)


def finish_restore(
    session: Session,
    deps: RewriteDeps,
    article: Article,
    rows: Sequence[Rewrite],
    edits: Sequence[splice.Edit],
    restored: bytes,
) -> None:
    now = deps.clock.now()
    for row in queries.article_rewrites(session, article.id, (JournalState.APPLIED,)):
        if row not in rows and row.card_start is not None:
            row.card_start = splice.shifted(row.card_start, edits)
    for row in rows:
        row.state = JournalState.RESTORED
        row.restored_at = now
        row.card_start = None
    move_occurrences(article, edits)
    article.content_sha256 = hashlib.sha256(restored).hexdigest()
    article.size_bytes = len(restored)
    if any(row.variant == PUT_BACK_VARIANT for row in rows):
        # The spot is back where an embed was: its occurrences cannot be moved there, scan it again.
        article.content_sha256 = None
    session.flush()


def restore_returned(
    sessions: sessionmaker[Session],
    deps: RewriteDeps,
    *,
    sources: Iterable[str] | None = None,
    stop: threading.Event | None = None,
) -> list[RestoreResult]:
    """Undo the rewrites of embeds that came back alive, in sources whose `restore_on_return` is on."""
    wanted = set(sources) if sources is not None else None
    with sessions() as session:
        pairs = queries.returned_rewrites(session, _ALIVE)
        todo = sorted(
            {
                (article_id, embed_id)
                for article_id, embed_id, source in pairs
                if (wanted is None or source in wanted) and deps.policy(source).restore_on_return
            }
        )
    results = []
    for article_id, embed_id in todo:
        if stop is not None and stop.is_set():
            break
        results.append(restore_article(sessions, deps, article_id, embed_id, by=AUTO_RESTORER))
    return results
