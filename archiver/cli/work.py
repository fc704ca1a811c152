"""The work, run from the command line: `archive scan`, `fetch`, `check`, `run` (scan then fetch, once),
`gc` (media no snapshot uses, once) and `daemon` (all of it on the `[daemon]` schedules)."""

from __future__ import annotations

import json
from contextlib import ExitStack

import click
from rich.markup import escape

from archiver.cli import render
from archiver.cli.common import ERR, OUT, Context, exit_with, json_option, pass_ctx, print_json
from archiver.config import parse_duration
from archiver.daemon import run_daemon
from archiver.errors import UsageError
from archiver.pipeline.capture import CaptureItem, CaptureReport, capture_due
from archiver.pipeline.check import check_due
from archiver.pipeline.gc import collect_media
from archiver.pipeline.mirror import spn_keys
from archiver.pipeline.scan import ArticleReport, ArticleStatus, SourceAccess, resolve_targets, scan_targets
from archiver.providers import enabled_providers, provider_named


def register(group: click.Group) -> None:
    for command in (scan, fetch, check, run, gc, daemon):
        group.add_command(command)


@click.command()
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
@click.option(
    "--full",
    is_flag=True,
    help="A wordpress source: list every post, not only those modified since its last scan.",
)
@json_option
@pass_ctx
def scan(
    ctx: Context, targets: tuple[str, ...], dry_run: bool, workers: int, full: bool, as_json: bool
) -> None:
    """Find embeds in articles: TARGETS are source names, files, folders or globs.

    With no TARGETS every configured source is scanned. A dry run of a wordpress source lists every
    post (it opens no database, so the scan cursor is neither read nor moved).
    """
    reports = _scan(ctx, targets, dry_run=dry_run, as_json=as_json, workers=workers, full=full)
    if not as_json:
        render.scan_summary(reports, stored=not dry_run)
    exit_with(1 if any(r.status is ArticleStatus.ERROR for r in reports) else 0)


@click.command()
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
        provider_named(name)
    report = _capture(ctx, limit, provider_names or None, as_json, refresh=refresh)
    if not as_json:
        render.capture_summary(report)
    exit_with(1 if report.transient else 0)


@click.command()
@click.option("--limit", type=click.IntRange(min=1), help="Check at most this many embeds.")
@click.option("--provider", "provider_names", multiple=True, help="Only this provider (repeatable).")
@json_option
@pass_ctx
def check(ctx: Context, limit: int | None, provider_names: tuple[str, ...], as_json: bool) -> None:
    """Check every embed that is due and decide, carefully, which are gone (provider health first)."""
    for name in provider_names:
        provider_named(name)
    app = ctx.app
    with render.progress(ctx.progress and not as_json, "Checking posts", None) as advance:

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
        print_json(
            {
                "checked": report.attempted,
                "deferred": report.deferred,
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
                ERR.print(f"[bold red]paused[/] {h.provider}: {escape(h.paused)}", markup=True)
            elif h.resumed:
                OUT.print(f"[green]resumed[/] {h.provider}: canaries answer again", markup=True)
        for embed_id, before, after in report.state_changes:
            OUT.print(f"  embed {embed_id}: {before} -> {after}", markup=False)
        parts = [f"{n} {outcome}" for outcome, n in sorted(report.outcomes.items())]
        OUT.print(f"Checked {report.attempted} embed(s): {', '.join(parts) or 'nothing was due'}.")
        if report.deferred:
            OUT.print(
                f"{report.deferred} of them were left for the next run (a rate budget, a host's backoff "
                "or the run's time limit, checks.max_run); they are still due and nothing counts."
            )
    exit_with(1 if report.transient else 0)


@click.command()
@click.argument("targets", nargs=-1, required=True)
@json_option
@pass_ctx
def run(ctx: Context, targets: tuple[str, ...], as_json: bool) -> None:
    """Scan TARGETS (sources, files, folders, globs), then capture every new embed: the one-off job."""
    reports = _scan(ctx, targets, dry_run=False, as_json=as_json)
    if not as_json:
        render.scan_summary(reports, stored=True)
    report = _capture(ctx, None, None, as_json)
    if not as_json:
        render.capture_summary(report)
    failed = report.transient or any(r.status is ArticleStatus.ERROR for r in reports)
    exit_with(1 if failed else 0)


@click.command()
@json_option
@pass_ctx
def gc(ctx: Context, as_json: bool) -> None:
    """Delete media records no snapshot uses and media files no record names, once older than
    `daemon.gc_grace`, and temp files a crash left: the daemon's `gc` job, run once."""
    app = ctx.app
    grace = parse_duration(app.settings.daemon.gc_grace)
    report = collect_media(app.sessions, app.blobs, app.clock, grace)
    if as_json:
        print_json(
            {"media_records": report.media_records, "blobs": report.blobs, "temp_files": report.temp_files}
        )
    else:
        OUT.print(
            f"Media collected: {report.media_records} record(s), {report.blobs} file(s),"
            f" {report.temp_files} temp file(s)."
        )


@click.command()
@pass_ctx
def daemon(ctx: Context) -> None:
    """Run the scheduler: scan, capture, check, rewrite and collect media on the [daemon] schedules,
    sharing due work with other daemons through leases; SIGTERM or SIGINT stops it within 10 seconds."""
    exit_with(run_daemon(ctx.app))


def _scan(
    ctx: Context,
    targets: tuple[str, ...],
    *,
    dry_run: bool,
    as_json: bool,
    workers: int = 1,
    full: bool = False,
) -> list[ArticleReport]:
    app = ctx.app
    chosen = targets or tuple(s.name for s in app.settings.sources)
    if not chosen:
        raise UsageError("nothing to scan: name files, folders or globs, or configure [[sources]]")
    sessions = None if dry_run else app.sessions
    with ExitStack() as closing:
        if dry_run:
            # A dry run opens no database: its client counts rates in this process only, and a
            # wordpress source lists every post (its scan cursor is kept in the database).
            http = closing.enter_context(app.local_http_client())
            for source in app.settings.sources:
                if source.kind == "wordpress" and source.name in chosen:
                    ERR.print(
                        f"{source.name}: a dry run lists every post (the scan cursor is not read or moved)",
                        markup=False,
                    )
        else:
            http = app.http
        access = SourceAccess(http, app.clock, sessions, full)
        resolved = resolve_targets(chosen, app.settings.sources, app.settings.scan, app.env, access)
        total = sum(len(t.items) for t in resolved)
        providers = enabled_providers(app.settings)

        with render.progress(ctx.progress and not as_json, "Scanning articles", total) as advance:

            def on_article(report: ArticleReport) -> None:
                advance()
                if as_json:
                    OUT.print(json.dumps(report.to_json(), ensure_ascii=False), markup=False, highlight=False)
                elif report.error:
                    ERR.print(
                        f"[yellow]skipped[/] {escape(report.error)}"
                        if report.article in report.error
                        else f"[yellow]skipped[/] {escape(report.article)}: {escape(report.error)}",
                        markup=True,
                    )

            return scan_targets(
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
    mirror = app.settings.mirror
    keys = spn_keys(mirror, app.env) if mirror.enabled and not refresh else None
    if isinstance(keys, str):  # the captures go on and queue their posts for Save Page Now
        ERR.print(f"warning: {keys}", markup=False)
    with render.progress(ctx.progress and not as_json, "Capturing posts", None) as advance:

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
