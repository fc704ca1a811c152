"""Residue repair: residue lines matched to archived posts get their card back; the rest is reported."""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.archive_cli import run_archive

from archiver.pipeline import rewrite
from archiver.pipeline.rewrite.residue import (
    ResidueMatch,
    ResidueTargets,
    day_of,
    match_article,
    match_residue,
    repairable_articles,
    residue_report,
)
from archiver.storage import queries
from archiver.storage.blobs import LocalBlobStore
from archiver.storage.models import Article, Embed, Occurrence, Rewrite, Snapshot, Source
from tests.support.rewrite_world import NOW, PNG, World, add_snapshot, make_world, scan

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Harbour</title></head>
<body><article>
<p>First paragraph, with an &ldquo;entity&rdquo; and café.</p>
{body}
<p>Last paragraph.</p>
</article></body></html>
"""
DATED = "<p>A post shared by Ann Example (@ann.example) on Jul 1, 2023 at 10:00am PDT</p>"
UNDATED = "<p>A post shared by Ann Example (@ann.example)</p>"


# ---------------------------------------------------------------- the world


def world_of(
    tmp_path: Path, body: str = "", mode: str = "apply", sample: str | None = None, db_url: str | None = None
) -> World:
    source = tmp_path / "src"
    source.mkdir()
    if sample is not None:
        shutil.copyfile(SAMPLES / sample, source / sample)
    else:
        (source / "harbour.html").write_text(PAGE.format(body=body), encoding="utf-8")
    world = make_world(tmp_path / "w", sorted(source.glob("*.html")), mode=mode, database_url=db_url)
    scan(world)
    return world


def add_post(
    world: World,
    post_id: str,
    *,
    handle: str | None,
    published: str | None = None,
    author_name: str | None = "Ann Example",
    text: str | None = "A caption",
    state: str = "broken",
    provider: str = "instagram",
) -> int:
    """An archived post: an embed no article holds, with one snapshot (and an image), as a capture
    from another article would have left it."""
    blobs = LocalBlobStore(world.settings.media.dir)
    stored = blobs.put(PNG)
    with world.sessions() as session, session.begin():
        media = queries.save_media(session, stored.sha256, "image/png", len(PNG), NOW)
        embed = Embed(
            provider=provider,
            post_id=post_id,
            canonical_url=f"https://www.instagram.com/p/{post_id}/",
            state=state,
            first_seen_at=NOW,
        )
        session.add(embed)
        add_snapshot(
            session, embed, media, author_name=author_name, handle=handle, text=text, published=published
        )
        session.flush()
        return embed.id


def add_version(world: World, embed_id: int, **fields: str | None) -> None:
    """A newer snapshot version of a post, with `fields` changed."""
    with world.sessions() as session, session.begin():
        latest = session.scalars(
            select(Snapshot).where(Snapshot.embed_id == embed_id).order_by(Snapshot.version.desc())
        ).first()
        assert latest is not None
        values = {
            "author_name": latest.author_name,
            "handle": latest.handle,
            "text": latest.text,
            "published": latest.published,
            **fields,
        }
        session.add(
            Snapshot(
                embed_id=embed_id,
                version=latest.version + 1,
                captured_at=NOW,
                content_sha256=hashlib.sha256(repr(values).encode()).hexdigest(),
                **values,
            )
        )


def set_found(world: World, index: int, **found: str | None) -> None:
    """Change what the article's `index`-th residue line says (the scanner reads no caption, and a
    residue line always has a handle)."""
    with world.sessions() as session, session.begin():
        residue = session.scalars(
            select(Occurrence).where(Occurrence.markup == "residue").order_by(Occurrence.position)
        )
        occurrence = list(residue)[index]
        values = {**occurrence.found, **found}
        occurrence.found = {k: v for k, v in values.items() if v is not None}


def report(world: World) -> list[ResidueMatch]:
    with world.sessions() as session:
        return residue_report(session)


def deps_of(world: World, by_handle_alone: str = "approve") -> rewrite.RewriteDeps:
    """The rewrite stage's deps; `by_handle_alone` is the `rewrite.residue_by_handle_alone` setting."""
    deps = world.deps()
    settings = world.settings.rewrite.model_copy(update={"residue_by_handle_alone": by_handle_alone})
    deps.extra_targets = ResidueTargets(settings)
    return deps


