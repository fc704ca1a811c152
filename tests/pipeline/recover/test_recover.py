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


def setup(
    tmp_path: Path, base: str, http: str = "", database: str = "sqlite:///archive.db"
) -> dict[str, Path]:
    pages = world.write_articles(tmp_path / "articles")
    config = world.config(tmp_path / "articles", base, http, database=database)
    (tmp_path / "archiver.toml").write_text(config, encoding="utf-8")
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
    tmp_path: Path,
    db_url: str,  # type: ignore[no-untyped-def]
) -> None:
    pages = setup(tmp_path, pywb.base, database=db_url)
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

    engine = db.make_engine(db_url)
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
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,  # type: ignore[no-untyped-def]
) -> None:
    setup(tmp_path, f"{fake_server.url}/web", "read_timeout = 0.5\ndeadline = 2.0\n", db_url)
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


def test_recovered_posts_confirmed_gone_get_cards_an_editor_approves_and_restore_gives_every_byte_back(
    pywb: PywbServer,
    fake_server: FakeServer,
    archive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,  # type: ignore[no-untyped-def]
) -> None:
    pages = world.write_articles(tmp_path / "articles")
    # Mode apply: recovered cards still wait for an editor (recover.repairs defaults to "approve").
    config = world.config(
        tmp_path / "articles",
        pywb.base,
        mode="apply",
        more=world.instagram_gone(fake_server.url),
        database=db_url,
    )
    (tmp_path / "archiver.toml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("TEST_META_TOKEN", "test-token")
    before = {name: path.read_bytes() for name, path in pages.items()}
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T00:00:00Z")
    assert archive("scan", "site").code == 0
    assert archive("recover", "--json").code == 0

    # Nothing is rewritten while the posts are only recovered (not yet known to be gone).
    first = archive("rewrite", "--json")
    assert first.code == 0, first.err
    assert first.lines() == []

    # Instagram answers 404 for both: the verdict rule (3 gone outcomes over 48h) makes them broken.
    fake_server.route("/v26.0/instagram_oembed", Canned(404))
    for day in range(4):
        monkeypatch.setenv("ARCHIVER_NOW", f"2030-01-0{1 + day}T00:00:00Z")
        archive("fetch")
    embeds = json.loads(archive("embeds", "--json").out)
    assert {e["post_id"]: e["state"] for e in embeds} == {
        world.DRIVING_POST: "broken",
        world.TRAINING_POST: "broken",
    }

    planned = archive("rewrite", "--json")
    assert planned.code == 0, planned.err
    statuses = {Path(str(a["article"])).stem: a["status"] for a in planned.lines()}
    assert statuses == {world.DRIVING: "planned", world.TRAINING: "planned"}
    assert {name: path.read_bytes() for name, path in pages.items()} == before  # waiting for an editor
    pending = json.loads(archive("rewrite", "--pending", "--json").out)
    assert len(pending) == 2
    reasons = " | ".join(str(p["reason"]) for p in pending)
    assert "recovered from web archive local: the residue line @wellhayley replaced" in reasons
    assert "inserted after the lead-in 'Check out the video below.'" in reasons
    assert "the copy of 2020-10-05T08:15:00Z" in reasons and "the copy of 2021-03-20T12:00:00Z" in reasons

    approve = [arg for p in pending for arg in ("--approve", str(p["id"]))]
    applied = archive("rewrite", *approve, "--json")
    assert applied.code == 0, applied.out + applied.err
    after = {name: path.read_bytes() for name, path in pages.items()}
    assert after[world.QUIET] == before[world.QUIET]

    # The residue line's block is replaced by the driving post's card, every other byte kept.
    driving, was = after[world.DRIVING], before[world.DRIVING]
    at = was.index(world.RESIDUE_LINE)
    tail = was[at + len(world.RESIDUE_LINE) :]
    assert world.RESIDUE_LINE not in driving
    assert driving.startswith(was[:at]) and driving.endswith(tail)
    card = driving[at : len(driving) - len(tail)]
    assert f'data-archiver-embed="instagram:{world.DRIVING_POST}"'.encode() in card
    assert b"My new driving instructor" in card

    # The training post's card is inserted right after "Check out the video below.", nothing removed.
    training, was = after[world.TRAINING], before[world.TRAINING]
    at = was.index(world.LEAD_IN_END) + len(world.LEAD_IN_END)
    assert training.startswith(was[:at]) and training.endswith(was[at:])
    inserted = training[at : len(training) - len(was) + at]
    assert (
        inserted.startswith(b"<")
        and f'data-archiver-embed="instagram:{world.TRAINING_POST}"'.encode() in inserted
    )
    assert b"Training day. Every day." in inserted
    # The card dates the archived copy by the memento it came from, not by the day we found it.
    assert b"this is an archived copy from 20 March 2021" in inserted

    # Idempotent: a rescan and another run change nothing.
    assert archive("scan", "site").code == 0
    again = archive("rewrite", "--json")
    assert again.code == 0 and [a["status"] for a in again.lines()] == ["unchanged", "unchanged"], again.out
    assert {name: path.read_bytes() for name, path in pages.items()} == after

    for name in (world.DRIVING, world.TRAINING):
        restored = archive("restore", str(pages[name]), "--json")
        assert restored.code == 0, restored.out + restored.err
    assert {name: path.read_bytes() for name, path in pages.items()} == before


def recovered_then_gone(
    archive,  # type: ignore[no-untyped-def]
    server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    more: str = "",
) -> dict[str, Path]:
    """Both seed posts recovered from a fake archive on `server`, then confirmed gone by its Instagram."""
    pages = world.write_articles(tmp_path / "articles")
    config = world.config(
        tmp_path / "articles", f"{server.url}/web", mode=mode, more=world.instagram_gone(server.url) + more
    )
    (tmp_path / "archiver.toml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("TEST_META_TOKEN", "test-token")
    old = ("20201005081500", "Mon, 05 Oct 2020 08:15:00 GMT")
    for name, earlier in (
        (world.DRIVING, world.earlier_driving()),
        (world.TRAINING, world.earlier_training()),
    ):
        timemap(server, name, [old])
        copy_route(server, name, old[0], earlier, old[1])
    timemap(server, world.QUIET, [old])
    copy_route(server, world.QUIET, old[0], world.QUIET_PAGE, old[1])
    server.route("/v26.0/instagram_oembed", Canned(404))
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T00:00:00Z")
    assert archive("scan", "site").code == 0
    assert archive("recover").code == 0
    for day in range(4):
        monkeypatch.setenv("ARCHIVER_NOW", f"2030-01-0{1 + day}T00:00:00Z")
        archive("fetch")
    return pages


def test_recover_repairs_apply_follows_the_source_mode_and_writes_at_once(
    fake_server: FakeServer,
    archive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    pages = recovered_then_gone(
        archive, fake_server, tmp_path, monkeypatch, "apply", '[recover]\nrepairs = "apply"\n'
    )
    before = {name: path.read_bytes() for name, path in pages.items()}
    result = archive("rewrite", "--json")
    assert result.code == 0, result.out + result.err
    statuses = {Path(str(a["article"])).stem: a["status"] for a in result.lines()}
    assert statuses == {world.DRIVING: "applied", world.TRAINING: "applied"}
    assert json.loads(archive("rewrite", "--pending", "--json").out) == []
    assert pages[world.QUIET].read_bytes() == before[world.QUIET]
    assert world.RESIDUE_LINE not in pages[world.DRIVING].read_bytes()
    for name in (world.DRIVING, world.TRAINING):
        assert archive("restore", str(pages[name])).code == 0
        assert pages[name].read_bytes() == before[name]


def test_an_insertion_is_written_only_into_the_bytes_it_was_planned_on_and_a_rejection_sticks(
    fake_server: FakeServer,
    archive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    pages = recovered_then_gone(archive, fake_server, tmp_path, monkeypatch, "approve")
    assert archive("rewrite").code == 0
    pending = {
        Path(str(p["article"])).stem: p["id"]
        for p in json.loads(archive("rewrite", "--pending", "--json").out)
    }
    assert set(pending) == {world.DRIVING, world.TRAINING}

    # An editor adds a paragraph at the top after the plan: the approved insertion's offset is stale.
    training = pages[world.TRAINING]
    edited = training.read_bytes().replace(b"<body>", b"<body><p>Updated: corrections below.</p>", 1)
    assert edited != training.read_bytes()
    training.write_bytes(edited)
    result = archive("rewrite", "--approve", str(pending[world.TRAINING]), "--json")
    assert training.read_bytes() == edited  # nothing written at a guessed place
    [line] = [line for line in result.out.splitlines() if f"{world.TRAINING}.html" in line]
    assert json.loads(line)["status"] == "refused", result.out
    assert archive("rewrite").code == 0  # the next run plans it again, on the bytes as they are now
    journal = json.loads(archive("rewrite", "--pending", "--json").out)
    replanned = [p for p in journal if Path(str(p["article"])).stem == world.TRAINING]
    assert len(replanned) == 1 and replanned[0]["id"] != pending[world.TRAINING], result.out
    # Approved again, on the bytes as they are now: the card goes right after the lead-in.
    assert archive("rewrite", "--approve", str(replanned[0]["id"])).code == 0
    after = training.read_bytes()
    at = edited.index(world.LEAD_IN_END) + len(world.LEAD_IN_END)
    assert after.startswith(edited[:at] + b"<figure") and after.endswith(edited[at:])

    # The driving card is rejected: no later run plans it again.
    assert archive("rewrite", "--reject", str(pending[world.DRIVING])).code == 0
    again = archive("rewrite", "--json")
    assert again.code == 0
    assert json.loads(archive("rewrite", "--pending", "--json").out) == []
    assert world.RESIDUE_LINE in pages[world.DRIVING].read_bytes()
