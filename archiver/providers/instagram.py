"""Instagram: posts, reels and IGTV videos (reference/providers.md section 1).

Detection: URL forms, the official embed blockquote (versions 7 to 14, in several languages), AMP
`amp-instagram`, and the attribution line a broken embed leaves behind. Rendered iframes, bare URLs,
Gutenberg blocks and consent placeholders are generic forms the scanner finds with `parse_url`.

Capture ladder: the article's markup, Graph oEmbed (tokenless or with a token), the public captioned
embed page (caption, handle, image). The pipeline then stores the media.

Archived pages (recovery from web archives): the captioned embed page, read as the live ladder reads it,
then the post page: its JSON-LD (2018-2020), og:description and og:title as Instagram wrote them, and
og:image, when its og:url or canonical link is the post; a login wall or "this page isn't available"
shows no post.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.providers.common.base import (
    NO_FIELDS,
    MarkupFields,
    PostUrl,
    Provider,
    Sighting,
    has_class,
    node_text,
    squeeze,
)
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    RungResult,
    assemble,
    failed_rung,
    fetch,
    markup_fields,
    oembed_fields,
    raw_response,
    request_oembed,
)
from archiver.providers.common.meta import graph_outcome
from archiver.providers.common.pagemeta import ArchivedPost, page_meta, web_url
from archiver.records import Capture, EmbedRef, Field, MarkupKind, MediaRef, Outcome
from archiver.sanitize import clean_html, plain_text

CANONICAL_BASE = "https://www.instagram.com"


@dataclass(frozen=True, slots=True)
class SharedBy:
    """One language's attribution line: PHRASE NAME (@handle) [JOINER DATE]."""

    language: str
    phrase: str
    date_joiners: tuple[str, ...]


# The attribution line of the official embed, as Instagram writes it per language. Longer phrases of
# one language first, so that a phrase is never cut short by another one that starts it.
SHARED_BY: tuple[SharedBy, ...] = (
    SharedBy("en", "A post shared by", ("on",)),
    SharedBy("en", "A photo posted by", ("on",)),
    SharedBy("en", "A video posted by", ("on",)),
    SharedBy("de", "Ein Beitrag geteilt von", ("am",)),
    SharedBy("fr", "Une publication partagée par", ("le",)),
    SharedBy("es", "Una publicación compartida de", ("el",)),
    SharedBy("es", "Una publicación compartida por", ("el",)),
    SharedBy("it", "Un post condiviso da", ("in data:", "il")),
    SharedBy("pt", "Uma publicação compartilhada por", ("em",)),
    SharedBy("nl", "Een bericht gedeeld door", ("op",)),
    SharedBy("pl", "Post udostępniony przez", ()),
    SharedBy("sv", "Ett inlägg delat av", ()),
    SharedBy("da", "Et opslag delt af", ()),
    SharedBy("nb", "Et innlegg delt av", ()),
)

# The call-to-action line of v12+ embeds; never a caption.
VIEW_ON_INSTAGRAM: tuple[str, ...] = (
    "View this post on Instagram",
    "Sieh dir diesen Beitrag auf Instagram an",
    "Voir cette publication sur Instagram",
    "Ver esta publicación en Instagram",
    "Visualizza questo post su Instagram",
    "Ver essa foto no Instagram",
    "Ver esta publicação no Instagram",
    "Dit bericht op Instagram bekijken",
    "Bekijk dit bericht op Instagram",
)

# Month names and abbreviations in the languages above, by their first letters (see `_month`).
MONTHS: Mapping[str, int] = MappingProxyType(
    {
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,  # en (and the many that agree)
        "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
        "mär": 3, "mrz": 3, "mai": 5, "okt": 10, "dez": 12,  # de
        "janv": 1, "févr": 2, "fév": 2, "avr": 4, "juin": 6, "juil": 7, "août": 8, "aoû": 8, "déc": 12,  # fr
        "ene": 1, "abr": 4, "ago": 8, "sept": 9, "set": 9, "dic": 12,  # es, it, pt
        "gen": 1, "mag": 5, "giu": 6, "lug": 7, "ott": 10,  # it
        "fev": 2, "out": 10,  # pt
        "mrt": 3, "maa": 3, "mei": 5,  # nl
    }
)  # fmt: skip

