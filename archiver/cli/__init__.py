"""`archive`: the command line. Each command parses options, builds the app, calls pipeline functions.

Exit codes: 0 done; 1 some items failed (transiently) and will be retried; 2 usage or config error.
"""

from __future__ import annotations

import difflib
import itertools
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from archiver import __version__
from archiver.accounts import write_secret_file
from archiver.app import App
from archiver.cli import web as web_commands
from archiver.cli.common import ERR, OUT, Context, json_option, pass_ctx
from archiver.config import DEFAULT_CONFIG_NAME, load_settings
from archiver.errors import ArchiverError, ConfigError, NotFound, UsageError
from archiver.pipeline import rewrite as rewrite_stage
from archiver.pipeline.capture import CaptureItem, CaptureReport, capture_due
from archiver.pipeline.check import check_due
from archiver.pipeline.export import export_warc
from archiver.pipeline.rewrite import residue as residue_stage
from archiver.pipeline.scan import articles as article_stage
from archiver.providers import PROVIDERS, names, provider_named
from archiver.records import Outcome
from archiver.storage import db, queries


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archive")
@click.option(
    "--config",
    "config",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"Settings file (default: ./{DEFAULT_CONFIG_NAME} when present).",
)
@click.option("--no-progress", is_flag=True, help="No progress bars even on a terminal.")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, no_progress: bool) -> None:
    """Archive the social-media posts that articles embed, before they disappear."""
    ctx.obj = Context(config, progress=not no_progress)
    ctx.call_on_close(ctx.obj.close)


# ---------------------------------------------------------------- setup


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=".")
def init(folder: Path) -> None:
    """Write archiver.toml and create the database in FOLDER (default: here)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / DEFAULT_CONFIG_NAME
    if config.exists():
        raise UsageError(f"{config} already exists; not overwriting it")
    config.write_text(STARTER_CONFIG, encoding="utf-8")
    (folder / "articles").mkdir(exist_ok=True)
    settings = load_settings(config, dict(os.environ), known_providers=names())
    db.upgrade(settings.database.url)
    OUT.print(f"Wrote {config}, created the database ({_safe_url(settings.database.url)}).")
    if write_secret_file(settings.web.secret_file):
        OUT.print(f"Wrote the web viewer's session secret to {settings.web.secret_file} (mode 0600).")
    OUT.print(f"Put HTML articles in {folder / 'articles'} and run: archive run articles")


@cli.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Create or migrate the database to the newest schema."""
    url = ctx.app.settings.database.url
    before = db.current_revision(url)
    db.upgrade(url)
    after = db.current_revision(url)
    if before == after:
        OUT.print(f"Database is up to date (revision {after}).")
    else:
        OUT.print(f"Database migrated from {before or 'empty'} to {after}.")


# ---------------------------------------------------------------- scan, fetch, run


