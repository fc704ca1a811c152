"""A world for rewrite tests: corpus pages copied into a files source, scanned into a database, every
embed marked broken with a synthetic snapshot (author, handle, caption, date, an image in the store).

The snapshots are synthetic (no provider is asked): the rewrite stage only reads what a capture
stored. Used in-process by the tests and, for the crash tests, from a subprocess
(`python tests/support/rewrite_world.py run CONFIG`).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE.parent))

from archiver.clock import FixedClock  # noqa: E402
from archiver.config import Settings, load_settings  # noqa: E402
from archiver.pipeline import rewrite  # noqa: E402
from archiver.pipeline.scan import articles as article_stage  # noqa: E402
from archiver.providers import PROVIDERS  # noqa: E402
from archiver.storage import db  # noqa: E402
from archiver.storage.blobs import LocalBlobStore  # noqa: E402
from archiver.storage.models import Embed, Media, Snapshot, SnapshotMedia  # noqa: E402
from archiver.storage.queries import save_media  # noqa: E402

CORPUS = HERE.parents[1] / "shared" / "corpus" / "dev" / "pages"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@dataclass
class World:
    root: Path
    config: Path
    settings: Settings
    sessions: sessionmaker[Session]
    clock: FixedClock

    @property
    def articles(self) -> Path:
        return self.root / "articles"

    def deps(self) -> rewrite.RewriteDeps:
        return rewrite.RewriteDeps.from_settings(self.settings, self.clock)

    def files(self) -> list[Path]:
        return sorted(self.articles.glob("*.html"))

    def hashes(self) -> dict[str, str]:
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in self.files()}

    def close(self) -> None:
        """Close the world's database connections (PostgreSQL ones left open warn at exit)."""
        self.sessions.kw["bind"].dispose()


def corpus_pages() -> list[Path]:
    return sorted(CORPUS.glob("*.html"))


def config_text(root: Path, mode: str, database_url: str | None = None) -> str:
    return f"""
[database]
url = "{database_url or f"sqlite:///{root / 'archive.db'}"}"
[media]
dir = "{root / "media"}"
[rewrite]
archive_base_url = "https://archive.example.org"
[[sources]]
name = "site"
path = "{root / "articles"}"
mode = "{mode}"
"""


def make_world(
    root: Path,
    pages: list[Path],
    count: int | None = None,
    mode: str = "apply",
    database_url: str | None = None,
) -> World:
    """Copy `count` pages (cycling through `pages`) into root/articles and build the world."""
    (root / "articles").mkdir(parents=True, exist_ok=True)
    total = len(pages) if count is None else count
    for index in range(total):
        page = pages[index % len(pages)]
        name = page.name if count is None else f"{index:04d}-{page.name}"
        shutil.copyfile(page, root / "articles" / name)
    config = root / "archiver.toml"
    config.write_text(config_text(root, mode, database_url), encoding="utf-8")
    return open_world(root)


def open_world(root: Path) -> World:
    settings = load_settings(root / "archiver.toml", {})
    db.upgrade(settings.database.url)
    engine = db.make_engine(settings.database.url)
    return World(root, root / "archiver.toml", settings, db.session_factory(engine), FixedClock(NOW))


def scan(world: World) -> None:
    targets = article_stage.resolve_targets(["site"], world.settings.sources)
    reports = article_stage.scan_targets(
        targets, world.settings.scan, PROVIDERS, sessions=world.sessions, clock=world.clock
    )
    errors = [r for r in reports if r.error]
    assert not errors, errors


def break_everything(world: World, caption: str = "Caption line one\nline two") -> int:
    """Every embed broken, with a synthetic snapshot (v1) and an image in the media store."""
    blobs = LocalBlobStore(world.settings.media.dir)
    stored = blobs.put(PNG)
    with world.sessions() as session, session.begin():
        media = save_media(session, stored.sha256, "image/png", len(PNG), NOW)
        embeds = list(session.scalars(select(Embed)))
        for embed in embeds:
            embed.state = "broken"
            add_snapshot(
                session,
                embed,
                media,
                author_name=f"Author of {embed.post_id}",
                handle="someone",
                author_url="https://example.com/someone",
                text=caption,
                published="2023-07-01T10:00:00Z",
            )
        return len(embeds)


def add_snapshot(session: Session, embed: Embed, media: Media, **fields: str | None) -> Snapshot:
    """Snapshot version 1 of `embed` showing `fields` and the stored test image, as a capture leaves it."""
    snapshot = Snapshot(
        embed=embed,
        version=1,
        captured_at=NOW,
        content_sha256=hashlib.sha256(f"{embed.provider}:{embed.post_id}".encode()).hexdigest(),
        **fields,
    )
    snapshot.media.append(
        SnapshotMedia(
            kind="image", original_url="https://cdn.example/x.png", rung="test", position=0, media_file=media
        )
    )
    session.add(snapshot)
    return snapshot


def run_once(root: Path) -> None:
    """One rewrite run (the crash tests run this in a subprocess and kill it)."""
    world = open_world(root)
    print("ready", flush=True)
    rewrite.run(world.sessions, world.deps())
    print("done", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"]:
        run_once(Path(sys.argv[2]))
