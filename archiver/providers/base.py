"""The small base class every platform implements.

A provider declares what it recognises (hosts, post URLs, markup, residue phrases) and knows how to
capture one post. It never touches the database; it receives an HTTP client and returns records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from archiver.config import ProviderSettings
from archiver.records import Capture, EmbedRef

if TYPE_CHECKING:
    from archiver.clock import Clock
    from archiver.http import HttpClient


@dataclass(frozen=True, slots=True)
class PostUrl:
    """A post URL recognised by a provider: its stable id and canonical URL."""

    provider: str
    post_id: str
    url: str


@dataclass(frozen=True, slots=True)
class CaptureContext:
    """Everything a provider may use to capture one post."""

    http: HttpClient
    settings: ProviderSettings
    env: Mapping[str, str]
    clock: Clock

    def url(self, key: str, default: str) -> str:
        return self.settings.url(key, default)

    def token(self) -> str | None:
        name = self.settings.access_token_env
        value = self.env.get(name, "").strip() if name else ""
        return value or None


class Provider:
    """Base class. Subclasses set the class attributes and override what differs."""

    name: ClassVar[str]
    title: ClassVar[str]
    # Hostnames (lower case, without "www.") whose URLs may be this provider's posts.
    hosts: ClassVar[frozenset[str]] = frozenset()
    # Endpoint and base URL defaults, by their `[providers.NAME]` key.
    endpoints: ClassVar[Mapping[str, str]] = {}
    default_rate: ClassVar[str | None] = None
    # What the provider recognises, in words, for `archive providers`.
    recognises: ClassVar[tuple[str, ...]] = ()
    # URLs that must route to this provider (tested), and ones that must not.
    examples: ClassVar[tuple[str, ...]] = ()

    def parse_url(self, url: str) -> PostUrl | None:
        """The post behind `url`, or None when it is not one of this provider's posts."""
        raise NotImplementedError

    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        """Climb the capture ladder for one post. Expected failures are returned, not raised."""
        raise NotImplementedError
