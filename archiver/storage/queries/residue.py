"""Residue repair (`archiver.pipeline.rewrite.residue`): residue occurrences, the embeds whose
snapshots may be what a residue shows (by handle or author name), and the counts the last whole-archive
rewrite run kept of the lines matched, ambiguous and orphaned."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, load_only

from archiver import records
from archiver.storage.models import Article, Embed, Occurrence, ResidueCount, Snapshot, Source
from archiver.storage.queries._common import CHUNK, like_escape


def residue_occurrences(
    session: Session, sources: Collection[str] | None = None, article_id: int | None = None
) -> list[tuple[Article, Occurrence]]:
    """Residue occurrences (markup `residue`, no embed) with their article, in article id then position
    order; only those of the sources named in `sources`, or of one article, when given."""
    stmt = (
        select(Article, Occurrence)
        .join(Occurrence, Occurrence.article_id == Article.id)
        .where(Occurrence.embed_id.is_(None), Occurrence.markup == records.MarkupKind.RESIDUE.value)
        .options(joinedload(Article.source))
    )
    if sources is not None:
        stmt = stmt.join(Source, Source.id == Article.source_id).where(Source.name.in_(sorted(set(sources))))
    if article_id is not None:
        stmt = stmt.where(Article.id == article_id)
    rows = session.execute(stmt.order_by(Article.id, Occurrence.position))
    return [(article, occurrence) for article, occurrence in rows]


def _folded_forms(value: str) -> list[str]:
    """`value` lower-cased as Python does it and as SQLite's `lower()` does it (ASCII letters only), so
    that `lower(column) IN (...)` finds a case-insensitive match on SQLite as on PostgreSQL."""
    ascii_lower = "".join(c.lower() if "A" <= c <= "Z" else c for c in value)
    return sorted({value.lower(), ascii_lower})


def embeds_with_handle(session: Session, provider: str, handle: str) -> list[int]:
    """Ids of `provider`'s embeds with a snapshot (any version) whose handle is `handle`, ignoring case
    and a leading "@" on either side, in id order."""
    bare = handle.strip().lstrip("@")
    if not bare:
        return []
    forms = _folded_forms(bare)
    stmt = (
        select(Snapshot.embed_id)
        .join(Embed, Embed.id == Snapshot.embed_id)
        .where(
            Embed.provider == provider,
            func.lower(func.trim(Snapshot.handle)).in_(forms + ["@" + form for form in forms]),
        )
        .distinct()
    )
    return sorted(int(embed_id) for embed_id in session.scalars(stmt))


def embeds_with_handles(session: Session, provider: str, handles: Collection[str]) -> dict[str, list[int]]:
    """`embeds_with_handle` for many handles in one query: each handle asked and the ids of `provider`'s
    embeds with a snapshot of that handle, in id order."""
    asked: dict[str, set[str]] = {}  # each folded form compared -> the handles asked that fold to it
    for handle in handles:
        bare = handle.strip().lstrip("@")
        for form in _folded_forms(bare) if bare else []:
            asked.setdefault(form, set()).add(handle)
            asked.setdefault("@" + form, set()).add(handle)
    found: dict[str, set[int]] = {handle: set() for handle in handles}
    forms = sorted(asked)
    folded = func.lower(func.trim(Snapshot.handle))
    # The provider is looked up per snapshot found (a subquery, not a join): joined, PostgreSQL merged
    # the few snapshots of a page's handles with every embed of the provider, 16 ms instead of 2.
    of_provider = select(Embed.provider).where(Embed.id == Snapshot.embed_id).scalar_subquery() == provider
    for start in range(0, len(forms), CHUNK):
        stmt = (
            select(Snapshot.embed_id, folded)
            .where(folded.in_(forms[start : start + CHUNK]), of_provider)
            .distinct()
        )
        for embed_id, value in session.execute(stmt):
            for handle in asked.get(str(value), ()):
                found[handle].add(int(embed_id))
    return {handle: sorted(ids) for handle, ids in found.items()}


def embeds_with_author_name(session: Session, provider: str, author_name: str) -> list[int]:
    """Ids of `provider`'s embeds with a snapshot (any version) whose author name may be `author_name`
    (same words in the same order, ignoring case, whatever the whitespace between them), in id order.
    A candidate list: the caller compares the names it gets back exactly."""
    words = author_name.split()
    if not words:
        return []
    patterns = [
        "%".join(like_escape(word) for word in form.split()) for form in _folded_forms(" ".join(words))
    ]
    name = func.lower(func.trim(Snapshot.author_name))
    stmt = (
        select(Snapshot.embed_id)
        .join(Embed, Embed.id == Snapshot.embed_id)
        .where(Embed.provider == provider, or_(*(name.like(pattern, escape="\\") for pattern in patterns)))
        .distinct()
    )
    return sorted(int(embed_id) for embed_id in session.scalars(stmt))


def snapshot_versions(session: Session, embed_ids: Collection[int]) -> dict[int, list[Snapshot]]:
    """Every snapshot version of each embed, newest first, with the embed loaded (no media), as residue
    is compared with them: handle, author name, caption, publication date and version only (the raw
    provider responses and the rest are left unread; touching them loads them)."""
    wanted = sorted(set(embed_ids))
    found: dict[int, list[Snapshot]] = {}
    compared = load_only(
        Snapshot.embed_id,
        Snapshot.version,
        Snapshot.handle,
        Snapshot.author_name,
        Snapshot.text,
        Snapshot.published,
    )
    for start in range(0, len(wanted), CHUNK):
        stmt = (
            select(Snapshot)
            .where(Snapshot.embed_id.in_(wanted[start : start + CHUNK]))
            .options(compared, joinedload(Snapshot.embed))
            .order_by(Snapshot.embed_id, Snapshot.version.desc())
        )
        for snapshot in session.scalars(stmt):
            found.setdefault(snapshot.embed_id, []).append(snapshot)
    return found


def save_residue_counts(session: Session, lines: Mapping[str, int], at: datetime) -> bool:
    """Keep `lines` (residue lines by status) as the counts of `at`, in place of the earlier ones.
    False when another run saved its counts at the same moment (PostgreSQL: both deleted the old rows,
    the other inserted first): theirs are kept, and this run goes on."""
    rows = [{"status": status, "lines": n, "counted_at": at} for status, n in sorted(lines.items())]
    try:
        with session.begin_nested():
            session.execute(delete(ResidueCount))
            if rows:
                session.execute(insert(ResidueCount), rows)
    except IntegrityError:
        return False
    return True


def residue_counts(session: Session) -> tuple[dict[str, int], datetime | None]:
    """The residue lines by status as the last whole-archive rewrite run counted them, and when (None:
    never counted)."""
    rows = list(session.scalars(select(ResidueCount)))
    if not rows:
        return {}, None
    return {row.status: row.lines for row in rows}, max(row.counted_at for row in rows)
