"""`archive serve`, `archive user ...` and `archive token ...`: the web viewer and its accounts."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
import waitress
from rich.table import Table

from archiver import accounts
from archiver.cli.common import ERR, OUT, Context, json_option, pass_ctx
from archiver.errors import NotFound, UsageError
from archiver.storage.queries import users as user_queries
from archiver.web import create_app


def register(group: click.Group) -> None:
    group.add_command(serve)
    group.add_command(user_group)
    group.add_command(token_group)


@click.command()
@click.option("--host", help="Address to listen on (default: [web] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default: [web] port, 8080).")
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True, help="Worker threads.")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None, threads: int) -> None:
    """Run the editors' viewer and the public archive (waitress, a production WSGI server)."""
    app = ctx.app
    flask_app = create_app(app)
    listen_host = host or app.settings.web.host
    listen_port = port or app.settings.web.port
    ERR.print(f"Serving the archive viewer on http://{listen_host}:{listen_port}/ (Ctrl-C stops it)")
    waitress.serve(flask_app, host=listen_host, port=listen_port, threads=threads, ident="embed-archiver")


# ---------------------------------------------------------------- users


@click.group("user")
def user_group() -> None:
    """Accounts of the web viewer: viewers read, editors also decide rewrites."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    accounts.check_new_password(password)
    return password


@user_group.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(accounts.ROLES),
    default=accounts.EDITOR,
    show_default=True,
    help="What it may do.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@pass_ctx
def user_add(ctx: Context, name: str, role: str, password_stdin: bool) -> None:
    """Add an account NAME; the password is asked twice (or read from stdin)."""
    accounts.check_user_name(name)
    app = ctx.app
    with app.sessions() as session:
        if user_queries.user_named(session, name) is not None:
            raise UsageError(f"there is already a user named {name!r}")
    password_hash = accounts.hash_password(_read_password(password_stdin))
    with app.sessions() as session, session.begin():
        user_queries.add_user(session, name, role, password_hash, app.clock.now())
    OUT.print(f"Added {role} {name}.", markup=False)


@user_group.command("list")
@json_option
@pass_ctx
def user_list(ctx: Context, as_json: bool) -> None:
    """The accounts, their roles and last sign-in."""
    with ctx.app.sessions() as session:
        rows: list[dict[str, Any]] = [
            {
                "name": u.name,
                "role": u.role,
                "created_at": u.created_at.isoformat(),
                "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
            }
            for u in user_queries.all_users(session)
        ]
    if as_json:
        OUT.print(json.dumps(rows, ensure_ascii=False, indent=2), markup=False, highlight=False)
        return
    table = Table("name", "role", "created", "last sign-in")
    for row in rows:
        table.add_row(row["name"], row["role"], row["created_at"][:16], (row["last_login_at"] or "-")[:16])
    OUT.print(table)


@user_group.command("remove")
@click.argument("name")
@pass_ctx
def user_remove(ctx: Context, name: str) -> None:
    """Remove the account NAME and its API tokens (its sessions end at their next request)."""
    with ctx.app.sessions() as session, session.begin():
        if not user_queries.remove_user(session, name):
            raise NotFound(f"no user named {name!r} (see `archive user list`)")
    OUT.print(f"Removed {name}.", markup=False)


# ---------------------------------------------------------------- API tokens


@click.group("token")
def token_group() -> None:
    """Bearer tokens for the read-only JSON API (/api/...)."""


@token_group.command("add")
@click.argument("name")
@click.option("--note", default="", help="What the token is for (shown by `archive token list`).")
@pass_ctx
def token_add(ctx: Context, name: str, note: str) -> None:
    """Make an API token acting for user NAME; it is printed once and only its hash is kept."""
    app = ctx.app
    token = accounts.new_api_token()
    with app.sessions() as session, session.begin():
        user = user_queries.user_named(session, name)
        if user is None:
            raise NotFound(f"no user named {name!r} (add one with `archive user add`)")
        row = user_queries.add_token(session, user, accounts.token_digest(token), note[:200], app.clock.now())
        token_id = row.id
    ERR.print(f"Token {token_id} for {name} (shown once; send it as 'Authorization: Bearer TOKEN'):")
    click.echo(token)


@token_group.command("list")
@json_option
@pass_ctx
def token_list(ctx: Context, as_json: bool) -> None:
    """The API tokens (ids, users, notes, last use); never the tokens themselves."""
    with ctx.app.sessions() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": t.id,
                "user": t.user.name,
                "note": t.note,
                "created_at": t.created_at.isoformat(),
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
            }
            for t in user_queries.all_tokens(session)
        ]
    if as_json:
        OUT.print(json.dumps(rows, ensure_ascii=False, indent=2), markup=False, highlight=False)
        return
    table = Table("id", "user", "note", "created", "last used")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["user"],
            row["note"],
            row["created_at"][:16],
            (row["last_used_at"] or "-")[:16],
        )
    OUT.print(table)


@token_group.command("remove")
@click.argument("token_id", type=int)
@pass_ctx
def token_remove(ctx: Context, token_id: int) -> None:
    """Revoke the API token with this id (see `archive token list`)."""
    with ctx.app.sessions() as session, session.begin():
        if not user_queries.remove_token(session, token_id):
            raise NotFound(f"no API token {token_id} (see `archive token list`)")
    OUT.print(f"Revoked token {token_id}.")