# Zone abbreviations Instagram printed after English times ("9:24am PDT").
ZONES: Mapping[str, str] = MappingProxyType(
    {
        "UTC": "+00:00", "GMT": "+00:00", "BST": "+01:00", "CET": "+01:00", "CEST": "+02:00",
        "EST": "-05:00", "EDT": "-04:00", "CST": "-06:00", "CDT": "-05:00",
        "MST": "-07:00", "MDT": "-06:00", "PST": "-08:00", "PDT": "-07:00",
    }
)  # fmt: skip

# Path segments that are not user names (so /share/p/X or /explore/... never read as a post).
RESERVED_SEGMENTS = frozenset((
    "p", "reel", "reels", "tv", "explore", "stories", "share", "accounts", "direct", "about",
    "developer", "legal", "web", "static", "oauth", "challenge", "emails", "graphql", "api", "privacy",
    "terms", "embed", "embed.js",
))  # fmt: skip

_URL = re.compile(
    r"\s*(?:https?:)?(?://)?(?P<host>(?:www\.|m\.)?(?:instagram\.com|instagr\.am))(?::\d+)?"
    r"(?P<path>/[^?#\s]*)?",
    re.IGNORECASE,
)
_POST_PATH = re.compile(
    r"/(?:(?P<user>[A-Za-z0-9._]{1,30})/)?(?P<kind>p|reels?|tv)/(?P<code>[A-Za-z0-9_-]{5,64})(?:/|$)"
)
_PROFILE_PATH = re.compile(r"/(?P<user>[A-Za-z0-9._]{1,30})/?$")
_SHORTCODE = re.compile(r"[A-Za-z0-9_-]{5,64}")
_HANDLE = r"\(@(?P<handle>[A-Za-z0-9._]{1,30})\)"
_SHARED_BY = re.compile(
    "(?P<phrase>"
    + "|".join(re.escape(s.phrase) for s in sorted(SHARED_BY, key=lambda s: -len(s.phrase)))
    + r")\s*(?P<name>[^\n]{0,120}?)\s*"
    + _HANDLE
    + r"(?P<rest>[^\n]{0,80})"
)
_JOINERS = {s.phrase: s.date_joiners for s in SHARED_BY}
_PLAIN_HANDLE = re.compile(r"^[A-Za-z0-9._]{1,30}$")
# A post page's og:description, as Instagram wrote it before 2021 ("45.2k Likes, 512 Comments - NAME
# (@handle) on Instagram: “caption”") and since ("12K likes, 300 comments - handle on October 2, 2020:
# "caption". "); and its og:title ("NAME on Instagram: “caption”").
_OG_DESCRIPTION = re.compile(
    r"^[^\n]*? - (?:(?P<name>[^\n]{1,120}?) \(@(?P<handle>[A-Za-z0-9._]{1,30})\) on Instagram"
    r"|(?P<user>[A-Za-z0-9._]{1,30}) on (?P<date>[^:\n]{6,40})): [“\"](?P<caption>.*)[”\"]\.?\s*$",
    re.DOTALL,
)
_OG_TITLE = re.compile(r"^(?P<name>[^\n]{1,120}?) on Instagram: [“\"](?P<caption>.*)[”\"]\s*$", re.DOTALL)
# What a post page that no longer shows the post says (never a verdict: the live ladder decides that).
_UNAVAILABLE = ("Sorry, this page isn&#39;t available", "Sorry, this page isn't available")
_TIME = r"(?P<hour>\d{1,2})[:.h](?P<minute>\d{2})\s*(?P<ampm>[ap]\.?m\.?)?\s*(?P<zone>[A-Z]{3,4})?"
_MONTH_FIRST = re.compile(
    r"(?P<month>[^\W\d_]{3,10})\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})(?:,?\s+\w+\s+" + _TIME + ")?"
)
_DAY_FIRST = re.compile(
    r"(?P<day>\d{1,2})\.?\s+(?:de\s+)?(?P<month>[^\W\d_]{3,10})\.?,?\s+(?:de\s+)?(?P<year>\d{4})"
    r"(?:,?\s+[^\W\d_]+\.?(?:\s+[^\W\d_]+)?\s+" + _TIME + ")?"
)


