"""Opaque ranges (comments, raw-text element content, templates): the one-regex pass over a page must find
exactly what the tokenizer-like reader (`SourceText.next_opaque`, one range at a time) finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.pipeline.scan.spans import Opaque, SourceText

PIECES = [
    "<p>text</p>",
    "<div class='a'>",
    "</div>",
    "<!-- c -->",
    "<!-->",
    "<!--->",
    "<!-- a --!> b",
    "<!DOCTYPE html>",
    "<?php echo 1 ?>",
    "</ 3>",
    "<script>var a = '<div>';</script>",
    "<SCRIPT type='x'>if (a < b) {}</ScRiPt >",
    "<script>",
    "</script>",
    "<style>p > a {}</style>",
    "<textarea><b>not bold</b></textarea>",
    "<title>x < y</title>",
    "<xmp><i></xmp>",
    "<iframe src='//e.com/x'></iframe>",
    "<noembed>n</noembed>",
    "<noframes>f</noframes>",
    "<template><template>inner</template><p>x</p></template>",
    "<template>",
    "</template>",
    "<plaintext>",
    "<noscript><img src=x></noscript>",
    "<span>s</span>",
    "<scripts>not a script</scripts>",
    "<a href='x'>y</a>",
    "<",
    "-->",
    "text",
]


def one_at_a_time(source: SourceText) -> list[Opaque]:
    regions: list[Opaque] = []
    at = 0
    while (region := source.next_opaque(at, len(source.text))) is not None:
        regions.append(region)
        at = max(region.end, region.start + 1)
    return regions


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=24))
def test_the_pass_finds_what_the_reader_finds(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert SourceText(text).opaque == one_at_a_time(SourceText(text))


def test_each_kind_of_range_is_told_apart() -> None:
    text = "<!-- c --><script>a<b</script><!x><TEXTAREA>t</TEXTAREA><style>"
    kinds = [(region.kind, text[region.start : region.end]) for region in SourceText(text).opaque]
    assert kinds == [
        ("comment", "<!-- c -->"),
        ("script", "a<b"),
        ("bogus", "<!x>"),
        ("textarea", "t"),
        ("style", ""),
    ]
