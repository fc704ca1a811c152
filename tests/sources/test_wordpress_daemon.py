"""The daemon's scan and rewrite jobs on a `wordpress` source (issue 16), against the real WordPress of
tests/sources/conftest.py, the jobs run in this process as the scheduler would run them: the scan lists
the site incrementally from its stored cursor, the rewrite job writes cards through the REST API (a new
WordPress revision), and a daemon stopped in the middle of a listing leaves the cursor where it was.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from archiver.daemon import Daemon
from archiver.storage.models import Article, Source
from tests.support.wordpress_site import WordPressSite
from tests.support.wordpress_world import BLOCK, INSTAGRAM, World, world

pytestmark = pytest.mark.wordpress


def cursor(w: World) -> str | None:
    with w.app.sessions() as session:
        return session.scalars(select(Source.scan_cursor).where(Source.name == "blog")).one_or_none()


def logged(caplog: pytest.LogCaptureFixture, message: str) -> dict[str, str]:
    """article -> status of the daemon's log lines with `message`."""
    return {
        str(getattr(r, "article", "")): str(getattr(r, "status", ""))
        for r in caplog.records
        if r.getMessage() == message
    }


def test_the_daemons_scan_and_rewrite_jobs_read_and_write_a_wordpress_site(
    site: WordPressSite, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    post = site.create_post(BLOCK, title="Daemon")
    key = f"wordpress:blog#{post}"
    with world(tmp_path, site) as w, caplog.at_level(logging.DEBUG, logger="archiver.daemon"):
        daemon = Daemon(w.app, "me")
        daemon._job("scan", daemon._scan)
        scan = daemon.jobs["scan"]
        assert scan.last_result == "ok", scan.last_result
        assert logged(caplog, "article scanned")[key] == "new"
        assert scan.last_summary["new"] == scan.last_summary["articles"] >= 1
        with w.app.sessions() as session:
            article = session.scalars(select(Article).where(Article.key == key)).one()
            assert article.url == site.permalink(post) and len(article.occurrences) == 3
        assert cursor(w) is not None

        w.capture()
        w.break_everything()  # four simulated days: every job is due again
        revisions = site.revisions(post)
        caplog.clear()
        daemon._job("rewrite", daemon._rewrite)
        rewrite = daemon.jobs["rewrite"]
        assert rewrite.last_result == "ok", rewrite.last_result
        assert key in logged(caplog, "article rewrite applied")
        assert rewrite.last_summary["applied"] >= 1
        rewritten = site.content_raw(post)
        assert rewritten.count("data-archiver-embed=") == 3
        assert site.revisions(post) > revisions  # written through the REST API: a WordPress revision
        assert rewritten.count("<!-- wp:paragraph") == BLOCK.count("<!-- wp:paragraph")

        # Incremental: nothing saved since the cursor (every post aged a day), nothing listed; then an
        # editor's save, and that post alone is listed.
        site.age_posts()
        w.clock.advance(timedelta(minutes=20))
        daemon._job("scan", daemon._scan)
        assert scan.last_result == "ok" and scan.last_summary["articles"] == 0, scan.last_summary
        site.edit_post(post, rewritten.replace("Block post", "Block post, edited"))
        w.clock.advance(timedelta(minutes=20))
        caplog.clear()
        daemon._job("scan", daemon._scan)
        assert scan.last_summary["articles"] == 1, scan.last_summary
        assert logged(caplog, "article scanned") == {key: "changed"}


class _StopAfterFirstArticle(logging.Handler):
    def __init__(self, daemon: Daemon) -> None:
        super().__init__()
        self.daemon = daemon

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "article scanned":
            self.daemon.stop.set()


def test_a_daemon_stopped_in_the_middle_of_a_listing_leaves_the_cursor_where_it_was(
    site: WordPressSite, tmp_path: Path
) -> None:
    for n in range(2):
        site.create_post(f"<p>Stopped {n}.</p>\n\n{INSTAGRAM}\n", title=f"Stopped {n}")
    with world(tmp_path, site) as w:
        daemon = Daemon(w.app, "me")
        stopper = _StopAfterFirstArticle(daemon)
        log = logging.getLogger("archiver.daemon")
        log.addHandler(stopper)
        level = log.level
        log.setLevel(logging.INFO)
        try:
            daemon._job("scan", daemon._scan)
        finally:
            log.removeHandler(stopper)
            log.setLevel(level)
        assert daemon.jobs["scan"].last_result == "stopped"
        assert daemon.jobs["scan"].last_summary["articles"] == 1
        assert cursor(w) is None  # the next scan lists every post again: none is missed
