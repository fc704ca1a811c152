"""The editors' pages (`/editors/...`, login required): the dashboard, the review queue where editors
approve, reject and restore rewrites, the articles, one embed's timeline, one account's embeds, and the
residue. Reading is open to viewers; deciding (POST) to editors, through the rewrite stage's own verbs."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import flask
from werkzeug.exceptions import BadRequest, NotFound

from archiver import views
from archiver.errors import ArchiverError
from archiver.pipeline import rewrite as rewrite_stage
from archiver.records import JournalState
from archiver.storage import queries
from archiver.storage.models import Embed, Rewrite, Snapshot
from archiver.storage.queries import viewer as viewer_queries
from archiver.web.auth import editor_required, login_required
from archiver.web.common import PAGE_SIZE, bytes_text, current_archive, db_session, rewrite_deps, text_diff

bp = flask.Blueprint("editors", __name__, url_prefix="/editors")
BREAKAGE_DAYS = 7
CONTEXT_BYTES = 400
CHECKS_SHOWN = 100
MAX_BULK = 500
# Articles of one residue page: each line is matched on the page (a few queries an article).
RESIDUE_PAGE = 20


def _after() -> int | None:
    value = flask.request.args.get("after", "")
    if not value:
        return None
    if not value.isdigit():
        raise BadRequest("after: give the id of the last row shown")
    return int(value)


def _option(name: str) -> str | None:
    return flask.request.args.get(name, "").strip() or None


# ---------------------------------------------------------------- dashboard


@bp.route("/")
@login_required
def dashboard() -> Any:
    archive = current_archive()
    now = archive.clock.now()
    since = now - timedelta(days=BREAKAGE_DAYS)
    with db_session() as session:
        counts = viewer_queries.dashboard_counts(session)
        residue_lines, residue_bare = viewer_queries.residue_line_counts(session)
        residue_by_status, residue_counted_at = queries.residue_counts(session)
        rewrites = queries.rewrite_counts(session)
        context = {
            "counts": counts,
            "states": list(counts.by_state),
            "breakages": viewer_queries.breakages_since(session, since, 20),
            "breakage_days": viewer_queries.breakage_days(session, since),
            "paused": queries.paused_providers(session),
            "alerts": queries.alerts(session, open_only=True),
            "queue_size": rewrites.get(JournalState.PLANNED, 0),
            "refused": rewrites.get(JournalState.REFUSED, 0),
            "applied": rewrites.get(JournalState.APPLIED, 0),
            "residue_lines": residue_lines,
            "residue_bare": residue_bare,
            "residue_by_status": residue_by_status,
            "residue_counted_at": residue_counted_at,
            "jobs": sorted(queries.job_runs(session).items()),
            "days": BREAKAGE_DAYS,
        }
        session.commit()  # the tallies folded, if they were
        return flask.render_template("editors/dashboard.html", **context)


# ---------------------------------------------------------------- review queue


@dataclass(frozen=True, slots=True)
class Fragment:
    """The article around one rewrite's span, before and after, as text (shown escaped)."""

    before: str
    original: str
    replacement: str
    after: str
    error: str | None = None


class _ArticleReader:
    """The article files of one page, each read once however many of its rewrites the page shows."""

    def __init__(self) -> None:
        self.deps = rewrite_deps()
        self.read: dict[tuple[str, str], bytes | str] = {}

    def __call__(self, source: str, key: str) -> bytes | str:
        """The article's bytes, or why they cannot be read now."""
        if (source, key) not in self.read:
            try:
                self.read[(source, key)] = self.deps.store(source).read(key).data
            except ArchiverError as exc:
                self.read[(source, key)] = str(exc)
        return self.read[(source, key)]


def _fragment(row: Rewrite, data: bytes | str) -> Fragment:
    original = bytes_text(row.original_bytes)
    replacement = bytes_text(row.replacement_bytes)
    if isinstance(data, str):
        return Fragment("", original, replacement, "", f"cannot read the article now: {data}")
    applied = row.state == JournalState.APPLIED
    needle = (row.replacement_bytes if applied else row.original_bytes) or b""
    start = row.card_start if applied and row.card_start is not None else row.span_start
    if data[start : start + len(needle)] != needle or not needle:
        start = data.find(needle) if needle else -1
        if start < 0:
            return Fragment(
                "", original, replacement, "", "the unit is no longer in the article as journaled"
            )
    end = start + len(needle)
    return Fragment(
        bytes_text(data[max(0, start - CONTEXT_BYTES) : start]),
        original,
        replacement,
        bytes_text(data[end : end + CONTEXT_BYTES]),
    )