def repair(world: World, deps: rewrite.RewriteDeps | None = None) -> rewrite.RunReport:
    """One rewrite run over the articles whose residue can be repaired (as `run` is meant to find them)."""
    with world.sessions() as session:
        ids = repairable_articles(residue_report(session))
    return rewrite.run(world.sessions, deps or deps_of(world), article_ids=ids)


def the_file(world: World) -> Path:
    [path] = world.files()
    return path


def journal(world: World) -> list[Rewrite]:
    with world.sessions() as session:
        rows = list(session.scalars(select(Rewrite).order_by(Rewrite.id)))
        session.expunge_all()
        return rows


def marker(post_id: str) -> bytes:
    return f'data-archiver-embed="instagram:{post_id}"'.encode()


# ---------------------------------------------------------------- repairs through the rewrite stage


def test_residue_matched_by_handle_gets_its_card_back_and_restore_gives_the_bytes_back(
    tmp_path: Path,
) -> None:
    world = world_of(tmp_path, sample="festival-roundup.html")
    hayley = add_post(world, "HAYLEY1", handle="wellhayley", author_name="Hayley Atwell")
    add_post(world, "OTHER1", handle="someone.else", author_name="Someone Else")
    original = the_file(world).read_bytes()
    [match] = report(world)
    assert (match.status, match.embed_id, match.handle, match.repairable) == (
        "matched",
        hayley,
        "wellhayley",
        True,
    )
    assert [c.post_id for c in match.candidates] == ["HAYLEY1"]
    assert match.by_handle_alone  # the line has no date, and the scanner reads no caption

    deps = deps_of(world, by_handle_alone="apply")
    result = repair(world, deps)
    assert [a.status for a in result.articles] == ["applied"]
    data = the_file(world).read_bytes()
    assert b"A post shared by Hayley Atwell" not in data
    assert data.count(marker("HAYLEY1")) == 1 and marker("OTHER1") not in data
    # Everything around the residue paragraph is as it was (the reel's embed included: it is not broken).
    start = original.index(b"<p>A post shared by Hayley Atwell")
    end = original.index(b"</p>", start) + len(b"</p>")
    assert data.startswith(original[:start]) and data.endswith(original[end:])
    [row] = journal(world)
    assert (row.state, row.embed_id, row.post_id, row.original_bytes) == (
        "applied",
        hayley,
        "HAYLEY1",
        original[start:end],
    )
    # Repaired: reported as such, and not planned again.
    [after] = report(world)
    assert after.repaired and not after.repairable and "its card is in the article" in after.reason
    again = rewrite.run(world.sessions, deps, article_ids=[row.article_id])
    assert [a.status for a in again.articles] == ["unchanged"] and the_file(world).read_bytes() == data

    restored = rewrite.restore_article(world.sessions, deps, row.article_id, by="editor")
    assert restored.error is None and the_file(world).read_bytes() == original
    world.close()


def test_a_match_by_handle_alone_waits_for_an_editor_in_mode_apply_and_says_why(tmp_path: Path) -> None:
    # The default: the one archived post of @ann.example may be another post of hers, so even a source
    # in mode apply leaves the residue line as it is until an editor approves the card.
    world = world_of(tmp_path, UNDATED + "\n" + DATED)
    undated_post = add_post(world, "ONLY1", handle="ann.example", published=None)
    before = the_file(world).read_bytes()
    undated, dated = report(world)
    assert (undated.status, undated.embed_id, undated.by_handle_alone) == ("matched", undated_post, True)
    assert dated.status == "orphaned"  # its date cannot be checked against a post of unknown date
    [outcome] = repair(world).articles
    assert outcome.status == "planned" and the_file(world).read_bytes() == before
    [change] = outcome.plan.changes
    assert change.review and "@ann.example" not in (change.note or "") and "editor" in (change.note or "")
    [row] = journal(world)
    assert (row.state, row.embed_id, row.original_bytes) == ("planned", undated_post, UNDATED.encode())
    with world.sessions() as session:
        [pending] = rewrite.pending(session)
    assert pending.id == row.id and pending.reason is not None
    assert pending.reason.startswith("residue line matched to instagram:ONLY1")
    assert "nothing but the handle confirms it" in pending.reason
    # Running again keeps the one planned row; approved, the next run writes the card.
    assert [a.status for a in repair(world).articles] == ["planned"]
    assert [r.id for r in journal(world)] == [row.id]
    with world.sessions() as session, session.begin():
        assert rewrite.approve(session, [row.id], "ed", world.clock.now())[0].ok
    assert [a.status for a in repair(world).articles] == ["applied"]
    data = the_file(world).read_bytes()
    assert data.count(marker("ONLY1")) == 1 and UNDATED.encode() not in data and DATED.encode() in data
    [applied] = journal(world)
    assert applied.state == "applied" and applied.approved_by == "ed"


