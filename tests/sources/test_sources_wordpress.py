"""The `wordpress` source (issue 16) against a real WordPress from Debian's packages: posts made in the
classic and the block editor are scanned through the REST API, their embeds captured from a loopback
provider and found broken on a simulated clock, rewritten through the API (a new WordPress revision,
every byte outside the embeds kept) and restored exactly; an editor's save is never overwritten; a
site that refuses or fails is one line, and nothing is lost.

The site is started once per test session (about 15 s; the `site` fixture in tests/sources/conftest.py);
the tests are marked `wordpress` and skip, saying which packages are missing, where Debian's are not
installed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archiver.config import ScanSettings, SourceSettings
from archiver.errors import ArticleError, WriteConflict
from archiver.http import HttpClient
from archiver.pipeline import rewrite
from archiver.sources.wordpress import WordPressStore
from archiver.storage import queries
from archiver.storage.models import Article, Rewrite, Source
from tests.support.archive_cli import run_archive
from tests.support.wordpress_site import WordPressSite
from tests.support.wordpress_world import BLOCK, CLASSIC, INSTAGRAM, PASSWORD_ENV, World, source_table, world

pytestmark = pytest.mark.wordpress


def rows(w: World) -> tuple[list[tuple[str, str | None, str | None]], list[tuple[int, str]]]:
    """Every article (key, hash, url) and every journal row (id, state) of the archive."""
    with w.app.sessions() as session:
        articles = [
            (a.key, a.content_sha256, a.url) for a in session.scalars(select(Article).order_by(Article.id))
        ]
        journal = [(r.id, r.state) for r in session.scalars(select(Rewrite).order_by(Rewrite.id))]
    return articles, journal


def outside_spans(data: bytes, spans: list[tuple[int, int]]) -> list[bytes]:
    """The bytes between the given spans (sorted), in order."""
    pieces, at = [], 0
    for start, end in sorted(spans):
        pieces.append(data[at:start])
        at = end
    return [*pieces, data[at:]]


def test_posts_are_scanned_captured_found_broken_rewritten_through_the_api_and_restored_exactly(
    site: WordPressSite, tmp_path: Path
) -> None:
    classic = site.create_post(CLASSIC, title="Classic editor")
    block = site.create_post(BLOCK, title="Block editor")
    page = site.create_post(f"<p>A page.</p>\n\n{INSTAGRAM}\n", title="A page", post_type="page")
    originals = {post: site.content_raw(post) for post in (classic, block, page)}
    assert originals[classic] == CLASSIC and originals[block] == BLOCK  # stored as written
    with world(tmp_path, site) as w:
        reports = {r.article: r for r in w.scan()}
        keys = {post: f"wordpress:blog#{post}" for post in originals}
        expected = [
            ("instagram", "CZIALixI8FH"),
            ("twitter", "702136612822634496"),
            ("youtube", "hMDQpHehAzw"),
        ]
        assert [(e.provider, e.post_id) for e in reports[keys[classic]].embeds] == expected
        assert {e.markup.value for e in reports[keys[classic]].embeds} == {"bare-url"}
        assert [(e.provider, e.post_id) for e in reports[keys[block]].embeds] == expected
        assert {e.markup.value for e in reports[keys[block]].embeds} == {"block-comment"}
        assert [(e.provider, e.post_id) for e in reports[keys[page]].embeds] == expected[:1]
        articles, _ = rows(w)
        links = {key: url for key, _, url in articles}
        assert links[keys[classic]] == site.permalink(classic) and "/classic-editor/" in site.permalink(
            classic
        )
        assert links[keys[page]] == site.permalink(page) == f"{site.url}/a-page/"

        w.capture()
        assert set(w.states().values()) == {"live"}
        w.break_everything()
        assert set(w.states().values()) == {"broken"}

        revisions = {post: site.revisions(post) for post in originals}
        deps = rewrite.RewriteDeps.from_settings(w.app.settings, w.clock, env=w.app.env, http=w.app.http)
        report = rewrite.run(w.app.sessions, deps)
        ours = {a.plan.key: a.status for a in report.articles if a.plan.key in keys.values()}
        assert ours == {key: "applied" for key in keys.values()}
        with w.app.sessions() as session:
            journal = list(session.scalars(select(Rewrite).join(Article).order_by(Rewrite.id)))
            by_article = {
                key: [r for r in journal if r.article.key == key and r.state == "applied"]
                for key in keys.values()
            }
        for post, before in originals.items():
            after = site.content_raw(post)
            assert after != before and "data-archiver-embed=" in after
            assert site.revisions(post) > revisions[post]  # WordPress stored a revision of the rewrite
            applied = by_article[keys[post]]
            old = before.encode()
            new = after.encode()
            assert outside_spans(old, [(r.span_start, r.span_end) for r in applied]) == outside_spans(
                new, [(r.card_start, r.card_start + len(r.replacement_bytes or b"")) for r in applied]
            )
        # The block comments the rewrite did not replace are all there, byte for byte.
        rewritten_block = site.content_raw(block)
        for comment in (
            "<!-- wp:paragraph -->",
            '<!-- wp:paragraph {"className":"note"} -->',
            "<!-- wp:separator -->",
        ):
            assert rewritten_block.count(comment) == BLOCK.count(comment)
        assert site.content_raw(classic).count("\r\n") >= 6  # Windows line ends kept

        # A rescan sees the cards; a second run changes nothing.
        assert {a.status for a in rewrite.run(w.app.sessions, deps).articles} <= {"unchanged"}

        with w.app.sessions() as session:
            ids = {a.key: a.id for a in session.scalars(select(Article))}
        for post in originals:
            result = rewrite.restore_article(w.app.sessions, deps, ids[keys[post]], by="editor")
            assert result.error is None
            assert site.content_raw(post) == originals[post]  # every byte back


def test_the_scan_is_incremental_from_the_stored_cursor_and_full_on_request(
    site: WordPressSite, tmp_path: Path
) -> None:
    post = site.create_post(f"<p>Incremental.</p>\n\n{INSTAGRAM}\n", title="Incremental")
    key = f"wordpress:blog#{post}"
    site.age_posts()
    with world(tmp_path, site) as w:
        first = w.scan()
        assert key in {r.article for r in first}
        with w.app.sessions() as session:
            cursor = session.scalars(select(Source.scan_cursor).where(Source.name == "blog")).one()
        assert cursor is not None
        assert w.scan() == []  # nothing was modified since: nothing is listed
        site.edit_post(post, f"<p>Incremental, edited.</p>\n\n{INSTAGRAM}\n")
        again = w.scan()
        assert [(r.article, r.status.value) for r in again] == [(key, "changed")]
        full = w.scan(full=True)
        assert len(full) == len(first) and {r.status.value for r in full} == {"unchanged"}


def test_a_post_edited_in_wordpress_between_planning_and_writing_is_never_overwritten(
    site: WordPressSite, tmp_path: Path
) -> None:
    post = site.create_post(BLOCK, title="Edited while planned")
    key = f"wordpress:blog#{post}"
    source = SourceSettings(**source_table(site))
    with world(tmp_path, site, mode="approve") as w:
        store = WordPressStore(source, ScanSettings(), HttpClient(w.app.settings.http, w.clock), w.app.env)
        article = store.read(key)
        assert article.data == BLOCK.encode() and article.url == site.permalink(post)
        edited = BLOCK.replace("Between.", "Between, corrected by an editor.")
        site.edit_post(post, edited)
        with pytest.raises(WriteConflict, match=f"{key}: changed in WordPress since it was read; nothing"):
            store.write(key, b"<p>the archiver's version</p>", article.sha256)
        assert site.content_raw(post) == edited

        # Through the rewrite stage: planned on the old text, approved, then the editor saves again.
        w.scan()
        w.capture()
        w.break_everything()
        deps = rewrite.RewriteDeps.from_settings(w.app.settings, w.clock, env=w.app.env, http=w.app.http)
        planned = rewrite.run(w.app.sessions, deps)
        assert [a.status for a in planned.articles if a.plan.key == key] == ["planned"]
        with w.app.sessions() as session:
            row_ids = [r.id for r in session.scalars(select(Rewrite).join(Article).where(Article.key == key))]
        with w.app.sessions() as session, session.begin():
            rewrite.approve(session, row_ids, "editor", w.clock.now())
        final = edited.replace("Block post", "Block post, saved again")
        site.edit_post(post, final)
        applied = rewrite.run(w.app.sessions, deps)
        assert [a.status for a in applied.articles if a.plan.key == key] == ["applied"]
        now = site.content_raw(post)
        assert "Block post, saved again" in now and "corrected by an editor" in now  # nothing lost
        assert now.count("data-archiver-embed=") == 3


def _archive(tmp_path: Path, site: WordPressSite, monkeypatch: pytest.MonkeyPatch, w: World) -> None:
    """The CLI pointed at the world's archive and site."""
    settings = w.app.settings
    (tmp_path / "archiver.toml").write_text(
        f"""
[database]
url = "{settings.database.url}"
[media]
dir = "{settings.media.dir}"
download = false
[http]
allow_networks = ["127.0.0.0/8"]
read_timeout = 5.0
deadline = 10.0
[[sources]]
name = "blog"
kind = "wordpress"
url = "{site.url}"
user = "{site.editor.login}"
password_env = "{PASSWORD_ENV}"
rate = "1000/s"
mode = "apply"
"""
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(PASSWORD_ENV, site.editor.password)


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_a_site_that_refuses_or_fails_is_one_line_and_nothing_is_lost(
    site: WordPressSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    post = site.create_post(CLASSIC, title="Errors")
    key = f"wordpress:blog#{post}"
    with world(tmp_path, site, mode="approve") as w:
        w.scan(full=True)
        w.capture()
        w.break_everything()
        deps = rewrite.RewriteDeps.from_settings(w.app.settings, w.clock, env=w.app.env, http=w.app.http)
        rewrite.run(w.app.sessions, deps)
        before = rows(w)
        assert before[1], "rewrites are planned"
        _archive(tmp_path, site, monkeypatch, w)
        monkeypatch.setenv("ARCHIVER_NOW", w.clock.now().isoformat())  # the CLI on the world's clock

        def scan_fails(*words: str) -> str:
            result = run_archive(monkeypatch, capsys, "scan", "blog", "--full")
            assert result.code != 0
            line = _one_line(result.err)
            for word in words:
                assert word in line, line
            assert rows(w) == before
            return line

        def read_fails(*words: str) -> None:
            store = WordPressStore(
                SourceSettings(**source_table(site)),
                ScanSettings(),
                HttpClient(w.app.settings.http, w.clock),
                {PASSWORD_ENV: site.editor.password},
            )
            with pytest.raises(ArticleError) as caught:
                store.read(key)
            assert "\n" not in str(caught.value)
            for word in words:
                assert word in str(caught.value), caught.value

        site.revoke_passwords()
        try:
            scan_fails("401", "application password", PASSWORD_ENV)
            read_fails("401")
        finally:
            site.new_password()
            monkeypatch.setenv(PASSWORD_ENV, site.editor.password)
        site.set_role("subscriber")
        try:
            scan_fails("403", "edit_posts")
            read_fails("403", "edit_posts")
        finally:
            site.set_role("editor")
        site.fault(True)
        try:
            scan_fails("HTTP 500", "server error")
        finally:
            site.fault(False)
        site.stop_server()
        try:
            scan_fails("cannot connect")
        finally:
            site.start_server()
        site.maintenance(True)
        try:
            scan_fails("503", "maintenance")
        finally:
            site.maintenance(False)
        # WordPress asked for ten minutes (Retry-After: 600): every process waits them out, asking nothing.
        scan_fails("backing off 127.0.0.1", "503 with Retry-After 600")
        w.clock.advance(timedelta(minutes=11))
        monkeypatch.setenv("ARCHIVER_NOW", w.clock.now().isoformat())
        assert run_archive(monkeypatch, capsys, "scan", "blog", "--full").code == 0

        # Approved rewrites of a post deleted in WordPress: one line, the journal rows kept.
        with w.app.sessions() as session:
            row_ids = [r.id for r in session.scalars(select(Rewrite))]
        with w.app.sessions() as session, session.begin():
            rewrite.approve(session, row_ids, "editor", w.clock.now())
        site.delete_post(post)
        deps = rewrite.RewriteDeps.from_settings(
            w.app.settings, w.clock, env={PASSWORD_ENV: site.editor.password}, http=w.app.http
        )
        with w.app.sessions() as session:
            article_id = session.scalars(select(Article.id).where(Article.key == key)).one()
        result = rewrite.apply_article(w.app.sessions, deps, article_id)
        assert result.status == "error" and "deleted" in (result.error or ""), result
        with w.app.sessions() as session:
            states = {r.state for r in session.scalars(select(Rewrite))}
            assert session.scalar(select(func.count()).select_from(Rewrite)) == len(row_ids)
        assert states == {"approved"}


def test_archive_scan_rewrite_and_restore_work_on_a_wordpress_source(
    site: WordPressSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    post = site.create_post(BLOCK, title="Through the command line")
    key = f"wordpress:blog#{post}"
    with world(tmp_path, site) as w:
        _archive(tmp_path, site, monkeypatch, w)
        monkeypatch.setenv("ARCHIVER_NOW", w.clock.now().isoformat())  # the CLI on the world's clock
        scanned = run_archive(monkeypatch, capsys, "scan", "blog", "--full", "--json")
        assert scanned.code == 0, scanned.err
        mine = [line for line in scanned.lines() if line["article"] == key]
        assert [e["provider"] for e in mine[0]["embeds"]] == ["instagram", "twitter", "youtube"]  # type: ignore[index]
        w.capture()
        w.break_everything()
        monkeypatch.setenv("ARCHIVER_NOW", w.clock.now().isoformat())
        rewritten = run_archive(monkeypatch, capsys, "rewrite", "--source", "blog", "--json")
        assert rewritten.code == 0, rewritten.err
        assert [line["status"] for line in rewritten.lines() if line.get("article") == key] == ["applied"]
        assert site.content_raw(post).count("data-archiver-embed=") == 3
        restored = run_archive(monkeypatch, capsys, "restore", key, "--by", "editor")
        assert restored.code == 0, restored.err
        assert site.content_raw(post) == BLOCK


def test_a_dry_run_lists_every_post_says_so_and_opens_no_database(
    site: WordPressSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    post = site.create_post(f"<p>Dry run.</p>\n\n{INSTAGRAM}\n", title="Dry run")
    key = f"wordpress:blog#{post}"
    said = "blog: a dry run lists every post (the scan cursor is not read or moved)"
    with world(tmp_path, site) as w:
        _archive(tmp_path, site, monkeypatch, w)
        database = tmp_path / "archive.db"
        dry = run_archive(monkeypatch, capsys, "scan", "blog", "--dry-run", "--json")
        assert dry.code == 0 and _one_line(dry.err) == said
        found = {line["article"]: line for line in dry.lines()}
        assert [e["provider"] for e in found[key]["embeds"]] == ["instagram"]  # type: ignore[index]
        assert not database.exists()  # a dry run opens no database

        w.scan()
        with w.app.sessions() as session, session.begin():
            assert session.scalars(select(Source).where(Source.name == "blog")).one().scan_cursor
            stored = "2030-01-01T00:00:00+00:00"  # an incremental scan would list nothing; no scan writes it
            queries.set_scan_cursor(session, "blog", "wordpress", stored, w.clock.now())
        dry = run_archive(monkeypatch, capsys, "scan", "blog", "--dry-run")
        assert dry.code == 0 and said in dry.err
        again = run_archive(monkeypatch, capsys, "scan", "blog", "--dry-run", "--json")
        assert key in {line["article"] for line in again.lines()}  # the cursor was not read
        with w.app.sessions() as session:
            assert session.scalars(select(Source.scan_cursor).where(Source.name == "blog")).one() == stored