@cli.command()
@click.argument("targets", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Read and scan only; touch nothing.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes that read and scan files at once (a backfill: one per core). Sql sources are "
    "scanned in this process.",
)
@json_option
@pass_ctx
def scan(ctx: Context, targets: tuple[str, ...], dry_run: bool, workers: int, as_json: bool) -> None:
    """Find embeds in articles: TARGETS are source names, files, folders or globs.

    With no TARGETS every configured source is scanned.
    """
    reports = _scan(ctx, targets, dry_run=dry_run, as_json=as_json, workers=workers)
    if not as_json:
        _scan_summary(reports, stored=not dry_run)
    _exit(1 if any(r.status is article_stage.ArticleStatus.ERROR for r in reports) else 0)


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), help="Capture at most this many embeds.")
@click.option("--provider", "provider_names", multiple=True, help="Only this provider (repeatable).")
@click.option(
    "--refresh",
    is_flag=True,
    help="Capture again posts that have snapshots (revalidated; a new version only if changed).",
)
@json_option
@pass_ctx
def fetch(
    ctx: Context, limit: int | None, provider_names: tuple[str, ...], refresh: bool, as_json: bool
) -> None:
    """Capture embeds that have no snapshot yet and are due (or, with --refresh, capture them again)."""
    for name in provider_names:
        _provider_or_usage_error(name)
    report = _capture(ctx, limit, provider_names or None, as_json, refresh=refresh)
    if not as_json:
        _capture_summary(report)
    _exit(1 if report.transient else 0)


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), help="Check at most this many embeds.")
@click.option("--provider", "provider_names", multiple=True, help="Only this provider (repeatable).")
@json_option
@pass_ctx
def check(ctx: Context, limit: int | None, provider_names: tuple[str, ...], as_json: bool) -> None:
    """Check every embed that is due and decide, carefully, which are gone (provider health first)."""
    for name in provider_names:
        _provider_or_usage_error(name)
    app = ctx.app
    with _progress(ctx, as_json, "Checking posts", None) as advance:

        def on_item(item: CaptureItem) -> None:
            advance()

        report = check_due(
            app.sessions,
            app.capture_deps(),
            limit=limit,
            providers=provider_names or None,
            on_item=on_item,
            on_total=getattr(advance, "set_total", None),
        )
    if as_json:
        _print_json(
            {
                "checked": report.attempted,
                "outcomes": report.outcomes,
                "state_changes": [{"embed": e, "from": a, "to": b} for e, a, b in report.state_changes],
                "providers": [
                    {"provider": h.provider, "healthy": h.healthy, "paused": h.paused, "resumed": h.resumed}
                    for h in report.health
                ],
            }
        )
    else:
        for h in report.health:
            if h.paused:
                ERR.print(f"[bold red]paused[/] {h.provider}: {h.paused}")
            elif h.resumed:
                OUT.print(f"[green]resumed[/] {h.provider}: canaries answer again")
        for embed_id, before, after in report.state_changes:
            OUT.print(f"  embed {embed_id}: {before} -> {after}", markup=False)
        parts = [f"{n} {outcome}" for outcome, n in sorted(report.outcomes.items())]
        OUT.print(f"Checked {report.attempted} embed(s): {', '.join(parts) or 'nothing was due'}.")
    _exit(1 if report.transient else 0)


@cli.command()
@click.argument("targets", nargs=-1, required=True)
@json_option
@pass_ctx
def run(ctx: Context, targets: tuple[str, ...], as_json: bool) -> None:
    """Scan TARGETS (sources, files, folders, globs), then capture every new embed: the one-off job."""
    reports = _scan(ctx, targets, dry_run=False, as_json=as_json)
    if not as_json:
        _scan_summary(reports, stored=True)
    report = _capture(ctx, None, None, as_json)
    if not as_json:
        _capture_summary(report)
    failed = report.transient or any(r.status is article_stage.ArticleStatus.ERROR for r in reports)
    _exit(1 if failed else 0)


# ---------------------------------------------------------------- reports