def test_a_dated_match_is_written_at_once_beside_one_that_waits_for_an_editor(tmp_path: Path) -> None:
    # One article, two residue lines of two people: the dated match is written in mode apply, the match
    # by handle alone waits; approving it later writes it beside the first card.
    bea = "<p>A post shared by Bea Other (@bea.other)</p>"
    world = world_of(tmp_path, DATED + "\n" + bea)
    ann = add_post(world, "ANN1", handle="ann.example", published="2023-07-01")
    bea_post = add_post(world, "BEA1", handle="bea.other", author_name="Bea Other")
    [outcome] = repair(world).articles
    assert outcome.status == "applied"
    data = the_file(world).read_bytes()
    assert marker("ANN1") in data and bea.encode() in data and marker("BEA1") not in data
    rows = {row.embed_id: row for row in journal(world)}
    assert (rows[ann].state, rows[bea_post].state) == ("applied", "planned")
    assert rows[ann].reason is not None and "same handle, same day" in rows[ann].reason
    with world.sessions() as session, session.begin():
        assert rewrite.approve(session, [rows[bea_post].id], "ed", world.clock.now())[0].ok
    repair(world)
    data = the_file(world).read_bytes()
    assert data.count(marker("ANN1")) == 1 and data.count(marker("BEA1")) == 1 and bea.encode() not in data


def test_a_caption_the_post_shows_confirms_a_match_without_a_date(tmp_path: Path) -> None:
    world = world_of(tmp_path, UNDATED)
    post = add_post(world, "ONLY1", handle="ann.example", text="Harbour lights at dusk")
    set_found(world, 0, text="Harbour lights at dusk")
    [match] = report(world)
    assert (match.status, match.embed_id, match.by_handle_alone) == ("matched", post, False)
    assert match.candidates[0].why == "same handle (the residue has no date), same caption"
    assert [a.status for a in repair(world).articles] == ["applied"]
    assert marker("ONLY1") in the_file(world).read_bytes()


def test_same_handle_on_two_days_the_residue_date_picks_the_post(tmp_path: Path) -> None:
    world = world_of(tmp_path, DATED)
    right = add_post(world, "RIGHT1", handle="ann.example", published="2023-07-01T17:00:00Z")
    add_post(world, "WRONG1", handle="ann.example", published="2023-09-14T08:00:00Z")
    [match] = report(world)
    assert (match.status, match.embed_id, match.published) == ("matched", right, "2023-07-01T10:00:00-07:00")
    assert match.candidates[0].why == "same handle, same day"
    repair(world)
    data = the_file(world).read_bytes()
    assert data.count(marker("RIGHT1")) == 1 and marker("WRONG1") not in data
    assert b"A post shared by Ann Example" not in data


def test_same_handle_without_a_date_is_ambiguous_and_nothing_is_rewritten(tmp_path: Path) -> None:
    world = world_of(tmp_path, UNDATED)
    first = add_post(world, "POST1", handle="ann.example", published="2023-07-01T17:00:00Z")
    second = add_post(world, "POST2", handle="ann.example", published="2023-09-14T08:00:00Z")
    before = the_file(world).read_bytes()
    [match] = report(world)
    assert (match.status, match.embed_id, match.repairable) == ("ambiguous", None, False)
    assert {c.embed_id for c in match.candidates} == {first, second}
    assert {c.why for c in match.candidates} == {"same handle (the residue has no date)"}
    assert "instagram:POST1" in match.reason and "instagram:POST2" in match.reason
    with world.sessions() as session:
        assert repairable_articles(residue_report(session)) == []
        article_id = session.scalars(select(Article.id)).one()
    result = rewrite.run(world.sessions, deps_of(world), article_ids=[article_id])
    assert [a.status for a in result.articles] == ["unchanged"]
    assert the_file(world).read_bytes() == before and journal(world) == []


