"""The rewrite journal through the database: modes, the editors' queue, restore, conflicts, recovery."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archiver.errors import WriteConflict
from archiver.pipeline import rewrite
from archiver.pipeline.rewrite.fallback import CardData
from archiver.records import Span
from archiver.sources.store import FileStore
from archiver.storage import queries
from archiver.storage.models import Article, Embed, Rewrite
from tests.support.rewrite_world import World, break_everything, corpus_pages, make_world, open_world, scan

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "samples"
BLOCKQUOTE = (
    '<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/{code}/" '
    'data-instgrm-version="14"><div><a href="https://www.instagram.com/p/{code}/">A post shared by Ann '
    "(@ann)</a></div></blockquote>\n"
    '<script async src="//www.instagram.com/embed.js"></script>'
)
PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Harbour</title></head>
<body><article>
<p>First paragraph, with an &ldquo;entity&rdquo; and café.</p>
{first}
<p>Between the embeds. <iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ" allowfullscreen></iframe></p>
{second}
<p>Last paragraph.</p>
</article></body></html>
"""


class Crash(BaseException):
    """Stands for a kill -9: nothing after it runs, nothing catches it."""


def page_text(first: str = "CODE111", second: str = "CODE222") -> str:
    return PAGE.format(first=BLOCKQUOTE.format(code=first), second=BLOCKQUOTE.format(code=second))


def world_with(tmp_path: Path, mode: str, text: str | None = None) -> World:
    source = tmp_path / "src"
    source.mkdir()
    (source / "harbour.html").write_text(text or page_text(), encoding="utf-8")
    world = make_world(tmp_path / "w", sorted(source.glob("*.html")), mode=mode)
    scan(world)
    return world


def the_file(world: World) -> Path:
    return world.files()[0]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(world: World) -> list[Rewrite]:
    with world.sessions() as session:
        found = list(session.scalars(select(Rewrite).order_by(Rewrite.id)))
        session.expunge_all()
        return found


def article_id(world: World) -> int:
    with world.sessions() as session:
        return session.scalars(select(Article.id)).one()


def set_state(world: World, post_id: str, state: str) -> None:
    with world.sessions() as session, session.begin():
        session.scalars(select(Embed).where(Embed.post_id == post_id)).one().state = state


def test_apply_mode_rewrites_at_once_and_a_rerun_is_a_no_op(tmp_path: Path) -> None:
    world = world_with(tmp_path, "apply")
    break_everything(world)
    before = the_file(world).read_bytes()
    report = rewrite.run(world.sessions, world.deps())
    assert [a.status for a in report.articles] == ["applied"]
    after = the_file(world).read_bytes()
    assert after.count(b"data-archiver-embed=") == 3
    assert b"embed.js" not in after and b"<iframe" not in after
    assert b"&ldquo;entity&rdquo; and caf\xc3\xa9" in after  # untouched bytes stay as they were
    assert {(r.state, r.variant) for r in rows(world)} == {("applied", "block"), ("applied", "inline")}
    again = rewrite.run(world.sessions, world.deps())
    assert [a.status for a in again.articles] == ["unchanged"]
    assert {s.reason for s in again.articles[0].plan.skipped} == {
        "already archived (the unit holds our card)"
    }
    assert the_file(world).read_bytes() == after and len(rows(world)) == 3
    result = rewrite.restore_article(world.sessions, world.deps(), article_id(world), by="editor")
    assert result.error is None and the_file(world).read_bytes() == before
    assert {r.state for r in rows(world)} == {"restored"}


def test_monitor_mode_reports_and_writes_nothing(tmp_path: Path) -> None:
    world = world_with(tmp_path, "monitor")
    break_everything(world)
    before = sha(the_file(world))
    report = rewrite.run(world.sessions, world.deps())
    [outcome] = report.articles
    assert outcome.status == "reported" and len(outcome.plan.changes) == 3
    diff = outcome.plan.diff()
    assert (
        diff.startswith("--- a/") and "-<blockquote" in diff and '+<figure class="archiver-fallback' in diff
    )
    assert sha(the_file(world)) == before and rows(world) == []


def test_dry_run_prints_a_diff_in_any_mode_and_touches_nothing(tmp_path: Path) -> None:
    world = world_with(tmp_path, "apply")
    break_everything(world)
    before = sha(the_file(world))
    report = rewrite.run(world.sessions, world.deps(), dry_run=True)
    assert report.articles[0].status == "reported" and report.articles[0].plan.diff()
    assert report.articles[0].to_json()["changes"][0]["provider"] == "instagram"
    assert sha(the_file(world)) == before and rows(world) == []


