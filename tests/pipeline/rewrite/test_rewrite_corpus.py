"""The rewrite measures on every page of shared/corpus/dev, with every embed that has a span broken.

- bytes outside the replaced spans: 100% identical;
- every rewrite verified or refused (refusals are counted and printed), never a corrupted page;
- a second rewrite is a byte-identical no-op;
- restore gives back the original sha256 of every page;
- scanning a rewritten page finds the same embeds (outside the cards) plus our cards, and no new post.

Snapshots are synthetic (the rewrite stage only reads what a capture stored).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from archiver.config import RewriteSettings
from archiver.pipeline import rewrite
from archiver.pipeline.rewrite import splice
from archiver.pipeline.rewrite.fallback import CardRenderer, card_data
from archiver.pipeline.scan import scan_article
from archiver.pipeline.scan.archived import archived_cards
from archiver.pipeline.scan.offsets import byte_offsets
from archiver.records import Article, EmbedRef, MarkupKind
from archiver.storage.models import Article as ArticleRow
from archiver.storage.models import Rewrite
from tests.support.corpus_scoring import article, available, page_names, scanned
from tests.support.rewrite_world import break_everything, corpus_pages, make_world, scan

pytestmark = pytest.mark.skipif(not available(), reason="shared/corpus/dev is not there")
RENDERER = CardRenderer()
SETTINGS = RewriteSettings(archive_base_url="https://archive.example.org")


def targets_for(refs: list[EmbedRef]) -> list[rewrite.Target]:
    return [
        rewrite.Target(
            ref.span,
            card_data(
                provider=ref.provider,
                post_id=ref.post_id or f"unnamed-{index}",
                url=ref.url or "https://example.com/",
                version=1,
                captured_at=datetime(2026, 1, 1, tzinfo=UTC),
                settings=SETTINGS,
                author_name="Somebody",
                handle="somebody",
                text="A caption\nwith two lines & an <ampersand>",
                image_sha256="cd" * 32,
            ),
            index,
        )
        for index, ref in enumerate(refs)
        if ref.span is not None
    ]


def rewritten(name: str) -> tuple[Article, rewrite.Spliced, list[rewrite.Target]]:
    page = article(name)
    refs = [ref for ref in scanned(name).embeds if ref.span is not None]
    targets = targets_for(refs)
    return page, rewrite.rewrite_bytes(page, targets, RENDERER), targets


def test_every_corpus_page_rewrites_surgically_and_restores() -> None:
    total = changed = 0
    refusals: list[str] = []
    for name in page_names():
        page, done, targets = rewritten(name)
        total += len(targets)
        changed += len(done.changes)
        refusals += [f"{name} {t.card.marker}: {reason}" for t, reason in done.refused]
        assert len(done.changes) + len(done.refused) == len(targets), name
        # Bytes outside the spans are identical, and each span now holds exactly its card.
        edits = [change.edit for change in done.changes]
        positions = [change.card_start for change in done.changes]
        old_at = new_at = 0
        for edit, at in zip(edits, positions, strict=True):
            assert done.after[new_at:at] == page.data[old_at : edit.start], name
            assert done.after[at : at + len(edit.new)] == edit.new
            old_at, new_at = edit.end, at + len(edit.new)
        assert done.after[new_at:] == page.data[old_at:], name
        # Restore: the original bytes, whatever the order of the journal entries.
        entries = [splice.JournalEntry(at, e.new, e.old) for e, at in zip(edits, positions, strict=True)]
        restored = splice.restore(done.after, entries[::-1])
        assert hashlib.sha256(restored).hexdigest() == page.sha256, name
    print(f"\n{changed} of {total} embeds rewritten and verified, {len(refusals)} refused")
    for line in refusals:
        print("  refused:", line)
    assert total >= 200 and changed + len(refusals) == total
    assert changed >= total * 0.95


def test_rescanning_a_rewritten_page_finds_the_same_posts_now_archived() -> None:
    problems = []
    for name in page_names():
        page, done, _targets = rewritten(name)
        if not done.changes:
            continue
        text = done.after.decode(page.encoding)
        new_page = Article(page.key, page.source, done.after, text, page.encoding, "")
        result = scan_article(new_page)
        assert result.error is None, name
        cards = archived_cards(text)
        assert [(c.provider, c.post_id) for c in cards] == [
            (c.target.card.provider, c.target.card.post_id) for c in done.changes
        ]
        mapped = byte_offsets(
            text, done.after, page.encoding, [o for c in cards for o in (c.start, c.end or 0)]
        )
        assert mapped is not None
        archived = [ref for ref in result.embeds if ref.markup is MarkupKind.ARCHIVED]
        assert [(a.provider, a.post_id) for a in archived] == [(c.provider, c.post_id) for c in cards]
        card_spans = [(mapped[c.start], mapped[c.end or 0], (c.provider, c.post_id)) for c in cards]
        outside: Counter[tuple[str, str | None]] = Counter()
        for ref in result.embeds:
            inside = [
                post
                for start, end, post in card_spans
                if ref.span is not None and start <= ref.span.start and ref.span.end <= end
            ]
            if inside:
                # The scan knows our cards: each is reported once, as its post, archived.
                assert inside == [(ref.provider, ref.post_id)], (name, ref)
                assert ref.markup is MarkupKind.ARCHIVED, (name, ref)
            else:
                outside[(ref.provider, ref.post_id)] += 1
        before = Counter((ref.provider, ref.post_id) for ref in scanned(name).embeds)
        refused = Counter((t.card.provider, t.card.post_id) for t, _ in done.refused)
        now = outside + Counter(post for _, _, post in card_spans)
        unnamed = {key for key in before if key[1] is None}
        wanted = Counter({key: n for key, n in before.items() if key not in unnamed})
        got = Counter({key: n for key, n in now.items() if key not in unnamed and key[1] is not None})
        if got != wanted or refused - before:
            problems.append((name, got - wanted, wanted - got))
    assert problems == []


def test_corpus_through_the_journal_apply_rerun_restore(tmp_path: Path) -> None:
    world = make_world(tmp_path, corpus_pages(), mode="apply")
    scan(world)
    assert break_everything(world) >= 200
    originals = world.hashes()
    report = rewrite.run(world.sessions, world.deps())
    statuses = Counter(outcome.status for outcome in report.articles)
    assert set(statuses) <= {"applied", "refused"}, statuses
    rewritten_hashes = world.hashes()
    with world.sessions() as session:
        rows = list(session.scalars(select(Rewrite)))
    applied = [row for row in rows if row.state == "applied"]
    assert len(applied) >= 200 and all(row.state in ("applied", "refused") for row in rows)
    # The journal's bytes are what the files hold: each card where the journal says.
    by_article: dict[int, list[Rewrite]] = {}
    for row in applied:
        by_article.setdefault(row.article_id, []).append(row)
    with world.sessions() as session:
        for article_id, group in by_article.items():
            key = session.get(ArticleRow, article_id).key  # type: ignore[union-attr]
            data = Path(key).read_bytes()
            assert hashlib.sha256(data).hexdigest() == group[0].article_sha256_after
            for row in group:
                assert (
                    data[row.card_start : row.card_start + len(row.replacement_bytes)]
                    == row.replacement_bytes
                )

    again = rewrite.run(world.sessions, world.deps())
    assert {outcome.status for outcome in again.articles} <= {"unchanged", "refused"}
    assert all(not outcome.plan.changes for outcome in again.articles)
    assert world.hashes() == rewritten_hashes
    with world.sessions() as session:
        assert len(list(session.scalars(select(Rewrite)))) == len(rows)

    for article_id in sorted(by_article):
        result = rewrite.restore_article(world.sessions, world.deps(), article_id, by="test")
        assert result.error is None
    assert world.hashes() == originals
