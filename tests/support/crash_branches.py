"""The crash harness's branches: worlds that start from a state of the main one and are set up with a
few more steps before their phase is killed (`crash_harness.PHASES`, the phases with a `base`).

- approve: both sources in mode `approve`, the broken embeds' rewrites planned; an editor approves them
  (`archive rewrite --approve ID ...`, one id or all of them), which writes them (`rewrites.run` ->
  `apply_article`, the function the viewer's approve calls too).
- put-back: an article whose embeds were lost (a lead-in over nothing and an empty Gutenberg shell),
  its two spots paired by recovery with two live posts (seeded through the database: a `Recovery` row
  per spot, with the embed's original markup as a web archive's copy held it), so `archive rewrite`
  puts the original markup back (journal variant `embed`: a zero-length insert after the lead-in, the
  shell replaced). Then one of the posts breaks and its card is written over the markup put back; the
  editor's restore takes both layers out (`restore._restore_layers`).
- gc: media no snapshot shows any more (their links cleared), files no record names (a capture killed
  between storing its file and committing its record) and temp files (a store killed mid-write), all
  older than the grace, for `archive gc`.

A seed is a function of the live world's folder, its database URL and the pinned clock; it returns
the arguments it found for the phase's command line (`{name}` in a phase's argv; a list is spread).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archiver.records import spot_anchor
from archiver.storage import db, queries
from archiver.storage.models import Article, Embed, Occurrence, Rewrite, Snapshot, SnapshotMedia, Source

Seed = Callable[[Path, str, datetime], dict[str, list[str]]]

PUTBACK_FILE = "articles/putback.html"
# The posts recovery pairs with the lead-in and with the shell (11 characters, as YouTube ids are).
PUTBACK_POSTS = ("pb00000000A", "pb00000001A")
MEMENTO = "https://archive.example.net/web/20250101000000/https://site.example.com/putback"

# Media left for the collector: links cleared for this many snapshots' media, files with no record,
# and temp files.
GC_DETACHED = 3
GC_ORPHANS = 6
GC_TEMPS = 3
GC_OLD = datetime(2026, 1, 1, tzinfo=UTC).timestamp()  # the garbage's mtime: long before the gc phase's clock


SHELL = (
    b'<figure class="wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube">'
    b'<div class="wp-block-embed__wrapper">\n</div></figure>'
)


def putback_article() -> bytes:
    """An article with a lead-in over nothing and an empty YouTube embed shell (two lost spots)."""
    return b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Put back</title></head>
<body><article>
<h1>An article whose embeds were lost</h1>
<p>The band played a new song on Friday. Check out the video below.</p>
<p>The concert went on for two more hours, and the crowd stayed until the very last encore was over.</p>
<p>Later that night the singer posted a second clip from the stage.</p>
SHELL
<p>The end of the article, with a few more words about the tour and its dates.</p>
</article></body></html>
""".replace(b"SHELL", SHELL)


def original_markup(post: str) -> str:
    """The embed unit as the archived copy held it (the page's figure around the provider's iframe)."""
    return (
        '<figure class="wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube">'
        '<div class="wp-block-embed__wrapper">\n'
        f'<iframe title="Video {post}" width="560" height="315" frameborder="0" allowfullscreen'
        f' src="https://www.youtube.com/embed/{post}?feature=oembed"></iframe>\n</div></figure>'
    )


@contextmanager
def _session(url: str) -> Iterator[Session]:
    """A session on the live database, its engine disposed after (a pooled SQLite connection left open
    would outlive the files the harness copies over it)."""
    engine = db.make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def _set_config(live: Path, old: str, new: str, append: str = "") -> None:
    path = live / "archiver.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(old, new) + append, encoding="utf-8")


# --- approve -----------------------------------------------------------------------------------------


def approve_mode(live: Path, url: str, now: datetime) -> dict[str, list[str]]:
    """Both sources in mode approve: `archive rewrite` plans, editors approve."""
    _set_config(live, 'mode = "apply"', 'mode = "approve"')
    return {}


