"""A Bluesky post embedded by handle and by DID is one embed (`archiver.storage.queries.aliases`).

Through the commands a user runs (`archive scan`, `fetch`, `embeds`, `show`, `status`) on SQLite and
PostgreSQL, against a loopback AppView and oEmbed endpoint giving synthetic answers built from the atproto
lexicons (as in tests/providers/test_capture_bluesky.py: no real answer was recorded), and the public
pages through Flask's test client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from support.archive_cli import Result, run_archive
from support.fake_server import FIXTURES, Canned, FakeServer, Recorded

from archiver.app import App
from archiver.clock import FixedClock
from archiver.pipeline.verdict import apply_verdict
from archiver.records import Article, Capture, EmbedRef, Field, MarkupKind, Outcome
from archiver.storage import queries
from archiver.storage.models import Check, Embed, EmbedAlias, Mirror, PostPageLookup, Snapshot
from archiver.storage.queries.search import search
from archiver.web import create_app
from tests.providers.test_capture_bluesky import (
    DID,
    HANDLE_URL,
    OEMBED_PATH,
    POST_URL,
    POSTS_PATH,
    RESOLVE_PATH,
    RKEY,
    as_json,
    capture,
    serve,
    serve_alive,
    synthetic_oembed,
    synthetic_post,
)
from tests.support.capture_world import JPEG, START, settings_for

HANDLE = "attakei.dev"
HANDLE_ID = f"{HANDLE}/{RKEY}"
DID_ID = f"{DID}/{RKEY}"
# The account the handle moved to, and a post of it.
OTHER_DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
OTHER_RKEY = "3l2zpbbhuvw2h"
SECRET = "w" * 48
BLOCKQUOTE = (FIXTURES / "bluesky" / "article-blockquote-bluesky-embed-ja.html").read_text("utf-8")
PAGE = "<html><body><article>\n<p>{words}</p>\n{embed}\n</article></body></html>\n"


def page_path(post_id: str, version: int | None = None) -> str:
    path = f"/embeds/bluesky/{quote(post_id, safe='')}"
    return path if version is None else f"{path}/v{version}"


@dataclass
class Site:
    """A files source in `root/articles`, the archive's config pointing Bluesky at `server`."""

    root: Path
    server: FakeServer
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    now: datetime = START

    def archive(self, *args: str) -> Result:
        self.monkeypatch.setenv("ARCHIVER_NOW", self.now.isoformat())
        result = run_archive(self.monkeypatch, self.capsys, "--no-progress", *args)
        assert result.code == 0, result.err
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.archive(*args, "--json").out)

    def write(self, name: str, embed: str, words: str = "An article.") -> None:
        (self.root / "articles" / name).write_text(PAGE.format(words=words, embed=embed), encoding="utf-8")

    def app(self) -> App:
        env = {"ARCHIVER_WEB_SECRET": SECRET, "ARCHIVER_NOW": self.now.isoformat()}
        return App.from_environment(self.root / "archiver.toml", env, self.root)

    def embeds(self) -> list[Embed]:
        app = self.app()
        try:
            with app.sessions() as session:
                rows = list(session.scalars(select(Embed).order_by(Embed.id)))
                session.expunge_all()
                return rows
        finally:
            app.close()


