"""`archive`: the command line. Each command parses options, builds the app, calls pipeline functions
and prints what they report (tables for people, `--json` for programs).

Exit codes: 0 done; 1 some items failed (transiently) and will be retried; 2 usage or config error.

What lives here, one area a module; each command module has `register(group)`, which adds its
commands to the `archive` group below (a new area is one module and one line in `_AREAS`):

    common     Context (the app, built once per invocation), pass_ctx, json_option, OUT, ERR, print_json
    render     rich tables, progress bars and summaries
    setup      init, db upgrade
    work       scan, fetch, check, run, daemon
    reports    status, embeds, show, residue, providers (their JSON shapes are `archiver.views`)
    rewrites   rewrite, restore
    export     export --warc
    demo       demo (a demo folder and a simulated week, offline: `archiver.demo`)
    web        serve, user add|list|remove, token add|list|remove (the web viewer and its accounts)
    recover    recover (residue and lost embeds paired with posts from web archives)
    mirror     mirror (posts pushed to the Wayback Machine's Save Page Now on their first capture)

The CLI is an edge: it may import the app, config, errors, views, the daemon, the pipeline stages, the
provider registry and storage; nothing under archiver/ imports it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archiver import __version__
from archiver.cli import demo, export, mirror, recover, reports, rewrites, setup, web, work
from archiver.cli.common import ERR, Context
from archiver.config import DEFAULT_CONFIG_NAME
from archiver.errors import ArchiverError, ConfigError


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


_AREAS = (setup, work, reports, rewrites, export, web, demo, recover, mirror)
for _area in _AREAS:
    _area.register(cli)


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
