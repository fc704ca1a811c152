"""residue: the attribution line a dead embed left in an article, matched to a post we archived.

    match_residue(session, occurrence)        one residue line: matched, ambiguous or orphaned, and why
    match_article(session, article)           every residue line of one article (one post per line)
    residue_report(session, sources=None)     every residue line, matched or not, in article order
    match_lines(session, lines)               the residue lines given (whole articles: a page of them)
    ResidueTargets(settings)(session, article) the cards of an article's matched residue, as rewrite
                                              targets (`RewriteDeps.extra_targets`)
    repairable_articles(matches)              the articles `rewrite.run` should visit for residue
    count_lines(matches)                      the lines by status (the dashboard's residue counts)

A residue line ("A post shared by Hayley Atwell (@wellhayley)", "— Name (@handle) May 2, 2020") names
no post; the scanner keeps what it says (`Occurrence.found`: author_name, handle, published, text).
It gets its card back only when exactly one archived post fits it, because a wrong card in a published
article is worse than none:

1. Candidates are the provider's posts (embeds) with a snapshot whose handle is the residue's, ignoring
   case and a leading "@". A handle from any snapshot version counts (people rename themselves; the
   article was written with the handle of its day); the card shows the latest version.
2. When the residue carries a date (an ISO date or time, or a widget date such as "May 2, 2020"), a
   candidate must have a known publication date within one day of it (time zones); a post whose date
   is unknown cannot be checked and does not count. The post's date is the latest version's that has
   one (a post's publication date does not change).
3. When several remain and the residue carries caption text, those whose caption (any version) holds
   it, or is held by it, are preferred (whitespace and case folded; the shorter of the two has at
   least `MIN_CAPTION` characters).
4. Exactly one left: matched. Several: ambiguous (nothing is rewritten; all of them are listed). None:
   orphaned, listing the posts found by handle or by author name that were excluded, each with why.

A residue line without a handle is matched by author name only when exactly one post of that provider
has that author name and its date agrees with the residue's (so a residue without a date never is).
Posts the same article already embeds elsewhere are excluded (a second line of the same author there
is far more likely another post), and when two residue lines of one article match the same post, both
are ambiguous (`match_article`; `match_residue` looks at one line only).

A matched residue is rewritten only while its post is broken (like any embed: `rewrite.restore_returned`
undoes cards of posts that are live again, so a card for a live post would come and go every run), only
when it has a unit (a byte span), and not again once its card is in (`repaired`).
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy.orm import Session

from archiver.config import RewriteSettings
from archiver.pipeline.rewrite.fallback import CardData
from archiver.pipeline.rewrite.targets import Target
from archiver.providers.common.attribution import iso_date
from archiver.providers.common.base import squeeze
from archiver.records import EmbedState, MarkupKind, Span
from archiver.storage import queries
from archiver.storage.models import Article, Embed, Occurrence, Snapshot

Status = Literal["matched", "ambiguous", "orphaned"]
MATCHED: Status = "matched"
AMBIGUOUS: Status = "ambiguous"
ORPHANED: Status = "orphaned"
# How far apart the residue's day and the post's may be (the page and the provider may date in
# different time zones).
DAY_TOLERANCE = datetime.timedelta(days=1)
# The shorter of two captions must be this long for containment to say anything ("Wow" is in many).
MIN_CAPTION = 12
_ISO_DAY = re.compile(r"\s*(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?!\d)")


@dataclass(frozen=True, slots=True)
class ResidueCandidate:
    """An archived post a residue line may stand for (its latest snapshot), and why it is listed."""

    embed_id: int
    provider: str
    post_id: str
    handle: str | None
    author_name: str | None
    published: str | None
    snapshot_version: int
    why: str

    def to_json(self) -> dict[str, Any]:
        return {
            "embed": self.embed_id,
            "provider": self.provider,
            "id": self.post_id,
            "handle": self.handle,
            "author": self.author_name,
            "published": self.published,
            "version": self.snapshot_version,
            "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class ResidueMatch:
    """What became of one residue line: matched to one post, ambiguous between several, or orphaned.

    `candidates` are the posts the decision was between (matched: the one; ambiguous: all of them), or,
    for an orphan, the posts found by handle or author name that were excluded. `embed_state` is the
    matched post's liveness state; `repaired` says its card is in the article already.
    `by_handle_alone` says nothing but the handle confirms the match (the residue has no date and no
    caption that the post shows): the one archived post of that handle may be another post of theirs.
    """

    article_id: int
    key: str
    source: str
    occurrence_id: int
    provider: str
    span: Span | None
    author_name: str | None
    handle: str | None
    published: str | None
    text: str | None
    status: Status
    reason: str
    embed_id: int | None = None
    embed_state: str | None = None
    candidates: tuple[ResidueCandidate, ...] = ()
    repaired: bool = False
    by_handle_alone: bool = False

    @property
    def repairable(self) -> bool:
        """Whether a rewrite should put the matched post's card in place of the residue now."""
        return (
            self.status == MATCHED
            and self.embed_id is not None
            and self.span is not None
            and self.embed_state == EmbedState.BROKEN.value
            and not self.repaired
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "article": self.key,
            "article_id": self.article_id,
            "source": self.source,
            "occurrence": self.occurrence_id,
            "provider": self.provider,
            "span": [self.span.start, self.span.end] if self.span is not None else None,
            "author": self.author_name,
            "handle": self.handle,
            "date": self.published,
            "text": self.text,
            "status": self.status,
            "embed": self.embed_id,
            "embed_state": self.embed_state,
            "repaired": self.repaired,
            "repairable": self.repairable,
            "by_handle_alone": self.by_handle_alone,
            "candidates": [candidate.to_json() for candidate in self.candidates],
            "reason": self.reason,
        }