class Instagram(Provider):
    name = "instagram"
    title = "Instagram"
    hosts = frozenset({"instagram.com", "instagr.am"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "oembed_endpoint": "https://graph.facebook.com/v26.0/instagram_oembed",
            "embed_page_base": "https://www.instagram.com",
        }
    )
    default_rate = "1000/h"
    recognises = (
        "post, reel and IGTV URLs on instagram.com and instagr.am (with or without a user name)",
        "the official embed blockquote (blockquote.instagram-media, versions 7 to 14, any language)",
        "rendered embed iframes, AMP amp-instagram, Gutenberg and CKEditor embeds of those URLs",
        '"A post shared by NAME (@handle)" left behind by an embed whose script never ran',
    )
    examples = (
        "https://www.instagram.com/p/Ci22crtrcRL/",
        "https://www.instagram.com/p/B_fawQoFahE/?utm_source=ig_embed&utm_campaign=loading",
        "https://instagram.com/reel/CIyNZQhH4DQ/?igshid=40rns9jda1ow",
        "https://www.instagram.com/reels/CIyNZQhH4DQ/",
        "https://www.instagram.com/tv/CCX-gcHArcJ/",
        "http://instagr.am/p/BalQ2SWFty8/",
        "//www.instagram.com/p/ByxilPNJK3M/embed/captioned/?cr=1&v=14",
        "https://m.instagram.com/p/ChU_YJRONWN/#comments",
        "https://www.instagram.com/spicegirls/p/ByxilPNJK3M/",
    )
    not_examples = (
        "https://www.instagram.com/spicegirls/",
        "https://www.instagram.com/explore/tags/halloween/",
        "https://www.instagram.com/stories/spicegirls/3141592653589793238/",
        "https://www.instagram.com/share/p/BalQ2SWFty8/",
        "https://www.instagram.com/reels/audio/1234567890123456/",
        "https://www.instagram.com/accounts/login/?next=/p/BalQ2SWFty8/",
        "https://www.instagram.com/embed.js",
        "https://help.instagram.com/p/BalQ2SWFty8/",
        "https://example.com/p/BalQ2SWFty8/",
    )

    markers = ("amp-instagram", "instagram-media")  # AMP has only a shortcode; a bare blockquote none
    stem = "instagr"
    element_tags = ("blockquote", "amp-instagram")
    loader_scripts = ("instagram.com/embed.js", "instagram.com/en_US/embeds.js", "platform.instagram.com/")
    residue_markers = ("(@",)
    residue_phrases = tuple(s.phrase for s in SHARED_BY)
    shell_classes = ("instagram-media",)

    # ---- URLs --------------------------------------------------------------------------------------
    def parse_url(self, url: str) -> PostUrl | None:
        match = _URL.match(url)
        if match is None or not match.group("path"):
            return None
        post = _POST_PATH.match(match.group("path"))
        if post is None:
            return None
        user, kind, code = post.group("user", "kind", "code")
        if user in RESERVED_SEGMENTS or (kind == "reels" and code == "audio"):
            return None
        kind = "reel" if kind == "reels" else kind
        return PostUrl(self.name, code, f"{CANONICAL_BASE}/{kind}/{code}/")

    def profile_url(self, url: str) -> str | None:
        """The canonical profile URL behind `url`, or None when it is not a profile link."""
        match = _URL.match(url)
        path = match.group("path") if match else None
        profile = _PROFILE_PATH.match(path) if path else None
        if profile is None or profile.group("user") in RESERVED_SEGMENTS:
            return None
        return f"{CANONICAL_BASE}/{profile.group('user')}/"

    # ---- markup ------------------------------------------------------------------------------------
    def read_element(self, node: LexborNode) -> Sighting | None:
        if node.tag == "amp-instagram":
            return self._read_amp(node)
        if node.tag == "blockquote" and (
            has_class(node, "instagram-media") or "data-instgrm-permalink" in node.attrs
        ):
            return self._read_blockquote(node)
        return None

    def _read_amp(self, node: LexborNode) -> Sighting | None:
        code = (node.attrs.get("data-shortcode") or "").strip()
        if not _SHORTCODE.fullmatch(code):
            return None
        post = PostUrl(self.name, code, f"{CANONICAL_BASE}/p/{code}/")
        return Sighting(self.name, post, MarkupKind.AMP, node)

    def _read_blockquote(self, node: LexborNode) -> Sighting | None:
        permalink = node.attrs.get("data-instgrm-permalink")
        post = self.parse_url(permalink) if permalink else None
        if post is None:
            # Some v7 snippets carry no permalink attribute: the first post link inside names the post.
            for link in node.css("a[href]"):
                post = self.parse_url(link.attrs.get("href") or "")
                if post is not None:
                    break
        fields = self._blockquote_fields(node)
        if post is None:
            # An embed blockquote that lost its links is the residue of one, if its text still says whose.
            if fields.handle or fields.author_name:
                return Sighting(self.name, None, MarkupKind.RESIDUE, node, fields)
            return None
        return Sighting(self.name, post, MarkupKind.BLOCKQUOTE, node, fields)

    def _blockquote_fields(self, node: LexborNode) -> MarkupFields:
        version = (node.attrs.get("data-instgrm-version") or "").strip()
        attribution = NO_FIELDS
        attribution_paragraph: LexborNode | None = None
        caption: str | None = None
        paragraphs = node.css("p")
        for paragraph in paragraphs:
            fields = self.read_residue(node_text(paragraph))
            if fields is not None:
                attribution, attribution_paragraph = fields, paragraph
                break
        if attribution_paragraph is None:
            attribution = self.read_residue(node_text(node)) or NO_FIELDS
        else:
            attribution = MarkupFields(author_url=self._profile_link(attribution_paragraph)).or_else(
                attribution
            )
        # Only v12 and older snippets carry the caption (v13+ dropped it even when "captioned").
        if not (version.isdigit() and int(version) >= 13):
            caption = self._caption(paragraphs, attribution_paragraph)
        time = node.css_first("time[datetime]")
        published = None
        if time is not None:
            published = (time.attrs.get("datetime") or "").strip() or None
        return MarkupFields(published=published, caption=caption).or_else(attribution)

    def _profile_link(self, paragraph: LexborNode) -> str | None:
        for link in paragraph.css("a[href]"):
            profile = self.profile_url(link.attrs.get("href") or "")
            if profile is not None:
                return profile
        return None

    def _caption(self, paragraphs: list[LexborNode], attribution: LexborNode | None) -> str | None:
        """The caption of a v7/v12 captioned embed: a paragraph before the attribution line whose link
        goes to the post. When no attribution line was recognised (a language we do not know), the last
        paragraph is taken to be it and never read as the caption."""
        candidates = paragraphs if attribution is not None else paragraphs[:-1]
        for paragraph in candidates:
            if attribution is not None and paragraph == attribution:
                return None
            text = paragraph.text(deep=True).strip()
            if not text or squeeze(text) in VIEW_ON_INSTAGRAM:
                continue
            if any(self.parse_url(a.attrs.get("href") or "") for a in paragraph.css("a[href]")):
                return text
        return None

    # ---- residue -----------------------------------------------------------------------------------
    def read_residue(self, text: str) -> MarkupFields | None:
        match = _SHARED_BY.search(text)
        if match is None:
            return None
        name = squeeze(match.group("name")) or None
        return MarkupFields(
            author_name=name,
            handle=match.group("handle"),
            published=_published(match.group("rest"), _JOINERS[match.group("phrase")]),
        )

    # ---- capture: markup (rung 1), Graph oEmbed (2), captioned embed page (3); media by the pipeline ----

    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        post = self.parse_url(ref.url or "")
        if post is None:
            return Capture(self.name, ref.post_id, ref.url, Outcome.AMBIGUOUS, "not an Instagram post URL")
        fields = markup_fields(ref)
        media: list[MediaRef] = []
        rungs = [self._oembed_rung(post, ctx, fields, media), self._embed_page_rung(post, ctx, fields, media)]
        return assemble(self.name, post.post_id, post.url, rungs, fields, media)

    def _oembed_rung(
        self, post: PostUrl, ctx: CaptureContext, fields: dict[str, Field], media: list[MediaRef]
    ) -> RungResult:
        params = {"omitscript": "true"}
        token = ctx.token()
        if token:
            params["access_token"] = token
        endpoint = ctx.url("oembed_endpoint", self.endpoints["oembed_endpoint"])
        result = graph_outcome(request_oembed(ctx, endpoint, post.url, params))
        if result.data is not None:
            # Since 2025-11 Meta sends only html; older answers still carry author and thumbnail.
            oembed_fields(result.data, fields, media)
        return result

    def _embed_page_rung(
        self, post: PostUrl, ctx: CaptureContext, fields: dict[str, Field], media: list[MediaRef]
    ) -> RungResult:
        kind = urlsplit(post.url).path.strip("/").split("/")[0] or "p"
        base = ctx.url("embed_page_base", self.endpoints["embed_page_base"])
        fetched = fetch(
            ctx,
            f"{base}/{kind}/{post.post_id}/embed/captioned/",
            "embed_page",
            max_bytes=ctx.max_page_bytes,
            accept="text/html",
        )
        response = raw_response("embed_page", fetched, ctx.clock.now().isoformat())
        failed = failed_rung(ctx, fetched, response, "embed page")
        if failed is not None:
            return failed
        page = parse_embed_page(fetched.text())
        if page is None:
            return RungResult(
                Outcome.AMBIGUOUS, "embed page: 200 but no post in it (login wall?)", fetched.status, response
            )
        if page.caption_html is not None:
            fields["text"] = Field(plain_text(page.caption_html), "embed_page")
            fields["text_html"] = Field(clean_html(page.caption_html), "embed_page")
        if page.handle:
            fields["handle"] = Field(page.handle, "embed_page")
            fields.setdefault("author_url", Field(f"https://www.instagram.com/{page.handle}/", "embed_page"))
        if page.image_url:
            media.append(MediaRef("image", page.image_url, "embed_page"))
        return RungResult(Outcome.OK, "embed page answered", fetched.status, response)

    # ---- archived pages (recovery from web archives) ------------------------------------------------
    def archived_pages(self, post: PostUrl) -> tuple[str, ...]:
        # The captioned embed page is the page the official embed loads in its iframe (the live ladder's
        # third rung): caption, handle and image in plain HTML. Post pages are mostly login walls.
        return (embed_page_url(post), post.url)

    def read_archived_page(self, post: PostUrl, page_url: str, page: str) -> ArchivedPost | None:
        if page_url == embed_page_url(post):
            return _archived_embed_page(page)
        if any(words in page for words in _UNAVAILABLE):
            return None
        meta = page_meta(page)
        named = self.parse_url(meta.url or "")
        if named is None or named.post_id != post.post_id:
            return None  # a home page or a login wall after a redirect, or another post
        values: dict[str, str] = {}
        for item in meta.posts():  # the JSON-LD of 2018-2020 post pages
            author = item.get("author")
            if isinstance(author, Mapping):
                _put(values, "author_name", author.get("name"))
                handle = author.get("alternateName")
                _put(values, "handle", handle.lstrip("@") if isinstance(handle, str) else None)
            _put(values, "text", item.get("caption") or item.get("articleBody"))
            _put(values, "published", item.get("uploadDate") or item.get("datePublished"))
        description = _OG_DESCRIPTION.match(meta.first("og:description", "description") or "")
        if description is not None:
            _put(values, "author_name", description.group("name"))
            _put(values, "handle", description.group("handle") or description.group("user"))
            _put(values, "text", description.group("caption"))
            _put(values, "published", _published(description.group("date") or "", ()))
        title = _OG_TITLE.match(meta.first("og:title") or "")
        if title is not None:
            _put(values, "author_name", title.group("name"))
            _put(values, "text", title.group("caption"))
        if "handle" in values and _PLAIN_HANDLE.match(values["handle"]):
            values.setdefault("author_url", f"{CANONICAL_BASE}/{values['handle']}/")
        else:
            values.pop("handle", None)
        image = web_url(meta.first("og:image:secure_url", "og:image"))
        if not values and image is None:
            return None
        return ArchivedPost(values, image, "\n".join(meta.evidence))


