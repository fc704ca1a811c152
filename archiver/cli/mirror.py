"""`archive mirror`: posts pushed to the Wayback Machine's Save Page Now on their first capture (issue 15)."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from archiver.cli.common import OUT, Context, exit_with, json_option, pass_ctx, print_json
from archiver.errors import ConfigError
from archiver.pipeline.mirror import MirrorReport, mirror_due, spn_keys
from archiver.storage.queries import mirrors as mirror_queries


def register(group: click.Group) -> None:
    group.add_command(mirror_command)


@click.command("mirror")
@click.option("--list", "list_only", is_flag=True, help="Only list the posts and their copies; ask nothing.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=100, show_default=True, help="Jobs polled and posts asked."
)
@json_option
@pass_ctx
def mirror_command(ctx: Context, list_only: bool, limit: int, as_json: bool) -> None:
    """Ask Save Page Now ([mirror]) to archive the posts queued by their first capture, and poll the jobs
    it runs: a job that succeeded gives the post a second archived copy, named on its fallback card and
    public page. Exit 1 when Save Page Now (or the rate budget) asked us to wait: run again later."""
    app = ctx.app
    settings = app.settings.mirror
    if list_only:
        _list(ctx, as_json)
        return
    if not settings.enabled:
        raise ConfigError("the Save Page Now mirror is off ([mirror] enabled = false): nothing was asked")
    keys = spn_keys(settings, app.env)
    if isinstance(keys, str):
        raise ConfigError(keys)
    report = mirror_due(app.sessions, app.http, settings, app.clock, keys, limit=limit)
    if as_json:
        print_json(report.to_json())
    else:
        _table(report)
    exit_with(1 if report.waiting is not None else 0)


def _table(report: MirrorReport) -> None:
    table = Table("embed", "url", "did", "state", "copy", "why")
    for item in report.items:
        copy = f"{item.memento_url}" if item.memento_url else ""
        cells = (str(item.embed_id), item.url, item.action, item.state, copy, item.reason)
        table.add_row(*(Text(cell) for cell in cells))  # answers' words are never read as markup
    OUT.print(table)
    counts = ", ".join(f"{n} {state}" for state, n in sorted(report.counts.items())) or "none"
    OUT.print(f"{len(report.items)} request(s) to Save Page Now; posts by state: {counts}.", markup=False)
    if report.waiting is not None:
        OUT.print(f"Stopped for now: {report.waiting}", markup=False)


def _list(ctx: Context, as_json: bool) -> None:
    with ctx.app.sessions() as session:
        rows = [
            {
                "embed": m.embed_id,
                "provider": m.embed.provider,
                "url": m.url,
                "state": m.state,
                "attempts": m.attempts,
                "job_id": m.job_id,
                "next_try_at": m.next_try_at.isoformat() if m.next_try_at else None,
                "memento_url": m.memento_url,
                "memento_datetime": m.memento_datetime.isoformat() if m.memento_datetime else None,
                "status_ext": m.status_ext,
                "reason": m.reason,
            }
            for m in mirror_queries.mirror_list(session)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("embed", "url", "state", "copy", "why")
    for row in rows:
        copy = f"{row['memento_url']} ({row['memento_datetime']})" if row["memento_url"] else ""
        cells = (str(row["embed"]), str(row["url"]), str(row["state"]), copy, str(row["reason"] or ""))
        table.add_row(*(Text(cell) for cell in cells))
    OUT.print(table)
    OUT.print(f"{len(rows)} post(s) pushed to Save Page Now.", markup=False)
