"""Kill the archiver with SIGKILL at random points of its commands, and check after each kill that nothing
is lost or half written, and that running the command again finishes the work.

The world: a loopback YouTube (oEmbed answers and thumbnails, posts deleted and brought back on
demand), a `files` source of articles in several markups and encodings, and a `sql` source (a CMS table
in a SQLite file); the archive's own database is SQLite or PostgreSQL. A reference run takes the world
through every phase (scan, fetch, checks over 90 simulated hours, rewrite, the rewrites of posts that
came back undone, editors' restores of a file and of a row), saving a template of the world before each
phase and what each phase leaves behind (`Outcome`). Branches start from one of those templates and
are set up by a few unkilled steps (`crash_branches`): an editor's approve (of every planned rewrite,
and of one), original markup put back for recovered spots (restored; a card written over it, restored
whole in two layers and by one embed), and media garbage collection (`archive gc`).

A trial starts from a phase's template, runs the phase's command killed at a seeded step (or after a
seeded delay), checks the invariants (`check_after_kill`), runs it killed again at another point, and
so on, then once more to the end, and compares what it leaves with the reference (`check_settled`).
Commands run in forked children of a fork server (`crash_zygote.py`), so a kill costs a fork, not a
Python start. The daemon (`daemon_trial`) starts from the world before the third check and must reach
what the third check and the rewrite leave; each restart after a kill comes later on the pinned clock
than the dead daemon's leases last, as a restart would in real life.

After every kill:
- the database passes its integrity check (SQLite `PRAGMA integrity_check` and `foreign_key_check`;
  PostgreSQL answers a count of every table);
- every media row names a blob that is there, whole (its bytes hash to its name), and no blob under a
  final name is damaged;
- every article file and CMS row is byte for byte one of the states the journal allows: as it was when
  the phase began, or a state a journal row recorded (before or after a write or a restore);
- the journal agrees with the articles: an applied row's card is in its article, a restored row's is
  not, an `applying` (`restoring`) row's article is exactly its before or its after;
- no captured embed reads as uncaptured (state `new` with a snapshot).
After the final run: no row is left `applying` or `restoring`, no temporary file is left next to an
article, every applied card is where its row says, and the outcome equals the reference.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from select import select as wait_readable
from typing import Any
from urllib.parse import unquote

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url

from archiver.sources.store import TEMP_SUFFIX
from archiver.storage import db
from archiver.storage.models import Article, Base, Embed, Media, Occurrence, Rewrite, Snapshot, Source
from tests.support.crash_branches import (
    PUTBACK_POSTS,
    Seed,
    approve_mode,
    blob_files,
    gc_garbage,
    planned_rewrites,
    post_state,
    putback_pairs,
    putback_world,
)
from tests.support.fake_server import Canned, FakeServer, Recorded

ROOT = Path(__file__).resolve().parents[2]
ZYGOTE = Path(__file__).with_name("crash_zygote.py")
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POSTGRES_URL_ENV = "ARCHIVER_TEST_POSTGRES_URL"

FILE_ARTICLES = 8
SQL_ROWS = 4
_VIDEO = re.compile(r"(?:v=|embed/)([A-Za-z0-9_-]{11})")


def post_id(index: int) -> str:
    """The YouTube id of post `index` (11 characters)."""
    return f"cr{index:08d}A"


def file_posts(article: int) -> list[str]:
    return [post_id(article * 3 + n) for n in range(3)]


def sql_posts(row: int) -> list[str]:
    return [post_id(100 + row * 2 + n) for n in range(2)]


ALL_POSTS = [p for a in range(FILE_ARTICLES) for p in file_posts(a)] + [
    p for r in range(SQL_ROWS) for p in sql_posts(r)
]
# Half the posts are deleted after their capture; half of those come back later.
GONE = frozenset(p for i, p in enumerate(ALL_POSTS) if i % 2 == 1)
BACK = frozenset(p for i, p in enumerate(ALL_POSTS) if i % 4 == 1)
KNOWN_POSTS = (*ALL_POSTS, *PUTBACK_POSTS)  # the put-back branch's posts are known from its start


# --- the world ---------------------------------------------------------------------------------------


FIGURE = (
    '<figure class="wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube">'
    '<div class="wp-block-embed__wrapper">'
)


def file_article(index: int) -> bytes:
    """An article embedding three posts: a Gutenberg figure with its iframe, a `wp:embed` block holding
    a bare URL, and a bare URL in a paragraph; some in windows-1252, some with CRLF line ends."""
    first, second, third = file_posts(index)
    latin = index % 3 == 1
    charset = "windows-1252" if latin else "utf-8"
    accent = "café crème, naïve" if latin else "café — “quoted” ✓"
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="{charset}"><title>Article {index}</title></head>
<body><article>
<h1>Article {index}: {accent}</h1>
<p>Some text before the first embed; {accent}.</p>
{FIGURE}
<iframe title="Video {first}" width="560" height="315" frameborder="0" allowfullscreen
 src="https://www.youtube.com/embed/{first}?feature=oembed"></iframe>
</div></figure>
<p>More text in between.</p>
<!-- wp:embed {{"url":"https://www.youtube.com/watch?v={second}","type":"video"}} -->
{FIGURE}
https://www.youtube.com/watch?v={second}
</div></figure>
<!-- /wp:embed -->
<p>https://www.youtube.com/watch?v={third}</p>
<p>The end of article {index}.</p>
</article></body></html>
"""
    if index % 4 == 3:
        html = html.replace("\n", "\r\n")
    return html.encode("cp1252" if latin else "utf-8")


