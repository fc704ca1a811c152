"""`archive scan --workers N`: files read and scanned in N processes give what one process gives."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pytest
from sqlalchemy import select
from support.archive_cli import run_archive

from archiver.config import ScanSettings
from archiver.errors import ScanPoolError
from archiver.pipeline.scan import articles as article_stage
from archiver.providers import PROVIDERS
from archiver.storage.models import Article, Occurrence
from tests.support.corpus_scoring import CORPUS, available
from tests.support.rewrite_world import World, make_world

pytestmark = pytest.mark.skipif(not available(), reason="shared corpus not present")

# More files than the batches a pool keeps in flight, so results arrive while others are scanned.
FILES = 200


def corpus_pages() -> list[Path]:
    return sorted((CORPUS / "pages").glob("*.html"))


def add_bad_files(folder: Path) -> None:
    """A binary file and one over the size limit: each must be one error line, in its place."""
    (folder / "0100-binary.html").write_bytes(b"\x00\x01\x02PNG" * 500)
    (folder / "0150-huge.html").write_bytes(b"<p>" + b"x" * 3_000_000 + b"</p>")


def scan(world: World, workers: int, *, dry_run: bool = False) -> list[article_stage.ArticleReport]:
    targets = article_stage.resolve_targets(["site"], world.settings.sources)
    settings = ScanSettings(max_article_bytes=2_000_000)
    return article_stage.scan_targets(
        targets,
        settings,
        PROVIDERS,
        sessions=None if dry_run else world.sessions,
        clock=world.clock,
        workers=workers,
    )


def stored(world: World) -> list[tuple[object, ...]]:
    """Every article (by file name) with its scan error and occurrences, as the database holds them."""
    with world.sessions() as session:
        articles = [
            (
                Path(a.key).name,
                a.content_sha256,
                a.size_bytes,
                (a.scan_error or "").replace(str(world.root), ""),
            )
            for a in session.scalars(select(Article))
        ]
        found = session.execute(
            select(
                Article.key,
                Occurrence.provider,
                Occurrence.markup,
                Occurrence.span_start,
                Occurrence.span_end,
            ).join(Occurrence, Occurrence.article_id == Article.id)
        ).all()
    occurrences = [(Path(key).name, *rest) for key, *rest in found]
    return sorted(articles, key=repr) + sorted(occurrences, key=repr)


def test_a_dry_run_with_two_workers_reports_exactly_what_one_process_does(tmp_path: Path) -> None:
    world = make_world(tmp_path, corpus_pages(), count=FILES)
    add_bad_files(world.articles)
    one = scan(world, 1, dry_run=True)
    two = scan(world, 2, dry_run=True)
    assert len(one) == FILES + 2
    assert two == one  # same articles, same order, same embeds and spans, same error lines
    errors = [report for report in two if report.error]
    assert [Path(r.article).name for r in errors] == ["0100-binary.html", "0150-huge.html"]
    assert all("\n" not in (r.error or "") for r in errors)
    world.close()


def test_a_stored_scan_with_workers_stores_what_one_process_stores_and_skips_unchanged_files(
    tmp_path: Path, db_url: str
) -> None:
    serial = make_world(tmp_path / "serial", corpus_pages(), count=FILES)
    pooled = make_world(tmp_path / "pooled", corpus_pages(), count=FILES, database_url=db_url)
    for world in (serial, pooled):
        add_bad_files(world.articles)
    reports = scan(pooled, 2)
    assert [r.status.value for r in reports] == [r.status.value for r in scan(serial, 1)]
    assert {r.status.value for r in reports} == {"new", "error"}
    assert stored(pooled) == stored(serial)

    # Rescanned: every good article is unchanged (read and hashed, not scanned); one edited file is
    # scanned again, and the file that could not be read is tried again.
    edited = pooled.files()[7]
    edited.write_bytes(edited.read_bytes() + b"\n<!-- edited -->\n")
    again = {Path(r.article).name: r.status.value for r in scan(pooled, 2)}
    assert again.pop(edited.name) == "changed"
    assert again.pop("0100-binary.html") == again.pop("0150-huge.html") == "error"
    assert set(again.values()) == {"unchanged"}
    serial.close()
    pooled.close()


def test_a_dead_worker_is_one_line_and_what_was_stored_before_stays(tmp_path: Path) -> None:
    world = make_world(tmp_path, corpus_pages(), count=FILES)
    targets = article_stage.resolve_targets(["site"], world.settings.sources)
    seen: list[article_stage.ArticleReport] = []

    def kill_the_workers(report: article_stage.ArticleReport) -> None:
        seen.append(report)
        if len(seen) == 1:
            for child in multiprocessing.active_children():
                if child.pid is not None:
                    os.kill(child.pid, signal.SIGKILL)

    with pytest.raises(ScanPoolError) as caught:
        article_stage.scan_targets(
            targets,
            world.settings.scan,
            PROVIDERS,
            sessions=world.sessions,
            clock=world.clock,
            on_article=kill_the_workers,
            workers=2,
        )
    message = str(caught.value)
    assert "\n" not in message and "scan worker process died" in message and "--workers 1" in message
    assert 1 <= len(seen) < FILES
    with world.sessions() as session:
        keys = set(session.scalars(select(Article.key)))
    assert {report.article for report in seen} <= keys  # every article reported was stored
    # The next scan picks up where it stopped: what was stored is unchanged, the rest is new.
    statuses = [report.status.value for report in scan(world, 2)]
    assert statuses.count("unchanged") == len(keys) and statuses.count("new") == FILES - len(keys)
    world.close()


def test_archive_scan_workers_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(tmp_path, corpus_pages()[:12])
    monkeypatch.chdir(tmp_path)
    one = run_archive(
        monkeypatch, capsys, "--config", str(world.config), "scan", "site", "--dry-run", "--json"
    )
    two = run_archive(
        monkeypatch,
        capsys,
        "--config",
        str(world.config),
        "scan",
        "site",
        "--dry-run",
        "--json",
        "--workers",
        "2",
    )
    assert one.code == two.code == 0, one.err + two.err
    assert two.lines() == one.lines() and len(one.lines()) == 12
    refused = run_archive(
        monkeypatch, capsys, "--config", str(world.config), "scan", "site", "--workers", "0"
    )
    assert refused.code == 2 and "--workers" in refused.err
    world.close()