@pytest.fixture
def site(
    db_url: str,
    tmp_path: Path,
    fake_server: FakeServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Site:
    (tmp_path / "articles").mkdir()
    (tmp_path / "archiver.toml").write_text(
        f'[database]\nurl = "{db_url}"\n'
        f'[media]\ndir = "{tmp_path / "media"}"\n'
        "[capture]\nworkers = 1\n"
        '[http]\nallow_networks = ["127.0.0.0/8"]\nread_timeout = 2.0\ndeadline = 5.0\n'
        f'[providers.bluesky]\noembed_endpoint = "{fake_server.url}/oembed"\n'
        f'appview_base = "{fake_server.url}"\n'
        f'[[sources]]\nname = "site"\nkind = "files"\npath = "{tmp_path / "articles"}"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARCHIVER_WEB_SECRET", raising=False)
    return Site(tmp_path, fake_server, monkeypatch, capsys)


@pytest.fixture
def public(site: Site) -> Iterator[FlaskClient]:
    app = site.app()
    yield create_app(app).test_client()
    app.close()


def appview(server: FakeServer, handles: dict[str, str], posts: dict[str, dict[str, Any]]) -> None:
    """A synthetic AppView: resolveHandle from `handles`, getPosts from `posts` (by AT-URI; an unknown
    one is not found: an empty list, as the AppView answers), oEmbed alive for every post."""

    def resolve(asked: Recorded) -> Canned:
        did = handles.get(asked.query.get("handle", [""])[0])
        if did is None:
            return as_json({"error": "InvalidRequest", "message": "Unable to resolve handle"}, 400)
        return as_json({"did": did})

    def get_posts(asked: Recorded) -> Canned:
        return as_json({"posts": [posts[uri] for uri in asked.query.get("uris", []) if uri in posts]})

    server.route(RESOLVE_PATH, resolve)
    server.route(POSTS_PATH, get_posts)
    server.route(OEMBED_PATH, as_json(synthetic_oembed()))
    server.route("/img/full.jpg", Canned(200, {"Content-Type": "image/jpeg"}, JPEG))
    server.route("/img/thumb.jpg", Canned(200, {"Content-Type": "image/jpeg"}, JPEG))


def post_view(server: FakeServer, did: str, rkey: str, text: str) -> dict[str, Any]:
    view = synthetic_post(server, uri=f"at://{did}/app.bsky.feed.post/{rkey}")
    view["record"] = {**view["record"], "text": text}
    view["author"] = {**view["author"], "did": did}
    return view


# ---- the provider says where it found the post ----------------------------------------------------------


@pytest.fixture
def capture_app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    application = App(settings_for(fake_server, tmp_path, "bluesky"), FixedClock(START), {})
    yield application
    application.close()


def test_synthetic_a_handle_capture_names_the_did_the_post_is_at(
    capture_app: App, fake_server: FakeServer
) -> None:
    serve_alive(fake_server)
    by_handle = capture(capture_app, HANDLE_URL)
    assert by_handle.outcome is Outcome.OK, by_handle.reason
    assert (by_handle.post_id, by_handle.lasting_id, by_handle.lasting_url) == (HANDLE_ID, DID_ID, POST_URL)
    by_did = capture(capture_app, POST_URL)
    assert by_did.outcome is Outcome.OK and by_did.lasting_id is None


@pytest.mark.parametrize(
    "posts",
    [
        pytest.param({"posts": []}, id="synthetic-not-found"),
        pytest.param({"error": "RateLimitExceeded", "message": "slow down"}, id="synthetic-xrpc-429"),
    ],
)
def test_synthetic_no_did_is_claimed_without_the_post_found_there(
    capture_app: App, fake_server: FakeServer, posts: dict[str, Any]
) -> None:
    serve(fake_server, as_json(synthetic_oembed()), as_json(posts, 429 if "error" in posts else 200))
    captured = capture(capture_app, HANDLE_URL)
    # oEmbed alone may call the post alive: only the AppView finding it at the DID names the DID.
    assert captured.lasting_id is None and captured.lasting_url is None


# ---- one embed, through the commands ---------------------------------------------------------------------


@pytest.mark.parametrize("first", ["a.html", "b.html"], ids=["handle-first", "did-first"])
def test_synthetic_handle_and_did_articles_show_one_embed(
    site: Site, public: FlaskClient, first: str
) -> None:
    serve_alive(site.server)
    articles = {
        "a.html": f"<p>{HANDLE_URL}</p>",  # article A: the post by its author's handle
        "b.html": BLOCKQUOTE,  # article B: the official embed, by DID
    }
    # One capture worker: the embed scanned first is captured (and kept) first.
    for name in sorted(articles, key=lambda name: name != first):
        site.write(name, articles[name])
        site.archive("scan")
    # Two ids until a capture learns they are one post.
    assert sorted(e.post_id for e in site.embeds()) == sorted([DID_ID, HANDLE_ID])
    site.archive("fetch")

    [row] = site.json("embeds")
    assert (row["post_id"], row["state"]) == (DID_ID, "live")
    status = site.json("status")
    assert (status["embeds"], status["by_provider"]) == (1, {"bluesky": {"live": 1}})
    for ref in (HANDLE_URL, POST_URL, HANDLE_ID):
        shown = site.json("show", ref)
        assert shown["post_id"] == DID_ID
        assert [a["post_id"] for a in shown["aliases"]] == [HANDLE_ID]
        assert sorted(Path(a["article"]).name for a in shown["articles"]) == ["a.html", "b.html"]

    # A later scan of both forms (article A changed, so it is read again) keeps it one.
    site.write("a.html", f"<p>{HANDLE_URL}</p>", words="An article, edited.")
    site.write("c.html", f"<p>{HANDLE_URL}</p>")
    site.now += timedelta(hours=1)
    site.archive("scan")
    [embed] = site.embeds()
    assert embed.post_id == DID_ID and embed.state == "live"
    shown = site.json("show", HANDLE_URL)
    assert sorted(Path(a["article"]).name for a in shown["articles"]) == ["a.html", "b.html", "c.html"]

    # A card written under the handle id (or anything linking there) still reaches the archived copy.
    moved = public.get(page_path(HANDLE_ID, 1))
    assert moved.status_code == 301 and moved.headers["Location"].endswith(page_path(DID_ID, 1))
    assert public.get(moved.headers["Location"]).status_code == 200
    newest = public.get(page_path(HANDLE_ID))
    assert newest.status_code == 301 and newest.headers["Location"].endswith(page_path(DID_ID))
    assert public.get(page_path("nobody.example/3aaaaaaaaaaaa", 1)).status_code == 404


# ---- an archive that stored the post twice: merged with its history -------------------------------------


def seed(
    site: Site, post_id: str, url: str, article: str, history: list[tuple[timedelta, Outcome, str]]
) -> None:
    """An embed stored as an archive before embed aliases had it: scanned in `article`, then each
    (time after START, outcome, caption) of `history` recorded as a check and decided."""
    app = site.app()
    try:
        with app.sessions() as session, session.begin():
            source = queries.ensure_source(session, "site", "files", START)
            data = b"<p>seeded</p>"
            scanned = Article(article, "site", data, data.decode(), "utf-8", "0" * 64)
            ref = EmbedRef("bluesky", post_id, url, MarkupKind.LINK)
            queries.save_scan(session, source, scanned, [ref], START)
            embed = session.scalars(select(Embed).where(Embed.post_id == post_id)).one()
            for after, outcome, caption in history:
                at = START + after
                fields = {"text": Field(caption, "appview")} if outcome is Outcome.OK else {}
                found = Capture("bluesky", post_id, url, outcome, f"seeded {outcome.value}", fields=fields)
                queries.record_capture(session, embed, found, [], at, 10, None, kind="check")
                apply_verdict(session, embed, app.settings, at)
    finally:
        app.close()


def test_synthetic_a_post_stored_twice_is_merged_without_crying_wolf(site: Site, public: FlaskClient) -> None:
    day = timedelta(days=1)
    # Each alone is suspect (2 and 1 gone outcomes of the 3 needed); together they would span 60 h.
    seed(
        site,
        DID_ID,
        POST_URL,
        "b.html",
        [(0 * day, Outcome.OK, "by did"), (day, Outcome.GONE, ""), (2 * day, Outcome.GONE, "")],
    )
    seed(
        site,
        HANDLE_ID,
        HANDLE_URL,
        "a.html",
        [(timedelta(hours=1), Outcome.OK, "by handle"), (3.5 * day, Outcome.GONE, "")],
    )
    assert {e.post_id: e.state for e in site.embeds()} == {DID_ID: "suspect", HANDLE_ID: "suspect"}
    serve_alive(site.server)
    site.now = START + 4 * day
    site.archive("fetch", "--refresh")

    [embed] = site.embeds()
    assert (embed.post_id, embed.state) == (DID_ID, "live")
    app = site.app()
    try:
        with app.sessions() as session:
            versions = {
                s.version: s.text for s in session.scalars(select(Snapshot).order_by(Snapshot.version))
            }
            checks = list(session.scalars(select(Check).order_by(Check.checked_at, Check.id)))
            [alias] = session.scalars(select(EmbedAlias))
            # The handle embed's versions come after the DID embed's own (v1, and v2 of this refresh).
            assert versions[1] == "by did" and versions[3] == "by handle" and len(versions) == 4
            assert (alias.post_id, alias.embed_id, alias.version_offset) == (HANDLE_ID, embed.id, 2)
            assert len(checks) == 7 and {c.embed_id for c in checks} == {embed.id}
            # The full-text index follows the moved versions: found once, under the DID.
            hits = search(session, "by handle").posts
            assert [(hit.post_id, hit.version) for hit in hits] == [(DID_ID, 3)]
            handle_gone = next(c for c in checks if c.checked_at == START + 3.5 * day)
            assert not handle_gone.counted  # seen through a handle: no evidence about the DID's post
            # The breaker voids this run's checks: what stands must not be a verdict neither embed had.
            queries.uncount_checks(session, "bluesky", START + 4 * day)
            kept = session.get(Embed, embed.id)
            assert kept is not None
            apply_verdict(session, kept, app.settings, START + 4 * day)
            assert kept.state == "suspect"
            session.rollback()
    finally:
        app.close()
    assert sorted(Path(a["article"]).name for a in site.json("show", HANDLE_URL)["articles"]) == [
        "a.html",
        "b.html",
    ]
    moved = public.get(page_path(HANDLE_ID, 1))
    assert moved.status_code == 301 and moved.headers["Location"].endswith(page_path(DID_ID, 3))
    assert "by handle" in public.get(moved.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("kept_has_its_own", [False, True], ids=["moved-over", "kept-stands"])
def test_synthetic_a_merge_keeps_the_save_page_now_copy_and_the_archived_pages_lookup(
    site: Site, kept_has_its_own: bool
) -> None:
    seed(site, DID_ID, POST_URL, "b.html", [(timedelta(0), Outcome.OK, "by did")])
    seed(site, HANDLE_ID, HANDLE_URL, "a.html", [(timedelta(hours=1), Outcome.OK, "by handle")])
    copy = "https://web.archive.org/web/20240101000000/" + HANDLE_URL
    app = site.app()
    try:
        with app.sessions() as session, session.begin():
            ids = {e.post_id: e.id for e in session.scalars(select(Embed))}
            owners = [ids[HANDLE_ID], ids[DID_ID]] if kept_has_its_own else [ids[HANDLE_ID]]
            for owner in owners:
                url = copy if owner == ids[HANDLE_ID] else "https://web.archive.org/web/2023/" + POST_URL
                when = {"created_at": START, "updated_at": START}
                session.add(Mirror(embed_id=owner, url=url, state="archived", memento_url=url, **when))
                session.add(PostPageLookup(embed_id=owner, state="found", memento_url=url, **when))
        with app.sessions() as session, session.begin():
            handle = session.get(Embed, ids[HANDLE_ID])
            assert handle is not None
            kept = queries.keep_under(session, handle, DID_ID, POST_URL, START + timedelta(hours=2))
            assert kept.id == ids[DID_ID]
        with app.sessions() as session:
            mirrors = [(m.embed_id, m.memento_url) for m in session.scalars(select(Mirror))]
            lookups = [(row.embed_id, row.memento_url) for row in session.scalars(select(PostPageLookup))]
    finally:
        app.close()
    # The handle embed's rows are not lost with it: they move over unless the DID embed has its own.
    expected = "https://web.archive.org/web/2023/" + POST_URL if kept_has_its_own else copy
    assert mirrors == [(ids[DID_ID], expected)]
    assert lookups == [(ids[DID_ID], expected)]


# ---- a handle that moved to another account -------------------------------------------------------------


def test_synthetic_a_moved_handle_never_merges_two_accounts_posts(site: Site) -> None:
    handles = {HANDLE: DID}
    posts = {f"at://{DID}/app.bsky.feed.post/{RKEY}": post_view(site.server, DID, RKEY, "the first owner")}
    appview(site.server, handles, posts)
    site.write("a.html", f"<p>{HANDLE_URL}</p>")
    site.archive("scan")
    site.archive("fetch")
    assert [e.post_id for e in site.embeds()] == [DID_ID]

    # The handle now names another account, which posts under it.
    handles[HANDLE] = OTHER_DID
    other_url = f"https://bsky.app/profile/{HANDLE}/post/{OTHER_RKEY}"
    posts[f"at://{OTHER_DID}/app.bsky.feed.post/{OTHER_RKEY}"] = post_view(
        site.server, OTHER_DID, OTHER_RKEY, "the second owner"
    )
    site.write("c.html", f"<p>{other_url}</p>")
    site.write("a.html", f"<p>{HANDLE_URL}</p>", words="An article, edited.")
    site.now += timedelta(hours=1)
    site.archive("scan")
    site.archive("fetch")
    # Two people, two posts: each kept under its own DID, each shown by its own articles.
    assert sorted(e.post_id for e in site.embeds()) == sorted([DID_ID, f"{OTHER_DID}/{OTHER_RKEY}"])
    assert [Path(a["article"]).name for a in site.json("show", HANDLE_URL)["articles"]] == ["a.html"]
    shown = site.json("show", other_url)
    assert shown["post_id"] == f"{OTHER_DID}/{OTHER_RKEY}"
    assert [Path(a["article"]).name for a in shown["articles"]] == ["c.html"]

    # The first post is checked at its DID: the handle's new owner has no say in it.
    site.server.requests.clear()
    site.now += timedelta(hours=1)
    site.archive("fetch", "--refresh")
    assert not any(r.path == RESOLVE_PATH for r in site.server.requests)
    assert {e.post_id: e.state for e in site.embeds()}[DID_ID] == "live"
