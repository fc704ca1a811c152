"""The `archive` command end to end, in-process, against a loopback Instagram."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.archive_cli import Result, run_archive
from support.fake_server import Canned, FakeServer

from tests.support.instagram_world import serve_instagram, toml_for

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


@pytest.fixture
def archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[object]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARCHIVER_NOW", raising=False)

    def run(*args: str) -> Result:
        return run_archive(monkeypatch, capsys, *args)

    yield run


@pytest.fixture
def world(fake_server: FakeServer, tmp_path: Path) -> FakeServer:
    serve_instagram(fake_server, (("p", "B9bOM-6Ax_d"), ("reel", "CIyNZQhH4DQ"), ("tv", "CCX-gcHArcJ")))
    (tmp_path / "archiver.toml").write_text(toml_for(fake_server, tmp_path), encoding="utf-8")
    shutil.copytree(SAMPLES, tmp_path / "samples")
    return fake_server


def test_dry_run_json_contract_touches_nothing(archive, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = archive("scan", "samples", "--dry-run", "--json")
    assert result.code == 0, result.err
    by_article = {Path(str(line["article"])).name: line["embeds"] for line in result.lines()}
    diary = by_article["travel-diary.html"]
    assert [(e["provider"], e["id"], e["url"], e["markup"]) for e in diary] == [
        ("instagram", "B9bOM-6Ax_d", "https://www.instagram.com/p/B9bOM-6Ax_d/", "blockquote")
    ]
    festival = by_article["festival-roundup.html"]
    assert ("CIyNZQhH4DQ", "block-comment") in [(e["id"], e["markup"]) for e in festival]
    residue = [e for e in festival if e["markup"] == "residue"]
    assert residue == [
        {
            "provider": "instagram",
            "id": None,
            "url": None,
            "markup": "residue",
            "author": "Hayley Atwell",
            "handle": "wellhayley",
            "date": None,
            "span": residue[0]["span"],
        }
    ]
    assert [e["id"] for e in by_article["cafe-des-monats.html"]] == ["CCX-gcHArcJ"]
    assert not (tmp_path / "archive.db").exists()
    assert world.requests == []


def test_run_then_show_gives_author_caption_and_image(archive, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = archive("--no-progress", "run", "samples")
    assert result.code == 0, result.out + result.err
    assert "3 embed(s)" not in result.err
    shown = archive("show", "B9bOM-6Ax_d", "--json")
    assert shown.code == 0, shown.err
    detail = json.loads(shown.out)
    snap = detail["snapshots"][0]
    assert snap["handle"] == "ruby_eloquent"
    assert snap["text"].startswith("Harbour at dawn")
    image = next(m for m in snap["media"] if m["kind"] == "image")
    assert image["type"] == "image/png" and Path(image["path"]).is_file()
    assert detail["articles"][0]["article"].endswith("travel-diary.html")
    human = archive("show", "https://www.instagram.com/p/B9bOM-6Ax_d/?utm_source=ig_embed")
    assert "caption: Harbour at dawn" in human.out
    assert "@ruby_eloquent" in human.out
    assert "image:" in human.out and "image/png" in human.out


def test_rescan_skips_unchanged_articles(archive, world) -> None:  # type: ignore[no-untyped-def]
    assert archive("scan", "samples", "--json").code == 0
    again = archive("scan", "samples", "--json")
    assert {line["status"] for line in again.lines()} == {"unchanged"}


def test_status_embeds_and_providers(archive, world) -> None:  # type: ignore[no-untyped-def]
    archive("run", "samples")
    status = json.loads(archive("status", "--json").out)
    assert status["embeds"] == 3 and status["residues"] == 1 and status["snapshots"] == 3
    listed = json.loads(archive("embeds", "--json", "--provider", "instagram").out)
    assert sorted(e["post_id"] for e in listed) == ["B9bOM-6Ax_d", "CCX-gcHArcJ", "CIyNZQhH4DQ"]
    assert all(e["state"] == "live" and e["last_check"] for e in listed)
    assert json.loads(archive("embeds", "--json", "--state", "broken").out) == []
    providers = json.loads(archive("providers", "--json").out)
    assert providers[0]["name"] == "instagram"
    assert providers[0]["endpoints"]["embed_page_base"] == world.url


def test_offline_run_finishes_and_says_it_will_retry(archive, world) -> None:  # type: ignore[no-untyped-def]
    world.route("/v26.0/instagram_oembed", Canned(reset=True))
    for path in (
        "/p/B9bOM-6Ax_d/embed/captioned/",
        "/reel/CIyNZQhH4DQ/embed/captioned/",
        "/tv/CCX-gcHArcJ/embed/captioned/",
    ):
        world.route(path, Canned(reset=True))
    result = archive("--no-progress", "run", "samples")
    assert result.code == 1
    assert "failed transiently" in result.out and "will be retried" in result.out
    assert "Traceback" not in result.out + result.err


def test_hostile_articles_get_one_line_each_and_the_run_goes_on(archive, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "binary.html").write_bytes(bytes(range(256)) * 100)
    (bad / "nested.html").write_text("<div>" * 50_000 + "<p>https://www.instagram.com/p/CIyNZQhH4DQ/</p>")
    (bad / "big.html").write_bytes(
        b"<html><body>"
        + b"<p>filler text for a very long page</p>\n" * 520_000
        + b'<blockquote class="instagram-media" data-instgrm-permalink='
        b'"https://www.instagram.com/p/B9bOM-6Ax_d/"></blockquote></body></html>'
    )
    (bad / "cp1252.html").write_bytes(
        "<p>Café — “quoted”</p>\n<p>https://www.instagram.com/tv/CCX-gcHArcJ/</p>".encode("cp1252")
    )
    result = archive("scan", "bad", "--dry-run", "--json")
    assert result.code == 1
    lines = {Path(str(line["article"])).name: line for line in result.lines()}
    assert "binary" in str(lines["binary.html"]["error"])
    assert [e["id"] for e in lines["big.html"]["embeds"]] == ["B9bOM-6Ax_d"]  # type: ignore[union-attr]
    assert [e["id"] for e in lines["cp1252.html"]["embeds"]] == ["CCX-gcHArcJ"]  # type: ignore[union-attr]
    assert "nested.html" in lines
    assert "Traceback" not in result.out + result.err


def test_config_errors_exit_2_with_one_line(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "archiver.toml").write_text("[http]\nread_timeout = 'soon'\n")
    result = archive("status")
    assert result.code == 2
    assert "http.read_timeout" in result.err and len(result.err.strip().splitlines()) == 1


def test_usage_errors_exit_2(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert archive("scan").code == 2  # nothing configured, nothing named
    assert archive("show", "nothing-like-this").code == 2
    assert archive("fetch", "--provider", "myspace").code == 2


def test_init_writes_config_and_database_then_refuses_to_overwrite(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "site"
    result = archive("init", str(site))
    assert result.code == 0, result.err
    assert (site / "archiver.toml").is_file() and (site / "archive.db").is_file()
    assert archive("init", str(site)).code == 2
    upgraded = archive("--config", str(site / "archiver.toml"), "db", "upgrade")
    assert upgraded.code == 0 and "up to date" in upgraded.out


def test_export_warc_writes_records_standard_tools_read(archive, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from warcio.archiveiterator import ArchiveIterator

    assert archive("run", "samples").code == 0
    result = archive("export", "--warc", "out.warc.gz", "--json")
    assert result.code == 0, result.err
    counts = json.loads(result.out)
    assert counts["snapshots"] == 3 and counts["media"] >= 1
    with open(tmp_path / "out.warc.gz", "rb") as stream:
        types = [record.rec_type for record in ArchiveIterator(stream)]
    assert types.count("metadata") == 3 and "response" in types and "resource" in types
    assert archive("export", "--warc", "out.warc.gz").code == 2  # refuses to overwrite
    assert archive("export", "--warc", "one.warc.gz", "--embed", "B9bOM-6Ax_d", "--json").code == 0


def test_refresh_records_a_caption_edit_and_show_prints_the_diff(archive, world) -> None:  # type: ignore[no-untyped-def]
    from tests.support.instagram_world import embed_page

    assert archive("run", "samples").code == 0
    edited = embed_page(world).replace(b"Worth the 5am alarm.", b"Worth the 4am alarm!")
    world.route("/p/B9bOM-6Ax_d/embed/captioned/", Canned(200, {"Content-Type": "text/html"}, edited))
    refreshed = archive("fetch", "--refresh", "--json")
    assert refreshed.code == 0, refreshed.err
    shown = archive("show", "B9bOM-6Ax_d")
    assert "Caption change v1 -> v2" in shown.out
    assert "-Worth the 5am alarm. #lisbon" in shown.out and "+Worth the 4am alarm! #lisbon" in shown.out
    versions = json.loads(archive("show", "B9bOM-6Ax_d", "--json").out)["snapshots"]
    assert [v["version"] for v in versions] == [1, 2]


def test_check_with_simulated_time_confirms_a_deletion(archive, world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ARCHIVER_NOW", "2026-11-20T12:00:00Z")
    assert archive("run", "samples").code == 0
    monkeypatch.setenv("ARCHIVER_NOW", "2026-11-20T20:00:00Z")
    first = json.loads(archive("check", "--json").out)
    assert first["checked"] == 3 and first["outcomes"] == {"ok": 3}
    world.route("/v26.0/instagram_oembed", Canned(404))
    world.route("/p/B9bOM-6Ax_d/embed/captioned/", Canned(404))
    for instant in ("2026-11-21T08:00:00Z", "2026-11-22T12:00:00Z", "2026-11-23T15:00:00Z"):
        monkeypatch.setenv("ARCHIVER_NOW", instant)
        assert archive("check").code == 0
    broken = json.loads(archive("embeds", "--state", "broken", "--json").out)
    assert [e["post_id"] for e in broken] == ["B9bOM-6Ax_d"]
    detail = json.loads(archive("show", "B9bOM-6Ax_d", "--json").out)
    assert [c["to"] for c in detail["state_changes"]] == ["live", "suspect", "broken"]
    status = json.loads(archive("status", "--json").out)
    assert status["by_state"]["broken"] == 1 and status["paused_providers"] == []


def test_rewrite_approve_and_restore_byte_for_byte(archive, world, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    diary = tmp_path / "samples" / "travel-diary.html"
    original = hashlib.sha256(diary.read_bytes()).hexdigest()
    monkeypatch.setenv("ARCHIVER_NOW", "2026-11-20T12:00:00Z")
    assert archive("run", "samples").code == 0
    world.route("/v26.0/instagram_oembed", Canned(404))
    world.route("/p/B9bOM-6Ax_d/embed/captioned/", Canned(404))
    for instant in ("2026-11-20T20:00:00Z", "2026-11-21T22:00:00Z", "2026-11-23T02:00:00Z"):
        monkeypatch.setenv("ARCHIVER_NOW", instant)
        assert archive("check").code == 0
    assert [e["post_id"] for e in json.loads(archive("embeds", "--state", "broken", "--json").out)] == [
        "B9bOM-6Ax_d"
    ]
    dry = archive("rewrite", "--dry-run")
    assert dry.code == 0, dry.err
    assert "archiver-fallback" in dry.out and "-<blockquote" in dry.out
    assert hashlib.sha256(diary.read_bytes()).hexdigest() == original  # a dry run writes nothing
    assert archive("rewrite").code == 0  # ad-hoc sources approve: planned only
    pending = json.loads(archive("rewrite", "--pending", "--json").out)
    assert [p["post_id"] for p in pending] == ["B9bOM-6Ax_d"]
    assert hashlib.sha256(diary.read_bytes()).hexdigest() == original
    approved = archive("rewrite", "--approve", str(pending[0]["id"]), "--by", "desk")
    assert approved.code == 0, approved.out + approved.err
    rewritten = diary.read_bytes()
    assert b"archiver-fallback" in rewritten and b"instagram.com/embed.js" not in rewritten
    restored = archive("restore", str(diary.relative_to(tmp_path)), "--json")
    assert restored.code == 0, restored.err
    assert hashlib.sha256(diary.read_bytes()).hexdigest() == original


def test_a_rescan_of_a_rewritten_article_reports_the_embed_archived(archive, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from archiver.pipeline.scan import MARKER_ATTRIBUTE

    page = tmp_path / "card.html"
    page.write_text(
        f'<p>Before.</p><figure class="archiver-fallback" {MARKER_ATTRIBUTE}="instagram:B9bOM-6Ax_d" '
        'data-archiver-version="1" data-originalurl="https://www.instagram.com/p/B9bOM-6Ax_d/">'
        "<figcaption>Archived</figcaption></figure><p>After.</p>",
        encoding="utf-8",
    )
    line = archive("scan", str(page), "--dry-run", "--json").lines()[0]
    assert [(e["provider"], e["id"], e["markup"]) for e in line["embeds"]] == [  # type: ignore[index]
        ("instagram", "B9bOM-6Ax_d", "archived")
    ]


def test_brackets_in_paths_are_shown_as_written_never_read_as_markup(archive, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Rich markup would eat "[draft]" and fail on "[/b]": article paths and providers' words are text.
    odd = "[draft] notes [/b] page.html"  # a folder "[draft] notes [" and a file "b] page.html" in it
    (tmp_path / "samples" / "[draft] notes [").mkdir()
    shutil.copy(tmp_path / "samples" / "travel-diary.html", tmp_path / "samples" / odd)
    ran = archive("--no-progress", "run", "samples")
    assert ran.code == 0, ran.out + ran.err
    shown = archive("show", "B9bOM-6Ax_d")
    assert shown.code == 0, shown.err
    assert odd in shown.out and "Traceback" not in shown.err
    listed = archive("rewrite", "--pending")
    assert listed.code == 0, listed.err
