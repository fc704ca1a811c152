"""Lost embeds: lead-ins over nothing and empty embed shells (archiver/pipeline/scan/lost.py).

Precision is the bar: no intact corpus page reports a lost spot. Recall is measured on the same pages
with their labelled embed units cut out (benchmarks/lost_recall.py prints it).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from support.archive_cli import run_archive

from archiver.pipeline.scan import scan_article
from archiver.records import Article, EmbedRef, MarkupKind
from tests.support.corpus_scoring import article, available, page_names, scanned
from tests.support.lost_corpus import cut_page, lost_after_cutting

SEEDS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "seeds"
STORY = "<p>" + "The story goes on with more words about the film and the people who made it. " * 2 + "</p>"


def page(body: str) -> Article:
    data = f"<!DOCTYPE html><html><body><article>{body}</article></body></html>".encode()
    return Article("t.html", "test", data, data.decode(), "utf-8", hashlib.sha256(data).hexdigest())


def lost(body: str) -> list[EmbedRef]:
    result = scan_article(page(body))
    assert result.error is None
    return [e for e in result.embeds if e.is_lost]


@pytest.mark.skipif(not available(), reason="no shared corpus")
def test_no_intact_corpus_page_reports_a_lost_embed() -> None:
    names = page_names()
    assert len(names) == 53
    found = {name: [e.lead_in or e.shell for e in scanned(name).embeds if e.is_lost] for name in names}
    assert {name: spots for name, spots in found.items() if spots} == {}


@pytest.mark.skipif(not available(), reason="no shared corpus")
def test_cut_corpus_pages_report_lost_spots_only_where_a_unit_was_cut() -> None:
    pages = lost_after_cutting()
    assert sum(p.cut for p in pages) > 200
    found = 0
    for cut in pages:
        if not cut.lost:
            continue
        article, _ = cut_page(cut.name)
        original = scanned(cut.name)
        assert original.error is None
        for spot in cut.lost:
            assert spot.span is not None and spot.markup is MarkupKind.LOST
            # What follows the lead-in up to the story's next block held an embed before the cut: the
            # bytes right after the spot are not where they were in the intact page.
            after = article.data[spot.span.end : spot.span.end + 200]
            assert after and after not in _original_bytes(cut.name)[spot.span.end : spot.span.end + 4000]
            found += 1
    assert found >= 2  # the measured floor (benchmarks/README.md): a drop is a regression


def _original_bytes(name: str) -> bytes:
    return article(name).data


@pytest.mark.skipif(not SEEDS.is_dir(), reason="no seed pages")
def test_seed_articles_one_lost_video_and_one_residue(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(SEEDS)
    result = run_archive(monkeypatch, capsys, "scan", "--dry-run", "--json", "seed-000.html", "seed-001.html")
    assert result.code == 0, result.err
    by_page = {line["article"]: line["embeds"] for line in result.lines()}
    [spot] = by_page["seed-000.html"]
    data = (SEEDS / "seed-000.html").read_bytes()
    start, end = spot["span"]
    assert data[start:end].startswith(b"<p>While many of her previous roles")
    assert data[start:end].endswith(b"Check out the video below.</p>")
    assert spot == {
        "provider": "instagram",
        "id": None,
        "url": None,
        "markup": "lost",
        "hint": "instagram",
        "announces": "video",
        "lead_in": "Check out the video below.",
        "shell": None,
        "span": [start, end],
    }
    assert [e["markup"] for e in by_page["seed-001.html"]] == ["residue"]


@pytest.mark.parametrize(
    ("lead_in", "hint", "announces"),
    [
        ("Here's the tweet:", "twitter", "tweet"),
        ("She shared on Instagram:", "instagram", "post"),
        ("Watch:", None, "video"),
        ("See the post below:", None, "post"),
        ("Er hat es auf TikTok gezeigt. Seht euch das Video unten an.", "tiktok", "video"),
        ("Voici le tweet :", "twitter", "tweet"),
        ("Mira el vídeo a continuación.", None, "video"),
        ("Bekijk de video hieronder:", None, "video"),
    ],
)
def test_lead_in_over_nothing_is_lost_with_its_hint(lead_in: str, hint: str | None, announces: str) -> None:
    [spot] = lost(f"<p>Intro.</p><p>{lead_in}</p>{STORY}")
    assert (spot.hint, spot.announces, spot.provider) == (hint, announces, hint or "unknown")
    assert spot.lead_in == lead_in.split(". ")[-1]
    data = page(f"<p>Intro.</p><p>{lead_in}</p>{STORY}").data
    assert spot.span is not None and data[spot.span.start : spot.span.end] == f"<p>{lead_in}</p>".encode()


@pytest.mark.parametrize(
    "after",
    [
        # the embed is there
        '<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/B9bOM-6Ax_d/">'
        '<a href="https://www.instagram.com/p/B9bOM-6Ax_d/">View</a></blockquote>',
        '<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe>',
        '<p><img src="/a.jpg" alt=""></p>',
        # a residue line is what is left: reported as residue
        "<p>A post shared by Hayley Atwell (@wellhayley)</p>",
        # a short caption line, not the story
        "<p>Photo: Reuters</p>",
        # a comment or text between the two: something stood there
        "<!-- embed removed by the editor -->",
    ],
)
def test_lead_in_followed_by_something_is_not_lost(after: str) -> None:
    assert lost(f"<p>Check out the video below.</p>{after}{STORY}") == []


@pytest.mark.parametrize(
    "sentence",
    [
        "He said the video below was fake, and more words follow in this long sentence about it all here.",
        "Read more about it here.",  # no media named
        "<a href='/v'>Watch the video here.</a>",  # a link, not an embed
        "The minister wrote:",  # no provider named
    ],
)
def test_ordinary_sentences_are_not_lead_ins(sentence: str) -> None:
    assert lost(f"<p>{sentence}</p>{STORY}") == []


def test_empty_shells_are_lost_and_intact_ones_are_embeds() -> None:
    body = (
        '<blockquote class="instagram-media" data-instgrm-version="14"></blockquote>'
        + STORY
        + '<figure class="wp-block-embed is-type-rich is-provider-twitter wp-block-embed-twitter">'
        + '<div class="wp-block-embed__wrapper">\n</div></figure>'
        + STORY
        + '<blockquote class="twitter-tweet"><p>Just words, no link left.</p></blockquote>'
        + STORY
        + '<blockquote class="instagram-media"><a href="https://www.instagram.com/p/B9bOM-6Ax_d/">x</a></blockquote>'
    )
    result = scan_article(page(body))
    kinds = [(e.markup.value, e.hint, e.shell) for e in result.embeds]
    assert kinds == [
        ("lost", "instagram", "blockquote.instagram-media"),
        ("lost", "twitter", "figure.wp-block-embed"),
        ("lost", "twitter", "blockquote.twitter-tweet"),
        ("blockquote", None, None),
    ]
    data = page(body).data
    first = result.embeds[0].span
    assert first is not None
    shell = b'<blockquote class="instagram-media" data-instgrm-version="14"></blockquote>'
    assert data[first.start : first.end] == shell


def test_lost_spots_are_stored_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.html").write_bytes(page(f"<p>Here's the tweet:</p>{STORY}").data)
    scanned_out = run_archive(monkeypatch, capsys, "scan", "a.html")
    assert scanned_out.code == 0, scanned_out.err
    assert "1 lost" in scanned_out.out
    status = json.loads(run_archive(monkeypatch, capsys, "status", "--json").out)
    assert (status["lost"], status["residues"], status["embeds"]) == (1, 0, 0)