# ---------------------------------------------------------------- reading what was said


def normal_handle(value: object) -> str | None:
    """A handle as compared: stripped, without a leading "@", lower case; None when empty."""
    if not isinstance(value, str):
        return None
    bare = value.strip().lstrip("@").strip().lower()
    return bare or None


def _normal_name(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return squeeze(value).casefold() or None


def _normal_text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return squeeze(value).casefold() or None


def day_of(value: object) -> datetime.date | None:
    """The calendar day a date says: an ISO 8601 date or time ("2023-07-01T10:00:00Z", the day as
    written, whatever the zone), or a widget date ("May 2, 2020", "2. Mai 2020"); None when unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    match = _ISO_DAY.match(value)
    if match is not None:
        try:
            return datetime.date(int(match["year"]), int(match["month"]), int(match["day"]))
        except ValueError:
            return None
    found = iso_date(value[:200], whole=False)
    return datetime.date.fromisoformat(found) if found else None


def _same_caption(said: str, shown: Iterable[str]) -> bool:
    for text in shown:
        short, long = sorted((said, text), key=len)
        if len(short) >= MIN_CAPTION and short in long:
            return True
    return False


# ---------------------------------------------------------------- what the archive holds


@dataclass(frozen=True, slots=True)
class _Post:
    """An archived post as residue is compared with it: every version's handles, names and captions,
    its publication day, and its latest snapshot (what the card shows)."""

    embed: Embed
    latest: Snapshot
    handles: frozenset[str]
    names: frozenset[str]
    captions: tuple[str, ...]
    published: str | None
    day: datetime.date | None

    def candidate(self, why: str) -> ResidueCandidate:
        return ResidueCandidate(
            self.embed.id,
            self.embed.provider,
            self.embed.post_id,
            self.latest.handle,
            self.latest.author_name,
            self.published,
            self.latest.version,
            why,
        )


def _post(versions: Sequence[Snapshot]) -> _Post:
    """`versions` newest first."""
    latest = versions[0]
    published = next((s.published for s in versions if s.published and s.published.strip()), None)
    return _Post(
        latest.embed,
        latest,
        frozenset(h for h in (normal_handle(s.handle) for s in versions) if h),
        frozenset(n for n in (_normal_name(s.author_name) for s in versions) if n),
        tuple(dict.fromkeys(t for t in (_normal_text(s.text) for s in versions) if t)),
        published,
        day_of(published),
    )


class _Archive:
    """The posts found by handle and by author name, asked once per (provider, handle or name)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._posts: dict[int, _Post] = {}
        self._by_handle: dict[tuple[str, str], list[_Post]] = {}
        self._by_name: dict[tuple[str, str], list[_Post]] = {}

    def _load(self, embed_ids: Sequence[int]) -> list[_Post]:
        missing = [embed_id for embed_id in embed_ids if embed_id not in self._posts]
        for embed_id, versions in queries.snapshot_versions(self.session, missing).items():
            self._posts[embed_id] = _post(versions)
        return [self._posts[embed_id] for embed_id in embed_ids if embed_id in self._posts]

    def by_handle(self, provider: str, handle: str) -> list[_Post]:
        key = (provider, handle)
        if key not in self._by_handle:
            posts = self._load(queries.embeds_with_handle(self.session, provider, handle))
            # SQL folded the case; Python has the last word (non-ASCII letters, stray whitespace).
            self._by_handle[key] = [post for post in posts if handle in post.handles]
        return self._by_handle[key]

    def prefetch_handles(self, wanted: Iterable[tuple[str, str]]) -> None:
        """Look up many (provider, handle) pairs at once: one query per provider and one for all their
        snapshots, instead of two per handle (a page of residue lines)."""
        by_provider: dict[str, set[str]] = {}
        for provider, handle in wanted:
            if (provider, handle) not in self._by_handle:
                by_provider.setdefault(provider, set()).add(handle)
        for provider, handles in sorted(by_provider.items()):
            ids = queries.embeds_with_handles(self.session, provider, handles)
            self._load(sorted({embed_id for found in ids.values() for embed_id in found}))
            for handle, found in ids.items():
                posts = self._load(found)
                self._by_handle[(provider, handle)] = [post for post in posts if handle in post.handles]

    def by_name(self, provider: str, name: str) -> list[_Post]:
        key = (provider, name)
        if key not in self._by_name:
            posts = self._load(queries.embeds_with_author_name(self.session, provider, name))
            self._by_name[key] = [post for post in posts if name in post.names]
        return self._by_name[key]


# ---------------------------------------------------------------- matching


def match_residue(session: Session, occurrence: Occurrence) -> ResidueMatch:
    """Match one residue line to the archived post it stands for (see the module's rules)."""
    return _match(_Archive(session), occurrence)


def match_article(session: Session, article: Article) -> list[ResidueMatch]:
    """Every residue line of one article, in order; two lines matched to the same post are ambiguous."""
    residue = [o for o in article.occurrences if _is_residue(o)]
    cards = queries.applied_card_starts(session, article.id) if residue else set()
    return _match_lines(_Archive(session), article, residue, cards)


def residue_report(session: Session, sources: Collection[str] | None = None) -> list[ResidueMatch]:
    """Every residue line (of the sources named, when given), matched or not, in article order."""
    return match_lines(session, queries.residue_occurrences(session, sources))


def match_lines(session: Session, lines: Iterable[tuple[Article, Occurrence]]) -> list[ResidueMatch]:
    """The residue lines given (article, occurrence), in their order. Give every residue line of each
    article named: two lines of one article matched to the same post are ambiguous."""
    archive = _Archive(session)
    by_article: dict[int, tuple[Article, list[Occurrence]]] = {}
    for article, occurrence in lines:
        by_article.setdefault(article.id, (article, []))[1].append(occurrence)
    handles = (
        (occurrence.provider, normal_handle((occurrence.found or {}).get("handle")))
        for _, residue in by_article.values()
        for occurrence in residue
    )
    archive.prefetch_handles((provider, handle) for provider, handle in handles if handle is not None)
    # One query for the cards of every article given, not one an article.
    cards = queries.applied_card_starts_of(session, by_article)
    report: list[ResidueMatch] = []
    for article, residue in by_article.values():
        report += _match_lines(archive, article, residue, cards[article.id])
    return report


def repairable_articles(matches: Iterable[ResidueMatch]) -> list[int]:
    """Ids of the articles of `matches` that a rewrite would give a card back now, in id order."""
    return sorted({match.article_id for match in matches if match.repairable})


def count_lines(matches: Iterable[ResidueMatch]) -> dict[str, int]:
    """The lines by status, `matched`, `ambiguous` or `orphaned`, or `repaired` when a card is in place."""
    counts = Counter("repaired" if match.repaired else match.status for match in matches)
    return dict(sorted(counts.items()))


def _is_residue(occurrence: Occurrence) -> bool:
    return occurrence.embed_id is None and occurrence.markup == MarkupKind.RESIDUE.value


def _match_lines(
    archive: _Archive, article: Article, lines: Sequence[Occurrence], cards: set[int]
) -> list[ResidueMatch]:
    matches = [_match(archive, occurrence) for occurrence in lines]
    claimed: dict[int, int] = {}
    for match in matches:
        if match.status == MATCHED and match.embed_id is not None:
            claimed[match.embed_id] = claimed.get(match.embed_id, 0) + 1
    out = []
    for match in matches:
        if match.status == MATCHED and match.embed_id is not None and claimed[match.embed_id] > 1:
            match = replace(
                match,
                status=AMBIGUOUS,
                embed_id=None,
                embed_state=None,
                reason=f"{claimed[match.embed_id]} residue lines of this article match "
                f"{_name(match.candidates[0])}: which one it stood for would be a guess",
            )
        if match.span is not None and match.span.start in cards:
            # An applied card starts where the line was (rewrite moved the span onto it): until the
            # article is scanned again, the occurrence stands for the card.
            match = replace(match, repaired=True, reason=match.reason + "; its card is in the article")
        out.append(match)
    return out


@dataclass(frozen=True, slots=True)
class _Line:
    """One residue line as it is compared: what it said, folded, and where it is."""

    occurrence: Occurrence
    article: Article
    span: Span | None
    found: Mapping[str, Any]
    handle: str | None
    name: str | None
    day: datetime.date | None
    text: str | None
    # The posts the article embeds elsewhere.
    in_article: frozenset[int]

    @classmethod
    def read(cls, occurrence: Occurrence) -> _Line:
        found: Mapping[str, Any] = occurrence.found or {}
        article = occurrence.article
        start, end = occurrence.span_start, occurrence.span_end
        return cls(
            occurrence,
            article,
            Span(start, end) if start is not None and end is not None else None,
            found,
            normal_handle(found.get("handle")),
            _normal_name(found.get("author_name")),
            day_of(found.get("published")),
            _normal_text(found.get("text")),
            frozenset(o.embed_id for o in article.occurrences if o.embed_id is not None),
        )

    def said(self, name: str) -> str | None:
        value = self.found.get(name)
        return value if isinstance(value, str) else None

    def result(
        self, status: Status, reason: str, candidates: Sequence[ResidueCandidate], post: _Post | None = None
    ) -> ResidueMatch:
        if post is not None and post.embed.state != EmbedState.BROKEN.value:
            reason += f"; not rewritten while the post is {post.embed.state}"
        if post is not None and self.span is None:
            reason += "; the line has no unit of its own to replace"
        return ResidueMatch(
            article_id=self.article.id,
            key=self.article.key,
            source=self.article.source.name,
            occurrence_id=self.occurrence.id,
            provider=self.occurrence.provider,
            span=self.span,
            author_name=self.said("author_name"),
            handle=self.said("handle"),
            published=self.said("published"),
            text=self.said("text"),
            status=status,
            reason=reason,
            embed_id=post.embed.id if post is not None else None,
            embed_state=post.embed.state if post is not None else None,
            candidates=tuple(candidates),
        )

    def matched(self, post: _Post, why: str) -> ResidueMatch:
        candidate = post.candidate(why)
        return self.result(MATCHED, f"matched to {_name(candidate)}: {why}", [candidate], post)


def _match(archive: _Archive, occurrence: Occurrence) -> ResidueMatch:
    line = _Line.read(occurrence)
    if line.handle is None:
        return _by_name_only(archive, line)
    return _by_handle(archive, line, line.handle)


def _by_handle(archive: _Archive, line: _Line, handle: str) -> ResidueMatch:
    provider = line.occurrence.provider
    kept: list[tuple[_Post, str]] = []
    excluded: list[ResidueCandidate] = []
    for post in archive.by_handle(provider, handle):
        if post.embed.id in line.in_article:
            excluded.append(post.candidate("same handle, already embedded in this article"))
        elif line.day is None:
            kept.append((post, "same handle (the residue has no date)"))
        elif post.day is None:
            excluded.append(post.candidate("same handle, the post's date is unknown"))
        elif abs(post.day - line.day) > DAY_TOLERANCE:
            excluded.append(post.candidate(f"same handle, other day ({post.day.isoformat()})"))
        else:
            kept.append((post, "same handle, same day"))
    captioned = False
    if line.text is not None:
        text = line.text
        same = [(post, why + ", same caption") for post, why in kept if _same_caption(text, post.captions)]
        if same:
            kept, captioned = same, True
    if len(kept) == 1:
        post, why = kept[0]
        alone = line.day is None and not captioned
        if alone:
            why += "; nothing but the handle confirms it"
        return replace(line.matched(post, why), by_handle_alone=alone)
    if kept:
        listed = [post.candidate(why) for post, why in kept]
        names = ", ".join(_name(candidate) for candidate in listed)
        reason = f"{len(kept)} archived posts of @{handle} fit ({names}): choosing one would be a guess"
        return line.result(AMBIGUOUS, reason, listed)
    if line.name is not None:
        seen = {candidate.embed_id for candidate in excluded}
        for post in archive.by_name(provider, line.name):
            if post.embed.id not in seen:
                other = min(post.handles, default=None)
                why = f"same author name, other handle (@{other})" if other else "same author name, no handle"
                excluded.append(post.candidate(why))
    reason = f"no archived {provider} post of @{handle}"
    if line.day is not None:
        reason += f" from {line.day.isoformat()}"
    if excluded:
        reason += f"; {len(excluded)} near miss(es) listed"
    return line.result(ORPHANED, reason, excluded)


def _by_name_only(archive: _Archive, line: _Line) -> ResidueMatch:
    """No handle: the one post of that author name, and only when its date agrees with the residue's."""
    provider = line.occurrence.provider
    if line.name is None:
        return line.result(ORPHANED, "the residue names no handle and no author", ())
    posts = archive.by_name(provider, line.name)
    if not posts:
        return line.result(ORPHANED, f"no handle, and no archived {provider} post by that author name", ())
    if line.day is None:
        listed = [
            post.candidate("same author name (the residue has neither handle nor date)") for post in posts
        ]
        return line.result(ORPHANED, "no handle and no date: an author name alone never matches", listed)
    if len(posts) > 1:
        listed = [
            post.candidate(f"same author name, one of {len(posts)} posts of that name") for post in posts
        ]
        reason = f"no handle, and {len(posts)} archived posts have that author name"
        return line.result(ORPHANED, reason, listed)
    post = posts[0]
    if post.embed.id in line.in_article:
        why = "same author name, already embedded in this article"
    elif post.day is None:
        why = "same author name, the post's date is unknown"
    elif abs(post.day - line.day) > DAY_TOLERANCE:
        why = f"same author name, other day ({post.day.isoformat()})"
    else:
        return line.matched(post, "same author name (no handle), same day, the only post of that name")
    return line.result(
        ORPHANED, f"no archived {provider} post fits (no handle): {why}", [post.candidate(why)]
    )


def _name(candidate: ResidueCandidate) -> str:
    return f"{candidate.provider}:{candidate.post_id}"


# ---------------------------------------------------------------- rewrite targets


def residue_targets(session: Session, article: Article, settings: RewriteSettings) -> list[Target]:
    """The cards of the article's repairable residue lines (matched, broken, with a span), as targets."""
    matches = [match for match in match_article(session, article) if match.repairable]
    snapshots = queries.latest_snapshots(session, {m.embed_id for m in matches if m.embed_id is not None})
    targets = []
    for match in matches:
        snapshot = snapshots.get(match.embed_id or 0)
        if snapshot is None or match.span is None:
            continue
        card = CardData.from_snapshot(snapshot.embed, snapshot, settings)
        review = match.by_handle_alone and settings.residue_by_handle_alone == "approve"
        note = f"residue line {match.reason}" + ("; an editor approves it" if review else "")
        targets.append(Target(match.span, card, snapshot.embed_id, note=note, review=review))
    return targets


@dataclass(frozen=True, slots=True)
class ResidueTargets:
    """`RewriteDeps.extra_targets`: `residue_targets` with the rewrite settings bound."""

    settings: RewriteSettings

    def __call__(self, session: Session, article: Article) -> list[Target]:
        return residue_targets(session, article, self.settings)
