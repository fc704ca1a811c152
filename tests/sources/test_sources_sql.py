"""The `sql` source (issue 6): articles as rows of a CMS table, scanned, rewritten with a compare-and-swap
on the version column (or on the whole body), restored byte for byte. The CMS table lives in a SQLite
file or, with ARCHIVER_TEST_POSTGRES_URL, in a PostgreSQL database; the archive's own database is SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from support.archive_cli import run_archive

from archiver.clock import FixedClock
from archiver.config import ScanSettings, Settings, SourceSettings
from archiver.errors import ArchiverError, ConfigError, WriteConflict
from archiver.pipeline import rewrite
from archiver.pipeline.scan import articles as article_stage
from archiver.pipeline.scan import scan_article
from archiver.providers import PROVIDERS
from archiver.records import Article as ArticleRecord
from archiver.sources.files import decode_html
from archiver.sources.sql import SqlStore
from archiver.storage import db
from archiver.storage.blobs import LocalBlobStore
from archiver.storage.models import Article, Embed, Rewrite
from archiver.storage.queries import save_media
from tests.support.rewrite_world import NOW, PNG, add_snapshot, corpus_pages

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def pages() -> list[Path]:
    """Sample articles and corpus pages that embed posts, some with Windows line ends and non-ASCII."""
    return [*sorted(SAMPLES.glob("*.html")), *corpus_pages()[:6]]


def page_text(path: Path) -> str:
    return decode_html(path.read_bytes())[0]


@dataclass
class Cms:
    engine: Engine
    table: Table
    url: str

    def bodies(self) -> dict[int, Any]:
        with self.engine.connect() as connection:
            return {row[0]: row[1] for row in connection.execute(select(self.table.c.id, self.table.c.body))}

    def versions(self) -> dict[int, Any]:
        with self.engine.connect() as connection:
            return {row[0]: row[1] for row in connection.execute(select(self.table.c.id, self.table.c.rev))}

    def edit(self, key: int, body: Any, **more: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(self.table).where(self.table.c.id == key).values(body=body, **more))


@pytest.fixture
def cms(db_url: str) -> Iterator[Cms]:
    """A CMS table `cms_articles` (id, body text, rev integer, status) in the test database."""
    engine = create_engine(db_url)
    table = Table(
        "cms_articles",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("body", Text),
        Column("rev", Integer, nullable=False),
        Column("status", String(16), nullable=False),
    )
    table.create(engine)
    rows = [
        {"id": 100 + i, "body": page_text(path), "rev": 1, "status": "publish"}
        for i, path in enumerate(pages())
    ]
    rows.append({"id": 999, "body": page_text(pages()[0]), "rev": 1, "status": "draft"})
    with engine.begin() as connection:
        connection.execute(table.insert(), rows)
    try:
        yield Cms(engine, table, db_url)
    finally:
        engine.dispose()


def source(cms_url: str, **more: Any) -> dict[str, Any]:
    return {
        "name": "cms",
        "kind": "sql",
        "url": cms_url,
        "table": "cms_articles",
        "key_column": "id",
        "body_column": "body",
        "version_column": "rev",
        "where": "status = 'publish'",
        "mode": "apply",
        **more,
    }


def settings_for(tmp_path: Path, cms_source: dict[str, Any]) -> Settings:
    return Settings(
        database={"url": f"sqlite:///{tmp_path / 'archive.db'}"},
        media={"dir": str(tmp_path / "media")},
        rewrite={"archive_base_url": "https://archive.example.org"},
        sources=[cms_source],
    )


def scan_cms(settings: Settings, sessions: Any, clock: FixedClock) -> list[article_stage.ArticleReport]:
    targets = article_stage.resolve_targets(["cms"], settings.sources, settings.scan, {})
    return article_stage.scan_targets(targets, settings.scan, PROVIDERS, sessions=sessions, clock=clock)


def break_all(settings: Settings, sessions: Any) -> int:
    stored = LocalBlobStore(settings.media.dir).put(PNG)
    with sessions() as session, session.begin():
        media = save_media(session, stored.sha256, "image/png", len(PNG), NOW)
        embeds = list(session.scalars(select(Embed)))
        for embed in embeds:
            embed.state = "broken"
            add_snapshot(
                session,
                embed,
                media,
                author_name="Ünïcode Author",
                handle="someone",
                text="Caption",
                published="2023-07-01T10:00:00Z",
            )
        return len(embeds)


def archive_sessions(settings: Settings) -> tuple[Engine, Any]:
    db.upgrade(settings.database.url)
    engine = db.make_engine(settings.database.url)
    return engine, db.session_factory(engine)


def test_a_sql_source_is_scanned_like_files_rewritten_in_place_and_restored_byte_for_byte(
    cms: Cms, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, source(cms.url))
    clock = FixedClock(NOW)
    engine, sessions = archive_sessions(settings)
    try:
        reports = scan_cms(settings, sessions, clock)
        # The draft is not an article (`where`); every published row is, found as the files would be.
        assert sorted(r.article for r in reports) == sorted(
            f"cms_articles#{100 + i}" for i in range(len(pages()))
        )
        for i, path in enumerate(pages()):
            report = next(r for r in reports if r.article == f"cms_articles#{100 + i}")
            text = page_text(path)
            as_file = scan_article(
                ArticleRecord(str(path), "x", text.encode(), text, "utf-8", ""), PROVIDERS
            ).embeds
            assert [(e.provider, e.post_id) for e in report.embeds] == [
                (e.provider, e.post_id) for e in as_file
            ]
        assert sum(len(r.embeds) for r in reports) >= 10
        # Unchanged rows are skipped on the next scan.
        assert {r.status.value for r in scan_cms(settings, sessions, clock)} == {"unchanged"}

        broken = break_all(settings, sessions)
        before, revisions = cms.bodies(), cms.versions()
        deps = rewrite.RewriteDeps.from_settings(settings, clock)
        report = rewrite.run(sessions, deps)
        assert {a.status for a in report.articles} == {"applied"} and len(report.articles) == len(pages())
        after = cms.bodies()
        assert after[999] == before[999]  # the draft was never touched
        for key in after:
            if key != 999:
                assert after[key] != before[key] and "data-archiver-embed=" in after[key]
                assert cms.versions()[key] == revisions[key] + 1  # the CMS sees a new revision
        with sessions() as session:
            journal = list(session.scalars(select(Rewrite)))
        assert len(journal) == broken and {row.state for row in journal} == {"applied"}

        # Scanning again finds the same embeds, now archived; a second run changes nothing.
        with sessions() as session:
            session.execute(update(Article).values(content_sha256=""))  # as if never scanned
            session.commit()
        rescanned = [e for r in scan_cms(settings, sessions, clock) for e in r.embeds if not e.is_residue]
        assert len(rescanned) >= broken and {e.markup.value for e in rescanned} == {"archived"}
        assert {a.status for a in rewrite.run(sessions, deps).articles} == {"unchanged"}

        for article_id in sorted({row.article_id for row in journal}):
            assert rewrite.restore_article(sessions, deps, article_id, by="editor").error is None
        assert cms.bodies() == before  # every character back, the \r\n and the non-ASCII too
    finally:
        engine.dispose()


def test_an_editors_save_between_read_and_write_is_never_overwritten(cms: Cms, tmp_path: Path) -> None:
    store = SqlStore(SourceSettings(**source(cms.url)), ScanSettings(), {})
    try:
        article = store.read("100")
        cms.edit(100, article.text + "<p>Correction: the editor's line.</p>", rev=2)
        with pytest.raises(WriteConflict, match="changed since it was read; nothing written"):
            store.write("100", b"<p>archiver's version</p>", article.sha256)
        assert cms.bodies()[100].endswith("<p>Correction: the editor's line.</p>")
        assert cms.versions()[100] == 2
        # Written against the bytes it read now, the write goes through and bumps the revision.
        now = store.read("100")
        store.write("100", now.data.replace(b"Correction", b"Fixed"), now.sha256)
        assert "Fixed: the editor's line." in cms.bodies()[100] and cms.versions()[100] == 3
        cms.edit(100, None)
        with pytest.raises(ArchiverError, match="cms_articles#100: the body is NULL"):
            store.read("100")
        with pytest.raises(WriteConflict, match="no longer exists"):
            store.write("12345", b"x", "0" * 64)
    finally:
        store.close()


def test_without_a_version_column_the_write_compares_the_whole_body(cms: Cms, tmp_path: Path) -> None:
    store = SqlStore(SourceSettings(**source(cms.url, version_column="")), ScanSettings(), {})
    try:
        article = store.read("101")
        cms.edit(101, article.text.replace("<", "< ", 1))
        with pytest.raises(WriteConflict):
            store.write("101", b"<p>mine</p>", article.sha256)
        current = store.read("101")
        store.write("101", b"<p>mine \xc3\xa9</p>", current.sha256)
        assert cms.bodies()[101] == "<p>mine é</p>" and cms.versions()[101] == 1  # rev left to the CMS
    finally:
        store.close()


def test_a_timestamp_version_is_set_to_now_and_a_binary_body_stays_bytes(db_url: str, tmp_path: Path) -> None:
    engine = create_engine(db_url)
    table = Table(
        "blobs_cms",
        MetaData(),
        Column("slug", String(64), primary_key=True),
        Column("html", LargeBinary),
        Column("updated", DateTime(timezone=True)),
    )
    table.create(engine)
    latin = "<p>Caf\xe9 <a href='https://www.instagram.com/p/CIyNZQhH4DQ/'>post</a></p>".encode("cp1252")
    earlier = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(table.insert(), [{"slug": "a-b", "html": latin, "updated": earlier}])
    settings = SourceSettings(
        name="blobs",
        kind="sql",
        url=db_url,
        table="blobs_cms",
        key_column="slug",
        body_column="html",
        version_column="updated",
    )
    store = SqlStore(settings, ScanSettings(), {}, now=lambda: NOW)
    try:
        article = store.read("a-b")
        assert article.data == latin and article.text.startswith("<p>Café")
        store.write("a-b", article.data + b"<p>\xe9</p>", article.sha256)
        with engine.connect() as connection:
            html, updated = connection.execute(select(table.c.html, table.c.updated)).one()
        assert bytes(html) == latin + b"<p>\xe9</p>"
        assert updated.replace(tzinfo=updated.tzinfo or UTC) == NOW
    finally:
        store.close()
        engine.dispose()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"table": "nope"}, "source 'cms': no table 'nope'"),
        (
            {"body_column": "content"},
            "body_column 'content' is not a column of 'cms_articles' (columns: id, body",
        ),
        (
            {"version_column": "status"},
            "version column 'status' is neither an integer revision nor a timestamp",
        ),
        ({"url": "", "url_env": "CMS_URL"}, "source 'cms': environment variable CMS_URL is not set"),
    ],
)
def test_a_misconfigured_sql_source_is_one_readable_error(
    cms: Cms, tmp_path: Path, change: dict[str, str], message: str
) -> None:
    store = SqlStore(SourceSettings(**source(cms.url, **change)), ScanSettings(), {})
    with pytest.raises(ConfigError) as raised:
        list(store.article_keys())
    assert message in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"table": ""}, "a sql source needs table"),
        ({"url": ""}, "a sql source needs url (or url_env)"),
        ({"url": "postgresql+psycopg://cms:s3cret@db/cms"}, "url holds a password"),
    ],
)
def test_sql_source_settings_are_checked_when_loaded(change: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SourceSettings(**source("sqlite:///cms.db", **change))


def test_the_url_can_come_from_the_environment(cms: Cms) -> None:
    store = SqlStore(SourceSettings(**source("", url_env="CMS_URL")), ScanSettings(), {"CMS_URL": cms.url})
    try:
        assert len(list(store.article_keys())) == len(pages())
    finally:
        store.close()


def test_archive_scan_reads_a_sql_source_and_says_in_one_line_when_it_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cms_url = f"sqlite:///{tmp_path / 'cms.db'}"
    engine = create_engine(cms_url)
    table = Table("posts", MetaData(), Column("id", Integer, primary_key=True), Column("body", Text))
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), [{"id": 7, "body": page_text(SAMPLES / "festival-roundup.html")}])
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARCHIVER_NOW", raising=False)
    (tmp_path / "archiver.toml").write_text(
        '[database]\nurl = "sqlite:///archive.db"\n[[sources]]\nname = "cms"\nkind = "sql"\n'
        'url_env = "CMS_URL"\ntable = "posts"\nkey_column = "id"\nbody_column = "body"\n',
        encoding="utf-8",
    )
    failed = run_archive(monkeypatch, capsys, "scan", "cms", "--json")
    assert failed.code == 2 and failed.err.strip() == "source 'cms': environment variable CMS_URL is not set"
    monkeypatch.setenv("CMS_URL", cms_url)
    scanned = run_archive(monkeypatch, capsys, "scan", "cms", "--json")
    assert scanned.code == 0, scanned.err
    (line,) = scanned.lines()
    assert line["article"] == "posts#7" and line["status"] == "new"
    assert {e["provider"] for e in line["embeds"]} == {"instagram"}


def test_a_cms_database_gone_away_is_an_error_per_article_not_a_crash(cms: Cms, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, source(cms.url))
    clock = FixedClock(NOW)
    engine, sessions = archive_sessions(settings)
    try:
        scan_cms(settings, sessions, clock)
        break_all(settings, sessions)
        cms.table.drop(cms.engine)
        report = rewrite.run(sessions, rewrite.RewriteDeps.from_settings(settings, clock))
        assert len(report.articles) == len(pages()) and report.failed
        assert {a.status for a in report.articles} == {"error"}
        assert {a.error for a in report.articles} == {
            "source 'cms': no table 'cms_articles' in " + cms_shown(cms)
        }
        with sessions() as session:
            assert session.scalar(select(func.count(Rewrite.id))) == 0  # nothing journaled, nothing lost
    finally:
        engine.dispose()


def cms_shown(cms: Cms) -> str:
    return f"{make_url(cms.url).render_as_string(hide_password=True)} table cms_articles"
