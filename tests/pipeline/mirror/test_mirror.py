"""The Save Page Now mirror (issue 15, point 5), end to end through `archive run` and `archive mirror`
against a loopback Instagram and a loopback Save Page Now (`support.fake_spn`): a post's first capture
queues it (and asks nothing), later runs ask for it and poll its job; a success records the copy,
refusals are kept with a readable reason, "later" answers are never lost nor a failure of the capture,
hostile answers leave one readable line and nothing of themselves; without keys the capture goes on
and the command refuses; switched off, nothing is asked at all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from support.archive_cli import Result, run_archive
from support.fake_server import Canned, FakeServer
from support.fake_spn import TIMESTAMP, FakeSpn, answer, error, success
from support.instagram_world import serve_instagram, toml_for

from archiver.app import App
from archiver.clock import FixedClock
from archiver.config import RewriteSettings, load_settings
from archiver.daemon import Daemon
from archiver.pipeline.rewrite.fallback import CardRenderer, card_data
from archiver.pipeline.scan import scan_article
from archiver.records import Article as ArticleRecord
from archiver.records import MarkupKind
from archiver.storage.models import Embed, Mirror
from archiver.web import create_app
from archiver.web.public import version_path

POST = "https://www.instagram.com/p/B9bOM-6Ax_d/"
START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ACCESS = "accessKEY-4f1d2c9a"
SECRET = "secretKEY-7b3e8d0f6a21"
ARTICLE = f"""<!doctype html><html><head><title>Festival</title></head><body>
<p>The crowd was huge.</p>
<blockquote class="instagram-media" data-instgrm-permalink="{POST}" data-instgrm-version="14">
<a href="{POST}">A post shared by Festival (@festival)</a></blockquote>
<p>More next year.</p>
</body></html>
"""


@dataclass
class World:
    tmp_path: Path
    spn: FakeSpn
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    database: str | None = None  # None: the SQLite file of the config

    def archive(self, *args: str) -> Result:
        return run_archive(self.monkeypatch, self.capsys, *args)

    def mirror(self) -> tuple[Result, dict[str, object]]:
        result = self.archive("mirror", "--json")
        return result, json.loads(result.out) if result.out.strip() else {}

    def at(self, instant: datetime) -> None:
        self.monkeypatch.setenv("ARCHIVER_NOW", instant.isoformat())

    def row(self) -> Mirror | None:
        env = {"ARCHIVER_DATABASE__URL": self.database} if self.database else {}
        settings = load_settings(self.tmp_path / "archiver.toml", env)
        app = App(settings, FixedClock(START), env)
        try:
            with app.sessions() as session:
                found = session.scalars(select(Mirror)).all()
                assert len(found) <= 1
                if found:
                    session.expunge(found[0])
                return found[0] if found else None
        finally:
            app.close()


def write_world(tmp_path: Path, instagram: FakeServer, spn: FakeSpn, mirror: str) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "festival.html").write_text(ARTICLE, encoding="utf-8")
    config = toml_for(instagram, tmp_path) + mirror.replace("BASE", spn.base)
    (tmp_path / "archiver.toml").write_text(config, encoding="utf-8")


ON = '\n[mirror]\nenabled = true\nbase = "BASE"\nrate = "60/m"\n'


@pytest.fixture
def spn_server() -> Iterator[FakeServer]:
    with FakeServer(host="127.0.0.2") as server:  # a host of its own: its own backoffs
        yield server


@pytest.fixture
def world(
    fake_server: FakeServer,
    spn_server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> World:
    return make_world(fake_server, spn_server, tmp_path, monkeypatch, capsys)


@pytest.fixture
def any_world(
    fake_server: FakeServer,
    spn_server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db_url: str,
) -> World:
    """The world on SQLite and on PostgreSQL."""
    monkeypatch.setenv("ARCHIVER_DATABASE__URL", db_url)
    return make_world(fake_server, spn_server, tmp_path, monkeypatch, capsys, db_url)


def make_world(
    fake_server: FakeServer,
    spn_server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database: str | None = None,
) -> World:
    serve_instagram(fake_server)
    spn = FakeSpn(spn_server)
    write_world(tmp_path, fake_server, spn, ON)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEST_META_TOKEN", "metaTOKEN-0000")
    monkeypatch.setenv("ARCHIVER_SPN_ACCESS_KEY", ACCESS)
    monkeypatch.setenv("ARCHIVER_SPN_SECRET_KEY", SECRET)
    built = World(tmp_path, spn, monkeypatch, capsys, database)
    built.at(START)
    return built


def captured(world: World) -> None:
    """`archive run` over the article: the post captured, and nothing asked of Save Page Now."""
    result = world.archive("run", "articles")
    assert result.code == 0, result.err
    assert world.spn.requests() == []
    row = world.row()
    assert row is not None and row.state == "queued" and row.url == POST


def test_the_first_capture_queues_the_post_and_later_runs_record_the_copy_save_page_now_made(
    any_world: World,
) -> None:
    world = any_world
    captured(world)

    result, report = world.mirror()
    assert result.code == 0, result.err
    assert [(i["action"], i["state"], i["job_id"]) for i in report["items"]] == [
        ("asked", "pending", "spn2-0001")
    ]
    (asked,) = world.spn.requests()
    assert asked.method == "POST" and asked.headers["authorization"] == f"LOW {ACCESS}:{SECRET}"
    assert asked.headers["accept"] == "application/json"
    assert (
        asked.body.decode() == "url=https%3A%2F%2Fwww.instagram.com%2Fp%2FB9bOM-6Ax_d%2F&skip_first_archive=1"
    )

    # The next run polls the job: still pending (Save Page Now takes its time); then it is done.
    result, report = world.mirror()
    assert result.code == 0 and [(i["action"], i["state"]) for i in report["items"]] == [
        ("polled", "pending")
    ]
    world.at(START + timedelta(minutes=2))
    result, report = world.mirror()
    assert result.code == 0, result.err
    (item,) = report["items"]
    copy = f"{world.spn.base}/web/{TIMESTAMP}/{POST}"
    assert (item["state"], item["memento_url"], item["memento_datetime"]) == (
        "archived",
        copy,
        "2026-11-20T12:05:00+00:00",
    )
    status = world.spn.requests("/save/status/")
    assert [r.path for r in status] == ["/save/status/spn2-0001"] * 2
    assert all(r.headers["authorization"] == f"LOW {ACCESS}:{SECRET}" for r in status)
    row = world.row()
    assert row is not None and row.memento_datetime == datetime(2026, 11, 20, 12, 5, tzinfo=UTC)

    # Done: nothing more is asked, and a recapture is no first capture.
    before = len(world.spn.requests())
    assert world.mirror()[0].code == 0
    assert world.archive("fetch", "--refresh").code == 0
    assert world.mirror()[0].code == 0
    assert len(world.spn.requests()) == before
    listed = json.loads(world.archive("mirror", "--list", "--json").out)
    assert [(r["state"], r["memento_url"]) for r in listed] == [("archived", copy)]


def test_a_refusal_is_kept_with_its_status_ext_and_a_readable_reason(world: World) -> None:
    captured(world)
    world.spn.save_answers.append(answer({"url": POST, "job_id": "spn2-gone"}))
    world.spn.job("spn2-gone", error("spn2-gone", "error:not-found", "Server returned 404 Not Found"))
    assert world.mirror()[0].code == 0
    result, report = world.mirror()
    assert result.code == 0
    (item,) = report["items"]
    assert item["state"] == "failed"
    assert item["reason"] == (
        "Save Page Now job: error:not-found (the page was not found (404); Server returned 404 Not Found)"
    )
    row = world.row()
    assert row is not None and (row.state, row.status_ext, row.memento_url) == (
        "failed",
        "error:not-found",
        None,
    )
    before = len(world.spn.requests())
    world.at(START + timedelta(days=3))
    assert world.mirror()[0].code == 0 and len(world.spn.requests()) == before  # refused for good


def test_429_and_the_daily_limit_mean_later_and_a_later_run_finishes(any_world: World) -> None:
    world = any_world
    captured(world)
    world.spn.save_answers.append(
        Canned(429, {"Retry-After": "120", "Content-Type": "text/html"}, b"<h1>Slow</h1>")
    )
    result, report = world.mirror()
    assert (
        result.code == 1 and report["waiting"] == "Save Page Now capture request: HTTP 429 (Retry-After 120)"
    )
    row = world.row()
    assert row is not None and row.state == "queued" and row.next_try_at == START + timedelta(minutes=5)
    # Asked again before its time (the clock is pinned): nothing goes out.
    assert world.mirror()[0].code == 0 and len(world.spn.requests()) == 1

    world.at(START + timedelta(minutes=6))
    world.spn.save_answers.append(
        error(None, "error:too-many-daily-captures", "You have reached your daily limit")
    )
    result, report = world.mirror()
    assert result.code == 1 and "error:too-many-daily-captures" in str(report["waiting"])
    row = world.row()
    assert row is not None and row.state == "queued" and row.next_try_at == START + timedelta(minutes=66)

    world.at(START + timedelta(hours=2))
    for _ in range(3):
        result, report = world.mirror()
        assert result.code == 0, result.err
    row = world.row()
    assert row is not None and row.state == "archived" and row.memento_url is not None
    assert world.spn.asked_urls() == [POST, POST, POST]


@pytest.mark.parametrize(
    "trouble",
    [
        Canned(503, {"Content-Type": "text/html"}, b"<h1>Down for maintenance</h1>"),
        Canned(200, {"Content-Type": "application/json"}, b'{"status": "pending"}', delay=3.0),
    ],
    ids=["5xx", "timeout"],
)
def test_5xx_and_timeouts_on_a_poll_keep_the_job_for_a_later_run(world: World, trouble: Canned) -> None:
    captured(world)
    world.spn.save_answers.append(answer({"url": POST, "job_id": "spn2-slow"}))
    world.spn.job("spn2-slow", trouble, success("spn2-slow", POST))
    assert world.mirror()[0].code == 0
    result, report = world.mirror()
    assert result.code == 1
    assert "Save Page Now job status" in str(report["waiting"])
    row = world.row()
    assert (
        row is not None
        and (row.state, row.job_id) == ("pending", "spn2-slow")
        and row.next_try_at is not None
    )
    world.at(START + timedelta(hours=1))
    result, report = world.mirror()
    assert result.code == 0 and report["items"][0]["state"] == "archived"


HOSTILE = {
    "not JSON": Canned(200, {"Content-Type": "text/html"}, b"<html><script>alert(1)</script></html>"),
    "a JSON list": answer(["job_id", "spn2-x"]),
    "a hostile job id": answer({"url": POST, "job_id": "<script>alert(1)</script>"}),
    "deep nesting": Canned(200, {"Content-Type": "application/json"}, b"[" * 20_000 + b"]" * 20_000),
    "an error without a code": answer({"status": "error", "status_ext": "<b>x</b>", "message": "<b>x</b>"}),
}


@pytest.mark.parametrize("body", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_hostile_answer_is_one_readable_line_and_nothing_of_it_is_stored(
    world: World, body: Canned
) -> None:
    captured(world)
    world.spn.save_answers.append(body)
    result, report = world.mirror()
    assert result.code == 1
    waiting = str(report["waiting"])
    assert waiting.startswith("Save Page Now capture request:") and "\n" not in waiting and len(waiting) < 300
    assert "<script>" not in result.out and "alert" not in result.out
    row = world.row()
    assert row is not None and (row.state, row.job_id, row.memento_url) == ("queued", None, None)
    assert "script" not in (row.reason or "") and "<b>" not in (row.reason or "")


def test_a_success_with_a_hostile_timestamp_or_url_records_no_copy(world: World) -> None:
    captured(world)
    world.spn.save_answers.append(answer({"url": POST, "job_id": "spn2-odd"}))
    world.spn.job(
        "spn2-odd",
        answer({"status": "success", "timestamp": "javascript:alert(1)", "original_url": POST}),
        answer({"status": "success", "timestamp": TIMESTAMP, "original_url": "javascript:alert(1)"}),
        success("spn2-odd", POST),
    )
    assert world.mirror()[0].code == 0
    for hour in (1, 2):
        world.at(START + timedelta(hours=hour))
        result, report = world.mirror()
        assert result.code == 1 and "nothing of it was kept" in str(report["waiting"])
        row = world.row()
        assert row is not None and (row.state, row.memento_url) == ("pending", None)
    world.at(START + timedelta(hours=3))
    assert world.mirror()[0].code == 0
    row = world.row()
    assert row is not None and row.memento_url == f"{world.spn.base}/web/{TIMESTAMP}/{POST}"


def test_without_keys_the_capture_goes_on_and_archive_mirror_refuses_in_one_line(world: World) -> None:
    world.monkeypatch.delenv("ARCHIVER_SPN_SECRET_KEY")
    said = (
        "[mirror] is enabled but ARCHIVER_SPN_SECRET_KEY is not set: Save Page Now needs the S3 keys of an "
        "archive.org account in the environment; captures go on and queue their posts, which are asked "
        "once the keys are there"
    )
    result = world.archive("run", "articles", "--json")
    assert result.code == 0 and result.err.strip().splitlines() == [f"warning: {said}"]
    row = world.row()
    assert row is not None and row.state == "queued"  # asked once the keys are there
    result = world.archive("mirror")
    assert result.code == 2 and result.out == ""
    assert result.err.strip().splitlines() == [said]
    assert world.spn.requests() == []
    world.monkeypatch.setenv("ARCHIVER_SPN_SECRET_KEY", SECRET)
    assert world.mirror()[0].code == 0 and world.spn.asked_urls() == [POST]


def test_switched_off_nothing_is_queued_or_asked(world: World) -> None:
    config = (world.tmp_path / "archiver.toml").read_text(encoding="utf-8")
    (world.tmp_path / "archiver.toml").write_text(
        config.replace("enabled = true", "enabled = false"), "utf-8"
    )
    assert world.archive("run", "articles").code == 0
    result = world.archive("mirror")
    assert result.code == 2 and "[mirror] enabled = false" in result.err
    assert world.row() is None and world.spn.requests() == []
    settings = load_settings(world.tmp_path / "archiver.toml", {})
    app = App(
        settings, FixedClock(START), {"ARCHIVER_SPN_ACCESS_KEY": ACCESS, "ARCHIVER_SPN_SECRET_KEY": SECRET}
    )
    try:
        daemon = Daemon(app, "off")
        daemon._job("mirror", daemon._mirror)
        assert daemon.jobs["mirror"].last_summary == {"note": "[mirror] enabled = false"}
    finally:
        app.close()
    assert world.spn.requests() == []


def test_the_daemons_mirror_job_asks_and_polls_and_says_once_when_keys_are_missing(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    captured(world)
    settings = load_settings(world.tmp_path / "archiver.toml", {})
    env = {"ARCHIVER_SPN_ACCESS_KEY": ACCESS, "ARCHIVER_SPN_SECRET_KEY": SECRET}
    app = App(settings, FixedClock(START), env)
    try:
        daemon = Daemon(app, "me")
        daemon._job("mirror", daemon._mirror)
        assert daemon.jobs["mirror"].last_summary == {"requests": 1, "pending": 1}
    finally:
        app.close()

    caplog.set_level("INFO", logger="archiver.daemon")
    app = App(settings, FixedClock(START + timedelta(hours=1)), {"ARCHIVER_SPN_ACCESS_KEY": ACCESS})
    try:
        daemon = Daemon(app, "me")
        daemon.build()
        daemon._job("mirror", daemon._mirror)
        assert daemon.jobs["mirror"].last_result == "ok"
        assert "no Save Page Now keys" in str(daemon.jobs["mirror"].last_summary["note"])
    finally:
        app.close()
    said = [r.getMessage() for r in caplog.records if "Save Page Now" in r.getMessage()]
    assert said == [
        "the mirror cannot ask Save Page Now: [mirror] is enabled but ARCHIVER_SPN_SECRET_KEY is not "
        "set: Save Page Now needs the S3 keys of an archive.org account in the environment; captures go on "
        "and queue their posts, which are asked once the keys are there"
    ]
    assert len(world.spn.requests()) == 1


def test_the_card_and_the_public_page_name_the_copy_as_a_second_archived_copy(world: World) -> None:
    config = (world.tmp_path / "archiver.toml").read_text(encoding="utf-8")
    site = '\n[[sources]]\nname = "site"\nkind = "files"\npath = "articles"\nmode = "apply"\n'
    (world.tmp_path / "archiver.toml").write_text(config + site, encoding="utf-8")
    assert world.archive("run", "site").code == 0
    for _ in range(3):
        assert world.mirror()[0].code == 0
    copy = f"{world.spn.base}/web/{TIMESTAMP}/{POST}"

    settings = load_settings(world.tmp_path / "archiver.toml", {})
    app = App(settings, FixedClock(START), {"ARCHIVER_WEB_SECRET": "s" * 40})
    try:
        with app.sessions() as session, session.begin():
            (embed,) = session.scalars(select(Embed)).all()
            embed.state = "broken"  # as three gone checks over two days would leave it
        client = create_app(app).test_client()
        page = client.get(version_path("instagram", "B9bOM-6Ax_d", 1)).get_data(as_text=True)
    finally:
        app.close()
    assert (
        f'<a class="mirror" href="{copy}" rel="noopener noreferrer nofollow">Also archived at the Wayback '
        'Machine, <time datetime="2026-11-20T12:05:00+00:00">2026-11-20 12:05 UTC</time></a>'
    ) in page

    result = world.archive("rewrite", "--json")
    assert result.code == 0, result.err
    text = (world.tmp_path / "articles" / "festival.html").read_text(encoding="utf-8")
    assert (
        f'<a class="archiver-fallback__mirror" href="{copy}" rel="nofollow noopener">Also archived at the '
        'Wayback Machine, <time datetime="2026-11-20T12:05:00Z">20 November 2026</time></a>'
    ) in text
    # The card stays opaque to a later scan: the copy's link (which holds the post's URL) is no embed.
    data = text.encode()
    found = scan_article(ArticleRecord("festival.html", "site", data, text, "utf-8", ""))
    assert [(e.markup, e.post_id) for e in found.embeds] == [(MarkupKind.ARCHIVED, "B9bOM-6Ax_d")]


def test_the_inline_card_names_the_copy_too() -> None:
    card = card_data(
        provider="instagram",
        post_id="B9bOM-6Ax_d",
        url=POST,
        version=1,
        captured_at=START,
        settings=RewriteSettings(),
        mirror_url=f"https://web.archive.org/web/{TIMESTAMP}/{POST}",
        mirror_datetime=datetime(2026, 11, 20, 12, 5, tzinfo=UTC),
    )
    inline = CardRenderer().render(card, "inline")
    assert (
        f'<a class="archiver-fallback__mirror" href="https://web.archive.org/web/{TIMESTAMP}/{POST}" '
        'rel="nofollow noopener">also archived at the Wayback Machine, '
        '<time datetime="2026-11-20T12:05:00Z">20 November 2026</time></a>'
    ) in inline
    # A copy that is no http(s) URL is never linked.
    odd = card_data(
        provider="instagram",
        post_id="B9bOM-6Ax_d",
        url=POST,
        version=1,
        captured_at=START,
        settings=RewriteSettings(),
        mirror_url="javascript:alert(1)",
        mirror_datetime=START,
    )
    assert "archiver-fallback__mirror" not in CardRenderer().render(odd, "block")


def test_if_not_archived_within_is_sent_and_the_tables_read_well(world: World) -> None:
    config = (world.tmp_path / "archiver.toml").read_text(encoding="utf-8")
    config = config.replace('rate = "60/m"', 'rate = "60/m"\nif_not_archived_within = "30d"')
    (world.tmp_path / "archiver.toml").write_text(config, encoding="utf-8")
    captured(world)
    result = world.archive("mirror")
    assert result.code == 0, result.err
    assert "1 request(s) to Save Page Now; posts by state: 1 pending." in result.out
    (asked,) = world.spn.requests()
    assert asked.body.decode().endswith("&skip_first_archive=1&if_not_archived_within=30d")
    listed = world.archive("mirror", "--list")
    assert listed.code == 0 and "pending" in listed.out and "1 post(s) pushed to Save Page Now." in listed.out


def test_a_job_that_ended_in_a_passing_error_is_asked_for_again(world: World) -> None:
    captured(world)
    world.spn.save_answers.append(answer({"url": POST, "job_id": "spn2-busy"}))
    world.spn.job(
        "spn2-busy", error("spn2-busy", "error:service-unavailable", "Service temporarily unavailable")
    )
    assert world.mirror()[0].code == 0
    result, report = world.mirror()
    assert result.code == 1 and "error:service-unavailable" in str(report["waiting"])
    row = world.row()
    assert row is not None and (row.state, row.job_id, row.status_ext) == (
        "queued",
        None,
        "error:service-unavailable",
    )
    world.at(START + timedelta(hours=1))
    for _ in range(3):
        assert world.mirror()[0].code == 0
    row = world.row()
    assert row is not None and row.state == "archived" and row.status_ext is None
    assert world.spn.asked_urls() == [POST, POST]


def test_a_used_up_budget_asks_nothing_and_leaves_every_row_as_it_was(world: World) -> None:
    config = (world.tmp_path / "archiver.toml").read_text(encoding="utf-8")
    (world.tmp_path / "archiver.toml").write_text(config.replace('rate = "60/m"', 'rate = "1/h"'), "utf-8")
    captured(world)
    assert world.mirror()[0].code == 0  # the one request of the hour: asked
    before = world.row()
    result, report = world.mirror()
    assert result.code == 1 and report["items"] == []
    assert str(report["waiting"]).startswith("Save Page Now not asked: rate budget for mirror:spn used up")
    after = world.row()
    assert before is not None and after is not None
    assert (after.state, after.attempts, after.next_try_at, after.reason) == (
        before.state,
        before.attempts,
        before.next_try_at,
        before.reason,
    )
    assert len(world.spn.requests()) == 1


def test_an_answers_words_are_shown_as_words_never_as_markup(world: World) -> None:
    captured(world)
    world.spn.save_answers.append(error(None, "error:blocked", "Blocked [/] [bold]by[/bold] <b>robots</b>"))
    result = world.archive("mirror")
    assert result.code == 0, result.err
    listed = world.archive("mirror", "--list")
    assert listed.code == 0
    for out in (result.out, listed.out):
        assert "Blocked [/] [bold]by[/bold] <b>robots</b>" in " ".join(out.split())