def test_approve_mode_queues_then_writes_what_was_approved(tmp_path: Path) -> None:
    world = world_with(tmp_path, "approve")
    break_everything(world)
    before = sha(the_file(world))
    first = rewrite.run(world.sessions, world.deps())
    assert first.articles[0].status == "planned"
    with world.sessions() as session:
        queue = rewrite.pending(session)
    assert [(p.provider, p.state) for p in queue] == [
        ("instagram", "planned"),
        ("youtube", "planned"),
        ("instagram", "planned"),
    ]
    assert sha(the_file(world)) == before
    # Planning again keeps the same rows (no duplicates).
    rewrite.run(world.sessions, world.deps())
    assert [r.id for r in rows(world)] == [p.id for p in queue]
    with world.sessions() as session, session.begin():
        decisions = rewrite.approve(session, [queue[0].id, queue[1].id, 999], "ed", world.clock.now())
        assert [d.ok for d in decisions] == [True, True, False]
        rejected = rewrite.reject(session, [queue[2].id], "ed", world.clock.now())
        assert rejected[0].ok
    report = rewrite.run(world.sessions, world.deps())
    assert report.articles[0].status == "applied"
    states = {r.post_id: r.state for r in rows(world)}
    assert states == {"CODE111": "applied", "dQw4w9WgXcQ": "applied", "CODE222": "rejected"}
    assert the_file(world).read_bytes().count(b"data-archiver-embed=") == 2
    # A rejected rewrite is not planned again.
    again = rewrite.run(world.sessions, world.deps())
    assert again.articles[0].status == "unchanged"
    assert any("rejected" in s.reason for s in again.articles[0].plan.skipped)


def test_restore_one_embed_then_the_rest_gives_the_original_bytes(tmp_path: Path) -> None:
    world = world_with(tmp_path, "apply")
    break_everything(world)
    original = the_file(world).read_bytes()
    rewrite.run(world.sessions, world.deps())
    with world.sessions() as session:
        youtube = session.scalars(select(Embed.id).where(Embed.provider == "youtube")).one()
    partial = rewrite.restore_article(world.sessions, world.deps(), article_id(world), youtube, by="editor")
    assert partial.error is None and len(partial.rewrite_ids) == 1
    data = the_file(world).read_bytes()
    assert b"youtube.com/embed/dQw4w9WgXcQ" in data and data.count(b"data-archiver-embed=") == 2
    # An editor's restore is sticky: that embed is not rewritten again.
    again = rewrite.run(world.sessions, world.deps())
    assert again.articles[0].status == "unchanged"
    rest = rewrite.restore_article(world.sessions, world.deps(), article_id(world), by="editor")
    assert rest.error is None and the_file(world).read_bytes() == original


def test_an_embed_that_comes_back_alive_is_restored_by_policy(tmp_path: Path) -> None:
    world = world_with(tmp_path, "apply")
    break_everything(world)
    original = the_file(world).read_bytes()
    rewrite.run(world.sessions, world.deps())
    set_state(world, "CODE111", "live")
    report = rewrite.run(world.sessions, world.deps())
    assert [r.error for r in report.restored] == [None]
    data = the_file(world).read_bytes()
    assert (
        data.count(b"data-archiver-embed=") == 2
        and b'data-instgrm-permalink="https://www.instagram.com/p/CODE111/"' in data
    )
    # When it breaks again, it is rewritten again (an automatic restore is not sticky).
    set_state(world, "CODE111", "broken")
    rewrite.run(world.sessions, world.deps())
    assert the_file(world).read_bytes().count(b"data-archiver-embed=") == 3
    for post in ("CODE111", "CODE222", "dQw4w9WgXcQ"):
        set_state(world, post, "live")
    rewrite.run(world.sessions, world.deps())
    assert the_file(world).read_bytes() == original


def test_restore_on_return_off_keeps_the_card(tmp_path: Path) -> None:
    world = world_with(tmp_path, "apply")
    text = world.config.read_text().replace('mode = "apply"', 'mode = "apply"\nrestore_on_return = false')
    world.config.write_text(text)
    world = open_world(world.root)
    break_everything(world)
    rewrite.run(world.sessions, world.deps())
    set_state(world, "CODE111", "live")
    report = rewrite.run(world.sessions, world.deps())
    assert report.restored == []
    assert the_file(world).read_bytes().count(b"data-archiver-embed=") == 3


def test_an_article_edited_since_the_scan_is_rescanned_first(tmp_path: Path) -> None:
    world = world_with(tmp_path, "apply")
    break_everything(world)
    path = the_file(world)
    edited = path.read_bytes().replace(b"<p>First paragraph", b"<h2>A new heading</h2>\n<p>First paragraph")
    path.write_bytes(edited)
    report = rewrite.run(world.sessions, world.deps())
    assert report.articles[0].status == "applied"
    data = path.read_bytes()
    assert (
        data.startswith(edited[: edited.index(b"<blockquote")]) and data.count(b"data-archiver-embed=") == 3
    )


