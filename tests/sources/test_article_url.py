"""The article's public URL (what recovery looks up in web archives): the page's canonical link or
og:url, a files source's url_template, a sql source's url_column; stored on the article."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, insert, select
from support.archive_cli import run_archive

from archiver.config import ScanSettings, SourceSettings
from archiver.sources.sql import SqlStore
from archiver.sources.urls import url_from_template, url_in_page
from archiver.storage import db
from archiver.storage.models import Article


def test_canonical_wins_over_og_url_and_only_absolute_urls_count() -> None:
    both = (
        '<head><meta property="og:url" content="https://site.example/og/">'
        '<link href="https://site.example/a/?x=1&amp;y=2" rel="canonical"></head>'
    )
    assert url_in_page(both) == "https://site.example/a/?x=1&y=2"
    assert (
        url_in_page('<meta property="og:url" content="https://site.example/og/">')
        == "https://site.example/og/"
    )
    assert url_in_page('<link rel="canonical" href="/relative/">') is None
    assert url_in_page("<p>no head at all</p>") is None


@pytest.mark.parametrize(
    ("template", "path", "url"),
    [
        ("https://site.example/{path}", "2020/05/a.html", "https://site.example/2020/05/a.html"),
        ("https://site.example/{path_noext}/", "2020/05/a.html", "https://site.example/2020/05/a/"),
        ("https://site.example/{path}", "2020/05/index.html", "https://site.example/2020/05/"),
        ("https://site.example/{path}", "index.html", "https://site.example/"),
        ("https://site.example/{path}", "a b.html", "https://site.example/a%20b.html"),
    ],
)
def test_url_template(template: str, path: str, url: str) -> None:
    assert url_from_template(template, PurePosixPath(path)) == url


def test_files_source_stores_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "site" / "2020").mkdir(parents=True)
    (tmp_path / "site" / "2020" / "plain.html").write_text("<p>Text.</p>", encoding="utf-8")
    (tmp_path / "site" / "2020" / "own.html").write_text(
        '<head><link rel="canonical" href="https://news.example/own-story/"></head><p>Text.</p>',
        encoding="utf-8",
    )
    (tmp_path / "archiver.toml").write_text(
        '[[sources]]\nname = "site"\nkind = "files"\npath = "site"\n'
        'url_template = "https://news.example/{path_noext}/"\n',
        encoding="utf-8",
    )
    result = run_archive(monkeypatch, capsys, "scan", "site")
    assert result.code == 0, result.err
    engine = db.make_engine("sqlite:///archive.db")
    with engine.connect() as connection:
        urls = {
            Path(k).relative_to(tmp_path).as_posix(): u
            for k, u in connection.execute(select(Article.key, Article.url))
        }
    engine.dispose()
    assert urls == {
        "site/2020/own.html": "https://news.example/own-story/",
        "site/2020/plain.html": "https://news.example/2020/plain/",
    }


def test_sql_source_reads_the_url_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cms.db'}"
    engine = create_engine(url)
    table = Table(
        "articles",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("body", Text),
        Column("link", String(200)),
    )
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(table), [{"id": 1, "body": "<p>x</p>", "link": "https://cms.example/1"}])
    engine.dispose()
    settings = SourceSettings(
        name="cms",
        kind="sql",
        url=url,
        table="articles",
        key_column="id",
        body_column="body",
        url_column="link",
    )
    store = SqlStore(settings, ScanSettings(), {})
    assert store.read("1").url == "https://cms.example/1"
    missing = SourceSettings(**{**settings.model_dump(), "url_column": "nope"})
    with pytest.raises(Exception, match="nope"):
        SqlStore(missing, ScanSettings(), {}).read("1")