def sql_body(row: int) -> str:
    first, second = sql_posts(row)
    return (
        f"<h2>Post {row}</h2>\n<p>Text of row {row} — with “quotes”.</p>\n"
        f'<iframe width="560" height="315" src="https://www.youtube.com/embed/{first}" '
        f"allowfullscreen></iframe>\n<p>Between.</p>\n"
        f'<!-- wp:embed {{"url":"https://youtu.be/{second}"}} -->\n'
        f'<figure class="wp-block-embed is-provider-youtube"><div class="wp-block-embed__wrapper">\n'
        f"https://youtu.be/{second}\n</div></figure>\n<!-- /wp:embed -->\n<p>After.</p>\n"
    )


def thumbnail(post: str) -> bytes:
    """A small PNG of its own for each post (the media store keeps one file per post)."""
    return b"\x89PNG\r\n\x1a\n" + hashlib.sha256(post.encode()).digest() * 8


class FakeTube:
    """A loopback YouTube: oEmbed answers for the posts not in `gone` (404 for those), thumbnails."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.gone: frozenset[str] = frozenset()
        server.route("/oembed", self._oembed)
        for post in KNOWN_POSTS:
            server.route(f"/thumb/{post}.png", Canned(200, {"Content-Type": "image/png"}, thumbnail(post)))

    def _oembed(self, request: Recorded) -> Canned:
        found = _VIDEO.search(unquote((request.query.get("url") or [""])[0]))
        post = found.group(1) if found else ""
        if post in self.gone or post not in KNOWN_POSTS:
            return Canned(404, {"Content-Type": "text/html"}, b"Not Found")
        body = {
            "version": "1.0",
            "type": "video",
            "title": f"Video {post}",
            "author_name": f"Channel of {post}",
            "author_url": "https://www.youtube.com/@crashchannel",
            "thumbnail_url": f"{self.server.url}/thumb/{post}.png",
            "html": f'<iframe src="https://www.youtube.com/embed/{post}"></iframe>',
        }
        return Canned(200, {"Content-Type": "application/json"}, json.dumps(body).encode())


def config_text(root: Path, provider_url: str) -> str:
    return f"""
