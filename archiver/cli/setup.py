"""`archive init` (a starter config and database) and `archive db upgrade`."""

from __future__ import annotations

import os
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from archiver.accounts import write_secret_file
from archiver.cli.common import OUT, Context, pass_ctx
from archiver.config import DEFAULT_CONFIG_NAME, load_settings
from archiver.errors import UsageError
from archiver.providers import names
from archiver.storage import db

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


def register(group: click.Group) -> None:
    group.add_command(init)
    group.add_command(db_group)


@click.command()
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


@click.group("db")
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


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"
