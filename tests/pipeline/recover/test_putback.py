"""A recovered post that still answers live gets its original embed markup back (from the memento), against
a real pywb on loopback (synthetic copies: recover_world_NOTES.md) and a loopback Instagram that answers
with recorded responses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.archive_cli import Result, run_archive
from support.fake_server import Canned, FakeServer, Recorded
from support.instagram_world import OEMBED_PATH, oembed_canned, serve_instagram
from support.pywb_server import PywbServer, pywb_available

import tests.support.recover_world as world

pytestmark = pytest.mark.skipif(not world.SEEDS.is_dir(), reason="no seed pages")

# A third article whose earlier copy held an embed with an event handler: its markup is never put back.
HOSTILE = "hostile-story"
HOSTILE_POST = "CSynthHst03"
HOSTILE_NOW = (
    b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Hostile</title></head><body><article>'
    b"<p>The singer talked about her tour and the new album at length on Tuesday evening.</p>"
    b"<p>A post shared by Hayley Atwell (@wellhayley)</p>"
    b"<p>The tour starts in May and runs through the autumn in twelve cities across Europe.</p>"
    b"</article></body></html>"
)


def hostile_earlier() -> bytes:
    embed = world.blockquote(HOSTILE_POST, "On tour", "2021-05-01T10:00:00+00:00")
    embed = embed.replace(b'<div style="padding:8px;">', b'<div style="padding:8px;" onmouseover="steal()">')
    return HOSTILE_NOW.replace(world.RESIDUE_LINE, embed)


@pytest.fixture(scope="module")
def pywb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PywbServer]:
    if not pywb_available():
        pytest.fail(
            "pywb is a test dependency (pip install -e '.[test]'): wayback and wb-manager are missing"
        )
    folder = tmp_path_factory.mktemp("pywb")
    extra = ((world.url_of(HOSTILE), "2021-05-02T12:00:00Z", hostile_earlier()),)
    warc = world.write_warc(folder / "copies.warc.gz", extra)
    with PywbServer(folder / "server", [warc]) as server:
        yield server


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARCHIVER_NOW", raising=False)

    def run(*args: str) -> Result:
        return run_archive(monkeypatch, capsys, *args)

    return run


def by_stem(items: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {Path(str(item["article"])).stem: item for item in items}


def test_a_live_recovered_post_gets_its_original_markup_back_planned_then_restored_byte_for_byte(
    pywb: PywbServer,
    fake_server: FakeServer,
    archive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,  # type: ignore[no-untyped-def]
) -> None:
    pages = world.write_articles(tmp_path / "articles")
    pages[HOSTILE] = tmp_path / "articles" / f"{HOSTILE}.html"
    pages[HOSTILE].write_bytes(HOSTILE_NOW)
    # Mode apply: the markup put back still waits for an editor (recover.repairs defaults to "approve").
    instagram = (
        f'[providers.instagram]\noembed_endpoint = "{fake_server.url}/v26.0/instagram_oembed"\n'
        f'embed_page_base = "{fake_server.url}"\naccess_token_env = "TEST_META_TOKEN"\n'
    )
    config = world.config(tmp_path / "articles", pywb.base, mode="apply", more=instagram, database=db_url)
    (tmp_path / "archiver.toml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("TEST_META_TOKEN", "test-token")
    posts = (world.DRIVING_POST, world.TRAINING_POST, HOSTILE_POST)
    serve_instagram(fake_server, tuple(("p", code) for code in posts))
    before = {name: path.read_bytes() for name, path in pages.items()}

    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T00:00:00Z")
    assert archive("scan", "site").code == 0
    recovered = by_stem(json.loads(archive("recover", "--json").out))
    assert recovered[HOSTILE]["post"] == f"instagram:{HOSTILE_POST}"
    # Recovered but never asked since: not known to be alive, nothing is planned.
    first = archive("rewrite", "--json")
    assert first.code == 0 and first.lines() == [], first.out

    # The live ladder answers: the posts are live, with an ok after the pairing.
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T01:00:00Z")
    assert archive("fetch").code == 0
    states = {e["post_id"]: e["state"] for e in json.loads(archive("embeds", "--json").out)}
    assert states == dict.fromkeys(posts, "live")

    planned = archive("rewrite", "--json")
    assert planned.code == 0, planned.out + planned.err
    outcomes = by_stem(planned.lines())
    assert {name: o["status"] for name, o in outcomes.items()} == {
        world.DRIVING: "planned",
        world.TRAINING: "planned",
        HOSTILE: "refused",
    }
    assert {name: path.read_bytes() for name, path in pages.items()} == before  # waiting for an editor
    [hostile] = outcomes[HOSTILE]["refused"]  # type: ignore[misc]
    assert "not put back: <div> has an event handler (onmouseover)" in hostile["reason"], hostile
    pending = json.loads(archive("rewrite", "--pending", "--json").out)
    assert {Path(p["article"]).stem: p["variant"] for p in pending} == {
        world.DRIVING: "embed",
        world.TRAINING: "embed",
    }
    reasons = {Path(p["article"]).stem: p["reason"] for p in pending}
    memento = f"{pywb.base}/20201005081500mp_/{world.url_of(world.DRIVING)}"
    assert reasons[world.DRIVING] == (
        f"original embed put back from local {memento} of 2020-10-05T08:15:00Z: the residue line "
        "@wellhayley replaced; an editor approves it"
    )
    assert "inserted after the lead-in 'Check out the video below.'" in reasons[world.TRAINING]

    approve = [arg for p in pending for arg in ("--approve", str(p["id"]))]
    applied = archive("rewrite", *approve, "--json")
    assert applied.code == 0, applied.out + applied.err
    after = {name: path.read_bytes() for name, path in pages.items()}
    assert after[world.QUIET] == before[world.QUIET] and after[HOSTILE] == before[HOSTILE]

    # The residue line's block holds the provider's blockquote and its loader script, nothing else.
    driving, was = after[world.DRIVING], before[world.DRIVING]
    at = was.index(world.RESIDUE_LINE)
    tail = was[at + len(world.RESIDUE_LINE) :]
    assert driving.startswith(was[:at]) and driving.endswith(tail)
    put = driving[at : len(driving) - len(tail)]
    assert put == world.blockquote(
        world.DRIVING_POST, "My new driving instructor 🚗 #MI7", "2020-10-02T18:04:11+00:00"
    )
    assert b"127.0.0.1" not in put and b"data-archiver" not in put
    # The lead-in's post is inserted right after it, nothing removed.
    training, was = after[world.TRAINING], before[world.TRAINING]
    at = was.index(world.LEAD_IN_END) + len(world.LEAD_IN_END)
    assert training.startswith(was[:at]) and training.endswith(was[at:])
    inserted = training[at : len(training) - len(was) + at]
    assert inserted.startswith(b'<blockquote class="instagram-media"')
    assert inserted.endswith(b'<script async src="//www.instagram.com/embed.js"></script>')

    # Our own scanner reads the markup put back as the same post, an ordinary embed of the article.
    for name, code in ((world.DRIVING, world.DRIVING_POST), (world.TRAINING, world.TRAINING_POST)):
        [line] = archive("scan", str(pages[name]), "--dry-run", "--json").lines()
        embeds = line["embeds"]
        assert [(e["provider"], e["id"], e["markup"]) for e in embeds] == [  # type: ignore[union-attr]
            ("instagram", code, "blockquote")
        ], embeds
    # Idempotent, and the post being alive does not undo it (cards of returned posts are undone).
    assert archive("scan", "site").code == 0
    again = archive("rewrite", "--json")
    assert again.code == 0, again.out
    assert {name: o["status"] for name, o in by_stem(again.lines()).items()} == {
        world.DRIVING: "unchanged",
        world.TRAINING: "unchanged",
        HOSTILE: "refused",
    }
    assert {name: path.read_bytes() for name, path in pages.items()} == after

    for name in (world.DRIVING, world.TRAINING):
        restored = archive("restore", str(pages[name]), "--json")
        assert restored.code == 0, restored.out + restored.err
    assert {name: path.read_bytes() for name, path in pages.items()} == before


def recovered_alive(  # type: ignore[no-untyped-def]
    pywb: PywbServer,
    fake_server: FakeServer,
    archive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    more: str = "",
) -> Path:
    """The seed articles in an `apply` source (plus `more` settings), scanned, recovered and their two
    posts found alive; the Instagram training post is the canary. Returns the driving article's path."""
    pages = world.write_articles(tmp_path / "articles")
    instagram = (
        f'[providers.instagram]\noembed_endpoint = "{fake_server.url}/v26.0/instagram_oembed"\n'
        f'embed_page_base = "{fake_server.url}"\naccess_token_env = "TEST_META_TOKEN"\n'
    )
    canary = f'canaries = ["https://www.instagram.com/p/{world.TRAINING_POST}/"]\n'
    config = world.config(tmp_path / "articles", pywb.base, mode="apply", more=instagram + canary + more)
    (tmp_path / "archiver.toml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("TEST_META_TOKEN", "test-token")
    serve_instagram(fake_server, (("p", world.DRIVING_POST), ("p", world.TRAINING_POST)))
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T00:00:00Z")
    assert archive("scan", "site").code == 0 and archive("recover").code == 0
    monkeypatch.setenv("ARCHIVER_NOW", "2030-01-01T01:00:00Z")
    assert archive("fetch").code == 0
    return pages[world.DRIVING]


def driving_post_deleted(fake_server: FakeServer, archive, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The driving post is deleted (the canary stays) and checked over five days: broken."""
    alive = oembed_canned(fake_server)

    def oembed(request: Recorded) -> Canned:
        return Canned(404) if world.DRIVING_POST in str(request.query.get("url")) else alive

    fake_server.route(OEMBED_PATH, oembed)
    fake_server.route(f"/p/{world.DRIVING_POST}/embed/captioned/", Canned(404))
    for day in range(2, 7):
        monkeypatch.setenv("ARCHIVER_NOW", f"2030-01-0{day}T00:00:00Z")
        archive("check")
    states = {e["post_id"]: e["state"] for e in json.loads(archive("embeds", "--json").out)}
    assert states[world.DRIVING_POST] == "broken"


def test_when_a_post_put_back_breaks_the_verdict_and_its_card_take_over(
    pywb: PywbServer,
    fake_server: FakeServer,
    archive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    driving = recovered_alive(
        pywb, fake_server, archive, tmp_path, monkeypatch, '[recover]\nrepairs = "apply"\n'
    )
    before = driving.read_bytes()
    # recover.repairs = "apply" in mode apply: written at once.
    written = by_stem(archive("rewrite", "--json").lines())
    assert written[world.DRIVING]["status"] == "applied", written
    put_back = driving.read_bytes()
    assert world.RESIDUE_LINE not in put_back and b"CSynthDrv01" in put_back

    # The post is deleted (the other one, the canary, stays): once the verdict rule says broken, the
    # embed put back gets its card.
    driving_post_deleted(fake_server, archive, monkeypatch)
    carded = by_stem(archive("rewrite", "--json").lines())
    assert carded[world.DRIVING]["status"] == "applied", carded
    now = driving.read_bytes()
    assert f'data-archiver-embed="instagram:{world.DRIVING_POST}"'.encode() in now
    assert b'<blockquote class="instagram-media"' not in now and world.RESIDUE_LINE not in now
    # Restore undoes both, the card then the markup put back: the article as it was.
    restored = archive("restore", str(driving), "--json")
    assert restored.code == 0, restored.out + restored.err
    assert driving.read_bytes() == before


def test_a_rejected_put_back_does_not_hold_back_the_card_once_the_post_is_gone(
    pywb: PywbServer,
    fake_server: FakeServer,
    archive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    driving = recovered_alive(pywb, fake_server, archive, tmp_path, monkeypatch)
    before = driving.read_bytes()
    assert archive("rewrite").code == 0
    pending = json.loads(archive("rewrite", "--pending", "--json").out)
    [put_back] = [p for p in pending if Path(p["article"]).stem == world.DRIVING]
    assert put_back["variant"] == "embed"
    # The editor does not want the post back in the article.
    assert archive("rewrite", "--reject", str(put_back["id"])).code == 0
    assert archive("rewrite").code == 0
    again = json.loads(archive("rewrite", "--pending", "--json").out)
    assert not [p for p in again if Path(p["article"]).stem == world.DRIVING]  # not asked again
    assert driving.read_bytes() == before

    # The post is deleted: the residue line still needs its card, and the card waits for the editor.
    driving_post_deleted(fake_server, archive, monkeypatch)
    assert archive("rewrite").code == 0
    carded = json.loads(archive("rewrite", "--pending", "--json").out)
    [card] = [p for p in carded if Path(p["article"]).stem == world.DRIVING]
    assert card["variant"] in ("block", "inline") and card["id"] != put_back["id"]
    assert driving.read_bytes() == before  # planned: an editor approves recovered repairs