def test_a_unit_changed_after_approval_is_refused(tmp_path: Path) -> None:
    world = world_with(tmp_path, "approve")
    break_everything(world)
    rewrite.run(world.sessions, world.deps())
    with world.sessions() as session, session.begin():
        rewrite.approve(session, [r.id for r in rows(world)], "ed", world.clock.now())
    path = the_file(world)
    path.write_bytes(path.read_bytes().replace(b"A post shared by Ann", b"A post shared by Anne", 1))
    result = rewrite.apply_article(world.sessions, world.deps(), article_id(world))
    assert result.status == "applied"
    states = [(r.post_id, r.state, r.reason) for r in rows(world)]
    assert states[0] == ("CODE111", "refused", "the embed's markup changed since it was approved")
    assert [s for _, s, _ in states[1:]] == ["applied", "applied"]


def test_an_editor_saving_meanwhile_is_never_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = world_with(tmp_path, "apply")
    break_everything(world)
    path = the_file(world)
    real_write = FileStore.write

    def editor_saves_first(self: FileStore, key: str, data: bytes, expected: str) -> None:
        path.write_bytes(path.read_bytes() + b"<!-- the editor's change -->")
        real_write(self, key, data, expected)

    monkeypatch.setattr(FileStore, "write", editor_saves_first)
    report = rewrite.run(world.sessions, world.deps())
    assert report.articles[0].status == "conflict" and report.failed
    assert path.read_bytes().endswith(b"<!-- the editor's change -->")
    assert b"data-archiver-embed" not in path.read_bytes()
    assert {r.state for r in rows(world)} == {"approved"}
    monkeypatch.setattr(FileStore, "write", real_write)
    rerun = rewrite.run(world.sessions, world.deps())
    assert rerun.articles[0].status == "applied"
    assert path.read_bytes().endswith(b"<!-- the editor's change -->")
    assert path.read_bytes().count(b"data-archiver-embed=") == 3


def test_file_mode_is_kept_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    world = world_with(tmp_path, "apply")
    break_everything(world)
    path = the_file(world)
    os.chmod(path, 0o640)
    rewrite.run(world.sessions, world.deps())
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_file_store_refuses_a_stale_hash(tmp_path: Path) -> None:
    from archiver.config import ScanSettings

    path = tmp_path / "a.html"
    path.write_bytes(b"<p>old</p>")
    store = FileStore("s", ScanSettings())
    with pytest.raises(WriteConflict):
        store.write(str(path), b"<p>new</p>", "0" * 64)
    store.write(str(path), b"<p>new</p>", sha(path))
    assert path.read_bytes() == b"<p>new</p>" and store.read(str(path)).text == "<p>new</p>"


@pytest.mark.parametrize("when", ["before_replace", "after_replace"])
def test_a_crash_around_the_write_is_settled_by_recover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    world = world_with(tmp_path, "apply")
    break_everything(world)
    path = the_file(world)
    original = sha(path)
    real_replace = os.replace

    def crashing_replace(src: str | Path, dst: str | Path) -> None:
        if when == "after_replace":
            real_replace(src, dst)
        raise Crash

    monkeypatch.setattr(os, "replace", crashing_replace)
    with pytest.raises(Crash):
        rewrite.run(world.sessions, world.deps())
    monkeypatch.setattr(os, "replace", real_replace)
    assert {r.state for r in rows(world)} == {"applying"}
    after = rows(world)[0].article_sha256_after
    assert sha(path) == (after if when == "after_replace" else original)
    report = rewrite.recover(world.sessions, world.deps())
    if when == "after_replace":
        assert len(report.finished) == 3 and {r.state for r in rows(world)} == {"applied"}
    else:
        assert len(report.rolled_back) == 3 and {r.state for r in rows(world)} == {"approved"}
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    rewrite.run(world.sessions, world.deps())
    assert {r.state for r in rows(world)} == {"applied"} and sha(path) == after


def test_a_crash_during_restore_is_settled_by_recover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = world_with(tmp_path, "apply")
    break_everything(world)
    path = the_file(world)
    original = sha(path)
    rewrite.run(world.sessions, world.deps())
    real_replace = os.replace

    def crash_after(src: str | Path, dst: str | Path) -> None:
        real_replace(src, dst)
        raise Crash

    monkeypatch.setattr(os, "replace", crash_after)
    with pytest.raises(Crash):
        rewrite.restore_article(world.sessions, world.deps(), article_id(world), by="editor")
    monkeypatch.setattr(os, "replace", real_replace)
    assert {r.state for r in rows(world)} == {"restoring"} and sha(path) == original
    rewrite.recover(world.sessions, world.deps())
    assert {r.state for r in rows(world)} == {"restored"}