[database]
url = "sqlite:///{root / "archive.db"}"
[media]
dir = "{root / "media"}"
[http]
allow_networks = ["127.0.0.0/8"]
read_timeout = 5.0
deadline = 10.0
[capture]
workers = 4
per_provider = 4
max_defer_wait = 0.0
[checks]
broken = "1h"
[verdicts]
breaker_min_checks = 100000
[rewrite]
archive_base_url = "https://archive.example.org"
[providers.youtube]
oembed_endpoint = "{provider_url}/oembed"
rate = "100000/h"
canaries = []
[[sources]]
name = "site"
kind = "files"
path = "{root / "articles"}"
mode = "apply"
[[sources]]
name = "cms"
kind = "sql"
url = "sqlite:///{root / "cms.db"}"
table = "posts"
key_column = "id"
body_column = "body"
version_column = "revision"
where = "status = 'publish'"
mode = "apply"
"""


def build_world(root: Path, provider_url: str) -> None:
    """The articles, the CMS table and the settings of a fresh world in `root`."""
    (root / "articles").mkdir(parents=True)
    for index in range(FILE_ARTICLES):
        (root / "articles" / f"article-{index:02d}.html").write_bytes(file_article(index))
    with sqlite3.connect(root / "cms.db") as cms:
        cms.execute(
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, body TEXT NOT NULL, revision INTEGER NOT NULL,"
            " status TEXT NOT NULL)"
        )
        cms.executemany(
            "INSERT INTO posts VALUES (?, ?, 1, 'publish')",
            [(row + 1, sql_body(row)) for row in range(SQL_ROWS)],
        )
    cms.close()
    (root / "archiver.toml").write_text(config_text(root, provider_url), encoding="utf-8")


# --- phases ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """A step of setting a branch up, run once and never killed: a command (`argv`, at `now`, with the
    posts `gone` deleted), or a seed (`crash_branches`)."""

    argv: tuple[str, ...] = ()
    now: datetime = T0
    gone: frozenset[str] = frozenset()
    seed: Seed | None = None


@dataclass(frozen=True)
class Phase:
    """One command of the world's life: its arguments, the pinned clock, the posts deleted meanwhile.
    A branch starts from template `base` (a phase's name: the world before it; "end-NAME": the world
    phase NAME left) instead of the world the phase before left, and is set up by `setup` first."""

    name: str
    argv: tuple[str, ...]
    now: datetime
    gone: frozenset[str]
    base: str | None = None
    setup: tuple[Step, ...] = ()
    # Compared with the reference after one more run of its command, on both sides: a run may leave
    # bookkeeping that the next run finishes (see the put-back phase).
    settles_in_two_runs: bool = False


FIRST_FILE = "articles/article-01.html"  # restored by an editor in phase "restore"
APPROVE_AT = T0 + timedelta(hours=60)
PUTBACK_AT = T0 + timedelta(hours=92)
LEAD_IN_POST, SHELL_POST = PUTBACK_POSTS
CARD_GONE = GONE - BACK | {LEAD_IN_POST}  # the post put back after the lead-in breaks
# The branches (`crash_branches` says what each sets up). Their phases: an editor's approve of every
# planned rewrite and of one; original markup put back (a zero-length insert and a shell replaced),
# and that put-back restored; a card written over one put-back, restored whole in two layers, and only
# that post's layers restored (an editor's restore of one embed: the other put-back stays and moves);
# media garbage collection.
BRANCHES = (
    Phase(
        "approve-bulk",
        ("rewrite", "{approve_bulk}", "--by", "editor"),
        APPROVE_AT + timedelta(minutes=5),
        GONE,
        base="rewrite",
        setup=(Step(seed=approve_mode), Step(("rewrite",), APPROVE_AT, GONE), Step(seed=planned_rewrites)),
    ),
    # An editor restores one of an article's two cards (`archive restore FILE POST`, as the viewer's
    # restore of one card): the other card stays and moves.
    Phase(
        "restore-embed",
        ("restore", "{file}", post_id(3), "--by", "editor"),
        APPROVE_AT + timedelta(minutes=10),
        GONE,
        base="end-approve-bulk",
    ),
    Phase(
        "approve-one",
        ("rewrite", "{approve_one}", "--by", "editor"),
        APPROVE_AT + timedelta(minutes=5),
        GONE,
        base="approve-bulk",
    ),
    # Markup put back leaves its article to be scanned again (`finish_apply`). A rerun that finishes a
    # killed put-back in crash recovery then plans that article and so scans it in the same run; a
    # run never killed scans it in the next one. The same state, one run apart.
    Phase(
        "putback",
        ("rewrite",),
        PUTBACK_AT,
        GONE - BACK,
        settles_in_two_runs=True,
        base="end-restore-sql",
        setup=(
            Step(seed=putback_world),
            Step(("scan",), PUTBACK_AT, GONE - BACK),
            Step(seed=putback_pairs),
            Step(("fetch",), PUTBACK_AT, GONE - BACK),
            Step(seed=post_state(LEAD_IN_POST, "live")),
        ),
    ),
    Phase(
        "putback-card",
        ("rewrite",),
        PUTBACK_AT + timedelta(hours=60),
        CARD_GONE,
        setup=(
            Step(("scan",), PUTBACK_AT + timedelta(minutes=5), GONE - BACK),
            *(Step(("check",), PUTBACK_AT + timedelta(hours=h), CARD_GONE) for h in (3, 30, 60, 90, 120)),
            Step(seed=post_state(LEAD_IN_POST, "broken")),
        ),
    ),
    Phase(
        "putback-restore",
        ("restore", "{putback_file}", "--by", "editor"),
        PUTBACK_AT + timedelta(hours=61),
        CARD_GONE,
    ),
    Phase(
        "putback-restore-embed",
        ("restore", "{putback_file}", "{putback_post}", "--by", "editor"),
        PUTBACK_AT + timedelta(hours=61),
        CARD_GONE,
        base="putback-restore",
    ),
    Phase(
        "putback-undo",
        ("restore", "{putback_file}", "--by", "editor"),
        PUTBACK_AT + timedelta(hours=1),
        GONE - BACK,
        base="end-putback",
    ),
    Phase(
        "gc",
        ("gc",),
        datetime(2099, 1, 1, tzinfo=UTC),  # every media record and file older than the grace
        GONE - BACK,
        base="end-restore-sql",
        setup=(Step(seed=gc_garbage),),
    ),
)
PHASES = (
    Phase("scan", ("scan",), T0, frozenset()),
    Phase("fetch", ("fetch",), T0, frozenset()),
    Phase("check1", ("check",), T0 + timedelta(hours=3), GONE),
    Phase("check2", ("check",), T0 + timedelta(hours=30), GONE),
    Phase("check3", ("check",), T0 + timedelta(hours=60), GONE),
    Phase("rewrite", ("rewrite",), T0 + timedelta(hours=60), GONE),
    Phase("check4", ("check",), T0 + timedelta(hours=90), GONE - BACK),
    Phase("rewrite-back", ("rewrite",), T0 + timedelta(hours=90), GONE - BACK),
    Phase("restore", ("restore", "{file}", "--by", "editor"), T0 + timedelta(hours=91), GONE - BACK),
    Phase("restore-sql", ("restore", "{row}", "--by", "editor"), T0 + timedelta(hours=91), GONE - BACK),
    *BRANCHES,
)
PHASE = {phase.name: phase for phase in PHASES}

# Kills per phase on each database in the CI test (67), plus the short phases killed at every one of
# their steps (7 for the restore of a file, 5 for a row, 7 for one card of two, 7 each for the
# restores of a card over markup put back, whole and of one embed): 100 per database, 200 in all.
PLAN = {
    "scan": 6,
    "fetch": 6,
    "check1": 3,
    "check3": 3,
    "rewrite": 11,
    "rewrite-back": 8,
    "daemon": 3,
    "approve-bulk": 6,
    "approve-one": 3,
    "putback": 5,
    "putback-card": 5,
    "putback-undo": 3,
    "gc": 5,
}
EXHAUSTIVE = ("restore", "restore-sql", "restore-embed", "putback-restore", "putback-restore-embed")
KILLS_PER_TRIAL = 5

# The daemon starts from the world before the third check (the one that finds posts broken) and must
# leave what `check3` then `rewrite` leave. Each restart after a kill comes later on the pinned clock
# than the dead daemon's leases last (`daemon.lease`), as it would in real life.
DAEMON_FROM, DAEMON_REACHES = "check3", "rewrite"
DAEMON_RESTART_GAP = timedelta(minutes=3)
DAEMON_ENV = {
    **{
        f"ARCHIVER_DAEMON__{job.upper()}": "every 1m" for job in ("scan", "capture", "check", "rewrite", "gc")
    },
    "ARCHIVER_DAEMON__LEASE": "1m",
    "ARCHIVER_DAEMON__HTTP_PORT": "0",
}


# --- databases ---------------------------------------------------------------------------------------


class Database:
    """The archive's database of a harness: a SQLite file in the live world, or a PostgreSQL database;
    templates of it saved and restored by name."""

    def __init__(self, kind: str, live_root: Path, saved_root: Path) -> None:
        self.kind = kind
        self.live_root = live_root
        self.saved_root = saved_root
        self.prefix = f"crash_{uuid.uuid4().hex[:10]}"
        self.server = os.environ.get(POSTGRES_URL_ENV, "").strip() if kind == "postgresql" else ""
        self.saved: set[str] = set()
        self.sequences: dict[str, list[tuple[str, int]]] = {}

    @property
    def url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.live_root / 'archive.db'}"
        return make_url(self.server).set(database=f"{self.prefix}_live").render_as_string(hide_password=False)

    @contextmanager
    def _admin(self) -> Iterator[Any]:
        engine = create_engine(self.server, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()

    def create(self) -> None:
        if self.kind == "postgresql":
            with self._admin() as admin:
                admin.exec_driver_sql(f'CREATE DATABASE "{self.prefix}_live"')
        db.upgrade(self.url)

    def save(self, name: str) -> None:
        """Keep the live database as template `name` (the files are saved by the caller). On PostgreSQL a
        copy of every table in a schema of its own and the sequences' values: putting them back is much
        faster than a CREATE DATABASE from a template."""
        self.saved.add(name)
        if self.kind != "postgresql":
            return
        schema = f"saved_{name}".replace("-", "_")
        with self.engine() as engine, engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            for table in self._tables(connection):
                connection.exec_driver_sql(f'CREATE TABLE "{schema}"."{table}" AS TABLE public."{table}"')
            self.sequences[name] = [
                (str(seq), int(value))
                for seq, value in connection.exec_driver_sql(
                    "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
                    " AND last_value IS NOT NULL"
                )
            ]

    def load(self, name: str) -> None:
        """Make the live database template `name` again."""
        if self.kind != "postgresql":
            return
        schema = f"saved_{name}".replace("-", "_")
        with self.engine() as engine, engine.begin() as connection:
            tables = self._tables(connection)
            # The tallies' triggers (migration 0014) would count the copy's rows on top of the saved
            # tallies: off while the rows are put back (the saved tallies hold the counts).
            for table in tables:
                connection.exec_driver_sql(f'ALTER TABLE public."{table}" DISABLE TRIGGER USER')
            for table in reversed(tables):  # DELETE: no new files to sync, unlike TRUNCATE
                connection.exec_driver_sql(f'DELETE FROM public."{table}"')
            for table in tables:
                connection.exec_driver_sql(f'INSERT INTO public."{table}" SELECT * FROM "{schema}"."{table}"')
            for table in tables:
                connection.exec_driver_sql(f'ALTER TABLE public."{table}" ENABLE TRIGGER USER')
            for sequence, value in self.sequences.get(name, []):
                connection.exec_driver_sql(f"SELECT setval('public.\"{sequence}\"', {value})")

    @staticmethod
    def _tables(connection: Any) -> list[str]:
        """The archive's tables, parents before children, and Alembic's."""
        return [table.name for table in Base.metadata.sorted_tables] + ["alembic_version"]

    def drop(self) -> None:
        if self.kind != "postgresql":
            return
        with self._admin() as admin:
            admin.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.prefix}_live" WITH (FORCE)')

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        engine = db.make_engine(self.url)
        try:
            yield engine
        finally:
            engine.dispose()

    def integrity_problems(self) -> list[str]:
        """What the database's own checks say is wrong (nothing when all is well)."""
        problems: list[str] = []
        if self.kind == "sqlite":
            connection = sqlite3.connect(self.live_root / "archive.db")
            try:
                result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
                if result != ["ok"]:
                    problems.append(f"integrity_check: {result[:5]}")
                broken = list(connection.execute("PRAGMA foreign_key_check"))
                if broken:
                    problems.append(f"foreign_key_check: {broken[:5]}")
            finally:
                connection.close()
            return problems
        with self.engine() as engine, engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                connection.execute(select(func.count()).select_from(table)).scalar()
            # The dashboard's tallies are written by triggers in the writer's own transaction: a kill
            # at any point leaves them equal to the rows they count.
            kept = dict(
                connection.exec_driver_sql(
                    "SELECT name, sum(n) FROM tallies GROUP BY name HAVING sum(n) <> 0"
                ).all()
            )
            counted = {
                name: n
                for name, n in connection.exec_driver_sql(
                    "SELECT 'articles', count(*) FROM articles UNION ALL SELECT 'snapshots', count(*) "
                    "FROM snapshots UNION ALL SELECT 'embeds:' || provider || ':' || state, count(*) "
                    "FROM embeds GROUP BY provider, state"
                )
                if n
            }
            if kept != counted:
                problems.append(f"tallies {sorted(kept.items())} != counts {sorted(counted.items())}")
        return problems