def embed_page_url(post: PostUrl) -> str:
    """The public captioned embed page of a post (what the official embed's iframe shows)."""
    kind = urlsplit(post.url).path.strip("/").split("/")[0] or "p"
    return f"{CANONICAL_BASE}/{kind}/{post.post_id}/embed/captioned/"


def _archived_embed_page(page: str) -> ArchivedPost | None:
    shown = parse_embed_page(page)
    if shown is None:
        return None
    values: dict[str, str] = {}
    if shown.caption_html is not None and plain_text(shown.caption_html):
        values["text"] = plain_text(shown.caption_html)
        values["text_html"] = clean_html(shown.caption_html)
    if shown.handle:
        values["handle"] = shown.handle
        values["author_url"] = f"{CANONICAL_BASE}/{shown.handle}/"
    if not values and shown.image_url is None:
        return None
    evidence = "\n".join(filter(None, [shown.caption_html, shown.image_url]))
    return ArchivedPost(values, shown.image_url, evidence)


def _put(values: dict[str, str], name: str, value: object) -> None:
    if isinstance(value, str) and value.strip() and name not in values:
        values[name] = squeeze(value)


def _published(rest: str, joiners: tuple[str, ...]) -> str | None:
    """ISO 8601 for the date after an attribution line ("on Apr 27, 2020 at 9:24am PDT"), if readable."""
    rest = rest.strip()
    for joiner in joiners:
        if joiner and rest.startswith(joiner + " "):
            rest = rest[len(joiner) :].strip()
            break
    match = _MONTH_FIRST.match(rest) or _DAY_FIRST.match(rest)
    if match is None:
        return None
    month = _month(match.group("month"))
    if month is None:
        return None
    try:
        date = datetime.date(int(match.group("year")), month, int(match.group("day"))).isoformat()
    except ValueError:
        return None
    zone = ZONES.get(match.group("zone") or "")
    if match.group("hour") is None or zone is None:
        # A time without a zone would be a guess; the day alone is still true.
        return date
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    ampm = (match.group("ampm") or "").lower()
    if ampm.startswith("p") and hour < 12:
        hour += 12
    elif ampm.startswith("a") and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return date
    return f"{date}T{hour:02d}:{minute:02d}:00{zone}"


