"""`archive demo`: a demo folder made and a simulated week of archiving run in it, offline; what happened
told as it happens (a progress bar on a terminal), a summary at the end, and where to look next."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from archiver.cli.common import ERR, OUT, Context, exit_with, pass_ctx
from archiver.clock import clock_from_env
from archiver.demo import DemoRun, Event, run_demo

DEFAULT_FOLDER = "archiver-demo"
_KIND_STYLE = {"change": "bold red", "check": "yellow", "rewrite": "bold green"}


def register(group: click.Group) -> None:
    group.add_command(demo)


@click.command()
@click.argument(
    "folder", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_FOLDER, required=False
)
@click.option("--reset", is_flag=True, help="Delete the demo already in FOLDER and start over.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the demo editor's password from the first line of stdin (else one is made and shown once).",
)
@pass_ctx
def demo(ctx: Context, folder: Path, reset: bool, password_stdin: bool) -> None:
    """Make a demo archive in FOLDER (default ./archiver-demo) and run a simulated week in it, offline.

    Sample articles in two sources (one waits for an editor's approval, one is rewritten at once); a
    loopback server replaying recorded provider answers; the real pipeline on a simulated clock:
    scan, capture, posts deleted on day 2, checks on their cadence, broken verdicts, rewrites.
    """
    env = dict(os.environ)
    now = clock_from_env(env).now()
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with _progress(ctx.progress, folder.expanduser().absolute()) as (on_event, on_hour):
        run = run_demo(
            folder, now=now, env=env, reset=reset, password=password, on_event=on_event, on_hour=on_hour
        )
    _summary(run)
    commands = click.get_current_context().find_root().command
    _look_around(run, set(commands.commands) if isinstance(commands, click.Group) else set())
    exit_with(1 if run.result.transient else 0)


@contextmanager
def _progress(
    shown: bool, root: Path
) -> Iterator[tuple[Callable[[Event], None], Callable[[int, int], None]]]:
    """Event lines (above a bar of simulated hours, on a terminal) and the bar's advance. Paths in the
    demo folder are shown relative to it."""

    def line(event: Event) -> str:
        style = _KIND_STYLE.get(event.kind, "dim")
        when = f"day {event.day} {event.at:%H:%M}"
        text = event.text.replace(f"{root}{os.sep}", "")
        return f"[dim]{when}[/]  [{style}]{event.kind:<8}[/] {escape(text)}"

    if not shown or not ERR.is_terminal:
        yield (lambda event: OUT.print(line(event), markup=True)), (lambda done, total: None)
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[day]}"),
        TimeElapsedColumn(),
        console=ERR,
        transient=True,
    )
    with bar:
        task = bar.add_task("Simulating the week", total=None, day="")

        def on_hour(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, day=f"day {done // 24} of {total // 24}")

        yield (lambda event: bar.console.print(line(event), markup=True)), on_hour


def _summary(run: DemoRun) -> None:
    result = run.result
    status = result.status
    by_provider: dict[str, dict[str, int]] = status.get("by_provider", {})
    states = sorted({state for per in by_provider.values() for state in per})
    table = Table("provider", *states, title=f"Embeds after {(result.end - result.start).days} days")
    for provider, per in sorted(by_provider.items()):
        table.add_row(provider, *(str(per.get(state, 0)) for state in states))
    OUT.print()
    OUT.print(table)
    rewrites = Table("id", "state", "source", "article", "post", title="Rewrites")
    for row in result.rewrites:
        rewrites.add_row(
            str(row.id), row.state, row.source, _shown(row.article, run), f"{row.provider} {row.post_id}"
        )
    OUT.print(rewrites)
    totals = Table(show_header=False, title="The archive")
    for key in ("articles", "embeds", "snapshots", "residues"):
        totals.add_row(key, str(status.get(key, 0)))
    matched = sum(1 for line in result.residue if line.get("status") == "matched")
    totals.add_row("residue lines matched to an archived post", str(matched))
    totals.add_row("requests answered from recordings", str(_answered(run)))
    totals.add_row("requests not recorded (transient, never counted)", str(run.served.get("not recorded", 0)))
    OUT.print(totals)


def _look_around(run: DemoRun, commands: set[str]) -> None:
    config = shlex.quote(str(run.folder.config))
    archive = f"archive --config {config}"
    OUT.print()
    OUT.print(
        "[bold]Look around[/] (the simulated week ended now; the replay server has stopped):",
        markup=True,
    )
    OUT.print(f"  {archive} status")
    OUT.print(f"  {archive} embeds")
    planned = run.result.planned()
    if planned:
        OUT.print(f"  {archive} rewrite --pending")
        OUT.print(
            f"  {escape(archive)} rewrite --approve {planned[0].id}   [dim]# an editor approves it[/]",
            markup=True,
        )
    if "serve" in commands:
        OUT.print(f"  {escape(archive)} serve   [dim]# the viewer, on http://127.0.0.1:8080[/]", markup=True)
        given = "the password you gave" if run.password is None else f"password {escape(run.password)}"
        shown_once = "" if run.password is None else " [dim](shown this once)[/]"
        OUT.print(
            f"Sign in to the viewer as [bold]{escape(run.editor)}[/], {given}{shown_once}.", markup=True
        )
    applied = run.result.applied()
    if applied:
        OUT.print(f"A rewritten article, to open in a browser: {_shown(applied[0].article, run)}")


def _shown(article: str, run: DemoRun) -> str:
    """An article's file as a path the user can open from here."""
    path = Path(article)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path) if path.is_absolute() else str(run.folder.root / path)


def _answered(run: DemoRun) -> int:
    return sum(count for name, count in run.served.items() if name != "not recorded")
