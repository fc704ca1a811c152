"""Lost embeds: where an embed stood and nothing of it is left but the words around it or an empty shell.

Two kinds, both reported as occurrences with markup `lost` (no post, no id, no url), never rewritten by
themselves (recovery pairs them with a post from an earlier copy of the article: `pipeline.recover`):

* A lead-in: a block whose last sentence announces an embed ("Check out the video below.", "Here's the
  tweet:", "She shared on Instagram:", in the languages residue lines are read in), followed by a block
  that is plain text: the story goes on where the embed should be. The hint is the provider the block
  names (its title, or one of its `hint_words`), the last one named before the lead-in ends. The span
  is the lead-in block; a card for it is inserted at the span's end.
* A shell: a provider's own embed element (`shell_classes`: an `instagram-media` blockquote, a
  `twitter-tweet`) or a Gutenberg embed figure (`figure.wp-block-embed`) that holds no post link, no
  residue line and no media: only whitespace, or for a provider blockquote some text without a link.
  The span is the shell element.

Precision comes first: a lost spot that is not one sends editors after nothing. So a lead-in counts only
at the very end of its block, only when the next element is a `<p>` of plain text (no media, no embed
found by the scan, no link to a provider's post), with nothing but whitespace between the two; and
nothing inside an embed the scan found, in site chrome (sidebars), or in our own cards counts. The test
over every corpus page (tests/pipeline/scan/test_scan_lost.py) holds the bar: no lost spot on an intact page.

Cheap on pages with neither: one regex search over the text for a lead-in word and a few plain searches
for shell class names decide whether the tree is looked at at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.pipeline.scan.forms import in_site_chrome
from archiver.pipeline.scan.leftovers import visible_text
from archiver.pipeline.scan.offsets import byte_offsets
from archiver.pipeline.scan.spans import SourceText
from archiver.providers.common.base import Provider
from archiver.records import Article, EmbedRef, MarkupKind, Span

# The provider of a lost spot whose text names none.
UNKNOWN = "unknown"
# A lead-in sentence is short; a longer last sentence is the story, whatever words it holds.
LEAD_IN_MAX = 160
# A lead-in that names a provider and ends in a colon, nothing else ("Trump's tweet:").
NAMED_LEAD_IN_MAX = 60
# ... or, longer, that starts by naming it (a caption line: "Tweet von NAME, über ...:").
NAMED_START = 16
# The block after a lead-in must read as the story going on, not a caption or a credit line.
NEXT_BLOCK_MIN_TEXT = 60

# What a lead-in announces, by the words that name it (lower case), in the languages residue lines are
# read in (en, de, fr, es, it, pt, nl, pl, sv, da, nb).
_NOUNS = {
    "video": "video", "videos": "video", "clip": "video", "footage": "video", "reel": "video",
    "vídeo": "video", "vidéo": "video", "filmpje": "video", "wideo": "video", "film": "video",
    "videon": "video", "videoen": "video", "videoet": "video",
    "post": "post", "posts": "post", "beitrag": "post", "posting": "post", "publication": "post",
    "publicación": "post", "publicação": "post", "bericht": "post", "wpis": "post", "inlägg": "post",
    "inlägget": "post", "opslag": "post", "opslaget": "post", "innlegg": "post", "innlegget": "post",
    "tweet": "tweet", "tweets": "tweet", "tuit": "tweet", "thread": "post",
    "photo": "photo", "photos": "photo", "picture": "photo", "image": "photo", "foto": "photo",
    "bild": "photo", "zdjęcie": "photo", "bilden": "photo", "billedet": "photo", "bildet": "photo",
}  # fmt: skip
_NOUN = "|".join(sorted(_NOUNS, key=len, reverse=True))
# "Below" and its kin: the embed is announced as coming next.
_BELOW = (
    r"below|underneath|beneath|down below|here|unten|hier unten|ci-dessous|ci-après|a continuación|"
    r"abajo|aquí abajo|qui sotto|di seguito|abaixo|a seguir|hieronder|poniżej|nedan|nedenfor|herunder"
)
# Sentences that end their block and announce an embed. Each is matched against the block's last
# sentence as a whole (`fullmatch`, case-insensitive).
_LEAD_INS = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # "Check out the video below.", "See her full Instagram post below:", "Watch the clip here."
        rf"(?:(?:you can )?(?:check out|see|watch|view|take a look at|have a look at|look at|read)\s+)?"
        rf"(?:the|this|that|her|his|their|its|our|the full|a)?\s*(?:[\w'’-]+\s+){{0,3}}(?:{_NOUN})"
        rf"\s+(?:(?:is|are)\s+)?(?:{_BELOW})\s*[.:!]?",
        # "Watch:", "See below:", "Watch it below.", "Check it out below!", "Take a look:"
        rf"(?:watch|see|look|take a look|have a look|check it out|watch it|see it)"
        rf"(?:\s+(?:{_BELOW}))?\s*[:!.]?",
        # "See tweets:", "Watch the full video:"
        rf"(?:check out|see|watch|view|take a look at|have a look at|look at|read)\s+"
        rf"(?:the|this|that|her|his|their)?\s*(?:[\w'’-]+\s+){{0,2}}(?:{_NOUN})\s*:",
        # "Here's the tweet:", "Here is the video.", "Here it is:"
        rf"here(?:'s|’s| is| are)\s+(?:the|her|his|their|that|it)\s*(?:[\w'’-]+\s+){{0,2}}"
        rf"(?:{_NOUN})?\s*[:.!]",
        # de: "Seht euch das Video unten an.", "Hier das Video:", "Hier ist der Tweet:"
        rf"(?:seht|schaut|sehen sie|schauen sie)\s+(?:euch|sich)?\s*(?:das|den|die|hier)\s*"
        rf"(?:[\w-]+\s+){{0,2}}(?:{_NOUN})\s+(?:hier\s+|unten\s+)?an\s*[.:!]?",
        rf"hier\s+(?:ist\s+|sehen sie\s+|seht ihr\s+|gibt es\s+|findet ihr\s+|finden sie\s+)?"
        rf"(?:das|den|der|die)\s+(?:[\w-]+\s+){{0,2}}(?:{_NOUN})\s*[:.!]",
        # fr: "Voir la vidéo ci-dessous.", "Regardez :", "Voici le tweet :"
        rf"(?:voir|regardez|découvrez|voici)\s+(?:la|le|les|sa|son|ses)?\s*(?:[\w'’-]+\s+){{0,2}}(?:{_NOUN})"
        rf"(?:\s+(?:{_BELOW}))?\s*[.:!]?",
        r"(?:regardez|à voir)\s*[:!.]",
        # es, pt, it, nl: "Mira el vídeo a continuación.", "Veja o vídeo abaixo:", "Guarda il video qui
        # sotto.", "Bekijk de video hieronder."
        rf"(?:mira|vea|veja|confira|guarda|bekijk|kijk|zobacz|se)\s+(?:el|la|los|o|a|os|il|lo|de|het)?\s*"
        rf"(?:[\w'’-]+\s+){{0,2}}(?:{_NOUN})\s+(?:{_BELOW})\s*[.:!]?",
        r"(?:mira|veja|confira|guarda|kijk|zobacz)\s*[:!]",
    )
)
# A block's last sentence that ends in a colon after naming where it was shared ("She shared on
# Instagram:", "Er schrieb auf Twitter:"): a lead-in when the named word is a provider (see `_hint`).
_SHARED_ON = re.compile(
    r".{0,100}\b(?:on|via|to|in|auf|bei|sur|en|su|no|na|op|på)\s+(?P<where>[\w .]{2,30}?)\s*:", re.IGNORECASE
)
# Cheap test: none of these words, no lead-in (one pass over the text, only when a page has any).
# Cheap test before any parse: a lead-in ends its block, so its last word stands right before an end tag
# ("below.</p>", "Watch:</strong></p>"). A few plain searches for rare words, and a look before each
# block-ending colon for a word that makes it a lead-in; no regex pass over the page.
_LEAD_END_WORDS = (
    "below", "beneath", "underneath", "unten", "ci-dessous", "continuación", "abajo", "sotto", "seguito",
    "abaixo", "hieronder", "poniżej", "nedan", "nedenfor", "herunder",
)  # fmt: skip
_COLON_WORDS = re.compile(
    r"(?i:watch|see|look|here|voici|regardez|mira|veja|confira|kijk|guarda|zobacz|schaut|seht|hier|"
    r"tweet|instagram|twitter|tiktok|youtube|facebook|bluesky|threads|mastodon|reddit|vimeo|spotify)"
)
_END_TAG_NEAR = 16
_COLON_LOOK_BACK = 120
_COLONS_LOOKED_AT = 400
# The same, on a block's own text: a word of a lead-in among its last characters (before the walk reads
# the block's visible text, the costly part).
_TAIL_WORD = re.compile(
    r"(?i:below|beneath|underneath|unten|ci-dessous|continuaci|abajo|sotto|seguito|abaixo|hieronder|"
    r"poniżej|nedan|nedenfor|herunder)|:"
)
_TAIL_CHARS = 24
_WATCH = re.compile(r"(?i:watch|regardez|mira|guarda|kijk|schaut|seht)\b")
_SENTENCE_END = re.compile(r"(?<=[.!?…:])[\"'”’»)]*\s+(?=\S)")
# Tags that make a block more than text: media, embeds, the places embeds live in.
_MEDIA = (
    "img, picture, video, audio, iframe, embed, object, svg, canvas, blockquote, figure, script, noscript"
)
_BLOCKS = ("p", "div", "h2", "h3", "h4", "li")
# Elements that are embeds or media themselves, empty or not.
_EMBEDDING = frozenset(
    {
        "iframe",
        "img",
        "video",
        "audio",
        "embed",
        "object",
        "svg",
        "canvas",
        "blockquote",
        "script",
        "noscript",
    }
)
# How many elements the walk from a lead-in to the story's next block may pass.
_WALK_STEPS = 12
_TAGS = re.compile(r"<[^<>]*>")
_SCRIPT = re.compile(
    r"<script\b[^>]*?(?:\bsrc\s*=\s*[\"']?(?P<src>[^\"' >]*))?[^>]*>.*?</script\s*>", re.I | re.S
)
# Gutenberg's block delimiters between paragraphs ("<!-- wp:paragraph -->"), not an embed's.
_WP_COMMENT = re.compile(r"<!--\s*/?wp:(?!embed|core-embed)[a-z/-]+(?:\s+\{.*?\})?\s*/?-->", re.S)
_SHELL_WRAPPER_CLASS = "wp-block-embed"


@dataclass(frozen=True, slots=True)
class _Spot:
    node: LexborNode
    hint: str | None
    announces: str | None
    lead_in: str | None
    shell: str | None
    # Insert after the node (a lead-in) or replace it (a shell).
    start: int
    end: int


# Attributes by which an embed element names its post: a shell that has one is not empty.
_NAMING_ATTRIBUTES = ("cite", "data-href", "data-uri", "data-video-id", "data-instgrm-permalink", "data-id")


def lost_spots(
    article: Article,
    embeds: Sequence[EmbedRef],
    tree: Callable[[], LexborHTMLParser],
    providers: Sequence[Provider],
) -> tuple[EmbedRef, ...]:
    """The lost embeds of `article` (`embeds` are what the scan found in it, in order), in document order.

    `tree` gives the article's parse (parsed on first call: a page with no lead-in word and no shell
    class is never parsed for this)."""
    text = article.text
    shells = tuple(dict.fromkeys(c for p in providers for c in p.shell_classes if c in text))
    wrappers = _SHELL_WRAPPER_CLASS in text
    lead_words = _may_hold_lead_in(text)
    if not (shells or wrappers or lead_words):
        return ()
    finder = _Finder(article, embeds, tree(), providers)
    spots = list(finder.shells(shells, wrappers))
    if lead_words:
        taken = {spot.node.mem_id for spot in spots}
        spots += [s for s in finder.lead_ins() if s.node.mem_id not in taken]
    return _refs(article, spots)


def _may_hold_lead_in(text: str) -> bool:
    """Whether a lead-in may end a block of `text` (no false "no": `_Finder.lead_ins` decides)."""
    for word in _LEAD_END_WORDS:
        at = text.find(word)
        while at != -1:
            if "</" in text[at : at + len(word) + _END_TAG_NEAR]:
                return True
            at = text.find(word, at + len(word))
    at = text.find(":</")
    looked = 0
    while at != -1 and looked < _COLONS_LOOKED_AT:
        if _COLON_WORDS.search(text, max(0, at - _COLON_LOOK_BACK), at):
            return True
        looked += 1
        at = text.find(":</", at + 3)
    return looked >= _COLONS_LOOKED_AT  # too many to look at: let the walk decide


def merged(embeds: Sequence[EmbedRef], lost: Sequence[EmbedRef]) -> tuple[EmbedRef, ...]:
    """`embeds` with the `lost` spots put in document order among them (refs without a span keep their
    place after the ref before them)."""
    if not lost:
        return tuple(embeds)
    out: list[EmbedRef] = []
    pending = sorted(lost, key=lambda ref: ref.span.start if ref.span else 0)
    for ref in embeds:
        while pending and ref.span is not None and pending[0].span is not None:
            if pending[0].span.start > ref.span.start:
                break
            out.append(pending.pop(0))
        out.append(ref)
    return (*out, *pending)


class _Finder:
    def __init__(
        self,
        article: Article,
        embeds: Sequence[EmbedRef],
        tree: LexborHTMLParser,
        providers: Sequence[Provider],
    ) -> None:
        self.article = article
        self.tree = tree
        self.source = SourceText(article.text)
        self.providers = providers
        self._same_tag: dict[str, list[LexborNode]] = {}
        self._index_of: dict[str, dict[int, int]] = {}
        self._chrome: dict[int, bool] = {}
        # Where the scan found embeds (byte spans): a lost spot is never inside or on one.
        self._found = sorted((e.span.start, e.span.end) for e in embeds if e.span is not None)
        self._namers = [(p, _namer(p)) for p in providers if p.name != "generic"]

    # ---- shells ----------------------------------------------------------------------------------------
    def shells(self, classes: Sequence[str], wrappers: bool) -> Iterator[_Spot]:
        owner = {cls: p.name for p in self.providers for cls in p.shell_classes}
        for cls in classes:
            for node in self.tree.css(f".{cls}"):
                if node.tag not in ("blockquote", "div"):
                    continue
                if node.css_first("a[href], iframe, img, video") is not None:
                    continue
                if any(node.attrs.get(name) for name in _NAMING_ATTRIBUTES):
                    continue  # it names something we could not read: a malformed embed, not a lost one
                if node.tag == "div" and (node.attrs.get("data-href") or visible_text(node)):
                    continue
                spot = self._shell(node, owner[cls], f"{node.tag}.{cls}")
                if spot is not None:
                    yield spot
        if wrappers:
            for node in self.tree.css(f"figure.{_SHELL_WRAPPER_CLASS}"):
                if _holds(node, _MEDIA + ", a[href]") or visible_text(node):
                    continue
                spot = self._shell(
                    node, _figure_provider(node, self.providers), f"figure.{_SHELL_WRAPPER_CLASS}"
                )
                if spot is not None:
                    yield spot

    def _shell(self, node: LexborNode, hint: str | None, shell: str) -> _Spot | None:
        if in_site_chrome(node, known=self._chrome):
            return None
        span = self._locate(node)
        if span is None or self._near_found(span, inside_only=False):
            return None
        return _Spot(node, hint, None, _sentence_before(node), shell, span[0], span[1])

    # ---- lead-ins --------------------------------------------------------------------------------------
    def lead_ins(self) -> Iterator[_Spot]:
        for tag in _BLOCKS:
            for node in self._elements(tag):
                spot = self._lead_in(node)
                if spot is not None:
                    yield spot

    def _lead_in(self, node: LexborNode) -> _Spot | None:
        tail = (node.text(deep=True) or "").rstrip()[-_TAIL_CHARS:]
        if not tail or _TAIL_WORD.search(tail) is None:
            return None  # the block does not end as a lead-in does
        if node.tag in ("div", "li") and node.css_first("p, div, li") is not None:
            return None  # a container: its paragraphs speak for themselves
        if node.css_first(_MEDIA) is not None:
            return None
        text = visible_text(node)
        sentence = _SENTENCE_END.split(text)[-1] if text else ""
        if not sentence or len(sentence) > LEAD_IN_MAX:
            return None
        if any(link_text in sentence for link in node.css("a") if (link_text := visible_text(link))):
            return None  # "watch the video here" with "here" a link: a link, not an embed
        announces = _announces(sentence)
        hint = self._hint(text)
        if announces is None:
            shared = _SHARED_ON.fullmatch(sentence)
            if shared is not None and self._hint(shared.group("where")) is not None:
                hint = self._hint(shared.group("where"))
            elif (
                sentence.endswith(":")
                and self._hint(sentence)
                and (len(sentence) <= NAMED_LEAD_IN_MAX or self._hint(sentence[:NAMED_START]) is not None)
            ):
                hint = self._hint(sentence)  # "Trump's tweet:", "Tweet von NAME über ...:"
            else:
                return None
        following = self._next_block(node)
        if following is None or not self._plain_text_block(following):
            return None
        if in_site_chrome(node, known=self._chrome):
            return None
        span = self._locate(node)
        if span is None or self._near_found(span, inside_only=True):
            return None
        following_span = self._locate(following)
        if following_span is None or self._written(self.article.text[span[1] : following_span[0]]):
            return None
        if self._near_found(following_span, inside_only=True):
            return None
        return _Spot(node, hint, announces or _noun_in(sentence) or "post", sentence, None, span[0], span[1])

    def _next_block(self, node: LexborNode) -> LexborNode | None:
        """The first element after `node` in document order that is not empty (an emptied embed wrapper,
        a blank paragraph, an embed's loader script left alone), climbing out of `node`'s parents when
        it ends them and into the containers that follow; None when that takes more than a few steps."""
        current = node
        for _ in range(_WALK_STEPS):
            following = _next_element(current)
            if following is None:
                parent = current.parent
                if parent is None or parent.tag in ("body", "html", "article", "main"):
                    return None
                current = parent
            elif self._is_empty(following):
                current = following
            else:
                return self._first_content(following)
        return None

    def _first_content(self, node: LexborNode) -> LexborNode | None:
        """`node`, or when it is a container without media, the first non-empty element inside it."""
        for _ in range(_WALK_STEPS):
            if node.tag not in ("div", "section") or node.css_first(_MEDIA) is not None:
                return node
            child = node.child
            while child is not None and (not _is_element(child) or self._is_empty(child)):
                child = child.next
            if child is None:
                return None
            node = child
        return None

    def _is_empty(self, node: LexborNode) -> bool:
        """An element with no text and no media (what an embed wrapper is once its embed is gone), or
        only an embed's loader script."""
        if node.tag == "script":
            return self._loader(node.attrs.get("src") or "")
        if node.tag in _EMBEDDING or visible_text(node):
            return False
        return (
            all(self._loader(s.attrs.get("src") or "") for s in node.css(_MEDIA))
            if node.css_first(_MEDIA)
            else True
        )

    def _loader(self, src: str) -> bool:
        return bool(src) and any(loader in src for p in self.providers for loader in p.loader_scripts)

    def _written(self, between: str) -> bool:
        """Whether the source between two blocks holds more than tags, whitespace, block-editor comments
        and loader scripts: text, another comment, a script stood there."""
        between = _SCRIPT.sub(lambda m: "" if self._loader(m.group("src") or "") else "\x00", between)
        between = _WP_COMMENT.sub("", between)
        return bool(_TAGS.sub("", between).strip()) or "<!--" in between

    def _plain_text_block(self, node: LexborNode) -> bool:
        """Whether `node` reads as the story going on: a paragraph of plain text, or a heading."""
        if node.tag not in ("p", "h2", "h3", "h4") or node.css_first(_MEDIA) is not None:
            return False
        for link in node.css("a[href]"):
            href = link.attrs.get("href") or ""
            if any(p.parse_url(href) is not None for p in self.providers if p.name != "generic"):
                return False
        text = visible_text(node)
        if node.tag != "p" or len(text) >= NEXT_BLOCK_MIN_TEXT:
            return bool(text)
        # A short paragraph that is all bold is a heading ("<p><strong>Background</strong></p>").
        bold = node.css_first("strong, b")
        return bold is not None and visible_text(bold) == text and len(node.css("strong, b")) == 1

    def _hint(self, text: str) -> str | None:
        """The provider `text` names last (its title or one of its hint words, whole words)."""
        best: tuple[int, str] | None = None
        for provider, namer in self._namers:
            for match in namer.finditer(text):
                if best is None or match.start() > best[0]:
                    best = (match.start(), provider.name)
        return best[1] if best else None

    # ---- places --------------------------------------------------------------------------------------------
    def _elements(self, tag: str) -> list[LexborNode]:
        nodes = self._same_tag.get(tag)
        if nodes is None:
            nodes = self._same_tag[tag] = self.tree.tags(tag)
        return nodes

    def _locate(self, node: LexborNode) -> tuple[int, int] | None:
        tag = node.tag or ""
        index_of = self._index_of.get(tag)
        if index_of is None:
            index_of = self._index_of[tag] = {n.mem_id: i for i, n in enumerate(self._elements(tag))}
        index = index_of.get(node.mem_id)
        return None if index is None else self.source.locate(node, self._elements(tag), index)

    def _near_found(self, span: tuple[int, int], inside_only: bool) -> bool:
        """Whether the char range `span` overlaps an embed the scan found (or, `inside_only` False, holds
        one); the scan reports byte spans, so `span` is mapped to bytes."""
        if not self._found:
            return False
        article = self.article
        offsets = byte_offsets(article.text, article.data, article.encoding, span)
        if offsets is None:
            return True  # cannot tell: stay quiet
        begin, finish = offsets[span[0]], offsets[span[1]]
        for start, end in self._found:
            if start < finish and begin < end:
                return True
            if not inside_only and begin <= start and end <= finish:
                return True
        return False


def _announces(sentence: str) -> str | None:
    """What the sentence announces (video, post, tweet, photo), when it is a lead-in."""
    sentence = sentence.strip()
    if not any(pattern.fullmatch(sentence) for pattern in _LEAD_INS):
        return None
    return _noun_in(sentence) or ("video" if _WATCH.match(sentence) else "post")


def _noun_in(sentence: str) -> str | None:
    for word in re.findall(r"\w+", sentence.lower()):
        if word in _NOUNS:
            return _NOUNS[word]
    return None


def _namer(provider: Provider) -> re.Pattern[str]:
    words = (provider.title, *provider.hint_words)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)")


