"""Bare URLs: a post URL written as text that stands alone, which WordPress embeds by itself.

    [embed]URL[/embed]                        the shortcode (attributes such as width= in its opening tag)
    <p>URL</p>, <p><a ...>URL</a></p>         alone in a paragraph (whitespace, comments and a last <br>
                                              looked past; a <p> left open ends where a block starts)
    </h3>URL</div>                            a text run of its own between two block tags (a live-blog
                                              entry whose body is only the URL)
    URL alone on its line                     (not the text of a link that happens to sit on its own line)

These are the forms WordPress's own auto-embed regexes accept, and the shortcode. `url_written_at(text,
at)` finds the URL around a host name written at `at`; `standing_alone(text, start, end)` gives the range
of the form a URL at `text[start:end]` stands alone in, or None. Text only: which provider a URL belongs
to is `forms`' question, and whether the place lies in a script or comment is `spans`'.
"""

from __future__ import annotations

import re

# A URL runs to the first whitespace, quote or angle bracket.
URL_END = re.compile(r"[^\s\"'<>]*")
_WS = "\t\n\f\r "
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
_SCHEME = re.compile(r"https?://$", re.IGNORECASE)
_OPEN_P = re.compile(r"<[pP](?:[\t\n\f\r ][^>]*)?>$")
_OPEN_A = re.compile(r"<[aA][\t\n\f\r ][^>]*>$")
_CLOSE_A = re.compile(r"</[aA]\s*>")
_CLOSE_P = re.compile(r"</[pP]\s*>")
_BR = re.compile(r"<[bB][rR](?:[\t\n\f\r /][^>]*)?>")
_IMPLIED_P_END = re.compile(
    r"</?(?:div|p|h[1-6]|ul|ol|li|blockquote|figure|table|section|article|aside|header|footer|pre|hr|"
    r"form|body)(?=[\t\n\f\r />])",
    re.IGNORECASE,
)
# Comments longer than this beside a lone URL are not looked past (see `_between_blocks`).
_MAX_COMMENT = 20_000
# Start or end tags of the blocks a lone URL may stand between (see `_between_blocks`).
_BLOCK_BOUNDARY = re.compile(
    r"</?(?:div|p|h[1-6]|section|article|header|footer|main|aside|figure|blockquote)"
    r"(?=[\t\n\f\r />])[^<>]*>",
    re.IGNORECASE,
)
# WordPress's [embed]URL[/embed] shortcode (attributes such as width= allowed in the opening tag).
_SHORTCODE_OPEN = re.compile(r"\[embed(?:[\t\n\f\r ][^\[\]<>]*)?\]")
_SHORTCODE_CLOSE = "[/embed]"


def url_written_at(text: str, at: int) -> tuple[int, int] | None:
    """The char range of the http(s) URL whose host name is written at `at` (a shortcode's closing
    `[/embed]` right after it is not part of it), or None when no scheme comes just before the host."""
    start = at
    while start > 0 and at - start < 64 and text[start - 1] in _HOST_CHARS:
        start -= 1
    scheme = _SCHEME.search(text, max(0, start - 8), start)
    if scheme is None:
        return None
    start = scheme.start()
    url_end = URL_END.match(text, start)
    end = url_end.end() if url_end else start
    closing = text.find(_SHORTCODE_CLOSE, start, end)
    return start, end if closing == -1 else closing


def standing_alone(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The range of the form in which the URL at text[start:end] (text, not in a tag) stands alone: its
    shortcode, its paragraph, itself between two blocks, or its line; None when it shares any of them."""
    shortcode = _embed_shortcode(text, start, end)
    if shortcode is not None:
        return shortcode
    paragraph = _lone_in_paragraph(text, start, end)
    if paragraph is not None:
        return paragraph
    if _between_blocks(text, start, end):
        return start, end
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    if text[line_start:start].strip(_WS) or text[end:line_end].strip(_WS):
        return None
    previous_tag = text.rfind("<", 0, line_start)
    if previous_tag != -1 and _OPEN_A.match(text, previous_tag, text.find(">", previous_tag) + 1):
        return None  # the text of a link that happens to sit on its own line
    while line_end > line_start and text[line_end - 1] in _WS:
        line_end -= 1
    return line_start, line_end


def _embed_shortcode(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The range of the WordPress `[embed]URL[/embed]` shortcode around the URL at text[start:end]."""
    before = start
    while before > 0 and text[before - 1] in _WS:
        before -= 1
    opening = text.rfind("[", max(0, before - 200), before)
    if opening == -1 or not _SHORTCODE_OPEN.fullmatch(text, opening, before):
        return None
    after = end
    while after < len(text) and text[after] in _WS:
        after += 1
    if not text.startswith(_SHORTCODE_CLOSE, after):
        return None
    return opening, after + len(_SHORTCODE_CLOSE)


def _between_blocks(text: str, start: int, end: int) -> bool:
    """Whether the URL at text[start:end] is a text run of its own between two block tags (a live-blog
    entry whose body is only the URL, after its heading: `</h3>URL</div>`; comments around it show
    nothing). Lists and tables are not such blocks (reference lists), and neither is anything inline (a
    link's text, a line after <br>)."""
    before = _invisible_before(text, start)
    if before == 0 or text[before - 1] != ">":
        return False
    tag_start = text.rfind("<", 0, before)
    if tag_start == -1 or not _BLOCK_BOUNDARY.match(text, tag_start, before):
        return False
    return _BLOCK_BOUNDARY.match(text, _invisible_after(text, end)) is not None


def _invisible_after(text: str, at: int) -> int:
    """Where the text after `at` shows something again: past whitespace and comments."""
    while True:
        while at < len(text) and text[at] in _WS:
            at += 1
        if not text.startswith("<!--", at):
            return at
        close = text.find("-->", at + 4, at + _MAX_COMMENT)
        if close == -1:
            return at
        at = close + 3


def _invisible_before(text: str, at: int) -> int:
    """Where the text before `at` shows something last: before whitespace and comments."""
    while True:
        while at > 0 and text[at - 1] in _WS:
            at -= 1
        if not text.endswith("-->", 0, at):
            return at
        opened = text.rfind("<!--", max(0, at - _MAX_COMMENT), at - 3)
        if opened == -1:
            return at
        at = opened


def _lone_in_paragraph(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The range of the <p> that holds only this URL (as text, or as the text of its only <a>); what
    shows nothing is looked past: whitespace, comments, and a last `<br>` (editors leave one there)."""
    before = _invisible_before(text, start)
    tag_start = text.rfind("<", 0, before)
    if tag_start == -1:
        return None
    opened_link = _OPEN_A.match(text, tag_start, before) is not None
    if opened_link:
        before = _invisible_before(text, tag_start)
        tag_start = text.rfind("<", 0, before)
        if tag_start == -1:
            return None
    if not _OPEN_P.match(text, tag_start, before):
        return None
    after = _invisible_after(text, end)
    if opened_link:
        close_a = _CLOSE_A.match(text, after)
        if close_a is None:
            return None
        after = _invisible_after(text, close_a.end())
    line_break = _BR.match(text, after)
    if line_break is not None:
        after = _invisible_after(text, line_break.end())
    close_p = _CLOSE_P.match(text, after)
    if close_p is not None:
        return tag_start, close_p.end()
    if _IMPLIED_P_END.match(text, after) or after == len(text):
        return tag_start, after
    return None
