"""`archive recover`: residue lines and lost spots paired with posts from web archives (issue 15)."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from archiver.cli.common import OUT, Context, json_option, pass_ctx
from archiver.pipeline.recover import RecoverDeps, SpotReport, recover, spot_reports


def register(group: click.Group) -> None:
    group.add_command(recover_command)


@click.command("recover")
@click.argument("targets", nargs=-1)
@click.option(
    "--list", "list_only", is_flag=True, help="Only list the spots and what recovery found; ask nothing."
)
@json_option
@pass_ctx
def recover_command(ctx: Context, targets: tuple[str, ...], list_only: bool, as_json: bool) -> None:
    """Look earlier copies of articles with residue or lost embeds up in web archives ([[archives]]) and
    pair each spot with the post that stood there. TARGETs are source names or article keys (default:
    all). Exit 1 when an archive asked us to wait: run again later to finish."""
    app = ctx.app
    sources = {s.name for s in app.settings.sources}
    names = {t for t in targets if t in sources} or None
    keys = {t for t in targets if t not in sources} or None
    if list_only:
        with app.sessions() as session:
            spots = [s for s in spot_reports(session, names) if keys is None or s.article in keys]
    else:
        deps = RecoverDeps(app.sessions, app.http, app.settings, app.clock, app.blobs)
        spots = list(recover(deps, names, keys).spots)
    if as_json:
        OUT.print(json.dumps([s.to_json() for s in spots], ensure_ascii=False, indent=2), markup=False)
    else:
        _table(spots)
    if any(s.waiting for s in spots):
        sys.exit(1)


def _table(spots: list[SpotReport]) -> None:
    table = Table("article", "spot", "state", "post", "from", "why")
    for spot in spots:
        where = f"{spot.archive} {spot.memento_datetime}" if spot.archive else ""
        table.add_row(
            spot.article,
            f"{spot.markup} {spot.anchor}",
            spot.state,
            spot.post or "",
            where,
            spot.reason or "",
        )
    OUT.print(table)
    paired = sum(1 for s in spots if s.state == "paired")
    OUT.print(f"{len(spots)} spot(s): {paired} paired with a post from a web archive.")
