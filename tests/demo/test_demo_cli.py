"""`archive demo` end to end, as a user runs it: a subprocess in a fresh folder, with only loopback.

The demo must exit 0, leave an archive whose `archive status --json` shows captured, live and broken
embeds and rewrites both applied (the `apply` source) and planned (the `approve` source), have asked
nothing but its own replay server, refuse to run twice in one folder, and start over with --reset.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archiver.demo import MARKER

# The console script the install makes, as a user runs it.
ARCHIVE = Path(sys.executable).parent / "archive"
# The simulated week ends at this instant (whole hours), so every run is the same week.
NOW = "2026-05-04T12:00:00Z"


def archive(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    env["ARCHIVER_NOW"] = NOW
    return subprocess.run(
        [str(ARCHIVE), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One demo run in a fresh working directory (the default folder, ./archiver-demo)."""
    cwd = tmp_path_factory.mktemp("demo")
    return cwd, archive("demo", cwd=cwd)


def status(folder: Path) -> dict[str, object]:
    done = archive("--config", str(folder / "archiver.toml"), "status", "--json", cwd=folder.parent)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_demo_exits_0_and_tells_where_to_look(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    cwd, done = demo
    assert done.returncode == 0, done.stdout + done.stderr
    folder = cwd / "archiver-demo"
    assert (folder / "archiver.toml").is_file() and (folder / "archive.db").is_file()
    assert (folder / MARKER).is_file() and (folder / "SOURCES.md").is_file()
    assert "deleted: it answers 404 from now on" in done.stdout
    assert "live -> suspect" in done.stdout and "suspect -> broken" in done.stdout
    assert f"archive --config {folder / 'archiver.toml'} rewrite --pending" in done.stdout
    assert f"archive --config {folder / 'archiver.toml'} serve" in done.stdout
    # The editor login for the viewer: a password made for it, printed once, and a session secret.
    assert "Sign in to the viewer as editor, password " in done.stdout and "(shown this once)" in done.stdout
    assert (folder / "web-secret.key").stat().st_mode & 0o077 == 0
    assert "A rewritten article, to open in a browser: archiver-demo/articles/blog/podcast-picks.html" in (
        done.stdout
    )


def test_status_shows_captured_live_broken_and_rewrites_applied_and_planned(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    cwd, _ = demo
    counts = status(cwd / "archiver-demo")
    by_state = counts["by_state"]
    assert isinstance(by_state, dict)
    assert counts["snapshots"] == counts["embeds"] == 12  # every post was captured while alive
    assert by_state == {"broken": 3, "live": 8, "needs_review": 1}
    assert counts["by_provider"]["spotify"] == {"broken": 3, "live": 2}  # type: ignore[index]
    # A post made private (403) is ambiguous: it waits for review and is never called broken.
    assert counts["by_provider"]["youtube"] == {"live": 1, "needs_review": 1}  # type: ignore[index]
    assert counts["rewrites"] == {"applied": 2, "planned": 1}
    assert counts["residues"] == 1


def test_the_apply_source_was_rewritten_and_the_approve_source_waits(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    articles = demo[0] / "archiver-demo" / "articles"
    applied = (articles / "blog" / "podcast-picks.html").read_text(encoding="utf-8")
    assert applied.count('data-archiver-embed="spotify:') == 2
    assert 'data-versionurl="http://127.0.0.1:8080/embeds/spotify/6z1oAq0SxQ6jPUiLQMEDC6/v1"' in applied
    assert "open.spotify.com/embed/episode" not in applied  # the dead player is gone
    assert "player.vimeo.com/video/235352744" in applied  # live embeds are untouched
    waiting = (articles / "newsroom" / "music-week.html").read_text(encoding="utf-8")
    assert "archiver-fallback" not in waiting and "open.spotify.com/embed/album" in waiting


def test_nothing_but_the_replay_server_on_loopback_was_asked(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder = demo[0] / "archiver-demo"
    with sqlite3.connect(folder / "archive.db") as db:
        urls = [
            row[0] for row in db.execute("select json_extract(value, '$.url') from snapshots, json_each(raw)")
        ]
        media = db.execute("select count(*) from snapshot_media where media_id is not null").fetchone()[0]
    assert urls and {urlsplit(url).hostname for url in urls} == {"127.0.0.1"}
    assert media == 0  # media downloads are off: the recordings hold no image files
    config = (folder / "archiver.toml").read_text(encoding="utf-8")
    endpoints = [
        line.split('"')[1]
        for line in config.splitlines()
        if line.split(" = ")[0].endswith(("_endpoint", "_base"))
    ]
    assert endpoints and all(urlsplit(url).hostname == "127.0.0.1" for url in endpoints)


def test_a_second_run_refuses_and_reset_starts_over(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    cwd, _ = demo
    folder = cwd / "archiver-demo"
    again = archive("demo", cwd=cwd)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        f"error: {folder} holds a demo already; `archive demo --reset {folder}` starts over"
    ]
    # An editor approves the planned card: the approve source's article is written.
    approved = archive("--config", str(folder / "archiver.toml"), "rewrite", "--approve", "1", cwd=cwd)
    assert approved.returncode == 0, approved.stderr
    assert status(folder)["rewrites"] == {"applied": 3}
    reset = archive("demo", "--reset", cwd=cwd)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert status(folder)["rewrites"] == {"applied": 2, "planned": 1}
    waiting = (folder / "articles" / "newsroom" / "music-week.html").read_text(encoding="utf-8")
    assert "archiver-fallback" not in waiting


def test_a_weak_password_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(ARCHIVE), "demo", "--password-stdin"],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")},
        input="short\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "archiver-demo").exists()


def test_a_folder_the_demo_did_not_make_is_never_touched(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    done = archive("demo", str(folder), "--reset", cwd=tmp_path)
    assert done.returncode == 2
    assert (
        done.stderr.strip() == f"error: {folder} is not empty and is not a demo folder; choose another folder"
    )
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
