"""Recovered posts' own pages from web archives (`archiver.pipeline.recover.postpages`): against a real pywb
on loopback serving synthetic copies of the posts' pages (recover_world_NOTES.md), and against a fake
archive that answers 429, 503, timeouts, truncated bodies and error pages for them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.archive_cli import Result, run_archive
from support.fake_server import Canned, FakeServer
from support.pywb_server import PywbServer, pywb_available

import tests.support.recover_world as world
from archiver.storage import db
from archiver.storage.models import Check, Embed, Snapshot

pytestmark = pytest.mark.skipif(not world.SEEDS.is_dir(), reason="no seed pages")

TRAINING_SHA = hashlib.sha256(world.TRAINING_JPEG).hexdigest()
DRIVING_SHA = hashlib.sha256(world.DRIVING_JPEG).hexdigest()


@pytest.fixture(scope="module")
def pywb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PywbServer]:
    if not pywb_available():
        pytest.fail(
            "pywb is a test dependency (pip install -e '.[test]'): wayback and wb-manager are missing"
        )
    folder = tmp_path_factory.mktemp("pywb-posts")
    warc = world.write_post_pages_warc(folder / "posts.warc.gz")
    with PywbServer(folder / "server", [warc]) as server:
        yield server


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARCHIVER_NOW", raising=False)

    def run(*args: str) -> Result:
        return run_archive(monkeypatch, capsys, *args)

    return run


def by_article(result: Result) -> dict[str, dict[str, object]]:
    return {Path(str(s["article"])).stem: s for s in json.loads(result.out)}


def snapshots_of(db_url: str, post_id: str) -> list[Snapshot]:
    engine = db.make_engine(db_url)
    try:
        with db.session_factory(engine)() as session:
            found = list(
                session.query(Snapshot)
                .join(Embed)
                .filter(Embed.post_id == post_id)
                .order_by(Snapshot.version)
            )
            for snapshot in found:
                _ = [(m.media_file, m.error) for m in snapshot.media]  # loaded before the session closes
            session.expunge_all()
            return found
    finally:
        engine.dispose()


def test_archived_post_pages_give_caption_and_image_to_the_snapshot_and_the_card(
    pywb: PywbServer,
    fake_server: FakeServer,
    archive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,  # type: ignore[no-untyped-def]
) -> None:
    pages = world.write_articles(tmp_path / "articles")
    config = world.config(
        tmp_path / "articles", pywb.base, more=world.instagram_gone(fake_server.url), database=db_url
    )
    (tmp_path / "archiver.toml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("TEST_META_TOKEN", "test-token")
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T00:00:00Z")
    before = {name: path.read_bytes() for name, path in pages.items()}
    assert archive("scan", "site").code == 0
    result = archive("recover", "--json")
    assert result.code == 0, result.out + result.err
    spots = by_article(result)

    # The training article's earlier copy held a v14 embed: the line, no caption. The post's page gave it.
    training = spots[world.TRAINING]
    assert (training["state"], training["post"]) == ("paired", f"instagram:{world.TRAINING_POST}")
    assert training["fields"]["text"] == world.POST_CAPTION  # type: ignore[index]
    found = training["post_page"]
    assert isinstance(found, dict) and found["state"] == "found", found
    assert found["memento"] == f"{pywb.base}/20210321120000mp_/{world.post_url(world.TRAINING_POST)}"
    assert found["memento_datetime"] == "2021-03-21T12:00:00+00:00"
    # The embed page was never archived; the newest copy of the post page was a login wall: ignored.
    results = [c["result"] for c in found["copies"]]
    assert "holds no copy" in results[0] or "no mementos" in results[0], results
    assert results[1].startswith("ignored: not the article (title says 'login')"), results
    assert results[2].startswith("shows the post"), results

    [markup, paged] = snapshots_of(db_url, world.TRAINING_POST)
    assert markup.text is None and markup.handle == "wellhayley"
    assert (paged.text, paged.handle, paged.author_name) == (
        world.POST_CAPTION,
        "wellhayley",
        "Hayley Atwell",
    )
    assert paged.provenance["text"] == "memento:local:post_page"
    assert paged.provenance["handle"] == paged.provenance["author_name"] == "memento:local"
    assert paged.captured_at.isoformat() == "2021-03-21T12:00:00+00:00"
    page_raw = paged.raw[-1]
    assert page_raw["url"] == found["memento"]
    assert page_raw["headers"]["memento-datetime"] == "Sun, 21 Mar 2021 12:00:00 GMT"
    assert 'property="og:description"' in page_raw["body"]
    [image] = paged.media
    assert (image.kind, image.original_url, image.error) == ("image", world.TRAINING_IMAGE, None)
    assert image.media_file is not None and image.media_file.sha256 == TRAINING_SHA
    assert (tmp_path / "media" / TRAINING_SHA[:2] / TRAINING_SHA[2:4] / TRAINING_SHA).read_bytes() == (
        world.TRAINING_JPEG
    )

    # The driving post's markup held its caption; its captioned embed page added the image.
    driving = spots[world.DRIVING]
    assert driving["post_page"]["state"] == "found"  # type: ignore[index]
    drv = snapshots_of(db_url, world.DRIVING_POST)[-1]
    assert drv.text == "My new driving instructor 🚗 #MI7" and drv.provenance["text"] == "memento:local"
    assert [m.media_file.sha256 for m in drv.media if m.media_file] == [DRIVING_SHA]
    assert drv.media[0].rung == "memento:local:embed_page"

    # A second run asks nothing more about the posts' pages.
    again = by_article(archive("recover", "--json"))
    assert again[world.TRAINING]["post_page"]["state"] == "found"  # type: ignore[index]
    assert len(snapshots_of(db_url, world.TRAINING_POST)) == 2
    listed = by_article(archive("recover", "--list", "--json"))
    assert listed[world.TRAINING]["post_page"] == found

    # No page said anything about the post today: no check was written.
    engine = db.make_engine(db_url)
    with db.session_factory(engine)() as session:
        assert session.query(Check).count() == 0
    engine.dispose()

    # Both posts are confirmed gone by Instagram: the cards show the archived caption and image.
    fake_server.route("/v26.0/instagram_oembed", Canned(404))
    for day in range(4):
        monkeypatch.setenv("ARCHIVER_NOW", f"2030-01-0{1 + day}T00:00:00Z")
        archive("fetch")
    assert archive("rewrite").code == 0
    pending = json.loads(archive("rewrite", "--pending", "--json").out)
    approve = [arg for p in pending for arg in ("--approve", str(p["id"]))]
    assert len(approve) == 4
    assert archive("rewrite", *approve).code == 0
    card = pages[world.TRAINING].read_bytes()
    at = before[world.TRAINING].index(world.LEAD_IN_END) + len(world.LEAD_IN_END)
    inserted = card[at : len(card) - len(before[world.TRAINING]) + at]
    assert world.POST_CAPTION.encode() in inserted
    assert TRAINING_SHA.encode() in inserted and b"<img" in inserted
    assert b"this is an archived copy from 21 March 2021" in inserted
    assert DRIVING_SHA.encode() in pages[world.DRIVING].read_bytes()


def copy_route(server: FakeServer, url: str, stamp: str, date: str, body: bytes, **fault: object) -> None:
    headers = {"Content-Type": "text/html; charset=utf-8", "Memento-Datetime": date}
    server.route(f"/web/{stamp}id_/{url}", Canned(200, headers, body, **fault))  # type: ignore[arg-type]


def timemap(server: FakeServer, url: str, stamps: list[tuple[str, str]]) -> None:
    lines = [f'<{url}>; rel="original"']
    lines += [f'<{server.url}/web/{s}mp_/{url}>; rel="memento"; datetime="{d}"' for s, d in stamps]
    body = ",\n".join(lines).encode()
    server.route(f"/web/timemap/link/{url}", Canned(200, {"Content-Type": "application/link-format"}, body))


def test_archive_faults_on_post_pages_leave_them_pending_store_nothing_and_a_later_run_finishes(
    fake_server: FakeServer,
    archive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,  # type: ignore[no-untyped-def]
) -> None:
    world.write_articles(tmp_path / "articles")
    config = world.config(
        tmp_path / "articles",
        f"{fake_server.url}/web",
        "read_timeout = 0.5\ndeadline = 2.0\n",
        database=db_url,
    )
    (tmp_path / "archiver.toml").write_text(config, encoding="utf-8")
    old = ("20210320120000", "Sat, 20 Mar 2021 12:00:00 GMT")
    page_old = ("20210321120000", "Sun, 21 Mar 2021 12:00:00 GMT")
    page_new = ("20230202120000", "Thu, 02 Feb 2023 12:00:00 GMT")
    post = world.post_url(world.TRAINING_POST)
    page = world.post_page(world.TRAINING_POST, world.POST_CAPTION, world.TRAINING_IMAGE)
    error_page = (
        b"<html><head><title>Wayback Machine</title></head>"
        b"<body>Hrm. The Wayback Machine has not archived that URL.</body></html>"
    )
    image_path = f"/web/{page_old[0]}id_/{world.TRAINING_IMAGE}"
    image = Canned(200, {"Content-Type": "image/jpeg"}, world.TRAINING_JPEG)

    def article_copies() -> None:
        timemap(fake_server, world.url_of(world.TRAINING), [old])
        copy_route(fake_server, world.url_of(world.TRAINING), old[0], old[1], world.earlier_training_v14())

    def post_page_state(result: Result) -> dict[str, object]:
        spot = by_article(result)[world.TRAINING]
        assert (spot["state"], spot["post"]) == ("paired", f"instagram:{world.TRAINING_POST}")
        found = spot["post_page"]
        assert isinstance(found, dict)
        return found

    assert archive("scan", "site").code == 0

    # 1. The article pairs; the archive answers the post's embed page TimeMap with 429 and Retry-After.
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T00:00:00Z")
    article_copies()
    fake_server.route(
        f"/web/timemap/link/{world.embed_page_url(world.TRAINING_POST)}", Canned(429, {"Retry-After": "120"})
    )
    first = archive("recover", "--json")
    assert first.code == 1, first.out + first.err  # work left: run again later
    found = post_page_state(first)
    assert found["state"] == "pending" and "HTTP 429" in str(found["reason"])
    assert [s.text for s in snapshots_of(db_url, world.TRAINING_POST)] == [None]  # the markup's only

    # 2. After the wait: no embed page; the post page's newest copy is the archive's error page, the
    #    older one answers 503.
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T01:00:00Z")
    fake_server.clear()
    article_copies()
    timemap(fake_server, post, [page_old, page_new])
    copy_route(fake_server, post, page_new[0], page_new[1], error_page)
    fake_server.route(f"/web/{page_old[0]}id_/{post}", Canned(503))
    second = archive("recover", "--json")
    assert second.code == 1
    found = post_page_state(second)
    assert found["state"] == "pending" and "HTTP 503" in str(found["reason"]), found
    results = [str(c["result"]) for c in found["copies"]]  # type: ignore[union-attr]
    assert any(r.startswith("ignored: not the article") for r in results), results
    assert len(snapshots_of(db_url, world.TRAINING_POST)) == 1  # nothing from the error page

    # 3. The older copy arrives truncated.
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T02:00:00Z")
    copy_route(fake_server, post, page_old[0], page_old[1], page, truncate_to=200)
    third = archive("recover", "--json")
    assert third.code == 1
    found = post_page_state(third)
    assert found["state"] == "pending" and "truncated" in str(found["reason"]), found
    assert len(snapshots_of(db_url, world.TRAINING_POST)) == 1

    # 4. The copy is whole, but its image times out: nothing stored half (no snapshot without it).
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T03:00:00Z")
    copy_route(fake_server, post, page_old[0], page_old[1], page)
    fake_server.route(image_path, Canned(200, {"Content-Type": "image/jpeg"}, world.TRAINING_JPEG, delay=3.0))
    fourth = archive("recover", "--json")
    assert fourth.code == 1
    found = post_page_state(fourth)
    assert found["state"] == "pending" and "timeout" in str(found["reason"]).lower(), found
    assert len(snapshots_of(db_url, world.TRAINING_POST)) == 1

    # 5. The archive is well again: a later run finishes, caption and image.
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T04:00:00Z")
    fake_server.route(image_path, image)
    fifth = archive("recover", "--json")
    assert fifth.code == 0, fifth.out + fifth.err
    assert post_page_state(fifth)["state"] == "found"
    [_, paged] = snapshots_of(db_url, world.TRAINING_POST)
    assert paged.text == world.POST_CAPTION
    assert [m.media_file.sha256 for m in paged.media if m.media_file] == [TRAINING_SHA]
    # Settled: a later run asks the archive nothing more.
    asked = len(fake_server.requests)
    assert archive("recover").code == 0
    assert len(fake_server.requests) == asked
    # No archived page counted toward a verdict.
    engine = db.make_engine(db_url)
    with db.session_factory(engine)() as session:
        assert session.query(Check).count() == 0
        assert session.query(Embed).filter(Embed.post_id == world.TRAINING_POST).one().state == "new"
    engine.dispose()