def test_no_snapshot_with_that_handle_is_orphaned_with_the_posts_of_that_author_name(tmp_path: Path) -> None:
    world = world_of(tmp_path, DATED)
    renamed = add_post(world, "NAME1", handle="ann.renamed", author_name="ANN  example")
    add_post(world, "STRANGER", handle="stranger", author_name="Somebody Else")
    [match] = report(world)
    assert (match.status, match.embed_id) == ("orphaned", None)
    assert (
        match.reason == "no archived instagram post of @ann.example from 2023-07-01; 1 near miss(es) listed"
    )
    [candidate] = match.candidates
    assert (candidate.embed_id, candidate.handle, candidate.why) == (
        renamed,
        "ann.renamed",
        "same author name, other handle (@ann.renamed)",
    )
    assert match.to_json()["candidates"][0]["id"] == "NAME1"


def test_orphans_list_the_posts_of_that_handle_that_were_excluded(tmp_path: Path) -> None:
    world = world_of(tmp_path, DATED)
    add_post(world, "LATER", handle="ann.example", published="2023-07-05")
    add_post(world, "UNDATED", handle="ann.example", published=None)
    [match] = report(world)
    assert match.status == "orphaned"
    assert {(c.post_id, c.why) for c in match.candidates} == {
        ("LATER", "same handle, other day (2023-07-05)"),
        ("UNDATED", "same handle, the post's date is unknown"),
    }


@pytest.mark.parametrize(
    ("said", "stored"),
    [("@Ann.Example", "ann.example"), ("ann.example", "@ANN.EXAMPLE"), ("ann.example", " Ann.Example ")],
)
def test_handle_comparison_ignores_case_and_at(tmp_path: Path, said: str, stored: str) -> None:
    world = world_of(tmp_path, UNDATED.replace("@ann.example", said if said.startswith("@") else "@" + said))
    post = add_post(world, "ANN1", handle=stored)
    [match] = report(world)
    assert (match.status, match.embed_id) == ("matched", post)
    repair(world, deps_of(world, by_handle_alone="apply"))
    assert the_file(world).read_bytes().count(marker("ANN1")) == 1


def test_a_handle_from_an_older_version_counts_and_the_card_shows_the_latest(tmp_path: Path) -> None:
    world = world_of(tmp_path, UNDATED)
    post = add_post(world, "ANN1", handle="ann.example", text="Old caption")
    add_version(world, post, handle="ann.renamed", text="New caption text")
    [match] = report(world)
    assert (match.status, match.embed_id) == ("matched", post)
    assert (match.candidates[0].handle, match.candidates[0].snapshot_version) == ("ann.renamed", 2)
    repair(world, deps_of(world, by_handle_alone="apply"))
    data = the_file(world).read_bytes()
    assert b'data-archiver-version="2"' in data and b"New caption text" in data and b"Old caption" not in data


def test_approve_mode_journals_a_planned_row_and_writes_nothing(tmp_path: Path) -> None:
    world = world_of(tmp_path, DATED, mode="approve")
    post = add_post(world, "RIGHT1", handle="ann.example", published="2023-07-01")
    before = the_file(world).read_bytes()
    result = repair(world)
    assert [a.status for a in result.articles] == ["planned"]
    assert the_file(world).read_bytes() == before
    [row] = journal(world)
    assert (row.state, row.embed_id, row.provider, row.post_id) == ("planned", post, "instagram", "RIGHT1")
    assert (
        row.original_bytes == DATED.encode() and before[row.span_start : row.span_end] == row.original_bytes
    )
    assert row.replacement_bytes is not None and marker("RIGHT1") in row.replacement_bytes
    # Planning again keeps the one row; once approved, the next run writes exactly the approved bytes.
    repair(world)
    assert [r.id for r in journal(world)] == [row.id]
    with world.sessions() as session, session.begin():
        assert rewrite.approve(session, [row.id], "ed", world.clock.now())[0].ok
    assert [a.status for a in repair(world).articles] == ["applied"]
    assert row.replacement_bytes in the_file(world).read_bytes()