def _month(word: str) -> int | None:
    word = word.lower().rstrip(".")
    for size in (len(word), 4, 3):
        month = MONTHS.get(word[:size])
        if month is not None:
            return month
    return None


@dataclass(frozen=True, slots=True)
class EmbedPage:
    """What Instagram's public captioned embed page shows."""

    handle: str | None
    caption_html: str | None
    image_url: str | None


def parse_embed_page(html: str) -> EmbedPage | None:
    """Handle, caption and image of a `/p/CODE/embed/captioned/` page; None when it shows no post."""
    tree = LexborHTMLParser(html)
    caption_node = tree.css_first("div.Caption")
    image_node = tree.css_first("img.EmbeddedMediaImage")
    handle_node = tree.css_first("a.CaptionUsername") or tree.css_first("span.UsernameText")
    if caption_node is None and image_node is None:
        return None
    handle = (handle_node.text(strip=True) if handle_node is not None else "").lstrip("@")
    caption_html: str | None = None
    if caption_node is not None:
        for node in caption_node.css("a.CaptionUsername, div.CaptionComments"):
            node.decompose()
        inner = caption_node.inner_html or ""
        caption_html = re.sub(r"^(\s*<br\s*/?>\s*)+", "", inner.strip())
    image = image_node.attributes.get("src") if image_node is not None else None
    image_url = image if image and urlsplit(image).scheme in ("http", "https") else None
    return EmbedPage(handle if _PLAIN_HANDLE.match(handle) else None, caption_html, image_url)