@cli.command()
@json_option
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Counts of articles, embeds by state and provider, snapshots and media."""
    with ctx.app.sessions() as session:
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
    if as_json:
        _print_json(counts)
        return
    for paused in counts["paused_providers"]:
        ERR.print(f"[bold red]paused[/] {paused['provider']} since {paused['since']}: {paused['reason']}")
    table = Table(title="Archive status", show_header=False)
    for key in ("articles", "articles_with_errors", "embeds", "residues", "snapshots", "media"):
        table.add_row(key.replace("_", " "), str(counts.get(key, 0)))
    OUT.print(table)
    if counts.get("by_provider"):
        states = sorted({s for per in counts["by_provider"].values() for s in per})
        by_provider = Table("provider", *states, title="Embeds by provider and state")
        for provider, per in sorted(counts["by_provider"].items()):
            by_provider.add_row(provider, *(str(per.get(s, 0)) for s in states))
        OUT.print(by_provider)


@cli.command()
@click.option("--source", "source_names", multiple=True, help="Only articles of this source (repeatable).")
@click.option("--orphans", is_flag=True, help="Only residue no post matches (orphaned or ambiguous).")
@json_option
@pass_ctx
def residue(ctx: Context, source_names: tuple[str, ...], orphans: bool, as_json: bool) -> None:
    """Report residue ("A post shared by NAME (@handle)") and the archived post each line matches.

    Matched lines get their card back from `archive rewrite` (as the source's mode says); orphaned and
    ambiguous ones are listed with the candidate posts found and why each was not taken."""
    with ctx.app.sessions() as session:
        matches = residue_stage.residue_report(session, set(source_names) if source_names else None)
    if orphans:
        matches = [m for m in matches if m.status != "matched"]
    if as_json:
        _print_json([m.to_json() for m in matches])
        return
    table = Table("article", "provider", "author", "handle", "date", "status", "post", "why / candidates")
    for m in matches:
        post = "-"
        if m.embed_id is not None:
            post = next((f"{c.post_id}" for c in m.candidates if c.embed_id == m.embed_id), str(m.embed_id))
        detail = m.reason
        if m.status != "matched" and m.candidates:
            detail += "; " + "; ".join(f"{c.post_id} ({c.why})" for c in m.candidates)
        table.add_row(
            m.key,
            m.provider,
            m.author_name or "-",
            m.handle or "-",
            m.published or "-",
            m.status + (" (repaired)" if m.repaired else ""),
            post,
            detail,
        )
    OUT.print(table)
    counts = Counter(m.status for m in matches)
    OUT.print(
        f"{len(matches)} residue line(s): {counts['matched']} matched, {counts['ambiguous']} ambiguous, "
        f"{counts['orphaned']} orphaned"
    )


@cli.command()
@click.option("--state", help="Only embeds in this state (new, live, ...).")
@click.option("--provider", help="Only this provider.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many rows.")
@json_option
@pass_ctx
def embeds(ctx: Context, state: str | None, provider: str | None, limit: int | None, as_json: bool) -> None:
    """List embeds with their state and last check."""
    if provider:
        _provider_or_usage_error(provider)
    with ctx.app.sessions() as session:
        rows = queries.list_embeds(session, state=state, provider=provider, limit=limit)
    if as_json:
        _print_json(
            [
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
        )
        return
    table = Table("id", "provider", "post", "state", "last check", "outcome", "snapshots", "articles")
    for r in rows:
        table.add_row(
            str(r.id),
            r.provider,
            r.post_id,
            r.state,
            r.last_checked_at.strftime("%Y-%m-%d %H:%M") if r.last_checked_at else "-",
            r.last_outcome or "-",
            str(r.snapshots),
            str(r.articles),
        )
    OUT.print(table)
    OUT.print(f"{len(rows)} embed(s)")


@cli.command()
@click.argument("url_or_id")
@json_option
@pass_ctx
def show(ctx: Context, url_or_id: str, as_json: bool) -> None:
    """One embed: its snapshot versions, media, check history and the articles that embed it."""
    app = ctx.app
    with app.sessions() as session:
        embed = queries.find_embed(session, url_or_id)
        if embed is None:
            raise NotFound(f"no embed matches {url_or_id!r} (try `archive embeds`)")
        detail = _embed_detail(session, embed, app)
    if as_json:
        _print_json(detail)
        return
    _print_embed(detail)


@cli.command()
@click.option(
    "--warc",
    "warc_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Write a gzipped WARC file here.",
)
@click.option(
    "--embed", "embed_refs", multiple=True, help="Only this embed (id, post id or URL; repeatable)."
)
@click.option("--overwrite", is_flag=True, help="Replace the file if it exists.")
@json_option
@pass_ctx
def export(
    ctx: Context, warc_path: Path, embed_refs: tuple[str, ...], overwrite: bool, as_json: bool
) -> None:
    """Export captured responses, media and snapshots as WARC records that standard tools read."""
    app = ctx.app
    embed_ids: list[int] | None = None
    if embed_refs:
        embed_ids = []
        with app.sessions() as session:
            for wanted in embed_refs:
                embed = queries.find_embed(session, wanted)
                if embed is None:
                    raise NotFound(f"no embed matches {wanted!r} (try `archive embeds`)")
                embed_ids.append(embed.id)
    report = export_warc(
        app.sessions, app.blobs, warc_path, app.clock, embed_ids=embed_ids, overwrite=overwrite
    )
    counts = {
        "path": str(report.path),
        "snapshots": report.snapshots,
        "responses": report.responses,
        "media": report.media,
        "revisits": report.revisits,
        "skipped": report.skipped,
        "missing_media": list(report.missing_media),
    }
    if as_json:
        _print_json(counts)
        return
    OUT.print(
        f"Wrote {report.path}: {report.snapshots} snapshot(s), {report.responses} response(s), "
        f"{report.media} media file(s), {report.revisits} revisit(s); {report.skipped} response(s) skipped "
        "(transport errors have no HTTP response to record)."
    )
    if report.missing_media:
        ERR.print(f"[yellow]warning[/] {len(report.missing_media)} media file(s) are missing from the store")


@cli.command()
@click.option("--dry-run", is_flag=True, help="Print a unified diff of what would change; write nothing.")
@click.option("--pending", is_flag=True, help="List the rewrites waiting for an editor's approval.")
@click.option(
    "--approve", "approve_ids", multiple=True, type=int, help="Approve this rewrite id (repeatable)."
)
@click.option("--reject", "reject_ids", multiple=True, type=int, help="Reject this rewrite id (repeatable).")
@click.option(
    "--by",
    "editor",
    default=lambda: os.environ.get("USER", "editor"),
    show_default="$USER",
    help="Who approves or rejects (kept in the journal).",
)
@click.option("--source", "source_names", multiple=True, help="Only articles of this source (repeatable).")
@json_option
@pass_ctx
def rewrite(
    ctx: Context,
    dry_run: bool,
    pending: bool,
    approve_ids: tuple[int, ...],
    reject_ids: tuple[int, ...],
    editor: str,
    source_names: tuple[str, ...],
    as_json: bool,
) -> None:
    """Replace broken embeds with archived fallback cards, as each source's mode says (monitor, approve,
    apply); every change is journalled and can be restored byte for byte."""
    app = ctx.app
    if pending:
        with app.sessions() as session:
            rows = rewrite_stage.pending(session)
        if as_json:
            _print_json([r.to_json() for r in rows])
            return
        table = Table("id", "article", "embed", "state", "reason", title="Rewrites waiting for approval")
        for r in rows:
            table.add_row(str(r.id), r.article, f"{r.provider}:{r.post_id}", r.state, r.reason or "")
        OUT.print(table)
        return
    if approve_ids or reject_ids:
        with app.sessions() as session, session.begin():
            decisions = [
                *rewrite_stage.approve(session, approve_ids, editor, app.clock.now()),
                *rewrite_stage.reject(session, reject_ids, editor, app.clock.now()),
            ]
        if as_json:
            _print_json([d.to_json() for d in decisions])
        else:
            for d in decisions:
                OUT.print(
                    f"rewrite {d.id}: {'ok' if d.ok else 'refused'} -> {d.state} {d.reason or ''}".rstrip()
                )
        if not approve_ids:
            return
    deps = rewrite_stage.RewriteDeps.from_settings(app.settings, app.clock, env=app.env)

    def on_article(outcome: rewrite_stage.ArticleOutcome) -> None:
        if as_json:
            click.echo(json.dumps(outcome.to_json(), ensure_ascii=False))
        elif dry_run:
            diff = outcome.plan.diff()
            if diff:
                click.echo(diff, nl=not diff.endswith("\n"))
        else:
            OUT.print(
                f"{outcome.plan.key}: {outcome.status}" + (f" ({outcome.error})" if outcome.error else ""),
                markup=False,
            )

    report = rewrite_stage.run(
        app.sessions, deps, sources=source_names or None, dry_run=dry_run, on_article=on_article
    )
    if not as_json:
        for restored in report.restored:
            OUT.print(
                f"{restored.key}: restored {len(restored.rewrite_ids)} rewrite(s) of embeds that came back",
                markup=False,
            )
        OUT.print(f"Rewrite: {len(report.articles)} article(s) considered.")
    _exit(1 if report.failed else 0)


@cli.command()
@click.argument("article")
@click.argument("embed", required=False)
@click.option(
    "--by",
    "editor",
    default=lambda: os.environ.get("USER", "editor"),
    show_default="$USER",
    help="Who restores (an editor's restore is not rewritten again).",
)
@json_option
@pass_ctx
def restore(ctx: Context, article: str, embed: str | None, editor: str, as_json: bool) -> None:
    """Give ARTICLE (its path or id) back byte for byte, or only the card of EMBED (id, post id or URL)."""
    app = ctx.app
    with app.sessions() as session:
        row = queries.find_article(session, article)
        if row is None:
            raise NotFound(f"no article matches {article!r}")
        article_id = row.id
        embed_id = None
        if embed is not None:
            found = queries.find_embed(session, embed)
            if found is None:
                raise NotFound(f"no embed matches {embed!r} (try `archive embeds`)")
            embed_id = found.id
    deps = rewrite_stage.RewriteDeps.from_settings(app.settings, app.clock, env=app.env)
    result = rewrite_stage.restore_article(app.sessions, deps, article_id, embed_id, by=editor)
    if as_json:
        _print_json(result.to_json())
    elif result.error:
        ERR.print(f"error: {result.error}", markup=False)
    else:
        OUT.print(
            f"{result.key}: restored {len(result.rewrite_ids)} rewrite(s); sha256 {result.after_sha256}",
            markup=False,
        )
    _exit(1 if result.error else 0)


@cli.command()
@pass_ctx
def daemon(ctx: Context) -> None:
    """Run the scheduler: scan, capture, check, rewrite and collect media on the [daemon] schedules,
    sharing due work with other daemons through leases; SIGTERM or SIGINT stops it within 10 seconds."""
    from archiver.daemon import run_daemon

    _exit(run_daemon(ctx.app))


@cli.command("providers")
@json_option
@pass_ctx
def providers_command(ctx: Context, as_json: bool) -> None:
    """The platforms the archiver knows, what each recognises, whether it captures posts yet, and the
    endpoints it calls."""
    settings = ctx.app.settings
    rows: list[dict[str, Any]] = []
    for provider in PROVIDERS:
        own = settings.provider(provider.name)
        rows.append(
            {
                "name": provider.name,
                "title": provider.title,
                "enabled": own.enabled,
                "captures": provider.can_capture(),
                "rate": own.rate or provider.default_rate,
                "recognises": list(provider.recognises),
                "endpoints": {key: own.url(key, default) for key, default in provider.endpoints.items()},
                "token_env": own.access_token_env,
            }
        )
    if as_json:
        _print_json(rows)
        return
    table = Table("provider", "enabled", "captures", "rate", "recognises", "endpoints")
    for row in rows:
        table.add_row(
            f"{row['title']} ({row['name']})",
            "yes" if row["enabled"] else "no",
            "yes" if row["captures"] else "no (detection only)",
            str(row["rate"] or "-"),
            escape("\n".join(row["recognises"])),  # "vimeo.com/ID[/HASH]" is text, not rich markup
            escape("\n".join(f"{k} = {v}" for k, v in row["endpoints"].items())),
        )
    OUT.print(table)


# ---------------------------------------------------------------- helpers


def _scan(
    ctx: Context, targets: tuple[str, ...], *, dry_run: bool, as_json: bool, workers: int = 1
) -> list[article_stage.ArticleReport]:
    app = ctx.app
    chosen = targets or tuple(s.name for s in app.settings.sources)
    if not chosen:
        raise UsageError("nothing to scan: name files, folders or globs, or configure [[sources]]")
    resolved = article_stage.resolve_targets(chosen, app.settings.sources, app.settings.scan, app.env)
    total = sum(len(t.items) for t in resolved)
    providers = tuple(p for p in PROVIDERS if app.settings.provider(p.name).enabled)
    sessions = None if dry_run else app.sessions

    with _progress(ctx, as_json, "Scanning articles", total) as advance:

        def on_article(report: article_stage.ArticleReport) -> None:
            advance()
            if as_json:
                OUT.print(json.dumps(report.to_json(), ensure_ascii=False), markup=False, highlight=False)
            elif report.error:
                ERR.print(
                    f"[yellow]skipped[/] {report.error}"
                    if report.article in report.error
                    else f"[yellow]skipped[/] {report.article}: {report.error}"
                )

        return article_stage.scan_targets(
            resolved,
            app.settings.scan,
            providers,
            sessions=sessions,
            clock=app.clock,
            on_article=on_article,
            workers=workers,
        )


def _capture(
    ctx: Context, limit: int | None, only: tuple[str, ...] | None, as_json: bool, *, refresh: bool = False
) -> CaptureReport:
    app = ctx.app
    with _progress(ctx, as_json, "Capturing posts", None) as advance:

        def on_item(item: CaptureItem) -> None:
            advance()
            if as_json:
                OUT.print(
                    json.dumps(
                        {
                            "capture": {
                                "embed": item.embed_id,
                                "provider": item.provider,
                                "id": item.post_id,
                                "outcome": item.outcome.value,
                                "reason": item.reason,
                                "new_version": item.new_version,
                            }
                        },
                        ensure_ascii=False,
                    ),
                    markup=False,
                    highlight=False,
                )

        return capture_due(
            app.sessions,
            app.capture_deps(),
            limit=limit,
            providers=only,
            on_item=on_item,
            on_total=getattr(advance, "set_total", None),
            refresh=refresh,
        )


@contextmanager
def _progress(ctx: Context, as_json: bool, label: str, total: int | None) -> Iterator[Callable[[], None]]:
    if as_json or not ctx.progress or not ERR.is_terminal:

        def noop() -> None:
            return None

        noop.set_total = lambda n: None  # type: ignore[attr-defined]
        yield noop
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=ERR,
        transient=True,
    )
    with progress:
        task = progress.add_task(label, total=total)

        def advance() -> None:
            progress.advance(task)

        advance.set_total = lambda n: progress.update(task, total=n)  # type: ignore[attr-defined]
        yield advance


def _scan_summary(reports: list[article_stage.ArticleReport], *, stored: bool) -> None:
    table = Table("article", "embeds", "found")
    for report in reports:
        if report.status is article_stage.ArticleStatus.ERROR:
            continue
        found = ", ".join(
            f"{e.provider}:{e.post_id}" if not e.is_residue else f"{e.provider} residue @{e.handle or '?'}"
            for e in report.embeds
        )
        label = (
            "unchanged" if report.status is article_stage.ArticleStatus.UNCHANGED else str(len(report.embeds))
        )
        table.add_row(report.article, label, found)
    if reports:
        OUT.print(table)
    errors = sum(1 for r in reports if r.status is article_stage.ArticleStatus.ERROR)
    embeds_found = sum(1 for r in reports for e in r.embeds if not e.is_residue)
    residues = sum(1 for r in reports for e in r.embeds if e.is_residue)
    new = sum(r.new_embeds for r in reports)
    line = f"Scanned {len(reports)} article(s): {embeds_found} embed(s), {residues} residue(s) of broken ones"
    if stored:
        line += f", {new} new"
    if errors:
        line += f"; {errors} article(s) could not be read (see above)"
    OUT.print(line + ".")


def _capture_summary(report: CaptureReport) -> None:
    if not report.items:
        OUT.print("Nothing to capture: every embed has a snapshot or is waiting for its retry time.")
        return
    for item in report.items:
        if item.outcome is not Outcome.OK and not item.deferred:
            OUT.print(
                f"  {item.provider}:{item.post_id} [bold]{item.outcome.value}[/]: {item.reason}", markup=True
            )
    parts = [f"{n} {outcome}" for outcome, n in sorted(report.outcomes.items())]
    OUT.print(
        f"Captured {report.attempted} embed(s): {', '.join(parts)}; "
        f"{report.new_snapshots} new snapshot version(s)."
    )
    failed = report.transient - report.deferred
    if failed:
        OUT.print(
            f"{failed} capture(s) failed transiently (network, rate limit or provider "
            "error) and will be retried on the next run."
        )
    if report.deferred:
        OUT.print(
            f"{report.deferred} capture(s) were deferred by a rate budget or a host's backoff "
            "(nothing was asked) and will run on the next run."
        )


def _embed_detail(session: Any, embed: Any, app: App) -> dict[str, Any]:
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
                        "path": app.blobs.path_for(m.media_file.sha256) if m.media_file else None,
                    }
                    for m in snap.media
                ],
            }
        )
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


def _print_embed(detail: dict[str, Any]) -> None:
    OUT.print(f"[bold]{detail['provider']}:{detail['post_id']}[/]  {detail['url']}")
    OUT.print(
        f"state: {detail['state']}   first seen: {detail['first_seen_at']}   "
        f"last outcome: {detail['last_outcome'] or '-'}"
    )
    snaps = detail["snapshots"]
    if not snaps:
        OUT.print("No snapshot yet" + (f" ({detail['last_reason']})" if detail["last_reason"] else "") + ".")
        for key, value in detail["markup"].items():
            OUT.print(f"  {key} (from the article's markup): {value}", markup=False)
    for snap in snaps:
        prov = snap["provenance"] or {}
        OUT.print(f"\n[bold]Snapshot v{snap['version']}[/] captured {snap['captured_at']}")
        for key, label in (
            ("author_name", "author"),
            ("handle", "handle"),
            ("published", "published"),
            ("title", "title"),
            ("text", "caption"),
        ):
            value = snap[key]
            if value:
                shown = f"@{value}" if key == "handle" else value
                OUT.print(f"  {label}: {shown}  [dim]({prov.get(key, '?')})[/]", markup=True)
        for media in snap["media"]:
            if media["sha256"]:
                OUT.print(
                    f"  {media['kind']}: {media['path']} ({media['type']}, {media['size']} bytes) "
                    f"[dim]from {media['original_url']}[/]"
                )
            else:
                OUT.print(f"  {media['kind']}: not stored: {media['error']}  [dim]{media['original_url']}[/]")
    for older, newer in itertools.pairwise(snaps):
        if (older["text"] or "") != (newer["text"] or ""):
            OUT.print(f"\n[bold]Caption change v{older['version']} -> v{newer['version']}[/]")
            diff = difflib.unified_diff(
                (older["text"] or "").splitlines(),
                (newer["text"] or "").splitlines(),
                f"v{older['version']}",
                f"v{newer['version']}",
                lineterm="",
            )
            for line in diff:
                OUT.print(line, markup=False)
    if detail["state_changes"]:
        changes = Table("at", "from", "to", "why", title="State changes")
        for c in detail["state_changes"]:
            changes.add_row(c["at"][:19], c["from"], c["to"], c["reason"])
        OUT.print(changes)
    if detail["next_check_at"]:
        OUT.print(f"next check: {detail['next_check_at'][:19]}")
    if detail["checks"]:
        table = Table("checked at", "kind", "outcome", "status", "reason", title="History")
        for c in detail["checks"][-20:]:
            table.add_row(
                c["checked_at"][:19], c["kind"], c["outcome"], str(c["http_status"] or "-"), c["reason"]
            )
        OUT.print(table)
    OUT.print("\nEmbedded in: " + ", ".join(f"{a['article']} ({a['markup']})" for a in detail["articles"]))


def _provider_or_usage_error(name: str) -> None:
    try:
        provider_named(name)
    except KeyError:
        raise UsageError(f"no provider named {name!r}; see `archive providers`") from None


def _print_json(data: Any) -> None:
    OUT.print(json.dumps(data, ensure_ascii=False, indent=2, default=str), markup=False, highlight=False)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


def _exit(code: int) -> None:
    if code:
        sys.exit(code)


web_commands.register(cli)


def main() -> None:
    """Console entry point: one readable line and the right exit code for every expected error."""
    try:
        cli.main(standalone_mode=False, prog_name="archive")
    except click.exceptions.Abort:
        ERR.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except ConfigError as exc:
        ERR.print(str(exc), markup=False)
        sys.exit(2)
    except ArchiverError as exc:
        ERR.print(f"error: {exc}", markup=False)
        sys.exit(exc.exit_code)


STARTER_CONFIG = """\
# embed-archiver settings. Every key is documented in config.example.toml.
[database]
url = "sqlite:///archive.db"

[media]
dir = "media"

[[sources]]
name = "articles"
kind = "files"
path = "articles"
"""
