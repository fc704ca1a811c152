"""The read-only JSON API (`/api/...`): `archiver.views`, the shapes the CLI prints with `--json`, for a
signed-in session or an API token (`Authorization: Bearer TOKEN`, `archive token add`).

    GET /api/status                          archive status --json
    GET /api/embeds?state=&provider=&limit=  archive embeds --json
    GET /api/embeds/REF                      archive show REF --json (REF: id, post id or URL)
    GET /api/rewrites                        archive rewrite --pending --json
    GET /api/residue?source=&orphans=1       archive residue --json
"""

from __future__ import annotations

from typing import Any

import flask
from werkzeug.exceptions import BadRequest, NotFound

from archiver import views
from archiver.web.auth import login_required
from archiver.web.common import current_archive, db_session

bp = flask.Blueprint("api", __name__, url_prefix="/api")


def _json(data: Any) -> flask.Response:
    response = flask.jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/status")
@login_required
def status() -> Any:
    with db_session() as session:
        return _json(views.status(session))


@bp.route("/embeds")
@login_required
def embeds() -> Any:
    limit_text = flask.request.args.get("limit", "")
    if limit_text and (not limit_text.isdigit() or int(limit_text) < 1):
        raise BadRequest("limit: a whole number from 1")
    state = flask.request.args.get("state") or None
    provider = flask.request.args.get("provider") or None
    limit = int(limit_text) if limit_text else None
    with db_session() as session:
        return _json(views.embeds(session, state=state, provider=provider, limit=limit))


@bp.route("/embeds/<path:ref>")
@login_required
def show(ref: str) -> Any:
    with db_session() as session:
        detail = views.embed(session, ref, current_archive().blobs)
    if detail is None:
        raise NotFound(f"no embed matches {ref!r}")
    return _json(detail)


@bp.route("/rewrites")
@login_required
def rewrites() -> Any:
    with db_session() as session:
        return _json(views.pending_rewrites(session))


@bp.route("/residue")
@login_required
def residue() -> Any:
    sources = flask.request.args.getlist("source") or None
    orphans = flask.request.args.get("orphans") in ("1", "true", "yes")
    with db_session() as session:
        return _json(views.residue(session, sources, orphans=orphans))
