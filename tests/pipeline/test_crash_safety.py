"""SIGKILL at seeded points of scan, fetch, check, rewrite, restore, the daemon, an editor's approve,
original markup put back (and a card over it, restored in layers) and media garbage collection, on
SQLite and on PostgreSQL: after every kill nothing is lost or half written, and a rerun finishes the work.

`tests/support/crash_harness.py` builds the world (files and sql sources, a loopback YouTube), runs the
reference, and checks the invariants; `PLAN` says how many kills each phase gets here (200 in all over
both databases). `benchmarks/crash_soak.py --kills 2000` runs the long version and prints a table.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.crash_branches import GC_DETACHED, PUTBACK_FILE, PUTBACK_POSTS, putback_article
from tests.support.crash_harness import (
    EXHAUSTIVE,
    FIRST_FILE,
    PHASE,
    PLAN,
    Harness,
    TrialReport,
    kill_phase,
    post_id,
    postgres_available,
    sha,
)
from tests.support.fake_server import FakeServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def harness(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    kind = request.param
    if kind == "postgresql" and not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("ARCHIVER_TEST_POSTGRES_URL is not set: CI must test PostgreSQL for real")
        pytest.skip("ARCHIVER_TEST_POSTGRES_URL is not set")
    with FakeServer() as server:
        world = Harness(tmp_path_factory.mktemp(f"crash-{kind}"), kind, server)
        try:
            world.prepare()
            yield world
        finally:
            world.close()


def summary(harness: Harness, phase: str, reports: list[TrialReport]) -> str:
    kills = sum(r.kills for r in reports)
    runs = sum(r.runs for r in reports)
    seconds = sum(r.seconds for r in reports)
    return f"{harness.kind} {phase}: {kills} kills, {runs} runs, {seconds:.1f}s"


@pytest.mark.parametrize("phase", list(PLAN))
def test_kill_9_at_seeded_points_loses_nothing_and_a_rerun_finishes(harness: Harness, phase: str) -> None:
    reports = kill_phase(harness, phase, PLAN[phase])
    print(summary(harness, phase, reports))
    failures = [str(f) for r in reports for f in r.failures]
    assert not failures, failures
    assert sum(r.kills for r in reports) >= PLAN[phase]


@pytest.mark.parametrize("phase", EXHAUSTIVE)
def test_kill_9_at_every_step_of_a_restore(harness: Harness, phase: str) -> None:
    """Regression: a restore killed after its rows were committed `restoring` was never finished by
    running `archive restore` again (only `archive rewrite` settled them); now the command settles
    what a crash left first. Also the restores of a card written over markup put back: the whole
    article (two layers), and only that post (the other put-back stays, moved)."""
    report = harness.exhaustive(phase)
    print(summary(harness, phase, [report]))
    failures = [str(f) for f in report.failures]
    assert not failures, failures
    assert report.kills == harness.steps[phase] >= 5


def test_a_fetch_killed_halfway_leaves_no_captured_embed_new(harness: Harness) -> None:
    """Regression (seed sqlite fetch 0): a capture was recorded in one transaction and its verdict
    decided in another after the whole run, so a kill in between left captured embeds `new`, due for
    neither a capture nor a check, for ever. Now the verdict is decided in the same transaction."""
    harness.load("fetch")
    result = harness.run(PHASE["fetch"], kill_at=harness.steps["fetch"] // 2)
    assert result.killed
    assert harness.check_after_kill("fetch") == []
    result = harness.run(PHASE["fetch"])
    assert harness.check_settled("fetch") == [], result.output[-2000:]


def test_the_checks_see_a_torn_article_a_lost_media_file_and_a_journal_that_lies(harness: Harness) -> None:
    """The invariants are not vacuous: damage of each kind a crash could do is reported."""
    harness.load("rewrite-back")
    assert harness.check_after_kill("rewrite-back") == []
    article = harness.live / FIRST_FILE
    data = article.read_bytes()
    article.write_bytes(data[: len(data) // 2])  # a torn write
    media = next(p for p in (harness.live / "media").glob("*/*/*") if len(p.name) == 64)
    media.unlink()
    row = sql_key_of_first_applied_row(harness)
    harness.database_execute(f"UPDATE rewrites SET state = 'restored' WHERE id = {row}")
    problems = " | ".join(harness.check_after_kill("rewrite-back"))
    assert "bytes are neither its old ones nor any the journal recorded" in problems
    assert "names a file that is not there" in problems
    assert "restored, but its card is still in the article" in problems
    if harness.database.kind == "postgresql":  # the dashboard's tallies (kept by triggers)
        harness.database_execute("INSERT INTO tallies (name, n) VALUES ('articles', 1)")
        assert "tallies [" in " | ".join(harness.check_after_kill("rewrite-back"))


def sql_key_of_first_applied_row(harness: Harness) -> int:
    """The id of an applied journal row of a CMS row (the files are left to the torn write)."""
    rows = [row for key, row in harness.journal_rows() if key.startswith("cms:") and row.state == "applied"]
    return int(rows[0].id)


def test_the_put_back_branch_is_what_it_claims_and_its_restores_give_the_bytes_back(harness: Harness) -> None:
    """The put-back phases kill what they say: markup put back (a zero-length insert after the lead-in,
    the empty shell replaced), a card written over one of them, and restores that give the article's
    bytes back exactly (whole: both layers and both spots; one embed: only its layers)."""
    key = f"site:{harness.live / PUTBACK_FILE}"
    original = putback_article()
    lead_in_post, shell_post = PUTBACK_POSTS

    harness.load("putback-card")  # the world the put-back left (then scanned and checked)
    put_back = (harness.live / PUTBACK_FILE).read_bytes()
    rows = {row.post_id: row for k, row in harness.journal_rows() if k == key}
    assert {post: (row.state, row.variant) for post, row in rows.items()} == {
        lead_in_post: ("applied", "embed"),
        shell_post: ("applied", "embed"),
    }
    assert rows[lead_in_post].original_bytes == b"" and rows[shell_post].original_bytes != b""
    inserted = rows[lead_in_post].replacement_bytes or b""
    assert put_back.count(inserted) == 1

    harness.load("putback-restore")  # the world the card over the put-back left
    layers = [(row.post_id, row.state, row.variant) for k, row in harness.journal_rows() if k == key]
    assert layers[-1][:2] == (lead_in_post, "applied") and layers[-1][2] != "embed", layers
    card_row = [row for k, row in harness.journal_rows() if k == key][-1]
    assert card_row.original_bytes == inserted  # the card replaced the markup put back

    assert harness.reference["putback-restore"].articles[key] == sha(original)
    assert harness.reference["putback-undo"].articles[key] == sha(original)
    assert harness.reference["putback-restore-embed"].articles[key] == sha(put_back.replace(inserted, b"", 1))


def test_the_gc_phase_collects_what_it_should_and_nothing_a_row_names(harness: Harness) -> None:
    """Media records no snapshot shows, files no record names and stale temp files are gone after
    `archive gc`; every file a media record names is still there (checked after every kill too)."""
    before, after = harness.before["gc"], harness.reference["gc"]
    assert len(before.media) - len(after.media) == GC_DETACHED
    assert after.media < before.media
    files = harness.blobs["gc"]
    assert not [name for name in files if ".tmp-" in name]
    assert {name.rsplit("/", 1)[-1] for name in files} == set(after.media)


def test_an_editors_approve_writes_what_was_approved_once(harness: Harness) -> None:
    """`archive rewrite --approve ID...`: every planned rewrite applied; with one id, only that one."""
    bulk_before, bulk = harness.before["approve-bulk"], harness.reference["approve-bulk"]
    planned = {k for k, state in bulk_before.journal.items() if state == "planned"}
    assert len(planned) >= 4
    assert {k: bulk.journal[k] for k in planned} == dict.fromkeys(planned, "applied")
    one = harness.reference["approve-one"]
    assert sorted(one.journal[k] for k in planned) == ["applied"] + ["planned"] * (len(planned) - 1)


def test_an_editors_restore_of_one_card_leaves_the_other_where_its_row_says(harness: Harness) -> None:
    """`archive restore FILE POST` (the viewer's restore of one card calls the same function): of an
    article's two cards, only that post's is restored; the other stays applied (its place moved)."""
    prefix = f"site:{harness.live / FIRST_FILE}"
    before, after = harness.before["restore-embed"], harness.reference["restore-embed"]
    cards = {k: state for k, state in before.journal.items() if k.startswith(prefix)}
    assert sorted(cards.values()) == ["applied", "applied"], cards
    restored = {k: after.journal[k] for k in cards}
    assert sorted(restored.values()) == ["applied", "restored"], restored
    assert restored[f"{prefix} {post_id(3)}"] == "restored"
