"""`python -m archiver.daemon [--config PATH]`: the daemon without the CLI around it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from archiver.app import App
from archiver.daemon.run import run_daemon
from archiver.errors import ArchiverError, ConfigError


def main(argv: list[str] | None = None) -> int:
    """Parse the one option, build the app as `archive` does, run the daemon; the exit code."""
    parser = argparse.ArgumentParser(prog="python -m archiver.daemon", description="Run the archiver daemon.")
    parser.add_argument("--config", type=Path, help="Settings file (default: ./archiver.toml when present).")
    args = parser.parse_args(argv)
    try:
        app = App.from_environment(args.config, dict(os.environ), Path.cwd())
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        return run_daemon(app)
    except ArchiverError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        app.close()


if __name__ == "__main__":
    sys.exit(main())