def planned_rewrites(live: Path, url: str, now: datetime) -> dict[str, list[str]]:
    """The planned rewrites' ids: all of them (the bulk approve) and the first one."""
    with _session(url) as session:
        ids = list(session.scalars(select(Rewrite.id).where(Rewrite.state == "planned").order_by(Rewrite.id)))
    assert len(ids) >= 4, f"the approve branch planned {len(ids)} rewrites"
    return {
        "approve_bulk": [arg for rewrite_id in ids for arg in ("--approve", str(rewrite_id))],
        "approve_one": ["--approve", str(ids[len(ids) // 2])],
    }


# --- put-back ----------------------------------------------------------------------------------------


def putback_world(live: Path, url: str, now: datetime) -> dict[str, list[str]]:
    """The article with lost spots, and put-backs written at once (`recover.repairs = "apply"`)."""
    (live / PUTBACK_FILE).write_bytes(putback_article())
    _set_config(live, "", "", '[recover]\nrepairs = "apply"\n')
    return {"putback_file": [str(live / PUTBACK_FILE)], "putback_post": [PUTBACK_POSTS[0]]}


def putback_pairs(live: Path, url: str, now: datetime) -> dict[str, list[str]]:
    """Each lost spot of the article paired with a post, as `archive recover` pairs it: the post's
    embed (due for capture) and a `paired` recovery row with the copy's markup, paired an hour ago."""
    paired_at = now - timedelta(hours=1)
    with _session(url) as session, session.begin():
        article = session.scalars(
            select(Article).join(Source).where(Source.name == "site", Article.key.endswith("putback.html"))
        ).one()
        spots = list(
            session.scalars(
                select(Occurrence)
                .where(Occurrence.article_id == article.id, Occurrence.embed_id.is_(None))
                .order_by(Occurrence.position)
            )
        )
        assert [spot.markup for spot in spots] == ["lost", "lost"], [spot.markup for spot in spots]
        for spot, post in zip(spots, PUTBACK_POSTS, strict=True):
            embed, _ = queries.ensure_embed(
                session, "youtube", post, f"https://www.youtube.com/watch?v={post}", paired_at
            )
            queries.save_recovery(
                session,
                article.id,
                spot.markup,
                spot_anchor(spot.markup, spot.found or {}),
                paired_at,
                provider="youtube",
                state="paired",
                embed_id=embed.id,
                archive="local",
                memento_url=MEMENTO,
                memento_datetime=datetime(2025, 1, 1, tzinfo=UTC),
                original_markup=original_markup(post),
                copies=[],
            )
    return {}


def post_state(post: str, wanted: str) -> Seed:
    """A seed that only checks that `post` is in state `wanted` (the branch is set up as meant)."""

    def check(live: Path, url: str, now: datetime) -> dict[str, list[str]]:
        with _session(url) as session:
            state = session.scalars(select(Embed.state).where(Embed.post_id == post)).one()
        assert state == wanted, f"{post} is {state}, not {wanted}: the branch is not set up as meant"
        return {}

    return check


# --- gc ----------------------------------------------------------------------------------------------


def gc_garbage(live: Path, url: str, now: datetime) -> dict[str, list[str]]:
    """Media for the collector: records no snapshot shows, files no record names, stale temp files;
    everything old. The snapshots' other media stay."""
    media_dir = live / "media"
    with _session(url) as session, session.begin():
        linked = list(
            session.scalars(
                select(SnapshotMedia.media_id)
                .join(Snapshot, Snapshot.id == SnapshotMedia.snapshot_id)
                .where(SnapshotMedia.media_id.is_not(None))
                .order_by(Snapshot.id)
            )
        )
        detached = sorted(set(linked))[:GC_DETACHED]
        assert len(detached) == GC_DETACHED, f"only {len(detached)} media to detach"
        session.execute(
            update(SnapshotMedia).where(SnapshotMedia.media_id.in_(detached)).values(media_id=None)
        )
    for index in range(GC_ORPHANS):
        data = f"a file whose capture never committed its record {index}".encode()
        name = hashlib.sha256(data).hexdigest()
        path = media_dir / name[:2] / name[2:4] / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (GC_OLD, GC_OLD))
    folders = sorted(p for p in media_dir.glob("*/*") if p.is_dir())
    for index in range(GC_TEMPS):
        path = folders[index % len(folders)] / f".tmp-crashed{index}"
        path.write_bytes(b"half a file")
        os.utime(path, (GC_OLD, GC_OLD))
    return {}


def blob_files(live: Path) -> frozenset[str]:
    """Every file in the media store (final names and temp files), by its key."""
    media_dir = live / "media"
    return frozenset(str(p.relative_to(media_dir)) for p in media_dir.glob("*/*/*") if p.is_file())
