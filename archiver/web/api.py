"""The read-only JSON API (`/api/...`), in the shapes of the CLI's `--json` output, for a signed-in
session or an API token (`Authorization: Bearer TOKEN`, `archive token add`).

    GET /api/status                          archive status --json
    GET /api/embeds?state=&provider=&limit=  archive embeds --json
    GET /api/embeds/REF                      archive show REF --json (REF: id, post id or URL)
    GET /api/rewrites                        archive rewrite --pending --json
    GET /api/residue?source=&orphans=1       archive residue --json
"""

from __future__ import annotations

from typing import Any

import flask
from sqlalchemy.orm import Session
from werkzeug.exceptions import BadRequest, NotFound

from archiver.app import App
from archiver.pipeline import rewrite as rewrite_stage
from archiver.pipeline.rewrite import residue as residue_stage
from archiver.storage import queries
from archiver.storage.models import Embed
from archiver.web.auth import login_required
from archiver.web.common import current_archive, db_session

bp = flask.Blueprint("api", __name__, url_prefix="/api")

# The shapes below are those the CLI prints (tests/web/test_api.py compares the two outputs); they move
# to archiver.views, shared by both edges, when the rooms refactor lands there.


def status_shape(session: Session) -> dict[str, Any]:
    counts = queries.status_counts(session)
    counts["paused_providers"] = [
        {"provider": h.provider, "reason": h.reason, "since": h.since.isoformat() if h.since else None}
        for h in queries.paused_providers(session)
    ]
    counts["alerts"] = [
        {"provider": a.provider, "kind": a.kind, "message": a.message, "raised_at": a.raised_at.isoformat()}
        for a in queries.alerts(session, open_only=True)
    ]
    return counts


def embeds_shape(rows: list[queries.EmbedRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "provider": r.provider,
            "post_id": r.post_id,
            "url": r.url,
            "state": r.state,
            "last_check": r.last_checked_at.isoformat() if r.last_checked_at else None,
            "last_outcome": r.last_outcome,
            "snapshots": r.snapshots,
            "articles": r.articles,
        }
        for r in rows
    ]


def show_shape(session: Session, embed: Embed, app: App) -> dict[str, Any]:
    snapshots = [
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
                    "path": app.blobs.path_for(m.media_file.sha256) if m.media_file else None,
                }
                for m in snap.media
            ],
        }
        for snap in embed.snapshots
    ]
    return {
        "id": embed.id,
        "provider": embed.provider,
        "post_id": embed.post_id,
        "url": embed.canonical_url,
        "state": embed.state,
        "first_seen_at": embed.first_seen_at.isoformat(),
        "last_outcome": embed.last_outcome,
        "last_reason": embed.last_reason,
        "markup": queries.markup_fields_for(session, embed),
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


def _json(data: Any) -> flask.Response:
    response = flask.jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/status")
@login_required
def status() -> Any:
    with db_session() as session:
        return _json(status_shape(session))


@bp.route("/embeds")
@login_required
def embeds() -> Any:
    limit_text = flask.request.args.get("limit", "")
    if limit_text and (not limit_text.isdigit() or int(limit_text) < 1):
        raise BadRequest("limit: a whole number from 1")
    state = flask.request.args.get("state") or None
    provider = flask.request.args.get("provider") or None
    with db_session() as session:
        rows = queries.list_embeds(
            session, state=state, provider=provider, limit=int(limit_text) if limit_text else None
        )
        return _json(embeds_shape(rows))


@bp.route("/embeds/<path:ref>")
@login_required
def show(ref: str) -> Any:
    with db_session() as session:
        embed = queries.find_embed(session, ref)
        if embed is None:
            raise NotFound(f"no embed matches {ref!r}")
        return _json(show_shape(session, embed, current_archive()))


@bp.route("/rewrites")
@login_required
def rewrites() -> Any:
    with db_session() as session:
        return _json([r.to_json() for r in rewrite_stage.pending(session)])


@bp.route("/residue")
@login_required
def residue() -> Any:
    sources = flask.request.args.getlist("source") or None
    with db_session() as session:
        matches = residue_stage.residue_report(session, set(sources) if sources else None)
    if flask.request.args.get("orphans") in ("1", "true", "yes"):
        matches = [m for m in matches if m.status != "matched"]
    return _json([m.to_json() for m in matches])
