"""Viewer speed: every page of the viewer and the public archive over a big archive, timed through
Flask's test client (rendering included, no network), p95 per page against a 100 ms target.

    .venv/bin/python benchmarks/viewer_speed.py [--scale 1.0] [--samples 40] [--postgres URL]

At scale 1 the database holds 200,000 articles, 100,000 embeds, 1,000,000 checks and 50,000
snapshots (plus their occurrences, media rows, state changes, rewrites and residue lines), written
with bulk inserts (PostgreSQL: COPY). `--scale 0.01` runs in seconds, for CI's smoke run. PostgreSQL
is measured too when `--postgres URL` or ARCHIVER_TEST_POSTGRES_URL names a server (a scratch
database is made there and dropped). A page answering anything but 200 stops it with status 1; with
`--check`, so does a page missing the target (without it, a miss is only reported: the smoke run in CI
checks that every page answers, the full run measures). The articles list is asked with every filter
combination a user can pick, search with rare and very common words; the table names each page's
slowest request.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from figures import Figure
from flask.testing import FlaskClient
from sqlalchemy import Connection, Table, create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archiver import accounts  # noqa: E402
from archiver.app import App  # noqa: E402
from archiver.clock import FixedClock  # noqa: E402
from archiver.config import load_settings  # noqa: E402
from archiver.storage import db  # noqa: E402
from archiver.storage.models import (  # noqa: E402
    Alert,
    Article,
    Check,
    Embed,
    JobRun,
    Media,
    Occurrence,
    ProviderHealth,
    Rewrite,
    Snapshot,
    SnapshotMedia,
    Source,
    StateChange,
)
from archiver.storage.queries import users as user_queries  # noqa: E402
from archiver.web import create_app  # noqa: E402

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TARGET_MS = 100.0
CHUNK = 20_000
PROVIDERS = {
    "instagram": "https://www.instagram.com/p/{id}/",
    "twitter": "https://twitter.com/{handle}/status/{id}",
    "youtube": "https://www.youtube.com/watch?v={id}",
    "tiktok": "https://www.tiktok.com/@{handle}/video/{id}",
    "bluesky": "https://bsky.app/profile/{handle}/post/{id}",
}
WORDS = [
    "harbour",
    "market",
    "council",
    "river",
    "storm",
    "festival",
    "school",
    "election",
    "bridge",
    "station",
    "mayor",
    "football",
    "museum",
    "garden",
    "fire",
    "police",
    "weather",
    "concert",
    "library",
    "hospital",
    "traffic",
    "protest",
    "island",
    "village",
    "summer",
    "winter",
    "morning",
    "evening",
    "ferry",
    "lighthouse",
    "bakery",
    "theatre",
    "parade",
    "vote",
    "budget",
    "housing",
]
BLOCKQUOTE = (
    '<blockquote class="instagram-media" data-instgrm-permalink="{url}" data-instgrm-version="14">'
    '<a href="{url}">A post shared by someone</a></blockquote>'
)


@dataclass(frozen=True)
class Sizes:
    articles: int
    embeds: int
    checks: int
    snapshots: int
    handles: int
    # Articles with a planned rewrite (their files are written: the queue shows their text).
    planned: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        def n(full: int, least: int) -> int:
            return max(least, int(full * scale))

        return cls(
            n(200_000, 200), n(100_000, 100), n(1_000_000, 1_000), n(50_000, 50), n(5_000, 10), n(2_000, 60)
        )


# ---------------------------------------------------------------- the archive


def post_url(provider: str, post_id: str, handle: str) -> str:
    return PROVIDERS[provider].format(id=post_id, handle=handle)


def embed_fields(e: int, sizes: Sizes) -> tuple[str, str, str, str]:
    """(provider, post_id, handle, state) of embed `e` (1-based), the same each run."""
    provider = list(PROVIDERS)[e % len(PROVIDERS)]
    post_id = f"P{e:07d}"
    handle = f"user{e % sizes.handles}"
    state = "broken" if e % 10 == 0 else "suspect" if e % 20 == 1 else "new" if e % 20 == 3 else "live"
    return provider, post_id, handle, state


def caption(rng: random.Random, e: int) -> str:
    words = rng.choices(WORDS, k=12)
    return f"{' '.join(words)} tag{e % 1000} #{words[0]}"


def rows_of(sizes: Sizes, root: Path) -> Iterator[tuple[Table, Iterable[dict[str, Any]]]]:
    """Every table's rows, parents first, ids given (so children can name them)."""
    rng = random.Random(14)
    sources = ["site-a", "site-b", "site-c"]
    yield (
        Source.__table__,
        [{"id": i + 1, "name": name, "kind": "files", "created_at": NOW} for i, name in enumerate(sources)],
    )

    def article_key(a: int) -> str:
        return str(root / "articles" / f"{2016 + a % 10}" / f"{WORDS[a % len(WORDS)]}-story-{a}.html")

    yield (
        Article.__table__,
        (
            {
                "id": a,
                "source_id": a % 3 + 1,
                "key": article_key(a),
                "content_sha256": hashlib.sha256(str(a).encode()).hexdigest(),
                "encoding": "utf-8",
                "size_bytes": 40_000,
                "first_seen_at": NOW - timedelta(days=400),
                "scanned_at": NOW - timedelta(hours=a % 48),
                "scan_error": None,
            }
            for a in range(1, sizes.articles + 1)
        ),
    )

    def embed_rows() -> Iterator[dict[str, Any]]:
        for e in range(1, sizes.embeds + 1):
            provider, post_id, handle, state = embed_fields(e, sizes)
            yield {
                "id": e,
                "provider": provider,
                "post_id": post_id,
                "canonical_url": post_url(provider, post_id, handle),
                "state": state,
                "first_seen_at": NOW - timedelta(days=300),
                "last_captured_at": NOW - timedelta(days=e % 200),
                "next_capture_at": None,
                "capture_attempts": 1,
                "last_outcome": "gone" if state == "broken" else "ok",
                "last_reason": "HTTP 404" if state == "broken" else None,
                "next_check_at": NOW + timedelta(minutes=e % 1440),
                "last_ok_at": NOW - timedelta(days=e % 30),
                "state_changed_at": NOW - timedelta(hours=e % 400),
            }

    yield Embed.__table__, embed_rows()

    # Each article embeds one post (two articles a post); every 100th article also holds a residue line.
    def occurrence_rows() -> Iterator[dict[str, Any]]:
        occurrence = 0
        for a in range(1, sizes.articles + 1):
            e = (a - 1) // 2 % sizes.embeds + 1
            occurrence += 1
            yield {
                "id": occurrence,
                "article_id": a,
                "embed_id": e,
                "provider": embed_fields(e, sizes)[0],
                "markup": "blockquote",
                "span_start": 100,
                "span_end": 400,
                "position": 0,
                "found": {},
            }
            if a % 100 == 0:
                occurrence += 1
                yield {
                    "id": occurrence,
                    "article_id": a,
                    "embed_id": None,
                    "provider": "instagram",
                    "markup": "residue",
                    "span_start": 500,
                    "span_end": 560,
                    "position": 1,
                    "found": {"author_name": "Someone", "handle": f"user{a % sizes.handles}"},
                }

    yield Occurrence.__table__, occurrence_rows()

    media_count = max(1, sizes.snapshots // 10)
    yield (
        Media.__table__,
        (
            {
                "id": m,
                "sha256": hashlib.sha256(f"media{m}".encode()).hexdigest(),
                "mime": "image/jpeg",
                "size_bytes": 50_000,
                "created_at": NOW,
            }
            for m in range(1, media_count + 1)
        ),
    )
    # Versions: v1 of the first 90% of the snapshot count's embeds, v2 of the first 10%.
    with_v1 = sizes.snapshots - sizes.snapshots // 10
    versions = [(e, 1) for e in range(1, with_v1 + 1)] + [(e, 2) for e in range(1, sizes.snapshots // 10 + 1)]

    def snapshot_rows() -> Iterator[dict[str, Any]]:
        for s, (e, version) in enumerate(versions, start=1):
            handle = embed_fields(e, sizes)[2]
            yield {
                "id": s,
                "embed_id": e,
                "version": version,
                "captured_at": NOW - timedelta(days=200 - 100 * (version - 1), minutes=e % 1000),
                "content_sha256": hashlib.sha256(f"{e}/{version}".encode()).hexdigest(),
                "author_name": f"Author {handle.title()}",
                "handle": handle,
                "author_url": f"https://example.com/{handle}",
                "text": caption(rng, e),
                "text_html": None,
                "published": "2025-06-01T10:00:00Z",
                "title": None,
                "provenance": {"text": "oembed", "author_name": "oembed"},
                "raw": [],
            }

    yield Snapshot.__table__, snapshot_rows()
    yield (
        SnapshotMedia.__table__,
        (
            {
                "id": s,
                "snapshot_id": s,
                "media_id": s % media_count + 1,
                "kind": "image",
                "original_url": f"https://cdn.example/{s}.jpg",
                "rung": "oembed",
                "position": 0,
                "error": None,
            }
            for s in range(1, len(versions) + 1)
        ),
    )

    per_embed = max(1, sizes.checks // sizes.embeds)

    def check_rows() -> Iterator[dict[str, Any]]:
        c = 0
        for e in range(1, sizes.embeds + 1):
            broken = embed_fields(e, sizes)[3] == "broken"
            for k in range(per_embed):
                c += 1
                gone = broken and k >= per_embed - 3
                yield {
                    "id": c,
                    "embed_id": e,
                    "checked_at": NOW - timedelta(hours=6 * (per_embed - k), minutes=e % 360),
                    "kind": "check",
                    "outcome": "gone" if gone else "ok",
                    "http_status": 404 if gone else 200,
                    "reason": "HTTP 404: the post is gone" if gone else "oEmbed 200",
                    "latency_ms": 120,
                    "counted": True,
                }

    yield Check.__table__, check_rows()

    def change_rows() -> Iterator[dict[str, Any]]:
        c = 0
        for e in range(10, sizes.embeds + 1, 10):
            for before, after, back in (("live", "suspect", 30), ("suspect", "broken", 6)):
                c += 1
                yield {
                    "id": c,
                    "embed_id": e,
                    "changed_at": NOW - timedelta(hours=back + e % 200),
                    "from_state": before,
                    "to_state": after,
                    "reason": "gone 3 times over 24 h",
                }

    yield StateChange.__table__, change_rows()

    # A rewrite for each broken embed's first article: planned for the first `planned`, applied after.
    def rewrite_rows() -> Iterator[dict[str, Any]]:
        broken = [e for e in range(10, sizes.embeds + 1, 10) if 2 * (e - 1) + 1 <= sizes.articles]
        for r, e in enumerate(broken, start=1):
            a = 2 * (e - 1) + 1
            provider, post_id, handle, _ = embed_fields(e, sizes)
            original = BLOCKQUOTE.format(url=post_url(provider, post_id, handle)).encode()
            planned = r <= sizes.planned
            if planned:
                write_article(Path(article_key(a)), original)
            yield {
                "id": r,
                "article_id": a,
                "embed_id": e,
                "provider": provider,
                "post_id": post_id,
                "mode": "approve",
                "state": "planned" if planned else "applied",
                "reason": None,
                "variant": "block",
                "snapshot_version": 1,
                "span_start": len(PREFIX),
                "span_end": len(PREFIX) + len(original),
                "original_bytes": original,
                "replacement_bytes": b'<figure class="archiver-fallback">archived card</figure>',
                "card_start": None if planned else len(PREFIX),
                "article_sha256_before": "0" * 64,
                "article_sha256_after": None if planned else "1" * 64,
                "restore_sha256_before": None,
                "restore_sha256_after": None,
                "created_at": NOW - timedelta(minutes=r),
                "approved_at": None if planned else NOW,
                "approved_by": None if planned else "edna",
                "applied_at": None if planned else NOW,
                "restored_at": None,
                "restored_by": None,
            }

    yield Rewrite.__table__, rewrite_rows()
    yield (
        ProviderHealth.__table__,
        [{"provider": "tiktok", "paused": True, "reason": "5 transient failures in a row", "since": NOW}],
    )
    yield (
        Alert.__table__,
        [
            {
                "id": 1,
                "provider": "tiktok",
                "kind": "paused",
                "message": "paused",
                "raised_at": NOW,
                "resolved_at": None,
            }
        ],
    )
    yield (
        JobRun.__table__,
        [{"job": j, "last_run_at": NOW, "lease_owner": None, "lease_until": None} for j in ("scan", "check")],
    )


PREFIX = b"<!DOCTYPE html><html><head><meta charset=utf-8><title>Story</title></head><body><p>Before.</p>\n"


def write_article(path: Path, unit: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PREFIX + unit + b"\n<p>After.</p></body></html>\n")


def chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def copy_rows(connection: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """PostgreSQL: COPY the rows in (JSON columns as text, the rest adapted by psycopg)."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0
    columns = list(first)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    count = 0
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copier:
        for row in itertools.chain([first], iterator):
            copier.write_row(
                [json.dumps(v) if isinstance(v, dict | list) else v for v in (row[c] for c in columns)]
            )
            count += 1
    return count


def fill(url: str, sizes: Sizes, root: Path) -> dict[str, int]:
    engine = db.make_engine(url)
    counts: dict[str, int] = {}
    try:
        with engine.begin() as connection:
            postgres = connection.dialect.name == "postgresql"
            for table, rows in rows_of(sizes, root):
                if postgres:
                    counts[table.name] = copy_rows(connection, table, rows)
                    continue
                counts[table.name] = 0
                for batch in chunks(rows, CHUNK):
                    connection.execute(table.insert(), batch)
                    counts[table.name] += len(batch)
            if postgres:
                for table in (
                    "sources",
                    "articles",
                    "embeds",
                    "occurrences",
                    "media",
                    "snapshots",
                    "snapshot_media",
                    "checks",
                    "state_changes",
                    "rewrites",
                    "alerts",
                ):
                    highest = f"(SELECT max(id) FROM {table})"
                    connection.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {highest})")
                    )
        with engine.connect() as connection:
            # PostgreSQL: VACUUM too, as autovacuum leaves a table after a bulk insert (the visibility
            # map set, so counts read an index alone) rather than whenever it gets round to it mid-run.
            command = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text(command))
    finally:
        engine.dispose()
    return counts


# ---------------------------------------------------------------- timing


def config(root: Path, url: str) -> Path:
    path = root / "archiver.toml"
    sources = "\n".join(
        f'[[sources]]\nname = "{name}"\npath = "{root / "articles"}"\nmode = "approve"\n'
        for name in ("site-a", "site-b", "site-c")
    )
    path.write_text(
        f'[database]\nurl = "{url}"\n[media]\ndir = "{root / "media"}"\n[rewrite]\n'
        f'archive_base_url = "https://archive.example.org"\n{sources}',
        encoding="utf-8",
    )
    return path


def signed_in(client: FlaskClient, name: str, password: str) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token is not None
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token.group(1)})
    assert response.status_code == 302, response.status_code


def pages(sizes: Sizes, rng: random.Random, samples: int) -> dict[str, list[str]]:
    def some(count: int) -> list[int]:
        return [rng.randint(1, count) for _ in range(samples)]

    with_snapshot = sizes.snapshots - sizes.snapshots // 10
    # Rare and common words: "story" and "articles" are in every article path, "user" and "author" in
    # every snapshot, "2016" in a tenth of the paths; the `after` cursors ask for a later page.
    searches = [
        "harbour",
        "tag17",
        "ferry lighthouse",
        "user12",
        "story",
        "author user4",
        "nothinglikethis",
        "user",
        "author",
        "articles",
        "2016",
        f"story&after=a{sizes.articles // 2}",
        f"user&after=p{sizes.snapshots // 2}",
    ]

    def public(e: int) -> str:
        provider, post_id, _, _ = embed_fields(e, sizes)
        return f"/embeds/{provider}/{post_id}/v1"

    def timemap(e: int) -> str:
        provider, post_id, handle, _ = embed_fields(e, sizes)
        return f"/timemap/link/{post_url(provider, post_id, handle)}"

    return {
        "dashboard": ["/editors/"] * samples,
        "queue": [f"/editors/queue?after={r}" if r > 1 else "/editors/queue" for r in some(sizes.planned)],
        "articles list": articles_lists(sizes, rng),
        "article": [f"/editors/articles/{a}" for a in some(sizes.articles)],
        "embed": [f"/editors/embeds/{e}" for e in some(sizes.embeds)],
        "author": [
            f"/editors/accounts/{embed_fields(e, sizes)[0]}/user{e % sizes.handles}"
            for e in some(sizes.embeds)
        ],
        "residue": [
            f"/editors/residue?after={rng.randint(1, sizes.articles)}" if i % 2 else "/editors/residue"
            for i in range(samples)
        ],
        "search": [
            f"/search?q={searches[i % len(searches)]}" for i in range(max(samples, 2 * len(searches)))
        ],
        "public version": [public(e) for e in some(with_snapshot)],
        "timemap": [timemap(e) for e in some(with_snapshot)],
    }


def articles_lists(sizes: Sizes, rng: random.Random) -> list[str]:
    """Every filter combination a user can pick (source, state, provider, each or none; youtube and
    broken, say, hold nothing), its first page and a later one (after a random article)."""
    urls = []
    for source, state, provider in itertools.product(
        (None, "site-a", "site-b", "site-c"),
        (None, "live", "suspect", "broken", "new"),
        (None, *PROVIDERS),
    ):
        chosen = "&".join(
            f"{k}={v}" for k, v in (("source", source), ("state", state), ("provider", provider)) if v
        )
        urls.append(f"/editors/articles?{chosen}")
        urls.append(f"/editors/articles?{chosen}&after={rng.randint(1, sizes.articles)}".replace("?&", "?"))
    return urls


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(url: str, sizes: Sizes, root: Path, samples: int) -> dict[str, tuple[float, float, int, str]]:
    settings = load_settings(config(root, url), {})
    app = App(settings, FixedClock(NOW), {"ARCHIVER_WEB_SECRET": "b" * 48})
    try:
        with app.sessions() as session, session.begin():
            user_queries.add_user(
                session, "edna", accounts.EDITOR, accounts.hash_password("pw", n=2**10), NOW
            )
        flask_app = create_app(app)
        client = flask_app.test_client()
        signed_in(client, "edna", "pw")
        results: dict[str, tuple[float, float, int, str]] = {}
        rng = random.Random(7)
        for name, urls in pages(sizes, rng, samples).items():
            for warm in urls[:2]:
                client.get(warm)
            times = []
            for page_url in urls:
                started = time.perf_counter()
                response = client.get(page_url)
                times.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{name}: {page_url} answered {response.status_code}")
            slowest = urls[times.index(max(times))]
            results[name] = (p95(times), sorted(times)[len(times) // 2], len(times), slowest)
        return results
    finally:
        app.close()


def built_and_measured(
    label: str, url: str, sizes: Sizes, root: Path, samples: int
) -> dict[str, tuple[float, float, int, str]]:
    started = time.perf_counter()
    db.upgrade(url)
    counts = fill(url, sizes, root)
    built = time.perf_counter() - started
    shown = ", ".join(f"{counts[t]:,} {t}" for t in ("articles", "embeds", "checks", "snapshots"))
    print(f"\n{label}: built in {built:.1f} s ({shown})", file=sys.stderr)
    return measure(url, sizes, root, samples)


def print_table(results: dict[str, tuple[float, float, int, str]]) -> bool:
    print(f"| page | p95 ms | median ms | requests | under {TARGET_MS:.0f} ms | slowest request |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    ok = True
    for name, (high, middle, count, slowest) in results.items():
        met = high < TARGET_MS
        ok &= met
        print(f"| {name} | {high:.1f} | {middle:.1f} | {count} | {'yes' if met else 'NO'} | `{slowest}` |")
    return ok


def every_database(
    sizes: Sizes, samples: int, postgres: str, sqlite: bool = True
) -> dict[str, dict[str, tuple[float, float, int, str]]]:
    """The page timings on SQLite (unless `sqlite` is false) and on PostgreSQL when `postgres` is a
    server URL (a database of its own, dropped after)."""
    measured: dict[str, dict[str, tuple[float, float, int, str]]] = {}
    with tempfile.TemporaryDirectory(prefix="viewer-speed-") as folder:
        if sqlite:
            root = Path(folder) / "sqlite"
            root.mkdir()
            url = f"sqlite:///{root / 'archive.db'}"
            measured["SQLite"] = built_and_measured("SQLite", url, sizes, root, samples)
        if postgres:
            root = Path(folder) / "postgresql"
            root.mkdir()
            name = f"viewer_speed_{uuid.uuid4().hex[:12]}"
            admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as connection:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
                measured["PostgreSQL"] = built_and_measured("PostgreSQL", url, sizes, root, samples)
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    return measured


def ci_figures() -> list[Figure]:
    """The slowest page's p95 per database at full size (`benchmarks/run`); the cheapest page's p95,
    through the same client and database in the same run, is its baseline."""
    measured = every_database(Sizes.at(1.0), 20, os.environ.get("ARCHIVER_TEST_POSTGRES_URL", ""))
    figures = []
    for label, results in measured.items():
        slowest = max(results, key=lambda page: results[page][0])
        cheapest = min(results, key=lambda page: results[page][0])
        high = results[slowest][0]
        figures.append(
            Figure(
                "viewer_speed",
                f"{label}: slowest page's p95 of {len(results)} pages, full size ({slowest})",
                f"{high:.0f} ms",
                f"{results[cheapest][0]:.0f} ms: the cheapest page ({cheapest})",
                f"< {TARGET_MS:.0f} ms",
                high < TARGET_MS,
            )
        )
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 200,000 articles, 1,000,000 checks")
    parser.add_argument(
        "--samples",
        type=int,
        default=40,
        help="requests timed per page (the articles list: every filter combination, two pages each; "
        "search: every query at least twice)",
    )
    parser.add_argument("--postgres", default=os.environ.get("ARCHIVER_TEST_POSTGRES_URL", ""))
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--check", action="store_true", help="exit 1 when a page misses the target")
    args = parser.parse_args(argv)
    measured = every_database(Sizes.at(args.scale), args.samples, args.postgres, not args.no_sqlite)
    ok = True
    for label, results in measured.items():
        print(f"\n{label}")
        ok &= print_table(results)
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
