"""The editors' pages through Flask's test client: decisions reach the articles and the journal, the pages
show what the archive holds, and the JSON API answers the CLI's shapes."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from support.archive_cli import run_archive
from support.rewrite_world import NOW
from support.viewer_world import EDITOR, SECRET, Viewer, login

from archiver.storage import queries
from archiver.storage.models import Article, Check, Embed, EmbedAlias, Mirror, Occurrence, Rewrite, Snapshot
from archiver.web import editors


def article_file(viewer: Viewer, name: str) -> Path:
    return viewer.world.articles / name


def rewrite_of(viewer: Viewer, post_id: str) -> int:
    for rewrite_id in viewer.planned():
        if viewer.rewrite_row(rewrite_id).post_id == post_id:
            return rewrite_id
    raise AssertionError(f"no planned rewrite of {post_id}")


def decide(client, token: str, ids: list[int], decision: str, note: str = "") -> str:  # type: ignore[no-untyped-def]
    response = client.post(
        "/editors/queue/decide",
        data={"rewrite": [str(i) for i in ids], "decision": decision, "note": note, "csrf_token": token},
        follow_redirects=True,
    )
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def test_approving_writes_the_card_into_the_article_and_journals_the_editor(viewer: Viewer) -> None:
    client = viewer.client()
    token = login(client)
    path = article_file(viewer, "harbour.html")
    before = path.read_bytes()
    chosen = rewrite_of(viewer, "CODE111")
    page = decide(client, token, [chosen], "approve")
    assert f"1 rewrite(s) approved and written: {chosen}" in page
    after = path.read_bytes()
    assert after != before
    assert b"https://archive.example.org/embeds/instagram/CODE111/v1" in after
    assert b"instagram.com/p/CODE222/" in after  # the other embed is still planned, untouched
    row = viewer.rewrite_row(chosen)
    assert row.state == "applied" and row.approved_by == EDITOR and row.approved_at == NOW
    assert after.startswith(before[: row.span_start])


def test_bulk_approval_and_rejection_with_a_note(viewer: Viewer) -> None:
    client = viewer.client()
    token = login(client)
    market = article_file(viewer, "market.html")
    market_before = market.read_bytes()
    first, second = rewrite_of(viewer, "CODE111"), rewrite_of(viewer, "CODE222")
    page = decide(client, token, [first, second], "approve")
    assert "2 rewrite(s) approved and written" in page
    assert {viewer.rewrite_row(i).state for i in (first, second)} == {"applied"}
    rejected = [rewrite_of(viewer, "CODE333"), rewrite_of(viewer, "CODE444")]
    decide(client, token, rejected, "reject", note="the post is only private, we asked")
    for rewrite_id in rejected:
        row = viewer.rewrite_row(rewrite_id)
        assert row.state == "rejected" and row.approved_by == EDITOR
        assert row.reason == f"rejected by {EDITOR}: the post is only private, we asked"
    assert market.read_bytes() == market_before
    assert viewer.planned() == []
    # Deciding again is refused by the rewrite stage and said so.
    page = decide(client, token, [first], "reject")
    assert f"rewrite {first}: it is applied, not planned or approved" in page


def test_restoring_one_card_and_a_whole_article_gives_the_bytes_back(viewer: Viewer) -> None:
    client = viewer.client()
    token = login(client)
    path = article_file(viewer, "harbour.html")
    original = hashlib.sha256(path.read_bytes()).hexdigest()
    first, second = rewrite_of(viewer, "CODE111"), rewrite_of(viewer, "CODE222")
    decide(client, token, [first, second], "approve")
    response = client.post(
        f"/editors/rewrites/{first}/restore", data={"csrf_token": token}, follow_redirects=True
    )
    assert "restored rewrite(s)" in response.get_data(as_text=True)
    row = viewer.rewrite_row(first)
    assert row.state == "restored" and row.restored_by == EDITOR
    assert b"instagram.com/p/CODE111/" in path.read_bytes()
    article_id = row.article_id
    client.post(f"/editors/articles/{article_id}/restore", data={"csrf_token": token})
    assert hashlib.sha256(path.read_bytes()).hexdigest() == original
    history = client.get(f"/editors/articles/{article_id}").get_data(as_text=True)
    assert f"restored 2026-03-01 12:00 UTC by {EDITOR}" in history
    # Restoring what is not applied is refused.
    assert client.post(f"/editors/rewrites/{first}/restore", data={"csrf_token": token}).status_code == 400


def test_a_restore_from_the_viewer_finishes_a_restore_a_crash_left_half_done(viewer: Viewer) -> None:
    """Regression: a restore killed after its rows were committed `restoring`, before the article was
    written, left the viewer's restore with nothing applied to restore, so the editor's click did
    nothing (the crash harness had found this in `archive restore`, fixed there only). Now the viewer
    settles what a crash left first, as `archive restore` does, and the restore gives the bytes back."""
    client = viewer.client()
    token = login(client)
    path = article_file(viewer, "harbour.html")
    original = path.read_bytes()
    first, second = rewrite_of(viewer, "CODE111"), rewrite_of(viewer, "CODE222")
    decide(client, token, [first, second], "approve")
    written = path.read_bytes()
    # What `restore_article` commits before it writes the article, then the process dies.
    with viewer.world.sessions() as session, session.begin():
        for rewrite_id in (first, second):
            row = session.get(Rewrite, rewrite_id)
            assert row is not None and row.state == "applied"
            row.state, row.restored_by = "restoring", EDITOR
            row.restore_sha256_before = hashlib.sha256(written).hexdigest()
            row.restore_sha256_after = hashlib.sha256(original).hexdigest()
    article_id = viewer.rewrite_row(first).article_id
    response = client.post(
        f"/editors/articles/{article_id}/restore", data={"csrf_token": token}, follow_redirects=True
    )
    assert "restored rewrite(s)" in response.get_data(as_text=True)
    assert path.read_bytes() == original
    assert {viewer.rewrite_row(i).state for i in (first, second)} == {"restored"}


def test_the_queue_shows_the_fragment_the_card_and_the_evidence(viewer: Viewer) -> None:
    chosen = rewrite_of(viewer, "CODE111")
    with viewer.world.sessions() as session, session.begin():
        embed = session.scalars(select(Embed).where(Embed.post_id == "CODE111")).one()
        for days in (3, 2, 1):
            session.add(
                Check(
                    embed=embed,
                    checked_at=NOW - timedelta(days=days),
                    kind="check",
                    outcome="gone",
                    http_status=404,
                    reason="oEmbed says the post does not exist",
                )
            )
    client = viewer.client()
    login(client)
    page = client.get("/editors/queue").get_data(as_text=True)
    section = page[page.index(f'id="rewrite-{chosen}"') :]
    section = section[: section.index("</article>")]
    assert "First paragraph of Harbour." in section  # the article around the span
    assert "&lt;blockquote class=&#34;instagram-media&#34;" in section  # shown as text, escaped
    assert '<iframe class="card"' in section and " sandbox srcdoc=" in section
    assert "2026-02-26 12:00 UTC</td><td>404</td><td>oEmbed says the post does not exist" in section
    assert f'name="rewrite" value="{chosen}" form="bulk"' in section


def test_pages_show_the_archive(viewer: Viewer, monkeypatch: pytest.MonkeyPatch) -> None:
    with viewer.world.sessions() as session, session.begin():
        embed = session.scalars(select(Embed).where(Embed.post_id == "CODE111")).one()
        first = session.scalars(select(Snapshot).where(Snapshot.embed_id == embed.id)).one()
        session.add(
            Snapshot(
                embed=embed,
                version=2,
                captured_at=NOW + timedelta(days=1),
                content_sha256="b" * 64,
                author_name=first.author_name,
                handle="someone",
                text="Caption line one\nline two, edited",
                provenance={"text": "embed_page", "handle": "oembed"},
            )
        )
        embed_id = embed.id
    client = viewer.client()
    login(client)
    dashboard = client.get("/editors/").get_data(as_text=True)
    assert "<strong>4</strong> rewrite(s) to review" in dashboard
    assert '<th scope="row">instagram</th>' in dashboard
    timeline = client.get(f"/editors/embeds/{embed_id}").get_data(as_text=True)
    assert "Version 2 · captured 2026-03-02 12:00 UTC" in timeline
    assert (
        '<span class="del">-line two</span>' in timeline
        and '<span class="add">+line two, edited</span>' in timeline
    )
    assert "<td>text</td><td>embed_page</td>" in timeline
    assert 'src="/media/' in timeline
    account = client.get("/editors/accounts/instagram/@someone").get_data(as_text=True)
    assert account.count("/editors/embeds/") == 4 and "in 2 article(s)" in account
    broken = client.get("/editors/articles?state=broken&provider=instagram").get_data(as_text=True)
    assert "harbour.html" in broken and "market.html" in broken
    assert "market.html" not in client.get("/editors/articles?state=live").get_data(as_text=True)
    monkeypatch.setattr(editors, "PAGE_SIZE", 1)
    one = client.get("/editors/articles?state=broken").get_data(as_text=True)
    assert "harbour.html" in one and "market.html" not in one
    with viewer.world.sessions() as session:
        first_id = min(session.scalars(select(Article.id)))
    assert f"/editors/articles?after={first_id}&amp;state=broken" in one
    two = client.get(f"/editors/articles?after={first_id}&state=broken").get_data(as_text=True)
    assert "market.html" in two and "harbour.html" not in two
    assert client.get("/editors/residue").status_code == 200
    assert client.get("/editors/residue?status=bogus").status_code == 400


def test_an_embeds_other_ids_and_its_save_page_now_copy_are_shown_everywhere_it_is(
    viewer: Viewer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = "https://web.archive.org/web/20260302120000/https://www.instagram.com/p/CODE111/"
    with viewer.world.sessions() as session, session.begin():
        embed = session.scalars(select(Embed).where(Embed.post_id == "CODE111")).one()
        session.add(
            EmbedAlias(
                provider="instagram",
                post_id="OLDCODE",
                canonical_url="https://www.instagram.com/p/OLDCODE/",
                embed_id=embed.id,
                created_at=NOW,
            )
        )
        session.add(
            Mirror(
                embed=embed,
                url=embed.canonical_url,
                state="archived",
                memento_url=copy,
                memento_datetime=NOW + timedelta(days=1),
                created_at=NOW,
                updated_at=NOW,
            )
        )
        embed_id = embed.id
    config = str(viewer.world.config)
    shown = json.loads(run_archive(monkeypatch, capsys, "--config", config, "show", "CODE111", "--json").out)
    assert shown["aliases"] == [{"post_id": "OLDCODE", "url": "https://www.instagram.com/p/OLDCODE/"}]
    assert shown["mirror"] == {
        "state": "archived",
        "memento_url": copy,
        "memento_datetime": "2026-03-02T12:00:00+00:00",
        "status_ext": None,
        "reason": None,
    }
    text = run_archive(monkeypatch, capsys, "--config", config, "show", "CODE111").out
    assert "also known as: OLDCODE (https://www.instagram.com/p/OLDCODE/)" in text
    assert f"Save Page Now: archived 2026-03-02T12:00:00 at {copy}" in text
    client = viewer.client()
    login(client)
    page = client.get(f"/editors/embeds/{embed_id}").get_data(as_text=True)
    assert 'Also known as: OLDCODE (<a href="https://www.instagram.com/p/OLDCODE/"' in page
    assert f'Save Page Now: archived 2026-03-02 12:00 UTC at <a href="{copy}"' in page
    assert client.get("/api/embeds/CODE111").get_json() == shown


def test_the_api_answers_the_cli_shapes_for_a_token(
    viewer: Viewer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(viewer.world.config)
    made = run_archive(
        monkeypatch, capsys, "--config", config, "token", "add", EDITOR, "--note", "monitoring"
    )
    assert made.code == 0
    token = made.out.strip()
    assert token.startswith("ea_") and token not in made.err
    client = viewer.client()
    headers = {"Authorization": f"Bearer {token}"}
    for api, args in (
        ("/api/status", ["status"]),
        ("/api/embeds?state=broken", ["embeds", "--state", "broken"]),
        ("/api/embeds/CODE111", ["show", "CODE111"]),
        ("/api/rewrites", ["rewrite", "--pending"]),
        ("/api/residue", ["residue"]),
    ):
        response = client.get(api, headers=headers)
        assert response.status_code == 200, api
        cli = run_archive(monkeypatch, capsys, "--config", config, *args, "--json")
        assert cli.code == 0
        assert response.get_json() == json.loads(cli.out), api
        assert list(response.get_json()) == list(json.loads(cli.out)), api  # same key order
    assert client.get("/api/status", headers={"Authorization": "Bearer ea_wrong"}).status_code == 401
    # A token opens the API only, and never decides.
    assert client.get("/editors/", headers=headers).status_code == 302
    listed = run_archive(monkeypatch, capsys, "--config", config, "token", "list", "--json")
    (entry,) = json.loads(listed.out)
    assert entry["user"] == EDITOR and entry["note"] == "monitoring" and entry["last_used_at"]
    assert token not in listed.out
    assert run_archive(monkeypatch, capsys, "--config", config, "token", "remove", str(entry["id"])).code == 0
    assert client.get("/api/status", headers=headers).status_code == 401


def test_user_commands(
    viewer: Viewer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(viewer.world.config)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    added = run_archive(
        monkeypatch, capsys, "--config", config, "user", "add", "rita", "--role", "viewer", "--password-stdin"
    )
    assert added.code == 0 and "Added viewer rita." in added.out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    refused = run_archive(monkeypatch, capsys, "--config", config, "user", "add", "sam", "--password-stdin")
    assert refused.code == 2 and "at least 10 characters" in refused.err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    again = run_archive(monkeypatch, capsys, "--config", config, "user", "add", "rita", "--password-stdin")
    assert again.code == 2 and "already a user named 'rita'" in again.err
    bad_name = run_archive(
        monkeypatch, capsys, "--config", config, "user", "add", "<script>", "--password-stdin"
    )
    assert bad_name.code == 2 and "is not a user name" in bad_name.err
    listed = json.loads(run_archive(monkeypatch, capsys, "--config", config, "user", "list", "--json").out)
    assert [(u["name"], u["role"]) for u in listed] == [
        ("edna", "editor"),
        ("rita", "viewer"),
        ("victor", "viewer"),
    ]
    client = viewer.client()
    login(client, "rita", "a long enough secret")
    assert client.get("/editors/").status_code == 200
    assert run_archive(monkeypatch, capsys, "--config", config, "user", "remove", "rita").code == 0
    assert client.get("/editors/").status_code == 302
    gone = run_archive(monkeypatch, capsys, "--config", config, "user", "remove", "rita")
    assert gone.code == 2 and "no user named 'rita'" in gone.err


def test_init_writes_a_private_session_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ARCHIVER_WEB_SECRET", raising=False)
    assert run_archive(monkeypatch, capsys, "init", str(tmp_path / "site")).code == 0
    secret = tmp_path / "site" / "web-secret.key"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert len(secret.read_text(encoding="ascii").strip()) == 64
    other = tmp_path / "other"
    assert run_archive(monkeypatch, capsys, "init", str(other)).code == 0
    assert (other / "web-secret.key").read_bytes() != secret.read_bytes()


def test_serve_without_a_secret_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ARCHIVER_WEB_SECRET", raising=False)
    (tmp_path / "archiver.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "a.db"}"\n', encoding="utf-8"
    )
    result = run_archive(monkeypatch, capsys, "--config", str(tmp_path / "archiver.toml"), "serve")
    assert result.code == 2
    assert result.err.strip().count("\n") == 0
    assert "no session secret: set ARCHIVER_WEB_SECRET or create" in result.err


def test_archive_serve_runs_waitress(viewer: Viewer) -> None:
    """`archive serve` as a user starts it: a real process on loopback answering with the headers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "ARCHIVER_WEB_SECRET": SECRET}
    command = [
        sys.executable,
        "-m",
        "archiver",
        "--config",
        str(viewer.world.config),
        "serve",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert json.loads(response.read()) == {"ok": True}
                    assert response.headers["Server"] == "embed-archiver"
                    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
                    break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "archive serve did not answer within 30 s"
                time.sleep(0.2)
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_the_residue_page_matches_a_page_of_articles_and_the_dashboard_counts_lines_without_a_card(
    viewer: Viewer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with viewer.world.sessions() as session, session.begin():
        harbour, market = (
            session.scalars(select(Article).where(Article.key.endswith(key))).one()
            for key in ("harbour.html", "market.html")
        )
        session.add_all(
            [
                Occurrence(
                    article=harbour,
                    provider="instagram",
                    markup="residue",
                    position=9,
                    span_start=5,
                    span_end=40,
                    found={"author_name": "Nobody Known", "handle": "@nobody_known"},
                ),
                Occurrence(
                    article=market,
                    provider="instagram",
                    markup="residue",
                    position=9,
                    span_start=7,
                    span_end=50,
                    found={"author_name": "Nobody Else", "handle": "@nobody_else"},
                ),
                Rewrite(
                    article_id=market.id,
                    provider="instagram",
                    post_id="CARDED",
                    mode="apply",
                    state="applied",
                    span_start=7,
                    span_end=50,
                    original_bytes=b"x",
                    card_start=7,
                    article_sha256_before="0" * 64,
                    created_at=NOW,
                ),
            ]
        )
        first, second = sorted((harbour.id, market.id))
    client = viewer.client()
    login(client)
    dashboard = client.get("/editors/").get_data(as_text=True)
    assert "<strong>1</strong> residue line(s) without a card (of 2)" in dashboard
    assert "Orphaned residue lines: not counted yet" in dashboard
    # A whole-archive rewrite run matches every line to find its articles, and keeps the counts.
    config = str(viewer.world.config)
    monkeypatch.setenv("ARCHIVER_NOW", NOW.isoformat())
    assert run_archive(monkeypatch, capsys, "--config", config, "rewrite", "--dry-run").code == 0
    assert "not counted yet" in client.get("/editors/").get_data(as_text=True)  # a dry run keeps nothing
    assert run_archive(monkeypatch, capsys, "--config", config, "rewrite").code == 0
    dashboard = client.get("/editors/").get_data(as_text=True)
    with viewer.world.sessions() as session:
        assert queries.residue_counts(session) == ({"orphaned": 1, "repaired": 1}, NOW)
    assert (
        '<a class="tile" href="/editors/residue?status=orphaned"><strong>1</strong> orphaned residue '
        "line(s): no archived post matches (0 ambiguous; counted by the rewrite run of 2026-03-01 12:00 UTC)"
    ) in dashboard
    monkeypatch.setattr(editors, "RESIDUE_PAGE", 1)
    one = client.get("/editors/residue?status=orphaned").get_data(as_text=True)
    assert "2 residue line(s) in all, 1 of them without their card" in one
    lines = {first: "@nobody_known", second: "@nobody_else"}
    assert lines[first] in one and lines[second] not in one
    assert "orphaned here (1)" in one
    assert f"/editors/residue?after={first}&amp;status=orphaned" in one
    two = client.get(f"/editors/residue?after={first}&status=orphaned").get_data(as_text=True)
    assert lines[second] in two and lines[first] not in two
    assert "?after=" + str(second) not in two  # the last page has no next link


def test_the_queue_shows_each_embeds_latest_ten_gone_checks_and_every_fragment_of_one_article(
    viewer: Viewer,
) -> None:
    with viewer.world.sessions() as session, session.begin():
        for post_id, hours in (("CODE111", 12), ("CODE222", 3)):
            embed = session.scalars(select(Embed).where(Embed.post_id == post_id)).one()
            for hour in range(1, hours + 1):
                session.add(
                    Check(
                        embed=embed,
                        checked_at=NOW - timedelta(hours=hour),
                        kind="check",
                        outcome="gone",
                        http_status=404,
                        reason=f"{post_id} gone {hour}h ago",
                    )
                )
    client = viewer.client()
    login(client)
    page = client.get("/editors/queue").get_data(as_text=True)
    sections = {}
    for post_id in ("CODE111", "CODE222"):
        chosen = rewrite_of(viewer, post_id)
        section = page[page.index(f'id="rewrite-{chosen}"') :]
        sections[post_id] = section[: section.index("</article>")]
        assert "First paragraph of Harbour." in sections[post_id]  # one article, read once, both shown
    assert [h for h in range(1, 13) if f"CODE111 gone {h}h ago<" in sections["CODE111"]] == list(range(1, 11))
    assert [h for h in range(1, 13) if f"CODE222 gone {h}h ago<" in sections["CODE222"]] == [1, 2, 3]
    assert "CODE222 gone" not in sections["CODE111"]


def test_the_queue_shows_original_markup_put_back_as_text_and_in_a_sandbox(viewer: Viewer) -> None:
    chosen = rewrite_of(viewer, "CODE111")
    markup = (
        b'<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/CODE111/">'
        b"<p>Back again</p></blockquote>\n"
        b'<script async src="//www.instagram.com/embed.js"></script>'
    )
    reason = "original embed put back from local http://127.0.0.1/x of 2020-10-05T08:15:00Z: the residue line"
    with viewer.world.sessions() as session, session.begin():
        row = session.get(Rewrite, chosen)
        assert row is not None
        row.variant, row.replacement_bytes, row.reason = "embed", markup, reason
    client = viewer.client()
    login(client)
    page = client.get("/editors/queue").get_data(as_text=True)
    section = page[page.index(f'id="rewrite-{chosen}"') :]
    section = section[: section.index("</article>")]
    assert "the post's original embed markup, from a web archive" in section
    assert f"Why: {reason}" in section and "The post answers live" in section
    assert "&lt;script async src=&#34;//www.instagram.com/embed.js&#34;&gt;&lt;/script&gt;</mark>" in section
    # The preview runs no script: a sandbox without allow-scripts, the markup only in srcdoc.
    frame = section[section.index('<iframe class="card"') :]
    frame = frame[: frame.index("</iframe>")]
    assert " sandbox srcdoc=" in frame and "allow-scripts" not in frame
    assert "<script" not in section  # escaped everywhere, in the srcdoc too
