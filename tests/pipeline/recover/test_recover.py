"""`archive recover` against a real pywb on loopback (synthetic copies: recover_world_NOTES.md), and
against a fake archive that answers 429, 503, timeouts, truncated bodies and error pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.archive_cli import Result, run_archive
from support.fake_server import Canned, FakeServer
from support.pywb_server import PywbServer, pywb_available

import tests.support.recover_world as world
from archiver.pipeline.recover.memento import parse_link_format
from archiver.storage import db
from archiver.storage.models import Embed, Recovery, Snapshot

pytestmark = pytest.mark.skipif(not world.SEEDS.is_dir(), reason="no seed pages")


@pytest.fixture(scope="module")
def pywb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PywbServer]:
    if not pywb_available():
        pytest.fail(
            "pywb is a test dependency (pip install -e '.[test]'): wayback and wb-manager are missing"
        )
    folder = tmp_path_factory.mktemp("pywb")
    warc = world.write_warc(folder / "copies.warc.gz")
    with PywbServer(folder / "server", [warc]) as server:
        yield server


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARCHIVER_NOW", raising=False)

    def run(*args: str) -> Result:
        return run_archive(monkeypatch, capsys, *args)

    return run


def setup(tmp_path: Path, base: str, http: str = "") -> dict[str, Path]:
    pages = world.write_articles(tmp_path / "articles")
    (tmp_path / "archiver.toml").write_text(world.config(tmp_path / "articles", base, http), encoding="utf-8")
    return pages


def by_article(spots: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {Path(str(s["article"])).stem: s for s in spots}


def test_link_format_parses_multi_word_rels_quotes_and_paging() -> None:
    text = (
        '<http://a/web/timemap/link/https://x.example/a,b/>; rel="self"; type="application/link-format",\n'
        '<https://x.example/a,b/>; rel="original",\n'
        '<http://a/web/20200101000000mp_/https://x.example/a,b/>; rel="first memento"; '
        'datetime="Wed, 01 Jan 2020 00:00:00 GMT"; title="a; b, c",\n'
        '<http://a/web/timemap/link/2/https://x.example/a,b/>; rel="next timemap"'
    )
    links = parse_link_format(text)
    assert [link.rels for link in links] == [
        ("self",),
        ("original",),
        ("first", "memento"),
        ("next", "timemap"),
    ]
    assert links[2].uri == "http://a/web/20200101000000mp_/https://x.example/a,b/"
    assert links[2].params["title"] == "a; b, c"


def test_recover_finds_both_posts_with_their_fields_and_leaves_the_third_alone(
    pywb: PywbServer,
    archive,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    pages = setup(tmp_path, pywb.base)
    before = {name: path.read_bytes() for name, path in pages.items()}
    assert archive("scan", "site").code == 0
    listed = by_article(json.loads(archive("recover", "--list", "--json").out))
    assert {name: s["state"] for name, s in listed.items()} == {
        world.DRIVING: "new",
        world.TRAINING: "new",
        world.QUIET: "new",
    }

    result = archive("recover", "--json")
    assert result.code == 0, result.err
    spots = by_article(json.loads(result.out))
    driving, training, quiet = spots[world.DRIVING], spots[world.TRAINING], spots[world.QUIET]
    assert (driving["state"], driving["post"]) == ("paired", f"instagram:{world.DRIVING_POST}")
    assert driving["fields"] == {
        "author_name": "Hayley Atwell",
        "handle": "wellhayley",
        "text": "My new driving instructor 🚗 #MI7",
        "published": "2020-10-02T18:04:11+00:00",
    }
    assert driving["memento_datetime"] == "2020-10-05T08:15:00+00:00"
    assert driving["memento"] == f"{pywb.base}/20201005081500mp_/{world.url_of(world.DRIVING)}"
    assert (training["state"], training["post"]) == ("paired", f"instagram:{world.TRAINING_POST}")
    assert training["anchor"] == "Check out the video below."
    assert training["fields"]["text"] == "Training day. Every day. #MissionImpossible"
    # The newest copies were broken and said so; the pairing came from the older one.
    assert training["copies"][0]["result"].startswith("already broken")
    assert quiet["state"] == "unpaired" and quiet["post"] is None
    assert len(quiet["copies"]) == 2 and all(
        c["result"].startswith("already broken") for c in quiet["copies"]
    )

    engine = db.make_engine("sqlite:///archive.db")
    with db.session_factory(engine)() as session:
        snapshot = session.query(Snapshot).join(Embed).filter(Embed.post_id == world.DRIVING_POST).one()
        fields = ["author_name", "author_url", "handle", "published", "text"]
        assert snapshot.provenance == dict.fromkeys(fields, "memento:local")
        [raw] = snapshot.raw
        assert raw["url"] == driving["memento"]
        assert raw["headers"]["memento-datetime"] == "Mon, 05 Oct 2020 08:15:00 GMT"
        embed = session.query(Embed).filter(Embed.post_id == world.DRIVING_POST).one()
        assert (embed.state, embed.next_capture_at is not None) == ("new", True)  # its live ladder is due
        assert embed.checks == []  # a memento says nothing about the post today
        row = session.query(Recovery).filter(Recovery.embed_id == embed.id).one()
        assert row.original_markup is not None and row.original_markup.startswith(
            '<blockquote class="instagram-media"'
        )
    engine.dispose()
    # Recovery touches no article.
    assert {name: path.read_bytes() for name, path in pages.items()} == before

    again = by_article(json.loads(archive("recover", "--json").out))
    assert {name: s["state"] for name, s in again.items()} == {
        world.DRIVING: "paired",
        world.TRAINING: "paired",
        world.QUIET: "unpaired",
    }


def copy_route(server: FakeServer, name: str, stamp: str, body: bytes, date: str) -> None:
    headers = {"Content-Type": "text/html; charset=utf-8", "Memento-Datetime": date}
    server.route(f"/web/{stamp}id_/{world.url_of(name)}", Canned(200, headers, body))


def timemap(server: FakeServer, name: str, stamps: list[tuple[str, str]]) -> None:
    url = world.url_of(name)
    lines = [f'<{url}>; rel="original"']
    lines += [f'<{server.url}/web/{s}mp_/{url}>; rel="memento"; datetime="{d}"' for s, d in stamps]
    body = ",\n".join(lines).encode()
    server.route(f"/web/timemap/link/{url}", Canned(200, {"Content-Type": "application/link-format"}, body))


def test_archive_faults_recover_nothing_wrongly_and_a_later_run_finishes(
    fake_server: FakeServer,
    archive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    setup(tmp_path, f"{fake_server.url}/web", "read_timeout = 0.5\ndeadline = 2.0\n")
    assert archive("scan", "site").code == 0
    old = ("20201005081500", "Mon, 05 Oct 2020 08:15:00 GMT")
    new = ("20230120100000", "Fri, 20 Jan 2023 10:00:00 GMT")
    error_page = (
        b"<html><head><title>Wayback Machine</title></head>"
        b"<body>Hrm. The Wayback Machine has not archived that URL.</body></html>"
    )

    def states(result: Result) -> dict[str, tuple[object, object]]:
        return {name: (s["state"], s["post"]) for name, s in by_article(json.loads(result.out)).items()}

    # 1. The archive answers 429 with Retry-After: its host is left alone, every spot waits.
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T00:00:00Z")
    fake_server.route(f"/web/timemap/link/{world.url_of(world.DRIVING)}", Canned(429, {"Retry-After": "120"}))
    first = archive("recover", "--json")
    assert first.code == 1, first.err  # work left: run again later
    assert set(states(first).values()) == {("pending", None)}
    asked = len(fake_server.requests)
    assert asked == 1  # nothing more went to a host that asked us to wait

    # 2. After the wait: a 503 copy, an error page then a truncated copy, a TimeMap that times out.
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T01:00:00Z")
    timemap(fake_server, world.DRIVING, [old])
    fake_server.route(f"/web/{old[0]}id_/{world.url_of(world.DRIVING)}", Canned(503))
    timemap(fake_server, world.TRAINING, [old, new])
    copy_route(fake_server, world.TRAINING, new[0], error_page, new[1])
    fake_server.route(
        f"/web/{old[0]}id_/{world.url_of(world.TRAINING)}",
        Canned(
            200,
            {"Content-Type": "text/html", "Memento-Datetime": old[1]},
            world.earlier_training(),
            truncate_to=900,
        ),
    )
    fake_server.route(
        f"/web/timemap/link/{world.url_of(world.QUIET)}",
        Canned(200, {"Content-Type": "application/link-format"}, b'<x>; rel="original"', delay=3.0),
    )
    second = archive("recover", "--json")
    assert second.code == 1
    assert set(states(second).values()) == {("pending", None)}
    spots = by_article(json.loads(second.out))
    assert "HTTP 503" in str(spots[world.DRIVING]["reason"])
    training = spots[world.TRAINING]
    assert "ignored: not the article" in training["copies"][0]["result"]
    assert "truncated" in str(training["reason"]), training["reason"]
    assert "timeout" in str(spots[world.QUIET]["reason"]), spots[world.QUIET]["reason"]

    # 3. The archive is well again: a later run finishes the work.
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T02:00:00Z")
    fake_server.clear()
    timemap(fake_server, world.DRIVING, [old])
    copy_route(fake_server, world.DRIVING, old[0], world.earlier_driving(), old[1])
    timemap(fake_server, world.TRAINING, [old, new])
    copy_route(fake_server, world.TRAINING, new[0], error_page, new[1])
    copy_route(fake_server, world.TRAINING, old[0], world.earlier_training(), old[1])
    timemap(fake_server, world.QUIET, [old])
    copy_route(fake_server, world.QUIET, old[0], world.QUIET_PAGE, old[1])
    third = archive("recover", "--json")
    assert third.code == 0, third.out + third.err
    assert states(third) == {
        world.DRIVING: ("paired", f"instagram:{world.DRIVING_POST}"),
        world.TRAINING: ("paired", f"instagram:{world.TRAINING_POST}"),
        world.QUIET: ("unpaired", None),
    }