def test_a_card_removed_by_hand_counts_as_restored_by_hand(tmp_path: Path) -> None:
    world = world_with(tmp_path, "apply")
    break_everything(world)
    path = the_file(world)
    original = path.read_bytes()
    rewrite.run(world.sessions, world.deps())
    path.write_bytes(original)  # an editor put the old version back
    report = rewrite.run(world.sessions, world.deps())
    assert report.articles[0].status == "unchanged"
    assert {(r.state, r.restored_by) for r in rows(world)} == {("restored", rewrite.BY_HAND)}
    assert path.read_bytes() == original


def test_embeds_without_a_snapshot_wait(tmp_path: Path) -> None:
    world = world_with(tmp_path, "apply")
    for post in ("CODE111", "CODE222", "dQw4w9WgXcQ"):
        set_state(world, post, "broken")
    report = rewrite.run(world.sessions, world.deps())
    assert report.articles[0].status == "unchanged"
    assert {s.reason for s in report.articles[0].plan.skipped} == {"no snapshot of the post to show yet"}
    assert rows(world) == []


def test_refusals_are_journaled_once_and_listed_for_editors(tmp_path: Path) -> None:
    text = page_text().replace(
        "<p>Last paragraph.</p>",
        "<table><tr><td>x</td></tr>" + BLOCKQUOTE.format(code="CODE333") + "</table>",
    )
    world = world_with(tmp_path, "approve", text)
    break_everything(world)
    first = rewrite.run(world.sessions, world.deps())
    assert len(first.articles[0].plan.refused) == 1
    rewrite.run(world.sessions, world.deps())
    refused = [r for r in rows(world) if r.state == "refused"]
    assert len(refused) == 1 and refused[0].post_id == "CODE333" and refused[0].reason
    with world.sessions() as session:
        flagged = [p for p in rewrite.pending(session, include_refused=True) if p.state == "refused"]
    assert [p.post_id for p in flagged] == ["CODE333"]


def test_the_journal_on_sqlite_and_postgresql(tmp_path: Path, db_url: str) -> None:
    world = make_world(tmp_path, corpus_pages()[:12], mode="apply", database_url=db_url)
    scan(world)
    break_everything(world)
    before = world.hashes()
    report = rewrite.run(world.sessions, world.deps())
    assert report.articles and {a.status for a in report.articles} == {"applied"}
    assert {a.status for a in rewrite.run(world.sessions, world.deps()).articles} == {"unchanged"}
    applied = [r for r in rows(world) if r.state == "applied"]
    assert applied and all(r.original_bytes and r.replacement_bytes for r in applied)
    for article in sorted({r.article_id for r in applied}):
        assert rewrite.restore_article(world.sessions, world.deps(), article, by="test").error is None
    assert world.hashes() == before
    world.sessions.kw["bind"].dispose()


def test_residue_matched_to_a_snapshot_gets_its_card_back(tmp_path: Path) -> None:
    """The residue matcher (`RewriteDeps.extra_targets`) hands targets in; they are journaled alike."""
    source = tmp_path / "src"
    source.mkdir()
    shutil.copyfile(SAMPLES / "festival-roundup.html", source / "festival-roundup.html")
    world = make_world(tmp_path / "w", sorted(source.glob("*.html")), mode="apply")
    scan(world)
    break_everything(world)
    original = the_file(world).read_bytes()

    def residue_targets(session: Session, article: Article) -> list[rewrite.Target]:
        found = []
        for occurrence in article.occurrences:
            if occurrence.markup == "residue" and occurrence.span_start is not None:
                embed = session.scalars(select(Embed).where(Embed.post_id == "CIyNZQhH4DQ")).one()
                snapshot = queries.latest_snapshot(session, embed)
                assert snapshot is not None
                card = CardData.from_snapshot(embed, snapshot, world.settings.rewrite)
                span = Span(occurrence.span_start, occurrence.span_end or 0)
                found.append(rewrite.Target(span, card, embed.id))
        return found

    deps = world.deps()
    deps.extra_targets = residue_targets
    report = rewrite.run(world.sessions, deps)
    assert report.articles[0].status == "applied"
    data = the_file(world).read_bytes()
    assert b"A post shared by Hayley Atwell" not in data
    assert data.count(b'data-archiver-embed="instagram:CIyNZQhH4DQ"') == 2
    assert rewrite.restore_article(world.sessions, deps, article_id(world), by="ed").error is None
    assert the_file(world).read_bytes() == original


def test_articles_are_found_by_id_key_or_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = world_with(tmp_path, "apply")
    path = the_file(world)
    monkeypatch.chdir(path.parent)
    with world.sessions() as session:
        found = [
            queries.find_article(session, text) for text in (str(article_id(world)), str(path), path.name)
        ]
        assert {a.id for a in found if a is not None} == {article_id(world)} and None not in found
        assert queries.find_article(session, "nope.html") is None
