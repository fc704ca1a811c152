"""The demo's folder: made fresh (never over someone's files), filled with the sample articles, and given
a settings file that points every provider endpoint at the replay server.

A folder the demo made holds `MARKER`; `--reset` deletes only such a folder. Anything else already
there is refused with one line, and nothing is touched.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from archiver.accounts import write_secret_file
from archiver.config import DEFAULT_CONFIG_NAME
from archiver.demo.scenario import Scenario, SourcePlan, article_files, sources_note
from archiver.errors import UsageError
from archiver.providers import PROVIDERS

MARKER = ".archiver-demo"
DATABASE = "archive.db"
MEDIA = "media"
ARTICLES = "articles"
SECRET_FILE = "web-secret.key"
# `archive serve` answers here by default: the cards' "archived copy" links lead to its public pages.
VIEWER_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True, slots=True)
class DemoFolder:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / DEFAULT_CONFIG_NAME

    @property
    def articles(self) -> Path:
        return self.root / ARTICLES


def prepare(root: Path, *, reset: bool) -> DemoFolder:
    """An empty demo folder at `root`: new, or emptied when `reset` and the demo made it.

    UsageError (nothing touched) when `root` holds a demo already and `reset` is off, or holds
    anything the demo did not make."""
    root = root.expanduser().absolute()
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file, not a folder for the demo")
    if root.is_dir() and any(root.iterdir()):
        if not (root / MARKER).is_file():
            raise UsageError(f"{root} is not empty and is not a demo folder; choose another folder")
        if not reset:
            raise UsageError(f"{root} holds a demo already; `archive demo --reset {root}` starts over")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text(
        "Made by `archive demo`; `archive demo --reset` deletes this folder and starts over.\n",
        encoding="utf-8",
    )
    # The viewer's session secret, where `web.secret_file` looks by default (as `archive init` writes it).
    write_secret_file(root / SECRET_FILE)
    return DemoFolder(root)


def copy_articles(folder: DemoFolder, scenario: Scenario) -> list[Path]:
    """The sample articles, one folder per source, and the note saying where their data comes from."""
    written = []
    for source in scenario.sources:
        target = folder.articles / source.folder
        target.mkdir(parents=True, exist_ok=True)
        for name, data in article_files(source):
            (target / name).write_bytes(data)
            written.append(target / name)
    (folder.root / "SOURCES.md").write_text(sources_note(), encoding="utf-8")
    return written


def write_config(folder: DemoFolder, scenario: Scenario, replay_url: str) -> Path:
    """`archiver.toml` for the demo: SQLite and media in the folder, the sources, loopback allowed, and
    every endpoint of every provider at the replay server."""
    lines = [
        "# Written by `archive demo`. Every key is documented in config.example.toml.",
        "# The provider endpoints point at the replay server `archive demo` ran on loopback while it",
        "# simulated its days; it has stopped, so a check with this file finds them unreachable",
        "# (a transient failure, which never counts). Point them back at the providers, or remove the",
        "# [providers.*] tables, to archive real posts.",
        "",
        "[database]",
        f'url = "sqlite:///{DATABASE}"',
        "",
        "[media]",
        f'dir = "{MEDIA}"',
        "# The recordings hold no image files; nothing is downloaded.",
        "download = false",
        "",
        "[http]",
        'allow_networks = ["127.0.0.0/8"]',
        "",
        "[rewrite]",
        "# Cards link their archived copy to `archive serve` on its default address.",
        f'archive_base_url = "{VIEWER_URL}"',
    ]
    for source in scenario.sources:
        lines += ["", *_source_lines(source)]
    for provider in PROVIDERS:
        if not provider.endpoints:
            continue
        lines += ["", f"[providers.{provider.name}]"]
        for key, default in provider.endpoints.items():
            lines.append(f'{key} = "{replay_endpoint(replay_url, provider.name, key, default)}"')
    folder.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder.config


def replay_endpoint(replay_url: str, provider: str, key: str, default: str) -> str:
    """Where the replay server answers for one endpoint or base URL: its default path under
    `/PROVIDER`."""
    path = urlsplit(default).path
    return f"{replay_url}/{provider}{path.rstrip('/') if key.endswith('_base') else path}"


def _source_lines(source: SourcePlan) -> list[str]:
    return [
        "[[sources]]",
        f'name = "{source.name}"',
        'kind = "files"',
        f'path = "{ARTICLES}/{source.folder}"',
        f'mode = "{source.mode}"',
    ]