# --- the fork server ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    code: int | None
    signal: int | None
    steps: int
    seconds: float
    timeout: bool
    output: str

    @property
    def killed(self) -> bool:
        return self.signal == 9


class Zygote:
    """The fork server process (`crash_zygote.py`): each command runs in a forked child of it."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, str(ZYGOTE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, env=env
        )
        self.buffer = b""
        ready = self._read()
        assert ready is not None and ready.get("ready"), ready

    def _read(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next line of the fork server, or None when none came within `timeout` seconds."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            readable, _, _ = wait_readable([fd], [], [], left)
            if not readable:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"the fork server ended (code {self.process.poll()})")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return dict(json.loads(line))

    def _write(self, data: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(data).encode() + b"\n")

    def start(self, request: dict[str, Any]) -> int:
        self._write(request)
        reply = self._read()
        assert reply is not None
        return int(reply["pid"])

    def signal(self, signum: int) -> None:
        self._write({"signal": signum})

    def finish(self, out: Path, timeout: float | None = None) -> RunResult | None:
        """How the running child ended; None if it is still running after `timeout` seconds."""
        reply = self._read(timeout)
        if reply is None:
            return None
        output = out.read_text(encoding="utf-8", errors="replace") if out.exists() else ""
        return RunResult(
            reply["code"], reply["signal"], reply["steps"], reply["seconds"], reply["timeout"], output
        )

    def run(self, request: dict[str, Any]) -> RunResult:
        self.start(request)
        result = self.finish(Path(request["out"]))
        assert result is not None
        return result

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


# --- what a world holds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a phase leaves behind, in the terms a user would check."""

    articles: dict[str, str]  # "source:key" -> sha256 of the article's bytes now
    stored: dict[str, str | None]  # "source:key" -> the sha256 the archive last scanned
    occurrences: tuple[tuple[str, str | None], ...]  # ("source:key", post id), sorted
    embeds: dict[str, str]  # post id -> state
    snapshots: dict[str, tuple[str, ...]]  # post id -> content hashes of its versions
    media: frozenset[str]
    journal: dict[str, str]  # "source:key post" -> state of its latest journal row

    def differences(self, other: Outcome) -> list[str]:
        found = []
        for name in ("articles", "stored", "occurrences", "embeds", "snapshots", "media", "journal"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine == theirs:
                continue
            if isinstance(mine, dict):
                keys = sorted(set(mine) | set(theirs))
                diff = [
                    f"{k}: {mine.get(k)} != {theirs.get(k)}" for k in keys if mine.get(k) != theirs.get(k)
                ]
                found.append(f"{name}: " + "; ".join(diff[:6]))
            else:
                found.append(f"{name}: {sorted(set(mine) ^ set(theirs), key=str)[:6]}")
        return found


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Failure:
    """An invariant broken after a kill (or after the final run)."""

    phase: str
    seed: int
    when: str
    problems: list[str]

    def __str__(self) -> str:
        return f"phase {self.phase} seed {self.seed} {self.when}: " + " | ".join(self.problems)


@dataclass
class TrialReport:
    phase: str
    seed: int
    kills: int = 0
    runs: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)