def test_monitor_mode_reports_the_repair_and_writes_nothing(tmp_path: Path) -> None:
    world = world_of(tmp_path, DATED, mode="monitor")
    add_post(world, "RIGHT1", handle="ann.example", published="2023-07-01")
    before = the_file(world).read_bytes()
    [outcome] = repair(world).articles
    assert outcome.status == "reported" and "-" + DATED in outcome.plan.diff()
    assert the_file(world).read_bytes() == before and journal(world) == []


# ---------------------------------------------------------------- the matcher's rules


def test_a_post_dated_the_next_day_in_another_zone_still_matches(tmp_path: Path) -> None:
    world = world_of(tmp_path, DATED)  # 10:00 PDT on 1 July is 17:00 UTC; a day either side counts
    post = add_post(world, "UTC1", handle="ann.example", published="2023-07-02T03:00:00Z")
    [match] = report(world)
    assert (match.status, match.embed_id) == ("matched", post)


def test_the_caption_breaks_a_tie_between_posts_of_the_same_day(tmp_path: Path) -> None:
    world = world_of(tmp_path, DATED)
    sunset = add_post(
        world, "SUNSET", handle="ann.example", published="2023-07-01", text="Sunset  over the\nharbour"
    )
    add_post(world, "BREAKFAST", handle="ann.example", published="2023-07-01", text="Breakfast at the market")
    [tie] = report(world)
    assert tie.status == "ambiguous" and len(tie.candidates) == 2
    set_found(world, 0, text="Sunset over another harbour")  # neither holds the other: still a tie
    assert report(world)[0].status == "ambiguous"
    set_found(world, 0, text="SUNSET over the harbour")
    [match] = report(world)
    assert (match.status, match.embed_id) == ("matched", sunset)
    assert match.candidates[0].why == "same handle, same day, same caption"
    set_found(world, 0, text="Sunset over the harbour, and the boats coming in")  # holds the caption
    assert report(world)[0].embed_id == sunset
    set_found(world, 0, text="the")  # too short to say anything
    assert report(world)[0].status == "ambiguous"


def test_without_a_handle_the_author_name_matches_only_when_unique_and_dated(tmp_path: Path) -> None:
    world = world_of(tmp_path, DATED)
    set_found(world, 0, handle=None)
    post = add_post(world, "ANN1", handle="ann.example", author_name="ann example", published="2023-07-01")
    [match] = report(world)
    assert (match.status, match.embed_id) == ("matched", post)
    assert match.candidates[0].why == "same author name (no handle), same day, the only post of that name"

    set_found(world, 0, published=None)  # no date: a name alone never matches
    [undated] = report(world)
    assert undated.status == "orphaned" and [c.embed_id for c in undated.candidates] == [post]

    set_found(world, 0, published="2023-07-01")
    add_post(world, "ANN2", handle="ann.other", author_name="Ann Example", published="2023-08-01")
    [two] = report(world)
    assert two.status == "orphaned" and len(two.candidates) == 2
    assert two.reason == "no handle, and 2 archived posts have that author name"


def test_a_residue_naming_nothing_is_orphaned(tmp_path: Path) -> None:
    world = world_of(tmp_path, DATED)
    set_found(world, 0, handle=None, author_name=None)
    [match] = report(world)
    assert (match.status, match.reason, match.candidates) == (
        "orphaned",
        "the residue names no handle and no author",
        (),
    )


def test_a_post_the_article_already_embeds_is_not_matched(tmp_path: Path) -> None:
    world = world_of(tmp_path, sample="festival-roundup.html")
    with world.sessions() as session, session.begin():
        reel = session.scalars(select(Embed).where(Embed.post_id == "CIyNZQhH4DQ")).one()
        reel.state = "broken"
        session.add(
            Snapshot(
                embed=reel,
                version=1,
                captured_at=NOW,
                content_sha256="0" * 64,
                handle="wellhayley",
                published=None,
            )
        )
    [match] = report(world)
    assert match.status == "orphaned"
    assert [(c.post_id, c.why) for c in match.candidates] == [
        ("CIyNZQhH4DQ", "same handle, already embedded in this article")
    ]


