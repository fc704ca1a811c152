"""kill -9 at random points during a rewrite of 100 articles: every article is wholly old or wholly new,
the journal and the files agree (after `recover`), and a rerun completes the job.

The rewrite runs in a subprocess (`tests/support/rewrite_world.py run ROOT`) that is killed with SIGKILL at a
random moment of its run; the seeds spread the moments over the whole run.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select

from archiver.pipeline import rewrite
from archiver.sources.store import TEMP_SUFFIX
from archiver.storage.models import Article, Rewrite
from tests.support.rewrite_world import HERE, World, break_everything, corpus_pages, make_world, scan

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not corpus_pages(), reason="shared/corpus/dev is not there"),
]
ARTICLES = 100


def journal(world: World) -> dict[str, list[Rewrite]]:
    """Rewrite rows by article file name."""
    with world.sessions() as session:
        keys = {article_id: key for article_id, key in session.execute(select(Article.id, Article.key))}
        found: dict[str, list[Rewrite]] = defaultdict(list)
        for row in session.scalars(select(Rewrite).order_by(Rewrite.id)):
            found[Path(keys[row.article_id]).name].append(row)
        session.expunge_all()
    return found


def run_killed(world: World, fraction: float) -> float:
    """Start the rewrite in a subprocess and SIGKILL it `fraction` of a full run's time after it is
    ready; returns how long it ran."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    process = subprocess.Popen(
        [sys.executable, str(HERE / "support" / "rewrite_world.py"), "run", str(world.root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"ready"
    started = time.monotonic()
    time.sleep(fraction * full_run_seconds())
    process.send_signal(signal.SIGKILL)
    _, errors = process.communicate(timeout=60)
    assert process.returncode in (-signal.SIGKILL, 0), errors.decode(errors="replace")
    return time.monotonic() - started


_FULL_RUN: list[float] = []


def full_run_seconds() -> float:
    """How long an unkilled run of 100 articles takes here (measured once)."""
    return _FULL_RUN[0] if _FULL_RUN else 2.0


@pytest.mark.parametrize("seed", [11, 23, 37, 41, 59, 73])
def test_kill_9_during_a_rewrite_of_100_articles(tmp_path: Path, seed: int) -> None:
    pages = [page for page in corpus_pages() if page.stat().st_size < 400_000]
    world = make_world(tmp_path, pages, count=ARTICLES, mode="apply")
    scan(world)
    break_everything(world)
    old = world.hashes()
    if not _FULL_RUN:
        # A measured unkilled run in a copy of the world calibrates the kill moments.
        clone = make_world(tmp_path / "clone", pages, count=ARTICLES, mode="apply")
        scan(clone)
        break_everything(clone)
        started = time.monotonic()
        rewrite.run(clone.sessions, clone.deps())
        _FULL_RUN.append(max(time.monotonic() - started, 0.2))
    fraction = random.Random(seed).uniform(0.05, 1.0)
    run_killed(world, fraction)

    # Wholly old or wholly new, before anything is repaired.
    rows = journal(world)
    for path in world.files():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        afters = {row.article_sha256_after for row in rows.get(path.name, []) if row.state != "refused"}
        assert digest == old[path.name] or digest in afters, path.name

    written = sum(
        1 for path in world.files() if hashlib.sha256(path.read_bytes()).hexdigest() != old[path.name]
    )
    report = rewrite.recover(world.sessions, world.deps())
    print(
        f"seed {seed}: killed after {fraction:.0%} of a run; {written} of {len(old)} articles new; "
        f"recover {report.to_json()}"
    )
    assert report.errors == [] and report.refused == []
    assert not list(world.articles.glob(f"*{TEMP_SUFFIX}"))
    rows = journal(world)
    for path in world.files():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        states = {row.state for row in rows.get(path.name, [])} - {"refused"}
        if digest == old[path.name]:
            assert states <= {"approved"}, (path.name, states)  # never written, or rolled back
        else:
            assert states == {"applied"}, (path.name, states)
            assert {row.article_sha256_after for row in rows[path.name] if row.state == "applied"} == {digest}

    # A rerun completes the job: every article with embeds rewritten, every row applied.
    rewrite.run(world.sessions, world.deps())
    rows = journal(world)
    assert rows and all(row.state in ("applied", "refused") for group in rows.values() for row in group)
    for path in world.files():
        applied = [row for row in rows.get(path.name, []) if row.state == "applied"]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert (digest != old[path.name]) == bool(applied), path.name
        if applied:
            assert {row.article_sha256_after for row in applied} == {digest}, path.name
    # And everything can still be undone, byte for byte.
    with world.sessions() as session:
        ids = sorted(session.scalars(select(Article.id)))
    for article_id in ids:
        assert rewrite.restore_article(world.sessions, world.deps(), article_id, by="test").error is None
    assert world.hashes() == old
