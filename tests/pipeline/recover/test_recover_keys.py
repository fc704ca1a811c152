"""Each spot of an article has its own recovery row: two empty shells with no sentence before them used to
share one key (article, markup, anchor ""); the second one on is numbered now, the first keeps "" (rows
made before keep their key)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from support.archive_cli import run_archive
from support.fake_server import Canned, FakeServer

import tests.support.recover_world as world
from archiver.pipeline.scan import scan_article
from archiver.records import Article, spot_anchor
from archiver.storage import db
from archiver.storage.models import Recovery

SHELL = b'<blockquote class="instagram-media" data-instgrm-version="14"></blockquote>'
PAGE = (
    b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Shells</title></head><body><article>'
    + SHELL
    + b'<div class="gap"></div>'
    + SHELL
    + b"<p>The story goes on with more words about the film and the people who made it and more.</p>"
    + b"</article></body></html>"
)


def test_two_anchorless_shells_have_their_own_anchors() -> None:
    record = Article("s.html", "t", PAGE, PAGE.decode(), "utf-8", hashlib.sha256(PAGE).hexdigest())
    shells = [e for e in scan_article(record).embeds if e.is_lost]
    assert [(e.lead_in, e.shell_number) for e in shells] == [(None, None), (None, 2)]
    anchors = [spot_anchor("lost", e.occurrence_fields()) for e in shells]
    assert anchors == ["", "#2 blockquote.instagram-media"]


def test_recover_keeps_one_row_per_anchorless_shell(
    fake_server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T00:00:00Z")
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "shells.html").write_bytes(PAGE)
    config = world.config(folder, f"{fake_server.url}/web", database="sqlite:///archive.db")
    (tmp_path / "archiver.toml").write_text(config, encoding="utf-8")
    url = world.url_of("shells")
    stamp, date = "20201005081500", "Mon, 05 Oct 2020 08:15:00 GMT"
    memento = f'<{fake_server.url}/web/{stamp}mp_/{url}>; rel="memento"; datetime="{date}"'
    timemap = f'<{url}>; rel="original",\n{memento}'
    fake_server.route(
        f"/web/timemap/link/{url}", Canned(200, {"Content-Type": "application/link-format"}, timemap.encode())
    )
    headers = {"Content-Type": "text/html; charset=utf-8", "Memento-Datetime": date}
    fake_server.route(f"/web/{stamp}id_/{url}", Canned(200, headers, PAGE))
    assert run_archive(monkeypatch, capsys, "scan", "site").code == 0
    assert run_archive(monkeypatch, capsys, "recover", "--json").code == 0
    engine = db.make_engine("sqlite:///archive.db")
    with db.session_factory(engine)() as session:
        rows = sorted((row.anchor, row.state) for row in session.query(Recovery))
    engine.dispose()
    assert rows == [("", "unpaired"), ("#2 blockquote.instagram-media", "unpaired")]
