"""What the archive holds, for people (tables) and programs (`--json`, the shapes of `archiver.views`):
`archive status`, `embeds`, `show`, `residue` and `providers`."""

from __future__ import annotations

from typing import Any

import click

from archiver import views
from archiver.cli import render
from archiver.cli.common import Context, json_option, pass_ctx, print_json
from archiver.errors import NotFound
from archiver.providers import PROVIDERS, provider_named


def register(group: click.Group) -> None:
    for command in (status, residue, embeds, show, providers_command):
        group.add_command(command)


@click.command()
@json_option
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Counts of articles, embeds by state and provider, snapshots and media."""
    with ctx.app.sessions() as session:
        counts = views.status(session)
    if as_json:
        print_json(counts)
        return
    render.status_tables(counts)


@click.command()
@click.option("--source", "source_names", multiple=True, help="Only articles of this source (repeatable).")
@click.option("--orphans", is_flag=True, help="Only residue no post matches (orphaned or ambiguous).")
@json_option
@pass_ctx
def residue(ctx: Context, source_names: tuple[str, ...], orphans: bool, as_json: bool) -> None:
    """Report residue ("A post shared by NAME (@handle)") and the archived post each line matches.

    Matched lines get their card back from `archive rewrite` (as the source's mode says); orphaned and
    ambiguous ones are listed with the candidate posts found and why each was not taken."""
    with ctx.app.sessions() as session:
        lines = views.residue(session, source_names, orphans=orphans)
    if as_json:
        print_json(lines)
        return
    render.residue_table(lines)


@click.command()
@click.option("--state", help="Only embeds in this state (new, live, ...).")
@click.option("--provider", help="Only this provider.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many rows.")
@json_option
@pass_ctx
def embeds(ctx: Context, state: str | None, provider: str | None, limit: int | None, as_json: bool) -> None:
    """List embeds with their state and last check."""
    if provider:
        provider_named(provider)
    with ctx.app.sessions() as session:
        rows = views.embeds(session, state=state, provider=provider, limit=limit)
    if as_json:
        print_json(rows)
        return
    render.embeds_table(rows)


@click.command()
@click.argument("url_or_id")
@json_option
@pass_ctx
def show(ctx: Context, url_or_id: str, as_json: bool) -> None:
    """One embed: its snapshot versions, media, check history and the articles that embed it."""
    app = ctx.app
    with app.sessions() as session:
        detail = views.embed(session, url_or_id, app.blobs)
    if detail is None:
        raise NotFound(f"no embed matches {url_or_id!r} (try `archive embeds`)")
    if as_json:
        print_json(detail)
        return
    render.embed_detail(detail)


@click.command("providers")
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
        print_json(rows)
        return
    render.providers_table(rows)
