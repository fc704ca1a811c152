"""What every command module of the CLI shares: the lazily built app, the JSON flag, the consoles, JSON
output and the exit code."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from archiver.app import App

# Piped output is not squeezed to 80 columns: tables stay readable in logs and files.
# Rich markup is off unless a print asks for it (`markup=True`, the text it did not write escaped): article
# paths, captions and providers' answers hold brackets that markup would eat ("[draft]") or choke on ("[/]").
OUT = Console(highlight=False, soft_wrap=True, markup=False, width=None if sys.stdout.isatty() else 160)
ERR = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


class Context:
    """Lazily built app for the current invocation."""

    def __init__(self, config: Path | None, progress: bool) -> None:
        self.config = config
        self.progress = progress
        self._app: App | None = None

    @property
    def app(self) -> App:
        if self._app is None:
            self._app = App.from_environment(self.config, dict(os.environ), Path.cwd())
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


pass_ctx = click.make_pass_decorator(Context)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")


def print_json(data: Any) -> None:
    """`data` as indented JSON on stdout (the `--json` output of the one-document commands)."""
    OUT.print(json.dumps(data, ensure_ascii=False, indent=2, default=str), markup=False, highlight=False)


def exit_with(code: int) -> None:
    """End the command with `code` when it is not 0 (1: some items failed transiently, retried later)."""
    if code:
        sys.exit(code)
