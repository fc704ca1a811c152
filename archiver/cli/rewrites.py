"""Rewrites from the command line: `archive rewrite` (plan, approve, reject, apply, as each source's mode
says) and `archive restore` (give an article back byte for byte)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from archiver import views
from archiver.cli import render
from archiver.cli.common import ERR, OUT, Context, exit_with, json_option, pass_ctx, print_json
from archiver.errors import NotFound
from archiver.pipeline import rewrite as rewrite_stage
from archiver.storage import queries

Decorated = TypeVar("Decorated", bound=Callable[..., Any])


def register(group: click.Group) -> None:
    group.add_command(rewrite)
    group.add_command(restore)


def _editor_option(help_text: str) -> Callable[[Decorated], Decorated]:
    """`--by NAME`: who approves, rejects or restores (kept in the journal); $USER by default."""
    return click.option(
        "--by",
        "editor",
        default=lambda: os.environ.get("USER", "editor"),
        show_default="$USER",
        help=help_text,
    )


@click.command()
@click.option("--dry-run", is_flag=True, help="Print a unified diff of what would change; write nothing.")
@click.option("--pending", is_flag=True, help="List the rewrites waiting for an editor's approval.")
@click.option(
    "--approve", "approve_ids", multiple=True, type=int, help="Approve this rewrite id (repeatable)."
)
@click.option("--reject", "reject_ids", multiple=True, type=int, help="Reject this rewrite id (repeatable).")
@_editor_option("Who approves or rejects (kept in the journal).")
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
            rows = views.pending_rewrites(session)
        if as_json:
            print_json(rows)
            return
        render.pending_table(rows)
        return
    if approve_ids or reject_ids:
        with app.sessions() as session, session.begin():
            decisions = [
                *rewrite_stage.approve(session, approve_ids, editor, app.clock.now()),
                *rewrite_stage.reject(session, reject_ids, editor, app.clock.now()),
            ]
        if as_json:
            print_json([d.to_json() for d in decisions])
        else:
            for d in decisions:
                OUT.print(
                    f"rewrite {d.id}: {'ok' if d.ok else 'refused'} -> {d.state} {d.reason or ''}".rstrip()
                )
        if not approve_ids:
            return
    deps = rewrite_stage.RewriteDeps.from_settings(app.settings, app.clock, env=app.env, http=app.http)

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
    exit_with(1 if report.failed else 0)


@click.command()
@click.argument("article")
@click.argument("embed", required=False)
@_editor_option("Who restores (an editor's restore is not rewritten again).")
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
    deps = rewrite_stage.RewriteDeps.from_settings(app.settings, app.clock, env=app.env, http=app.http)
    # A restore (or rewrite) killed halfway leaves rows `restoring` (`applying`): settle them first, or
    # this restore would not see them and leave the article half restored.
    rewrite_stage.recover(app.sessions, deps)
    result = rewrite_stage.restore_article(app.sessions, deps, article_id, embed_id, by=editor)
    if as_json:
        print_json(result.to_json())
    elif result.error:
        ERR.print(f"error: {result.error}", markup=False)
    else:
        OUT.print(
            f"{result.key}: restored {len(result.rewrite_ids)} rewrite(s); sha256 {result.after_sha256}",
            markup=False,
        )
    exit_with(1 if result.error else 0)
