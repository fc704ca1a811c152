"""The public archive through Flask's test client: the version pages a fallback card links to, Memento
(RFC 7089: mementos, TimeMap, TimeGate), stored media, and the `[web] public` and `robots` settings."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import flask
import pytest
from sqlalchemy import select
from support.rewrite_world import NOW, PNG
from support.viewer_world import SECRET, Viewer, login

from archiver.app import App
from archiver.storage.blobs import LocalBlobStore
from archiver.storage.models import Embed, Snapshot
from archiver.storage.queries import save_media
from archiver.web import create_app
from archiver.web.memento import parse_accept_datetime
from archiver.web.public import version_path

V2_AT = NOW + timedelta(days=30)
V3_AT = NOW + timedelta(days=90)
MASTODON_ID = "mastodon.social/109876543210"
MASTODON_URL = "https://mastodon.social/@ann/109876543210"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="window.__xss=1"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><script>alert(1)</script>"
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(32)


def store(viewer: Viewer, data: bytes, mime: str) -> str:
    stored = LocalBlobStore(viewer.world.settings.media.dir).put(data)
    with viewer.world.sessions() as session, session.begin():
        save_media(session, stored.sha256, mime, len(data), NOW)
    return stored.sha256


def add_version(viewer: Viewer, post_id: str, version: int, at: datetime, caption: str) -> None:
    with viewer.world.sessions() as session, session.begin():
        embed = session.scalars(select(Embed).where(Embed.post_id == post_id)).one()
        session.add(
            Snapshot(
                embed=embed,
                version=version,
                captured_at=at,
                content_sha256=hashlib.sha256(caption.encode()).hexdigest(),
                author_name="Ann Example",
                handle="ann",
                text=caption,
                text_html=f"<p>{caption} <a href='javascript:alert(1)'>x</a><script>alert(2)</script></p>",
                provenance={"text": "embed_page", "author_name": "oembed"},
            )
        )


@pytest.fixture
def archive(viewer: Viewer) -> Viewer:
    """CODE111 in three versions (NOW, +30 days, +90 days); a live Mastodon post whose id holds '/'."""
    add_version(viewer, "CODE111", 2, V2_AT, "Second caption")
    add_version(viewer, "CODE111", 3, V3_AT, "Third caption")
    with viewer.world.sessions() as session, session.begin():
        embed = Embed(
            provider="mastodon",
            post_id=MASTODON_ID,
            canonical_url=MASTODON_URL,
            state="live",
            first_seen_at=NOW,
        )
        session.add(embed)
        session.add(
            Snapshot(embed=embed, version=1, captured_at=NOW, content_sha256="0" * 64, text="Toot text")
        )
    return viewer


def app_with(viewer: Viewer, opened: list[App], **web: object) -> flask.Flask:
    """The viewer's Flask app with other `[web]` settings."""
    settings = viewer.world.settings
    changed = settings.model_copy(update={"web": settings.web.model_copy(update=web)})
    app = App(changed, viewer.world.clock, {"ARCHIVER_WEB_SECRET": SECRET})
    opened.append(app)
    return create_app(app)


# ---------------------------------------------------------------- version pages


