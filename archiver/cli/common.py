"""What every command module of the CLI shares: the lazily built app, the JSON flag, the consoles."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console

from archiver.app import App
from archiver.clock import clock_from_env
from archiver.config import find_config, load_settings
from archiver.providers import names

# Piped output is not squeezed to 80 columns: tables stay readable in logs and files.
OUT = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
ERR = Console(stderr=True, highlight=False, soft_wrap=True)


class Context:
    """Lazily built app for the current invocation."""

    def __init__(self, config: Path | None, progress: bool) -> None:
        self.config = config
        self.progress = progress
        self._app: App | None = None

    @property
    def app(self) -> App:
        if self._app is None:
            env = dict(os.environ)
            path = find_config(self.config, Path.cwd())
            settings = load_settings(path, env, known_providers=names())
            self._app = App(settings, clock_from_env(env), env, path)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


pass_ctx = click.make_pass_decorator(Context)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
