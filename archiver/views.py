"""The JSON shapes of what the archive holds, as plain data: `archive status|embeds|show|residue --json`
and `archive rewrite --pending --json` print them, and the web viewer returns them unchanged.

Each view reads through a Session and returns dicts and lists of JSON values (instants as ISO 8601
strings). Views may import storage (queries) and the pipeline stages' reports; never the CLI, the
daemon or the app.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy.orm import Session

from archiver.pipeline.rewrite import pending
from archiver.pipeline.rewrite.residue import match_lines, residue_report
from archiver.storage import queries
from archiver.storage.blobs import BlobStore
from archiver.storage.models import Article, Embed, Mirror, Occurrence


def status(session: Session) -> dict[str, Any]:
    """Counts of articles, embeds by state and provider, snapshots and media; paused providers, alerts."""
    counts = queries.status_counts(session)
    counts["paused_providers"] = [
        {"provider": h.provider, "reason": h.reason, "since": h.since.isoformat() if h.since else None}
        for h in queries.paused_providers(session)
    ]
    counts["alerts"] = [
        {
            "provider": a.provider,
            "kind": a.kind,
            "message": a.message,
            "raised_at": a.raised_at.isoformat(),
        }
        for a in queries.alerts(session, open_only=True)
    ]
    return counts


def embeds(
    session: Session, *, state: str | None = None, provider: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Embeds (of one state, one provider, the first `limit`) with their state and last check, and
    whether their provider is paused (its verdicts wait: the state shown is the last one told)."""
    paused = {h.provider for h in queries.paused_providers(session)}
    return [
        {
            "id": r.id,
            "provider": r.provider,
            "post_id": r.post_id,
            "url": r.url,
            "state": r.state,
            "provider_paused": r.provider in paused,
            "last_check": r.last_checked_at.isoformat() if r.last_checked_at else None,
            "last_outcome": r.last_outcome,
            "snapshots": r.snapshots,
            "articles": r.articles,
        }
        for r in queries.list_embeds(session, state=state, provider=provider, limit=limit)
    ]


def embed(session: Session, url_or_id: str, blobs: BlobStore) -> dict[str, Any] | None:
    """One embed (by database id, post id or post URL), or None: its snapshot versions with their media
    (`path` in `blobs`), its state changes and check history, the articles that embed it, the other ids
    its post is known by (`aliases`) and its Save Page Now copy (`mirror`, None unless one was asked)."""
    found = queries.find_embed(session, url_or_id)
    return _detail(session, found, blobs) if found is not None else None


def _detail(session: Session, embed: Embed, blobs: BlobStore) -> dict[str, Any]:
    snapshots = []
    for snap in embed.snapshots:
        snapshots.append(
            {
                "version": snap.version,
                "captured_at": snap.captured_at.isoformat(),
                "content_sha256": snap.content_sha256,
                "author_name": snap.author_name,
                "handle": snap.handle,
                "author_url": snap.author_url,
                "text": snap.text,
                "text_html": snap.text_html,
                "published": snap.published,
                "title": snap.title,
                "provenance": snap.provenance,
                "media": [
                    {
                        "kind": m.kind,
                        "original_url": m.original_url,
                        "rung": m.rung,
                        "error": m.error,
                        "sha256": m.media_file.sha256 if m.media_file else None,
                        "type": m.media_file.mime if m.media_file else None,
                        "size": m.media_file.size_bytes if m.media_file else None,
                        "path": blobs.path_for(m.media_file.sha256) if m.media_file else None,
                    }
                    for m in snap.media
                ],
            }
        )
    health = queries.provider_health(session, embed.provider)
    paused = health is not None and health.paused
    return {
        "id": embed.id,
        "provider": embed.provider,
        "post_id": embed.post_id,
        "url": embed.canonical_url,
        "state": embed.state,
        "provider_paused": paused,
        "provider_paused_reason": health.reason if health is not None and paused else None,
        "first_seen_at": embed.first_seen_at.isoformat(),
        "last_outcome": embed.last_outcome,
        "last_reason": embed.last_reason,
        "markup": queries.markup_fields_for(session, embed),
        "aliases": [
            {"post_id": a.post_id, "url": a.canonical_url} for a in queries.aliases_of(session, embed.id)
        ],
        "mirror": _mirror(embed.mirror),
        "snapshots": snapshots,
        "next_check_at": embed.next_check_at.isoformat() if embed.next_check_at else None,
        "state_changes": [
            {"at": c.changed_at.isoformat(), "from": c.from_state, "to": c.to_state, "reason": c.reason}
            for c in embed.state_changes
        ],
        "checks": [
            {
                "checked_at": c.checked_at.isoformat(),
                "kind": c.kind,
                "outcome": c.outcome,
                "http_status": c.http_status,
                "reason": c.reason,
                "latency_ms": c.latency_ms,
                "counted": c.counted,
            }
            for c in embed.checks
        ],
        "articles": [
            {
                "article": article.key,
                "markup": occ.markup,
                "span": [occ.span_start, occ.span_end] if occ.span_start is not None else None,
            }
            for article, occ in queries.embed_articles(session, embed)
        ],
    }


def _mirror(mirror: Mirror | None) -> dict[str, Any] | None:
    if mirror is None:
        return None
    return {
        "state": mirror.state,
        "memento_url": mirror.memento_url,
        "memento_datetime": mirror.memento_datetime.isoformat() if mirror.memento_datetime else None,
        "status_ext": mirror.status_ext,
        "reason": mirror.reason,
    }


def residue(
    session: Session, sources: Collection[str] | None = None, *, orphans: bool = False
) -> list[dict[str, Any]]:
    """Every residue line (of the named sources) and the archived post it matches, in article order;
    with `orphans`, only the lines no post matches (orphaned or ambiguous)."""
    matches = residue_report(session, set(sources) if sources else None)
    return [m.to_json() for m in matches if not orphans or m.status != "matched"]


def residue_lines(session: Session, lines: Iterable[tuple[Article, Occurrence]]) -> list[dict[str, Any]]:
    """The residue lines given (every line of each article named: a page of articles) and the archived
    post each matches, in the order given."""
    return [m.to_json() for m in match_lines(session, lines)]


def pending_rewrites(session: Session) -> list[dict[str, Any]]:
    """The rewrites waiting for an editor's approval, oldest first."""
    return [r.to_json() for r in pending(session)]