def test_a_version_page_shows_the_post_as_archived(archive: Viewer) -> None:
    client = archive.client()
    page = client.get("/embeds/instagram/CODE111/v1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Author of CODE111" in html and "@someone" in html
    assert "Caption line one\nline two" in html
    assert "The original post is gone." in html
    assert 'href="https://www.instagram.com/p/CODE111/"' in html
    assert "2026-03-01 12:00 UTC" in html  # when it was archived
    assert "2023-07-01 10:00 UTC" in html  # when it was posted
    assert re.search(r'<img src="/media/../../[0-9a-f]{64}"', html)
    assert "<details>" in html and "Provenance" in html
    assert page.headers["Cache-Control"] == "public, max-age=300"
    assert "Set-Cookie" not in page.headers  # readers get no session


def test_every_version_is_served_and_its_caption_is_sanitised(archive: Viewer) -> None:
    html = archive.client().get("/embeds/instagram/CODE111/v2").get_data(as_text=True)
    assert "Second caption" in html and "Ann Example" in html and "@ann" in html
    assert "javascript:" not in html and "<script>alert" not in html
    assert "version 2 of 3" in html
    assert 'href="/embeds/instagram/CODE111/v3"' in html and 'href="/embeds/instagram/CODE111/v1"' in html
    assert "<td>text</td><td>embed_page</td>" in html


def test_a_live_post_is_not_called_gone_and_an_id_with_a_slash_works_encoded(archive: Viewer) -> None:
    client = archive.client()
    path = version_path("mastodon", MASTODON_ID, 1)
    assert path == "/embeds/mastodon/mastodon.social%2F109876543210/v1"  # as cards write it
    for url in (path, "/embeds/mastodon/mastodon.social/109876543210/v1"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert "Toot text" in html and "gone" not in html.lower()


def test_the_newest_url_redirects_to_the_newest_version(archive: Viewer) -> None:
    response = archive.client().get("/embeds/instagram/CODE111")
    assert response.status_code == 302
    assert response.headers["Location"] == "/embeds/instagram/CODE111/v3"
    assert archive.client().get("/embeds/instagram/CODE222").headers["Location"].endswith("/CODE222/v1")


@pytest.mark.parametrize(
    "url",
    [
        "/embeds/instagram/CODE111/v9",
        "/embeds/instagram/NOSUCHPOST/v1",
        "/embeds/instagram/NOSUCHPOST",
        "/embeds/nosuchprovider/CODE111/v1",
        "/timemap/link/https://www.instagram.com/p/NOSUCHPOST/",
        "/timegate/https://www.instagram.com/p/NOSUCHPOST/",
        "/timemap/link/CODE111",
        "/media/00/00/" + "0" * 64,
        "/media/ab/cd/" + "ab" + "cd" + "0" * 60 + "/x",
    ],
)
def test_unknown_things_are_404_with_the_security_headers(archive: Viewer, url: str) -> None:
    response = archive.client().get(url)
    assert response.status_code == 404
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


# ---------------------------------------------------------------- Memento


def parse_link_format(body: str) -> list[tuple[str, dict[str, str]]]:
    """RFC 6690 link-format, read token by token (a URI may hold commas and semicolons)."""
    links: list[tuple[str, dict[str, str]]] = []
    at = 0
    while at < len(body):
        while at < len(body) and body[at] in " \n\r\t,":
            at += 1
        if at >= len(body):
            break
        assert body[at] == "<", body[at:]
        end = body.index(">", at)
        uri, at = body[at + 1 : end], end + 1
        params: dict[str, str] = {}
        while at < len(body) and body[at] == ";":
            match = re.compile(r';\s*([a-z-]+)(?:="([^"]*)"|=([^,;\s]+))?').match(body, at)
            assert match, body[at:]
            params[match.group(1)] = match.group(2) if match.group(2) is not None else match.group(3) or ""
            at = match.end()
        links.append((uri, params))
    return links


def test_the_timemap_lists_every_version_and_each_answers_with_its_datetime(archive: Viewer) -> None:
    client = archive.client()
    response = client.get("/timemap/link/https://www.instagram.com/p/CODE111/")
    assert response.status_code == 200
    assert response.mimetype == "application/link-format"
    links = parse_link_format(response.get_data(as_text=True))
    by_rel = {params["rel"]: uri for uri, params in links}
    assert by_rel["original"] == "https://www.instagram.com/p/CODE111/"
    assert by_rel["timegate"] == "http://localhost/timegate/https://www.instagram.com/p/CODE111/"
    self_params = next(params for _, params in links if params["rel"] == "self")
    assert self_params["type"] == "application/link-format"
    assert self_params["from"] == "Sun, 01 Mar 2026 12:00:00 GMT"
    mementos = [(uri, params) for uri, params in links if "memento" in params["rel"].split()]
    assert [params["rel"] for _, params in mementos] == ["first memento", "memento", "last memento"]
    expected = [NOW, V2_AT, V3_AT]
    for (uri, params), at in zip(mementos, expected, strict=True):
        assert parse_accept_datetime(params["datetime"]) == at
        page = client.get(urlsplit(uri).path)
        assert page.status_code == 200, uri
        assert parse_accept_datetime(page.headers["Memento-Datetime"]) == at
        link = page.headers["Link"]
        assert '<https://www.instagram.com/p/CODE111/>; rel="original"' in link
        assert '<http://localhost/timegate/https://www.instagram.com/p/CODE111/>; rel="timegate"' in link
        assert 'rel="timemap"; type="application/link-format"' in link


def test_the_timemap_finds_the_post_by_a_looser_url(archive: Viewer) -> None:
    client = archive.client()
    for asked in ("http://instagram.com/p/CODE111", "https:/www.instagram.com/p/CODE111/"):
        response = client.get(f"/timemap/link/{asked}")
        assert response.status_code == 200, asked
        assert '<https://www.instagram.com/p/CODE111/>; rel="original"' in response.get_data(as_text=True)


def test_a_single_version_is_the_first_and_last_memento(archive: Viewer) -> None:
    body = archive.client().get(f"/timemap/link/{MASTODON_URL}").get_data(as_text=True)
    rels = [params["rel"] for _, params in parse_link_format(body)]
    assert "first last memento" in rels


@pytest.mark.parametrize(
    ("asked", "version"),
    [
        ("Sat, 01 Jan 2000 00:00:00 GMT", 1),  # before everything: the first
        ("Sun, 01 Mar 2026 12:00:00 GMT", 1),  # exactly v1
        ("Sun, 15 Mar 2026 11:00:00 GMT", 1),  # nearer v1 (14 days) than v2 (16 days)
        ("Tue, 17 Mar 2026 13:00:00 GMT", 2),  # nearer v2
        ("Fri, 01 May 2026 12:00:00 GMT", 3),  # nearer v3 (29 days) than v2 (31 days)
        ("Mon, 01 Jan 2100 00:00:00 GMT", 3),  # after everything: the last
    ],
)
def test_the_timegate_redirects_to_the_nearest_version(archive: Viewer, asked: str, version: int) -> None:
    response = archive.client().get(
        "/timegate/https://www.instagram.com/p/CODE111/", headers={"Accept-Datetime": asked}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"http://localhost/embeds/instagram/CODE111/v{version}"
    assert "accept-datetime" in response.headers["Vary"].lower()
    assert '<https://www.instagram.com/p/CODE111/>; rel="original"' in response.headers["Link"]
    assert 'rel="timemap"' in response.headers["Link"]


def test_the_timegate_without_a_date_gives_the_newest_and_a_bad_date_is_400(archive: Viewer) -> None:
    client = archive.client()
    url = "/timegate/https://www.instagram.com/p/CODE111/"
    assert client.get(url).headers["Location"].endswith("/v3")
    for bad in ("yesterday", "2026-03-01T12:00:00Z", "Sun, 31 Feb 2026 12:00:00 GMT", "Sun, 01 Mar 2026"):
        response = client.get(url, headers={"Accept-Datetime": bad})
        assert response.status_code == 400, bad
        assert "RFC 1123" in response.get_data(as_text=True)


def test_a_youtube_url_keeps_its_query_through_the_timemap(archive: Viewer) -> None:
    with archive.world.sessions() as session, session.begin():
        embed = Embed(
            provider="youtube",
            post_id="dQw4w9WgXcQ",
            canonical_url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            state="live",
            first_seen_at=NOW,
        )
        session.add(embed)
        session.add(
            Snapshot(embed=embed, version=1, captured_at=NOW, content_sha256="1" * 64, text="A video")
        )
    client = archive.client()
    assert client.get("/timemap/link/https://www.youtube.com/watch?v=dQw4w9WgXcQ").status_code == 200
    assert client.get("/timemap/link/https://www.youtube.com/watch?v=someother").status_code == 404


# ---------------------------------------------------------------- media


def test_media_is_served_with_its_type_nosniff_and_immutable_caching(archive: Viewer) -> None:
    sha = hashlib.sha256(PNG).hexdigest()
    client = archive.client()
    response = client.get(f"/media/{sha[:2]}/{sha[2:4]}/{sha}")
    assert response.status_code == 200
    assert response.data == PNG
    assert response.mimetype == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cache = response.headers["Cache-Control"]
    assert "public" in cache and "immutable" in cache and "max-age=31536000" in cache
    assert response.headers["ETag"] == f'"{sha}"'
    again = client.get(f"/media/{sha[:2]}/{sha[2:4]}/{sha}", headers={"If-None-Match": f'"{sha}"'})
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("data", "mime"),
    [(SVG, "image/svg+xml"), (HTML, "text/html"), (HTML, "application/xhtml+xml"), (b"x", "text/plain")],
)
def test_media_that_a_browser_could_run_is_only_a_download(archive: Viewer, data: bytes, mime: str) -> None:
    sha = store(archive, data, mime)
    response = archive.client().get(f"/media/{sha[:2]}/{sha[2:4]}/{sha}")
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_video_plays_inline_and_answers_ranges(archive: Viewer) -> None:
    sha = store(archive, MP4, "video/mp4")
    response = archive.client().get(f"/media/{sha[:2]}/{sha[2:4]}/{sha}", headers={"Range": "bytes=0-7"})
    assert response.status_code == 206
    assert response.mimetype == "video/mp4" and response.data == MP4[:8]


@pytest.mark.parametrize(
    "name",
    [
        "zz/zz/" + "z" * 64,
        "AB/CD/" + "AB" * 32,
        "ab/cd/" + "ab" * 31,
        "00/11/" + "ab" * 32,  # folders that do not match the hash
        "..%2F../" + "ab" * 32,
    ],
)
def test_media_names_are_checked(archive: Viewer, name: str) -> None:
    assert archive.client().get(f"/media/{name}").status_code == 404


def test_a_hash_whose_file_left_the_store_is_404(archive: Viewer) -> None:
    sha = store(archive, b"\x89PNG gone", "image/png")
    Path(LocalBlobStore(archive.world.settings.media.dir).path_for(sha)).unlink()
    assert archive.client().get(f"/media/{sha[:2]}/{sha[2:4]}/{sha}").status_code == 404


# ---------------------------------------------------------------- settings


@pytest.fixture
def closing() -> Iterator[list[App]]:
    apps: list[App] = []
    yield apps
    for app in apps:
        app.close()


def test_public_false_turns_the_archive_off_but_editors_still_see_media(
    archive: Viewer, closing: list[App]
) -> None:
    app = app_with(archive, closing, public=False)
    client = app.test_client()
    sha = hashlib.sha256(PNG).hexdigest()
    for url in (
        "/embeds/instagram/CODE111/v1",
        "/embeds/instagram/CODE111",
        "/timemap/link/https://www.instagram.com/p/CODE111/",
        "/timegate/https://www.instagram.com/p/CODE111/",
        f"/media/{sha[:2]}/{sha[2:4]}/{sha}",
    ):
        assert client.get(url).status_code == 404, url
    login(client)
    assert client.get(f"/media/{sha[:2]}/{sha[2:4]}/{sha}").status_code == 200
    assert client.get("/embeds/instagram/CODE111/v1").status_code == 404


def test_noindex_asks_robots_not_to_index(archive: Viewer, closing: list[App]) -> None:
    indexed = archive.client().get("/embeds/instagram/CODE111/v1")
    assert "X-Robots-Tag" not in indexed.headers
    assert 'name="robots"' not in indexed.get_data(as_text=True)
    client = app_with(archive, closing, robots="noindex").test_client()
    page = client.get("/embeds/instagram/CODE111/v1")
    assert page.headers["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex">' in page.get_data(as_text=True)
    timemap = client.get("/timemap/link/https://www.instagram.com/p/CODE111/")
    assert timemap.headers["X-Robots-Tag"] == "noindex"


def test_absolute_links_start_at_the_configured_base_url(archive: Viewer, closing: list[App]) -> None:
    client = app_with(archive, closing, base_url="https://archive.example.org").test_client()
    body = client.get("/timemap/link/https://www.instagram.com/p/CODE111/").get_data(as_text=True)
    assert "<https://archive.example.org/embeds/instagram/CODE111/v1>" in body
    assert "<https://archive.example.org/timegate/https://www.instagram.com/p/CODE111/>" in body


def test_memento_dates_are_rfc_1123_in_gmt() -> None:
    assert parse_accept_datetime("Sun, 01 Mar 2026 12:00:00 GMT") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert parse_accept_datetime("sun, 01 mar 2026 12:00:00 gmt") is None
    assert parse_accept_datetime("Sun, 01 Mar 2026 24:00:00 GMT") is None