@bp.route("/queue")
@login_required
def queue() -> Any:
    after = _after()
    with db_session() as session:
        rows = viewer_queries.rewrites_page(session, (JournalState.PLANNED,), after, PAGE_SIZE)
        evidence = viewer_queries.gone_checks(session, [r.embed_id for r, _, _ in rows if r.embed_id])
        read = _ArticleReader()
        items = [
            {
                "row": row,
                "article": article,
                "source": source,
                "fragment": _fragment(row, read(source, article.key)),
                "gone": evidence.get(row.embed_id or 0, []),
                "embed_state": row.embed.state if row.embed is not None else None,
            }
            for row, article, source in rows
        ]
        size = viewer_queries.rewrite_count(session, JournalState.PLANNED)
        return flask.render_template(
            "editors/queue.html",
            items=items,
            size=size,
            after=after,
            next_after=rows[-1][0].id if len(rows) == PAGE_SIZE else None,
        )


def _ids(values: list[str]) -> list[int]:
    if not values:
        raise BadRequest("choose at least one rewrite")
    if len(values) > MAX_BULK or not all(v.isdigit() for v in values):
        raise BadRequest(f"give at most {MAX_BULK} rewrite ids")
    return sorted({int(v) for v in values})


@bp.route("/queue/decide", methods=["POST"])
@editor_required
def decide() -> Any:
    """Approve (and write at once) or reject (with a note) the chosen planned rewrites."""
    ids = _ids(flask.request.form.getlist("rewrite"))
    decision = flask.request.form.get("decision", "")
    note = flask.request.form.get("note", "").strip()[:2000] or None
    if decision not in ("approve", "reject"):
        raise BadRequest("decision: approve or reject")
    archive = current_archive()
    editor = flask.g.user.name
    with db_session() as session, session.begin():
        if decision == "approve":
            decisions = rewrite_stage.approve(session, ids, editor, archive.clock.now())
        else:
            reason = f"rejected by {editor}: {note}" if note else None
            decisions = rewrite_stage.reject(session, ids, editor, archive.clock.now(), reason)
        articles = sorted({row.article_id for row in queries.rewrites_by_id(session, ids)})
    messages = [f"rewrite {d.id}: {d.reason}" for d in decisions if not d.ok]
    done = [d.id for d in decisions if d.ok]
    if decision == "approve" and done:
        deps = rewrite_deps()
        # What a crash left half written is settled first, as `archive rewrite` does.
        rewrite_stage.recover(archive.sessions, deps)
        for article_id in articles:
            result = rewrite_stage.apply_article(archive.sessions, deps, article_id)
            if result.error or result.status not in ("applied", "unchanged"):
                messages.append(f"article {article_id}: {result.status} {result.error or ''}".rstrip())
    verb = "approved and written" if decision == "approve" else "rejected"
    if done:
        flask.flash(f"{len(done)} rewrite(s) {verb}: {', '.join(map(str, done))}", "ok")
    for message in messages:
        flask.flash(message, "problem")
    return flask.redirect(flask.request.form.get("back") or flask.url_for("editors.queue"))


@bp.route("/rewrites/<int:rewrite_id>/restore", methods=["POST"])
@editor_required
def restore(rewrite_id: int) -> Any:
    """Give the article back the original bytes of one applied rewrite (the editor's restore is sticky)."""
    with db_session() as session:
        row = session.get(Rewrite, rewrite_id)
        if row is None:
            raise NotFound(f"no rewrite {rewrite_id}")
        if row.state != JournalState.APPLIED:
            raise BadRequest(f"rewrite {rewrite_id} is {row.state}, not applied")
        article_id, embed_id = row.article_id, row.embed_id
    if embed_id is None:
        raise BadRequest("this card names no post: restore the whole article from its page")
    return _restore(article_id, embed_id)


@bp.route("/articles/<int:article_id>/restore", methods=["POST"])
@editor_required
def restore_article(article_id: int) -> Any:
    return _restore(article_id, None)


def _restore(article_id: int, embed_id: int | None) -> Any:
    archive = current_archive()
    deps = rewrite_deps()
    # A restore (or write) killed halfway leaves rows `restoring` (`applying`), which this restore would
    # not see: settle them first, as `archive restore` does.
    rewrite_stage.recover(archive.sessions, deps)
    result = rewrite_stage.restore_article(archive.sessions, deps, article_id, embed_id, by=flask.g.user.name)
    if result.error:
        flask.flash(f"{result.key}: not restored: {result.error}", "problem")
    elif result.rewrite_ids:
        ids = ", ".join(map(str, result.rewrite_ids))
        flask.flash(f"{result.key}: restored rewrite(s) {ids}; the article has its original bytes.", "ok")
    else:
        flask.flash(f"{result.key}: nothing applied to restore", "problem")
    return flask.redirect(flask.url_for("editors.article", article_id=article_id))


# ---------------------------------------------------------------- articles


