"""The archived fallback card: our own static markup that takes a broken embed's place in an article.

    CardData.from_snapshot(embed, snapshot, settings.rewrite)  ->  CardRenderer.render(card, variant)

Two variants, chosen by where the embed unit sits (`verify.survey` tells):

    block   <figure> around a <blockquote> and a <figcaption>: where flow content is allowed
    inline  <span>s, <a>, <img>, <time>, <br> only: inside a <p> or another phrasing-only element

Both come from Jinja2 templates with autoescape on (`templates/fallback_block.html`,
`templates/fallback_inline.html`); a publisher overrides either by putting a file of the same name in
`[rewrite] template_dir`. No card ever holds a provider script, a <link> or a <style>: the default look
is `templates/fallback.css` (`STYLESHEET`), which publishers copy into their own stylesheet, and the
cards read well without it.

The card's root element carries:

    class="archiver-fallback ..."           the class every rule of the stylesheet starts with
    data-archiver-embed="PROVIDER:POST_ID"  the marker a later scan recognises (`archived.archived_cards`)
    data-archiver-version="N"               the snapshot version shown
    data-originalurl, data-versionurl, data-versiondate   Robust Links (https://robustlinks.mementoweb.org/)

Links: the archived copy is `[rewrite] archive_base_url` + `/embeds/PROVIDER/POST_ID/vN` (POST_ID
percent-encoded, "/" included; the viewer serves it), images are `[rewrite] media_base_url` + `/ab/cd/SHA256`
(the blob store's layout; an empty `media_base_url` means `archive_base_url` + `/media`).

A post the Wayback Machine's Save Page Now archived on its first capture (`[mirror]`) gets one more
link, "Also archived at the Wayback Machine, DATE" (`mirror_url`, `mirror_date_label`).

Captions: the snapshot's `text_html` cleaned again with `sanitize.clean_html` (the block variant only;
its <p> is no phrasing content), else its `text` escaped, line breaks kept. Only http(s) URLs are ever
written into an href or src.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, urlsplit

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateNotFound
from markupsafe import Markup

from archiver.providers import PROVIDERS
from archiver.sanitize import MAX_TEXT_CHARS, clean_html, clip, plain_text

if TYPE_CHECKING:
    from archiver.config import RewriteSettings
    from archiver.storage.models import Embed, Snapshot

Variant = Literal["block", "inline"]
VARIANTS: tuple[Variant, ...] = ("block", "inline")
TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLESHEET = TEMPLATES / "fallback.css"
TEMPLATE_NAMES: dict[Variant, str] = {"block": "fallback_block.html", "inline": "fallback_inline.html"}
# The class every card's root carries (its marker attributes are named in `scan.archived`, which reads
# cards back: scan never imports rewrite).
CARD_CLASS = "archiver-fallback"
_IMAGE_KINDS = ("image", "thumbnail")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


@dataclass(frozen=True, slots=True)
class CardData:
    """Everything a card template sees (each field is a template variable of the same name).

    Strings are plain text (the template escapes them), except `caption_html`, which is sanitised
    markup. URLs are http(s) or site-relative, or None.
    """

    provider: str
    provider_title: str
    post_id: str
    original_url: str
    version: int
    # When the snapshot was captured: ISO 8601 UTC (Robust Links `data-versiondate`) and for reading.
    version_date: str
    version_date_label: str
    archive_url: str
    author_name: str | None = None
    handle: str | None = None
    author_url: str | None = None
    # As the provider gave it (ISO 8601), and for reading ("1 July 2023").
    published: str | None = None
    published_label: str | None = None
    title: str | None = None
    caption_html: str | None = None
    caption_lines: tuple[str, ...] = ()
    image_url: str | None = None
    image_alt: str = ""
    # A second copy, made by the Wayback Machine's Save Page Now on the post's first capture (`[mirror]`):
    # its URI-M, and when it was made (ISO 8601 UTC, and for reading). None when there is none.
    mirror_url: str | None = None
    mirror_date: str | None = None
    mirror_date_label: str | None = None

    @property
    def marker(self) -> str:
        """The value of `data-archiver-embed`: `PROVIDER:POST_ID`."""
        return f"{self.provider}:{self.post_id}"

    @classmethod
    def from_snapshot(cls, embed: Embed, snapshot: Snapshot, settings: RewriteSettings) -> CardData:
        """The card of one snapshot version of an embed."""
        image_sha = None
        for kind in _IMAGE_KINDS:
            image_sha = next(
                (
                    item.media_file.sha256
                    for item in snapshot.media
                    if item.kind == kind
                    and item.media_file is not None
                    and item.media_file.mime.startswith("image/")
                ),
                None,
            )
            if image_sha:
                break
        mirror = embed.mirror
        archived = (
            mirror is not None and mirror.memento_url is not None and mirror.memento_datetime is not None
        )
        return card_data(
            provider=embed.provider,
            post_id=embed.post_id,
            url=embed.canonical_url,
            version=snapshot.version,
            captured_at=snapshot.captured_at,
            settings=settings,
            author_name=snapshot.author_name,
            handle=snapshot.handle,
            author_url=snapshot.author_url,
            published=snapshot.published,
            title=snapshot.title,
            text=snapshot.text,
            text_html=snapshot.text_html,
            image_sha256=image_sha,
            mirror_url=mirror.memento_url if archived and mirror is not None else None,
            mirror_datetime=mirror.memento_datetime if archived and mirror is not None else None,
        )


def card_data(
    *,
    provider: str,
    post_id: str,
    url: str,
    version: int,
    captured_at: datetime,
    settings: RewriteSettings,
    author_name: str | None = None,
    handle: str | None = None,
    author_url: str | None = None,
    published: str | None = None,
    title: str | None = None,
    text: str | None = None,
    text_html: str | None = None,
    image_sha256: str | None = None,
    mirror_url: str | None = None,
    mirror_datetime: datetime | None = None,
) -> CardData:
    """A card from plain values (what `CardData.from_snapshot` reads off the database rows)."""
    archive_base = settings.archive_base_url
    media_base = settings.media_base_url or f"{archive_base}/media"
    caption_html = clean_html(text_html) if text_html and text_html.strip() else None
    caption_text = (text or "").strip() or (plain_text(text_html) if text_html else "")
    name = _clean(author_name)
    mirror = _http_url(mirror_url) if mirror_datetime is not None else None
    return CardData(
        provider=provider,
        provider_title=provider_title(provider),
        post_id=post_id,
        original_url=_http_url(url) or "",
        version=version,
        version_date=captured_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        version_date_label=_day_label(captured_at.date()),
        archive_url=archive_url(archive_base, provider, post_id, version),
        author_name=name,
        handle=(_clean(handle) or "").lstrip("@") or None,
        author_url=_http_url(author_url),
        published=_clean(published),
        published_label=_date_label(published),
        title=_clean(title),
        caption_html=caption_html or None,
        caption_lines=_lines(caption_text),
        image_url=f"{media_base}/{image_sha256[:2]}/{image_sha256[2:4]}/{image_sha256}"
        if image_sha256
        else None,
        image_alt=_image_alt(name, handle, provider),
        mirror_url=mirror,
        mirror_date=mirror_datetime.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if mirror and mirror_datetime
        else None,
        mirror_date_label=_day_label(mirror_datetime.astimezone(UTC).date())
        if mirror and mirror_datetime
        else None,
    )


def archive_url(base: str, provider: str, post_id: str, version: int) -> str:
    """Where the viewer serves one archived version: BASE/embeds/PROVIDER/POST_ID/vN."""
    return f"{base}/embeds/{quote(provider, safe='')}/{quote(post_id, safe='')}/v{version}"


def provider_title(name: str) -> str:
    """The provider's display name ("Instagram"), or the name itself for one we do not know."""
    for provider in PROVIDERS:
        if provider.name == name:
            return provider.title
    return name.replace("_", " ").title()