def test_two_residue_lines_matching_one_post_are_both_ambiguous(tmp_path: Path) -> None:
    world = world_of(tmp_path, UNDATED + "\n<p>Between.</p>\n" + UNDATED)
    add_post(world, "ANN1", handle="ann.example")
    before = the_file(world).read_bytes()
    with world.sessions() as session:
        occurrences = list(session.scalars(select(Occurrence).order_by(Occurrence.position)))
        # One line alone matches; the article's two lines together cannot both be that post.
        assert match_residue(session, occurrences[0]).status == "matched"
        article = session.scalars(select(Article)).one()
        matches = match_article(session, article)
    assert [m.status for m in matches] == ["ambiguous", "ambiguous"]
    assert matches[0].reason.startswith("2 residue lines of this article match instagram:ANN1")
    assert [m.status for m in report(world)] == ["ambiguous", "ambiguous"]
    with world.sessions() as session:
        assert repairable_articles(residue_report(session)) == []
        assert ResidueTargets(world.settings.rewrite)(session, session.scalars(select(Article)).one()) == []
    assert the_file(world).read_bytes() == before


def test_a_match_to_a_live_post_is_reported_but_not_rewritten(tmp_path: Path) -> None:
    world = world_of(tmp_path, UNDATED)
    post = add_post(world, "ANN1", handle="ann.example", state="live")
    [match] = report(world)
    assert (match.status, match.embed_id, match.embed_state, match.repairable) == (
        "matched",
        post,
        "live",
        False,
    )
    assert match.reason.endswith("; not rewritten while the post is live")
    with world.sessions() as session:
        assert repairable_articles(residue_report(session)) == []


def test_the_report_lists_every_residue_in_article_order_by_source(tmp_path: Path) -> None:
    world = world_of(tmp_path, DATED + "\n" + UNDATED)
    add_post(world, "RIGHT1", handle="ann.example", published="2023-07-01")
    add_post(world, "OTHER", handle="ann.example", published="2024-01-01")
    matches = report(world)
    assert [(m.status, m.published) for m in matches] == [
        ("matched", "2023-07-01T10:00:00-07:00"),
        ("ambiguous", None),
    ]
    first, second = matches[0].span, matches[1].span
    assert first is not None and second is not None and first.start < second.start
    out = matches[0].to_json()
    assert out["source"] == "site" and out["status"] == "matched" and out["repairable"] is True
    assert out["candidates"][0]["id"] == "RIGHT1" and out["span"] == [first.start, first.end]
    with world.sessions() as session:
        assert residue_report(session, ["site"]) == matches
        assert residue_report(session, ["elsewhere"]) == []


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2023-07-01", datetime.date(2023, 7, 1)),
        ("2023-07-01T23:30:00-07:00", datetime.date(2023, 7, 1)),
        ("2023-7-1", datetime.date(2023, 7, 1)),
        ("May 2, 2020", datetime.date(2020, 5, 2)),
        ("2. Mai 2020", datetime.date(2020, 5, 2)),
        ("on Jul 1, 2023 at 10:00am", datetime.date(2023, 7, 1)),
        ("2023-02-30", None),
        ("yesterday", None),
        ("", None),
        (None, None),
        (1688203200, None),
    ],
)
def test_day_of_reads_dates_defensively(text: object, day: datetime.date | None) -> None:
    assert day_of(text) == day


# ---------------------------------------------------------------- the queries, on both databases


