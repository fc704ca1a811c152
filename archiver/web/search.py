"""The editors' search page, `/search?q=WORDS[&after=CURSOR]` (login required): posts whose caption,
title, author or handle holds every word, then articles whose path does, newest first, a keyset page at
a time (`archiver.storage.queries.search`)."""

from __future__ import annotations

from typing import Any

import flask
from werkzeug.exceptions import BadRequest

from archiver.storage.queries import search as search_queries
from archiver.web.auth import login_required
from archiver.web.common import PAGE_SIZE, db_session

bp = flask.Blueprint("search", __name__)
MAX_QUERY_CHARS = 500


@bp.route("/search")
@login_required
def search() -> Any:
    typed = flask.request.args.get("q", "")[:MAX_QUERY_CHARS]
    after = flask.request.args.get("after") or None
    if not search_queries.valid_cursor(after):
        raise BadRequest("after: give the cursor of the page before (its 'Next page' link).")
    with db_session() as session:
        page = search_queries.search(session, typed, PAGE_SIZE, after)
    return flask.render_template(
        "search.html", typed=typed, page=page, snippet=search_queries.snippet, searched=bool(typed.strip())
    )