class Harness:
    """A world on one kind of database, its reference run, and trials that kill phases of it."""

    def __init__(self, base: Path, kind: str, server: FakeServer) -> None:
        self.base = base
        self.live = base / "live"
        self.saved = base / "saved"
        self.kind = kind
        self.tube = FakeTube(server)
        self.server = server
        self.database = Database(kind, self.live, self.saved)
        self.zygote = Zygote()
        self.reference: dict[str, Outcome] = {}
        self.before: dict[str, Outcome] = {}
        self.steps: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.args: dict[str, list[str]] = {}
        self.blobs: dict[str, frozenset[str]] = {}  # the media store's files each phase left

    # --- setting up

    def prepare(self) -> None:
        """Build the world and run every phase once, unkilled, saving templates and outcomes."""
        self.live.mkdir(parents=True)
        self.saved.mkdir(parents=True)
        build_world(self.live, self.server.url)
        self.database.create()
        bases = {phase.base for phase in PHASES if phase.base is not None}
        for phase in PHASES:
            if phase.base is not None:
                self.load(phase.base)
            for step in phase.setup:
                self._set_up(phase.name, step)
            self._save(phase.name)
            self.before[phase.name] = self.outcome()
            result = self.run(phase)
            assert result.code in (0, 1) and not result.killed, (phase.name, result.output[-2000:])
            self.steps[phase.name] = result.steps
            self.seconds[phase.name] = result.seconds
            if phase.settles_in_two_runs:
                again = self.run(phase)
                assert again.code in (0, 1) and not again.killed, (phase.name, again.output[-2000:])
            self.reference[phase.name] = self.outcome()
            self.blobs[phase.name] = blob_files(self.live)
            if phase.name == "scan":
                self._resolve_args()
            if f"end-{phase.name}" in bases:
                self._save(f"end-{phase.name}")
        self.load(DAEMON_FROM)
        result, done = self.run_daemon(0)
        assert done and result.code == 0, ("daemon", result)
        self.steps["daemon"], self.seconds["daemon"] = result.steps, result.seconds

    def _set_up(self, phase_name: str, step: Step) -> None:
        if step.seed is not None:
            self.args.update(step.seed(self.live, self.database.url, step.now))
            return
        result = self.run(Phase(f"setup of {phase_name}", step.argv, step.now, step.gone))
        assert result.code in (0, 1) and not result.killed, (phase_name, step.argv, result.output[-2000:])

    def _resolve_args(self) -> None:
        with self.database.engine() as engine, engine.connect() as connection:
            row_id = connection.execute(
                select(Article.id).join(Source).where(Source.name == "cms", Article.key == "2")
            ).scalar_one()
        self.args.update(file=[str(self.live / FIRST_FILE)], row=[str(row_id)])

    def _save(self, name: str) -> None:
        target = self.saved / name
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(self.live, target)
        self.database.save(name)

    def load(self, name: str) -> None:
        """Make the live world phase `name`'s template again."""
        shutil.rmtree(self.live)
        shutil.copytree(self.saved / name, self.live)
        self.database.load(name)

    def close(self) -> None:
        self.zygote.close()
        self.database.drop()

    # --- running

    def request(
        self, phase: Phase, kill_at: int | None = None, kill_after: float | None = None
    ) -> dict[str, Any]:
        # "{name}" is an argument a seed (or the scan) found; a list of them is spread.
        argv = [a for arg in phase.argv for a in (self.args[arg[1:-1]] if arg.startswith("{") else [arg])]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "ARCHIVER_NOW": phase.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ARCHIVER_DATABASE__URL": self.database.url,
            "USER": "crash-test",
        }
        return {
            "argv": ["--config", str(self.live / "archiver.toml"), "--no-progress", *argv],
            "env": env,
            "cwd": str(self.live),
            "out": str(self.base / "run.log"),
            "kill_at": kill_at,
            "kill_after": kill_after,
            "timeout": 120,
        }

    def run(self, phase: Phase, kill_at: int | None = None, kill_after: float | None = None) -> RunResult:
        self.tube.gone = phase.gone
        out = self.base / "run.log"
        out.unlink(missing_ok=True)
        return self.zygote.run(self.request(phase, kill_at, kill_after))

    # --- trials

    def trial(self, phase_name: str, seed: int, kills: int = 5) -> TrialReport:
        """From phase `phase_name`'s template: runs killed at a seeded step (or, one time in four, after a
        seeded delay), the invariants after each kill, and each following run picks up what the last
        one left. A run that ends by itself is compared with the reference, and the chain starts again
        from the template; after the last kill, a run to the end is compared with the reference."""
        phase = PHASE[phase_name]
        rng = random.Random(f"{self.kind}:{phase_name}:{seed}")
        report = TrialReport(phase_name, seed)
        started = time.monotonic()
        self.load(phase_name)
        total = max(self.steps[phase_name], 1)
        attempts = 0
        while report.kills < kills and attempts < kills * 3 and not report.failures:
            attempts += 1
            if rng.random() < 0.25:
                result = self.run(phase, kill_after=rng.uniform(0.0, self.seconds[phase_name]))
            else:
                result = self.run(phase, kill_at=rng.randint(1, total))
            report.runs += 1
            if result.killed:
                report.kills += 1
                problems = self.check_after_kill(phase_name)
                when = f"after kill {report.kills}"
            else:
                problems = self._finished(result, phase_name)
                when = f"after run {report.runs}, which ended by itself"
                self.load(phase_name)
            if problems:
                report.failures.append(Failure(phase_name, seed, when, problems))
        if not report.failures:
            result = self.run(phase)
            report.runs += 1
            problems = self._finished(result, phase_name)
            if problems:
                report.failures.append(Failure(phase_name, seed, "after the final run", problems))
        report.seconds = time.monotonic() - started
        return report

    def _finished(self, result: RunResult, phase_name: str, reaches: str | None = None) -> list[str]:
        if result.timeout or result.code not in (0, 1):
            return [f"the run ended badly: {result}"]
        if PHASE[phase_name].settles_in_two_runs:
            problems = self.check_settled(phase_name, reaches, outcome=False)
            result = self.run(PHASE[phase_name])
            if result.timeout or result.code not in (0, 1):
                return [*problems, f"the run after it ended badly: {result}"]
            return problems + self.check_settled(phase_name, reaches)
        return self.check_settled(phase_name, reaches)

    def exhaustive(self, phase_name: str) -> TrialReport:
        """Phase `phase_name` killed at each of its steps in turn, each kill followed by the invariants
        and a run to the end compared with the reference (for the short phases)."""
        phase = PHASE[phase_name]
        report = TrialReport(phase_name, -1)
        started = time.monotonic()
        for step in range(1, self.steps[phase_name] + 1):
            self.load(phase_name)
            result = self.run(phase, kill_at=step)
            report.runs += 1
            if not result.killed:
                continue
            report.kills += 1
            problems = self.check_after_kill(phase_name)
            if not problems:
                report.runs += 1
                problems = self._finished(self.run(phase), phase_name)
            if problems:
                report.failures.append(Failure(phase_name, step, f"killed at step {step}", problems))
        report.seconds = time.monotonic() - started
        return report

    # --- the daemon

    def run_daemon(
        self, restart: int, kill_at: int | None = None, kill_after: float | None = None, limit: float = 120.0
    ) -> tuple[RunResult, bool]:
        """`archive daemon` from where the live world is, `restart` gaps later on the pinned clock, until
        it is killed, or until the world is what the reference reached (then it is stopped with SIGTERM);
        how it ended, and whether it reached the reference."""
        start = PHASE[DAEMON_FROM]
        phase = Phase("daemon", ("daemon",), start.now + restart * DAEMON_RESTART_GAP, start.gone)
        self.tube.gone = phase.gone
        request = self.request(phase, kill_at, kill_after)
        request["env"].update(DAEMON_ENV)
        out = Path(request["out"])
        out.unlink(missing_ok=True)
        self.zygote.start(request)
        deadline = time.monotonic() + limit
        while True:
            result = self.zygote.finish(out, timeout=0.3)
            if result is not None:
                return result, False
            if self._reached(DAEMON_REACHES):
                self.zygote.signal(signal.SIGTERM)
                result = self.zygote.finish(out)
                assert result is not None
                return result, True
            if time.monotonic() > deadline:
                self.zygote.signal(signal.SIGKILL)
                result = self.zygote.finish(out)
                assert result is not None
                return result, False

    def _reached(self, phase_name: str) -> bool:
        """Whether the live world is phase `phase_name`'s reference: the applied journal rows counted
        first (one query), the whole outcome only when they agree."""
        wanted = sum(1 for state in self.reference[phase_name].journal.values() if state == "applied")
        with self.database.engine() as engine, engine.connect() as connection:
            applied = connection.execute(
                select(func.count()).select_from(Rewrite).where(Rewrite.state == "applied")
            ).scalar_one()
        return applied == wanted and not self.outcome().differences(self.reference[phase_name])

    def daemon_trial(self, seed: int, kills: int = 3) -> TrialReport:
        """The daemon killed at seeded steps (or after seeded delays) and started again, the invariants
        after each kill, until a daemon reaches the reference; as `trial` does for commands."""
        rng = random.Random(f"{self.kind}:daemon:{seed}")
        report = TrialReport("daemon", seed)
        started = time.monotonic()
        self.load(DAEMON_FROM)
        restart = 0
        attempts = 0
        while report.kills < kills and attempts < kills * 3 and not report.failures:
            attempts += 1
            if rng.random() < 0.25:
                result, done = self.run_daemon(restart, kill_after=rng.uniform(0.5, self.seconds["daemon"]))
            else:
                result, done = self.run_daemon(restart, kill_at=rng.randint(1, max(self.steps["daemon"], 1)))
            report.runs += 1
            restart += 1
            if result.killed:  # at its kill step, possibly while it stopped after reaching the reference
                report.kills += 1
                problems = self.check_after_kill(DAEMON_FROM)
                when = f"after kill {report.kills}"
            elif done:
                problems = self._finished(result, DAEMON_FROM, DAEMON_REACHES)
                when = f"after run {report.runs}, which reached the reference"
                self.load(DAEMON_FROM)
                restart = 0
            else:
                problems = [f"the daemon neither got killed nor reached the reference: {result}"]
                when = f"run {report.runs}"
            if problems:
                report.failures.append(Failure("daemon", seed, when, problems))
        if not report.failures:
            result, done = self.run_daemon(restart)
            report.runs += 1
            problems = self._finished(result, DAEMON_FROM, DAEMON_REACHES) if done else []
            if not done:
                problems = [f"a daemon started after the kills did not finish the work: {result}"]
                problems += self.outcome().differences(self.reference[DAEMON_REACHES])
            if problems:
                report.failures.append(Failure("daemon", seed, "after the final run", problems))
        report.seconds = time.monotonic() - started
        return report

    # --- invariants

    def outcome(self) -> Outcome:
        articles = {f"site:{p}": sha(p.read_bytes()) for p in self._article_files()}
        articles |= {f"cms:{key}": sha(body) for key, body in self._rows().items()}
        with self.database.engine() as engine, engine.connect() as connection:
            keys = {
                article_id: f"{source}:{key}"
                for article_id, source, key in connection.execute(
                    select(Article.id, Source.name, Article.key).join(Source)
                )
            }
            stored = {
                keys[article_id]: digest
                for article_id, digest in connection.execute(select(Article.id, Article.content_sha256))
            }
            posts = dict(connection.execute(select(Embed.id, Embed.post_id)).all())
            occurrences = tuple(
                sorted(
                    (keys[article_id], posts.get(embed_id) if embed_id is not None else None)
                    for article_id, embed_id in connection.execute(
                        select(Occurrence.article_id, Occurrence.embed_id)
                    )
                )
            )
            embeds = dict(connection.execute(select(Embed.post_id, Embed.state)).all())
            snapshots: dict[str, list[str]] = {}
            for embed_id, content in connection.execute(
                select(Snapshot.embed_id, Snapshot.content_sha256).order_by(Snapshot.version)
            ):
                snapshots.setdefault(posts[embed_id], []).append(content)
            media = frozenset(connection.execute(select(Media.sha256)).scalars())
            journal = {}
            for article_id, post, state in connection.execute(
                select(Rewrite.article_id, Rewrite.post_id, Rewrite.state).order_by(Rewrite.id)
            ):
                journal[f"{keys[article_id]} {post}"] = state
        return Outcome(
            articles,
            stored,
            occurrences,
            embeds,
            {post: tuple(found) for post, found in snapshots.items()},
            media,
            journal,
        )

    def _article_files(self) -> list[Path]:
        return sorted((self.live / "articles").glob("*.html"))

    def _rows(self) -> dict[str, bytes]:
        connection = sqlite3.connect(self.live / "cms.db")
        try:
            return {
                str(key): body.encode("utf-8")
                for key, body in connection.execute("SELECT id, body FROM posts")
            }
        finally:
            connection.close()

    def _current(self) -> dict[str, bytes]:
        """The bytes of every article now, by "source:key"."""
        found = {f"site:{p}": p.read_bytes() for p in self._article_files()}
        found |= {f"cms:{key}": body for key, body in self._rows().items()}
        return found

    def journal_rows(self) -> list[tuple[str, Rewrite]]:
        with self.database.engine() as engine, engine.connect() as connection:
            keys = {
                article_id: f"{source}:{key}"
                for article_id, source, key in connection.execute(
                    select(Article.id, Source.name, Article.key).join(Source)
                )
            }
            rows = []
            for row in connection.execute(select(Rewrite).order_by(Rewrite.id)):
                rows.append((keys[row.article_id], row))
        return rows

    def database_execute(self, statement: str) -> None:
        """Run one SQL statement on the live database (the tests damage the world with it)."""
        with self.database.engine() as engine, engine.begin() as connection:
            connection.execute(text(statement))

    def check_after_kill(self, phase_name: str) -> list[str]:
        """The invariants that hold at any moment, whatever was killed where."""
        problems = self.database.integrity_problems()
        problems += self._media_problems()
        current = self._current()
        rows = self.journal_rows()
        start = self.before[phase_name].articles
        allowed: dict[str, set[str]] = {key: {digest} for key, digest in start.items()}
        for key, row in rows:
            allowed.setdefault(key, set()).update(
                h
                for h in (
                    row.article_sha256_before,
                    row.article_sha256_after,
                    row.restore_sha256_before,
                    row.restore_sha256_after,
                )
                if h
            )
        for key, data in current.items():
            if sha(data) not in allowed.get(key, set()):
                problems.append(f"{key}: bytes are neither its old ones nor any the journal recorded")
        problems += self._journal_problems(current, rows, settled=False)
        problems += self._embed_problems()
        return problems

    def _embed_problems(self) -> list[str]:
        """A captured embed never reads as uncaptured: state `new` means no snapshot yet."""
        with self.database.engine() as engine, engine.connect() as connection:
            captured_new = list(
                connection.execute(
                    select(Embed.post_id)
                    .where(Embed.state == "new")
                    .where(select(Snapshot.id).where(Snapshot.embed_id == Embed.id).exists())
                ).scalars()
            )
        return [f"captured embeds left `new`: {sorted(captured_new)[:6]}"] if captured_new else []

    def check_settled(
        self, phase_name: str, reaches: str | None = None, *, outcome: bool = True
    ) -> list[str]:
        """After a run to the end of phase `phase_name`: the invariants, nothing left half done, and the
        outcome of the reference (of phase `reaches`, when another phase's outcome is expected; with
        `outcome` false, all but the outcome)."""
        problems = self.check_after_kill(phase_name)
        current = self._current()
        problems += self._journal_problems(current, self.journal_rows(), settled=True)
        temps = sorted(p.name for p in (self.live / "articles").glob(f"*{TEMP_SUFFIX}"))
        if temps:
            problems.append(f"temporary files left next to the articles: {temps}")
        if not outcome:
            return problems
        problems += [
            f"outcome differs from the reference: {d}"
            for d in self.outcome().differences(self.reference[reaches or phase_name])
        ]
        if phase_name == "gc":  # the collector's own outcome: the files it leaves
            left = blob_files(self.live) ^ self.blobs[phase_name]
            if left:
                problems.append(f"media files differ from the reference: {sorted(left)[:6]}")
        return problems

    def _journal_problems(
        self, current: dict[str, bytes], rows: list[tuple[str, Rewrite]], *, settled: bool
    ) -> list[str]:
        problems = []
        unsettled = {key for key, row in rows if row.state in ("applying", "restoring")}
        covered = _covered(rows)
        for key, row in rows:
            data = current.get(key)
            if data is None:
                problems.append(f"{key}: journal row {row.id} for an article that is not there")
                continue
            card = row.replacement_bytes or b""
            label = f"{key} row {row.id} ({row.post_id}, {row.state})"
            if settled and row.state in ("applying", "restoring"):
                problems.append(f"{label}: left {row.state} after a full run")
            if row.state == "applied" and row.id in covered:
                pass  # written over by a later row (a card over markup put back): that row says where
            elif row.state == "applied":
                if card not in data:
                    problems.append(f"{label}: applied, but its card is not in the article")
                elif key not in unsettled and data[row.card_start : row.card_start + len(card)] != card:
                    problems.append(f"{label}: applied, but its card is not at {row.card_start}")
            elif row.state == "restored" and card and card in data:
                problems.append(f"{label}: restored, but its card is still in the article")
            elif row.state == "applying" and sha(data) not in (
                row.article_sha256_before,
                row.article_sha256_after,
            ):
                problems.append(f"{label}: applying, and the article is neither its before nor its after")
            elif row.state == "restoring" and sha(data) not in (
                row.restore_sha256_before,
                row.restore_sha256_after,
            ):
                problems.append(f"{label}: restoring, and the article is neither its before nor its after")
        return problems

    def _media_problems(self) -> list[str]:
        problems = []
        media_dir = self.live / "media"
        with self.database.engine() as engine, engine.connect() as connection:
            names = list(connection.execute(select(Media.sha256)).scalars())
        for name in names:
            path = media_dir / name[:2] / name[2:4] / name
            if not path.is_file():
                problems.append(f"media row {name[:12]} names a file that is not there")
            elif sha(path.read_bytes()) != name:
                problems.append(f"media file {name[:12]} is damaged")
        for path in media_dir.glob("*/*/*"):
            if len(path.name) == 64 and sha(path.read_bytes()) != path.name:
                problems.append(f"media file {path.name[:12]} is damaged")
        return problems