@bp.route("/articles")
@login_required
def articles() -> Any:
    source, state, provider, after = _option("source"), _option("state"), _option("provider"), _after()
    with db_session() as session:
        lines = viewer_queries.articles_page(
            session, source=source, state=state, provider=provider, after=after, limit=PAGE_SIZE
        )
        kinds = viewer_queries.embed_kinds(session)
        return flask.render_template(
            "editors/articles.html",
            lines=lines,
            sources=viewer_queries.source_names(session),
            providers=sorted({provider for provider, _ in kinds}),
            states=sorted({state for _, state in kinds}),
            chosen={"source": source, "state": state, "provider": provider},
            args={k: v for k, v in (("source", source), ("state", state), ("provider", provider)) if v},
            after=after,
            next_after=lines[-1].id if len(lines) == PAGE_SIZE else None,
        )


@bp.route("/articles/<int:article_id>")
@login_required
def article(article_id: int) -> Any:
    with db_session() as session:
        found = viewer_queries.article_with_source(session, article_id)
        if found is None:
            raise NotFound(f"no article {article_id}")
        history = [
            {
                "row": row,
                "diff": text_diff(
                    bytes_text(row.original_bytes), bytes_text(row.replacement_bytes), "before", "after"
                ),
            }
            for row in queries.article_rewrites(session, article_id)
        ]
        return flask.render_template(
            "editors/article.html",
            article=found,
            occurrences=viewer_queries.article_occurrences(session, article_id),
            history=history,
        )


# ---------------------------------------------------------------- one embed


def _oembed_html(snapshot: Snapshot) -> str | None:
    """The provider's own embed HTML (oEmbed `html`) as captured; shown only in a sandboxed frame."""
    for response in snapshot.raw or []:
        if not isinstance(response, dict) or response.get("rung") != "oembed":
            continue
        try:
            data = json.loads(response.get("body") or "")
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("html"), str):
            return str(data["html"])
    return None


@bp.route("/embeds/<int:embed_id>")
@login_required
def embed(embed_id: int) -> Any:
    with db_session() as session:
        found = session.get(Embed, embed_id)
        if found is None:
            raise NotFound(f"no embed {embed_id}")
        snapshots = list(found.snapshots)
        diffs = {
            newer.version: text_diff(older.text, newer.text, f"v{older.version}", f"v{newer.version}")
            for older, newer in itertools.pairwise(snapshots)
            if (older.text or "") != (newer.text or "")
        }
        return flask.render_template(
            "editors/embed.html",
            embed=found,
            snapshots=snapshots,
            oembed={s.version: _oembed_html(s) for s in snapshots},
            diffs=diffs,
            markup=queries.markup_fields_for(session, found),
            checks=viewer_queries.embed_checks(session, embed_id, CHECKS_SHOWN),
            check_total=viewer_queries.check_count(session, embed_id),
            articles=queries.embed_articles(session, found),
            rewrites=viewer_queries.embed_rewrites(session, embed_id),
            aliases=queries.aliases_of(session, embed_id),
        )


@bp.route("/accounts/<provider>/<path:handle>")
@login_required
def account(provider: str, handle: str) -> Any:
    """Every embed of one account across all articles: what breaks if this account goes."""
    with db_session() as session:
        ids = queries.embeds_with_handle(session, provider, handle)
        lines = viewer_queries.embed_lines(session, ids)
        holding = {}
        for line in lines:
            embed_row = session.get(Embed, line.id)
            holding[line.id] = queries.embed_articles(session, embed_row) if embed_row is not None else []
        return flask.render_template(
            "editors/account.html",
            provider=provider,
            handle=handle.lstrip("@"),
            lines=lines,
            holding=holding,
            states=Counter(line.state for line in lines),
            article_count=len({a.id for rows in holding.values() for a, _ in rows}),
        )


# ---------------------------------------------------------------- residue


@bp.route("/residue")
@login_required
def residue() -> Any:
    """The residue lines of one keyset page of articles (`after` the last article id shown), matched;
    the status counts are of this page (matching every line of the archive takes seconds)."""
    status, after = _option("status"), _after()
    if status not in (None, "matched", "ambiguous", "orphaned"):
        raise BadRequest("status: matched, ambiguous or orphaned")
    with db_session() as session:
        # One more than shown, so that the last page offers no next page.
        article_ids = viewer_queries.residue_article_ids(session, after, RESIDUE_PAGE + 1)
        more = len(article_ids) > RESIDUE_PAGE
        article_ids = article_ids[:RESIDUE_PAGE]
        matches = views.residue_lines(session, viewer_queries.residue_lines_of(session, article_ids))
        total, bare = viewer_queries.residue_line_counts(session)
    counts = Counter(m["status"] for m in matches)
    shown = [m for m in matches if status is None or m["status"] == status]
    return flask.render_template(
        "editors/residue.html",
        matches=shown,
        counts=counts,
        status=status,
        total=total,
        bare=bare,
        after=after,
        next_after=article_ids[-1] if more else None,
        args={"status": status} if status else {},
    )
