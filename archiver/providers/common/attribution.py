"""Attribution lines of microblog embeds: "— Name (@handle) Date", as Twitter and Bluesky write them.

An embed blockquote ends with a line naming the author and the date of the post; when the provider's
script never ran and the links were stripped, that line is all that is left (the residue). This module
reads such lines: the dash (however the page encodes it), the display name, the handle, and the date in
the languages the widgets print it in.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

from selectolax.lexbor import LexborNode

from archiver.providers.common.base import squeeze

# How the attribution dash is written in page source (the decoded text always has U+2014 or U+2013).
DASH_FORMS: tuple[str, ...] = ("—", "&mdash;", "&#8212;", "&#x2014;", "&#X2014;", "&#x2014", "–", "&ndash;")
DASHES = "—–―"
# How far before "(@" the dash may be (a long display name, entity-encoded).
DASH_WINDOW = 400
_HANDLE_OPEN = re.compile(re.escape("(@"))

# Month names (and the genitive forms some languages date with), lower case.
_MONTH_NAMES: Mapping[int, tuple[str, ...]] = MappingProxyType(
    {
        1: ("january", "januar", "janvier", "enero", "gennaio", "janeiro", "januari", "stycznia", "января",
            "ocak", "leden", "ledna"),
        2: ("february", "februar", "février", "fevrier", "febrero", "febbraio", "fevereiro", "februari",
            "lutego", "февраля", "şubat", "únor", "února"),
        3: ("march", "märz", "maerz", "mars", "marzo", "março", "marco", "maart", "marca", "марта", "mart",
            "březen", "března"),
        4: ("april", "avril", "abril", "aprile", "kwietnia", "апреля", "nisan", "duben", "dubna"),
        5: ("may", "mai", "mayo", "maggio", "maio", "mei", "maj", "maja", "мая", "mayıs", "květen",
            "května"),
        6: ("june", "juni", "juin", "junio", "giugno", "junho", "czerwca", "июня", "haziran", "červen",
            "června"),
        7: ("july", "juli", "juillet", "julio", "luglio", "julho", "lipca", "июля", "temmuz", "červenec",
            "července"),
        8: ("august", "août", "aout", "agosto", "augustus", "augusti", "sierpnia", "августа", "ağustos",
            "srpen", "srpna"),
        9: ("september", "septembre", "septiembre", "settembre", "setembro", "września", "сентября", "eylül",
            "září"),
        10: ("october", "oktober", "octobre", "octubre", "ottobre", "outubro", "października", "октября",
             "ekim", "říjen", "října"),
        11: ("november", "novembre", "noviembre", "novembro", "listopada", "ноября", "kasım", "listopad",
             "listopadu"),
        12: ("december", "dezember", "décembre", "decembre", "diciembre", "dicembre", "dezembro", "grudnia",
             "декабря", "aralık", "prosinec", "prosince"),
    }
)  # fmt: skip


def _month_table() -> Mapping[str, int]:
    """Full names, plus their 3- and 4-letter abbreviations where those name one month only."""
    table: dict[str, int] = {}
    prefixes: dict[str, set[int]] = {}
    for month, names in _MONTH_NAMES.items():
        for name in names:
            table[name] = month
            for size in (3, 4):
                if len(name) > size:
                    prefixes.setdefault(name[:size], set()).add(month)
    for prefix, months in prefixes.items():
        if len(months) == 1 and prefix not in table:
            table[prefix] = next(iter(months))
    return MappingProxyType(table)


MONTHS = _month_table()

_WORD_MONTH = r"(?P<month>[^\W\d_]{3,12})\.?"
_MONTH_FIRST = re.compile(_WORD_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})")
_DAY_FIRST = re.compile(
    r"(?P<day>\d{1,2})\.?\s+(?:de\s+)?" + _WORD_MONTH + r",?\s+(?:de\s+)?(?P<year>\d{4})(?:\s*г\.?)?"
)
_CJK = re.compile(r"(?P<year>\d{4})\s*[年년]\s*(?P<month>\d{1,2})\s*[月월]\s*(?P<day>\d{1,2})\s*[日일]?")
_NUMERIC = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})")
# What may follow a date on the attribution line: a time ("at 15:09", "15:09", "3:09 PM").
_TIME_TAIL = re.compile(
    r"(?:\s*(?:at|um|à|a las|alle|às|om|kl\.?|,)?\s*\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?\s*m\.?)?)?\s*$"
)


def month_number(word: str) -> int | None:
    word = word.lower().rstrip(".")
    for candidate in (word, word[:4], word[:3]):
        month = MONTHS.get(candidate)
        if month is not None:
            return month
    return None


def iso_date(text: str, whole: bool = True) -> str | None:
    """ISO 8601 day of a widget date ("May 2, 2020", "2. Mai 2020", "2020年5月2日"), optionally followed
    by a time; None when `text` is not such a date (`whole`: nothing else may stand around it)."""
    text = squeeze(text)
    for pattern in (_MONTH_FIRST, _DAY_FIRST, _CJK, _NUMERIC):
        match = pattern.match(text) if whole else pattern.search(text)
        if match is None:
            continue
        if whole and not _TIME_TAIL.fullmatch(text, match.end()):
            continue
        month_text = match.group("month")
        month = int(month_text) if month_text.isdigit() else month_number(month_text)
        if month is None:
            continue
        try:
            return datetime.date(int(match.group("year")), month, int(match.group("day"))).isoformat()
        except ValueError:
            continue
    return None


def dash_near(text: str, at: int) -> bool:
    """Whether an attribution dash (in any of its source spellings) is written shortly before `at`."""
    window = text[max(0, at - DASH_WINDOW) : at]
    return any(form in window for form in DASH_FORMS)


def handle_after_dash(
    text: str,
    handle: re.Pattern[str],
    skip: Callable[[int], bool] | None = None,
    offsets: Iterable[int] | None = None,
) -> bool:
    """Whether `text` has a handle in parentheses of the given shape (`handle` matches from its "(@") with
    an attribution dash shortly before it, at a place `skip` does not reject. `offsets` are where "(@" is
    written, when the caller has found them already."""
    found = (match.start() for match in _HANDLE_OPEN.finditer(text)) if offsets is None else offsets
    for at in found:
        if handle.match(text, at) and dash_near(text, at) and (skip is None or not skip(at)):
            return True
    return False


_LINE_BREAKING = frozenset(
    {
        "br",
        "p",
        "div",
        "li",
        "blockquote",
        "figure",
        "figcaption",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
    }
)


_BREAK = "\x1e"  # a line break of the rendering (source newlines are only whitespace)


def block_lines(node: LexborNode) -> list[str]:
    """The element's text as lines: <br> and block elements break lines; whitespace squeezed."""
    parts: list[str] = []
    for piece in node.traverse(include_text=True):
        if piece.is_text_node:
            parent = piece.parent
            if parent is not None and parent.tag in ("script", "style", "template"):
                continue
            previous = piece.prev
            if previous is not None and previous.tag in _LINE_BREAKING:
                parts.append(_BREAK)  # text after a block that ended
            parts.append(piece.text(deep=False).replace(_BREAK, " "))
        elif piece.tag in _LINE_BREAKING:
            parts.append(_BREAK)
    return [line for line in (squeeze(part) for part in "".join(parts).split(_BREAK)) if line]