def _covered(rows: list[tuple[str, Rewrite]]) -> set[int]:
    """Ids of applied rows whose bytes a later row of the same article replaced, as the restore's layers
    read them (`restore._covers`): markup put back, then the card of its post when it broke."""
    covering = ("applied", "applying", "restoring")
    return {
        row.id
        for key, row in rows
        if row.state == "applied"
        and row.replacement_bytes
        and any(
            other_key == key
            and other.id > row.id
            and other.state in covering
            and row.replacement_bytes in other.original_bytes
            for other_key, other in rows
        )
    }


def postgres_available() -> bool:
    return bool(os.environ.get(POSTGRES_URL_ENV, "").strip())


def kill_phase(harness: Harness, phase: str, kills: int, first_seed: int = 0) -> list[TrialReport]:
    """Trials of `phase` (or of the daemon) with seeds from `first_seed` on, until `kills` kills were
    made or one trial failed."""
    reports: list[TrialReport] = []
    seed = first_seed
    while sum(r.kills for r in reports) < kills and seed < first_seed + kills * 2:
        left = kills - sum(r.kills for r in reports)
        if phase == "daemon":
            reports.append(harness.daemon_trial(seed, kills=min(3, left)))
        else:
            reports.append(harness.trial(phase, seed, kills=min(KILLS_PER_TRIAL, left)))
        if reports[-1].failures:
            break
        seed += 1
    return reports