class CardRenderer:
    """Renders cards from the packaged templates, or a publisher's overrides of them (by file name)."""

    def __init__(self, template_dir: Path | None = None) -> None:
        self.template_dir = template_dir

    @cached_property
    def environment(self) -> Environment:
        loaders = [FileSystemLoader(str(TEMPLATES))]
        if self.template_dir is not None:
            loaders.insert(0, FileSystemLoader(str(self.template_dir)))
        return Environment(
            loader=ChoiceLoader(loaders),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def render(self, card: CardData, variant: Variant) -> str:
        """The card's markup: one element, no surrounding whitespace."""
        try:
            template = self.environment.get_template(TEMPLATE_NAMES[variant])
        except TemplateNotFound as exc:  # pragma: no cover - the packaged templates are always there
            raise RuntimeError(f"fallback template {exc.name} is missing") from None
        context = {name: getattr(card, name) for name in _CARD_FIELDS}
        context["marker"] = card.marker
        if card.caption_html is not None:
            # Cleaned again right here: whatever reaches a page as markup went through the allowlist.
            context["caption_html"] = Markup(clean_html(card.caption_html))
        return template.render(context).strip()


_CARD_FIELDS = tuple(f.name for f in fields(CardData))


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return clip(value, MAX_TEXT_CHARS) or None


def _lines(text: str) -> tuple[str, ...]:
    text = _BLANK_LINES.sub("\n\n", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    return tuple(line.strip() for line in clip(text, MAX_TEXT_CHARS).split("\n")) if text else ()


def _http_url(value: str | None) -> str | None:
    """The URL when it is http(s) with a host; None for anything else (javascript:, data:, relative)."""
    if not value:
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        return None
    return value


def _image_alt(name: str | None, handle: str | None, provider: str) -> str:
    who = name or (f"@{handle.lstrip('@')}" if handle else None)
    return f"Image from the post by {who} on {provider_title(provider)}" if who else "Image from the post"


def _date_label(value: str | None) -> str | None:
    """ "2023-07-01T10:00:00Z" -> "1 July 2023"; what cannot be read is shown as given."""
    if not value:
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            return _day_label(date.fromisoformat(text[:10]))
        except ValueError:
            return _clean(text)
    return _day_label(parsed.date())


def _day_label(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
