"""The daemon's recover job (issue 15): spots looked up in web archives on its schedule, within each
archive's rate budget (shared through the database), what is left over finished by later runs, and
capture woken for the posts it finds. A fake archive on loopback serves the synthetic copies."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.archive_cli import Result, run_archive
from support.fake_server import Canned, FakeServer

import tests.support.recover_world as world
from archiver.app import App
from archiver.clock import FixedClock
from archiver.config import load_settings
from archiver.daemon import Daemon
from archiver.storage import queries

pytestmark = pytest.mark.skipif(not world.SEEDS.is_dir(), reason="no seed pages")

START = datetime(2030, 1, 1, tzinfo=UTC)
OLD = ("20201005081500", "Mon, 05 Oct 2020 08:15:00 GMT")


def serve_copies(server: FakeServer) -> None:
    """Each article's TimeMap with one memento, and its earlier copy (the quiet story never had an embed)."""
    pages = {
        world.DRIVING: world.earlier_driving(),
        world.TRAINING: world.earlier_training(),
        world.QUIET: world.QUIET_PAGE,
    }
    for name, body in pages.items():
        url = world.url_of(name)
        memento = f'<{server.url}/web/{OLD[0]}mp_/{url}>; rel="memento"; datetime="{OLD[1]}"'
        links = f'<{url}>; rel="original",\n{memento}'
        server.route(
            f"/web/timemap/link/{url}",
            Canned(200, {"Content-Type": "application/link-format"}, links.encode()),
        )
        server.route(
            f"/web/{OLD[0]}id_/{url}",
            Canned(200, {"Content-Type": "text/html; charset=utf-8", "Memento-Datetime": OLD[1]}, body),
        )


def test_the_recover_job_spends_each_archives_budget_and_later_runs_finish(
    fake_server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: Any,
    db_url: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARCHIVER_NOW", START.isoformat())

    def archive(*args: str) -> Result:
        return run_archive(monkeypatch, capsys, *args)

    world.write_articles(tmp_path / "articles")
    config = world.config(tmp_path / "articles", f"{fake_server.url}/web", database=db_url).replace(
        'rate = "600/m"', 'rate = "3/h"'
    )
    (tmp_path / "archiver.toml").write_text(config, encoding="utf-8")
    assert archive("scan", "site").code == 0
    serve_copies(fake_server)

    clock = FixedClock(START)
    app = App(load_settings(tmp_path / "archiver.toml", {}), clock, {})
    try:
        daemon = Daemon(app, "me")
        daemon.build()
        with caplog.at_level(logging.INFO, logger="archiver.daemon"):
            daemon._job("recover", daemon._recover)
        first = daemon.jobs["recover"].last_summary
        # 3 requests an hour: two articles' TimeMap and copy would take 4; the third request pairs one
        # spot, and the rest waits for the budget (nothing more is asked).
        assert len(fake_server.requests) == 3
        assert (first["spots"], first.get("paired"), first.get("pending")) == (3, 1, 2), first
        assert "capture" in daemon._woken  # the post it found is captured at once
        logged = [r for r in caplog.records if r.getMessage() == "spot paired"]
        assert [Path(r.article).stem for r in logged] == [world.DRIVING]  # type: ignore[attr-defined]

        daemon._job("recover", daemon._recover)  # the job's period (6h) is not over: skipped
        assert daemon.jobs["recover"].results["skipped"] == 1 and len(fake_server.requests) == 3

        clock.advance(timedelta(hours=6))
        daemon._job("recover", daemon._recover)
        second = daemon.jobs["recover"].last_summary
        # Settled spots are not looked up again; of the two pending ones the budget pairs one.
        assert (second["spots"], second.get("paired"), second.get("pending")) == (2, 1, 1), second
        assert len(fake_server.requests) == 6
        clock.advance(timedelta(hours=6))
        daemon._job("recover", daemon._recover)
        third = daemon.jobs["recover"].last_summary
        assert (third["spots"], third.get("unpaired")) == (1, 1), third
        with app.sessions() as session:
            states = {Path(a.key).stem: row.state for row, a in queries.recoveries(session)}
        assert states == {world.DRIVING: "paired", world.TRAINING: "paired", world.QUIET: "unpaired"}
    finally:
        app.close()