def _figure_provider(figure: LexborNode, providers: Sequence[Provider]) -> str | None:
    """The provider a Gutenberg figure names in its classes (`is-provider-instagram`)."""
    names = {p.name for p in providers}
    for token in (figure.attrs.get("class") or "").split():
        for prefix in ("is-provider-", "wp-block-embed-"):
            if token.startswith(prefix) and token[len(prefix) :] in names:
                return token[len(prefix) :]
    return None


def _sentence_before(node: LexborNode) -> str | None:
    """The last sentence of the element before `node` (what recovery finds a shell's place by)."""
    before = node.prev
    while before is not None and not (_is_element(before) and visible_text(before)):
        before = before.prev
    if before is None:
        return None
    sentence = _SENTENCE_END.split(visible_text(before))[-1]
    return sentence if len(sentence) <= LEAD_IN_MAX else None


def _holds(node: LexborNode, selector: str) -> bool:
    """Whether an element inside `node` matches `selector` (lexbor's css also matches `node` itself)."""
    return any(found.mem_id != node.mem_id for found in node.css(selector))


def _is_element(node: LexborNode) -> bool:
    return bool(node.tag) and not (node.tag or "").startswith(("-", "#"))


def _next_element(node: LexborNode) -> LexborNode | None:
    sibling = node.next
    while sibling is not None and not _is_element(sibling):
        sibling = sibling.next
    return sibling


def _refs(article: Article, spots: list[_Spot]) -> tuple[EmbedRef, ...]:
    if not spots:
        return ()
    offsets = byte_offsets(
        article.text, article.data, article.encoding, [o for s in spots for o in (s.start, s.end)]
    )
    if not offsets:
        return ()
    # Shells with no sentence before them, in document order: the second on get a number (their key).
    anchorless = [s for s in sorted(spots, key=lambda s: s.start) if s.shell and not s.lead_in]
    numbers = {id(spot): index for index, spot in enumerate(anchorless, 1) if index > 1}
    refs = [
        EmbedRef(
            provider=spot.hint or UNKNOWN,
            post_id=None,
            url=None,
            markup=MarkupKind.LOST,
            span=Span(offsets[spot.start], offsets[spot.end]),
            hint=spot.hint,
            announces=spot.announces,
            lead_in=spot.lead_in,
            shell=spot.shell,
            shell_number=numbers.get(id(spot)),
        )
        for spot in spots
    ]
    return tuple(sorted(refs, key=lambda ref: ref.span.start if ref.span else 0))
