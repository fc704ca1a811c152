"""What a provider is handed to capture one post (`CaptureContext`): the shared HTTP client, its own
settings, the environment its token is read from, the clock, and its request budget per host.

Built by the capture stage (`archiver.pipeline.capture`) for each climb; read by the ladder's rungs
(`ladder`, `public_api`, `itunes`) and the providers' own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from archiver.config import ProviderSettings

if TYPE_CHECKING:
    from archiver.clock import Clock
    from archiver.http import Budgets, HttpClient


@dataclass(frozen=True, slots=True)
class CaptureContext:
    """Everything a provider may use to capture one post: the shared client, its own settings, the
    environment (for its token), the clock, and its request budget per host."""

    provider: str
    http: HttpClient
    settings: ProviderSettings
    env: Mapping[str, str]
    clock: Clock
    budgets: Budgets
    rate: tuple[int, float] | None
    max_json_bytes: int
    max_page_bytes: int
    # The responses behind the post's latest snapshot, by (redacted) URL: a recapture revalidates them
    # (If-None-Match / If-Modified-Since) and a 304 replays the stored body.
    previous: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def url(self, key: str, default: str) -> str:
        return self.settings.url(key, default)

    def token(self) -> str | None:
        name = self.settings.access_token_env
        value = self.env.get(name, "").strip() if name else ""
        return value or None

    def budget_key(self, url: str) -> str | None:
        """This provider's budget for the host of `url` (None when the provider has no rate)."""
        if self.rate is None:
            return None
        key = f"{self.provider}@{urlsplit(url).hostname or ''}"
        if self.budgets.remaining(key) is None:
            self.budgets.set_limit(key, *self.rate)
        return key