def test_residue_queries_on_sqlite_and_postgresql(session: Session) -> None:
    source = Source(name="site", kind="files", created_at=NOW)
    article = Article(source=source, key="a.html", first_seen_at=NOW)
    session.add_all([source, article])
    ann = Embed(provider="instagram", post_id="A", canonical_url="https://i/p/A/", first_seen_at=NOW)
    zoe = Embed(provider="instagram", post_id="Z", canonical_url="https://i/p/Z/", first_seen_at=NOW)
    tweet = Embed(provider="twitter", post_id="T", canonical_url="https://t/T", first_seen_at=NOW)
    for embed, handle, name in (
        (ann, "@Ann.Example", "Ann Example"),
        (zoe, "zoe", "ZOË Ünal"),
        (tweet, "ann.example", "Ann Example"),
    ):
        session.add(
            Snapshot(
                embed=embed,
                version=1,
                captured_at=NOW,
                content_sha256="0" * 64,
                handle=handle,
                author_name=name,
            )
        )
    session.add(Snapshot(embed=ann, version=2, captured_at=NOW, content_sha256="1" * 64, handle="ann.new"))
    session.add_all(
        [
            Occurrence(
                article=article, provider="instagram", markup="residue", position=1, found={"handle": "x"}
            ),
            Occurrence(article=article, provider="instagram", markup="script", position=0, found={}),
            Occurrence(
                article=article, embed=ann, provider="instagram", markup="blockquote", position=2, found={}
            ),
        ]
    )
    session.flush()
    assert queries.embeds_with_handle(session, "instagram", "ann.example") == [ann.id]
    assert queries.embeds_with_handle(session, "instagram", "@ANN.EXAMPLE") == [ann.id]
    assert queries.embeds_with_handle(session, "instagram", "ann.new") == [ann.id]
    assert queries.embeds_with_handle(session, "twitter", "Ann.Example") == [tweet.id]
    assert queries.embeds_with_handle(session, "instagram", "@") == []
    assert queries.embeds_with_author_name(session, "instagram", " ann example ") == [ann.id]
    assert queries.embeds_with_author_name(session, "instagram", "ZOË Ünal") == [zoe.id]
    # Letters beyond ASCII differ in case only on PostgreSQL (SQLite's lower() folds ASCII alone).
    assert queries.embeds_with_author_name(session, "instagram", "zoË Ünal") == [zoe.id]
    versions = queries.snapshot_versions(session, [ann.id, zoe.id])
    assert [s.version for s in versions[ann.id]] == [2, 1] and [s.version for s in versions[zoe.id]] == [1]
    assert [(a.key, o.position) for a, o in queries.residue_occurrences(session)] == [("a.html", 1)]
    assert queries.residue_occurrences(session, ["other"]) == []
    assert len(queries.residue_occurrences(session, article_id=article.id)) == 1
    assert queries.applied_card_starts(session, article.id) == set()


# ---------------------------------------------------------------- the command and the run


def test_archive_residue_reports_matches_and_orphans_and_a_plain_run_repairs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = world_of(tmp_path, DATED + "\n<p>A post shared by Nobody Known (@nobody.known)</p>")
    add_post(world, "POSTJUL01", handle="ann.example", published="2023-07-01T17:00:00Z")
    add_post(world, "POSTJUL09", handle="ann.example", published="2023-07-09T17:00:00Z")
    world.close()
    monkeypatch.chdir(world.root)
    monkeypatch.delenv("ARCHIVER_NOW", raising=False)

    def archive(*args: str) -> tuple[int, str]:
        result = run_archive(monkeypatch, capsys, "--config", str(world.config), *args)
        return result.code, result.out

    code, out = archive("residue", "--json")
    assert code == 0
    report = {line["handle"]: line for line in json.loads(out)}
    assert report["ann.example"]["status"] == "matched" and report["ann.example"]["repairable"]
    assert [c["id"] for c in report["ann.example"]["candidates"]] == ["POSTJUL01"]
    assert report["nobody.known"]["status"] == "orphaned"
    code, out = archive("residue", "--orphans")
    assert code == 0 and "nobody.known" in out and "ann.example" not in out
    assert "1 residue line(s): 0 matched, 0 ambiguous, 1 orphaned" in out

    # `archive rewrite` with no article named visits the residue-only article (apply mode) and repairs it.
    code, out = archive("rewrite")
    assert code == 0, out
    page = (world.articles / "harbour.html").read_text(encoding="utf-8")
    assert 'data-archiver-embed="instagram:POSTJUL01"' in page and "(@ann.example) on Jul 1" not in page
    assert "A post shared by Nobody Known (@nobody.known)" in page  # the orphan is left as it is
