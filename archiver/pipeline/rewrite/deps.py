"""What the rewrite stage needs, in one record: settings, clock, card renderer, providers, stores.

`RewriteDeps.from_settings` builds the usual one; tests and the daemon pass their own parts. A source's
store comes from `sources.kinds.open_store` (the one table of kinds), opened once per source name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from archiver.clock import Clock
from archiver.config import Settings, SourceSettings
from archiver.http import HttpClient
from archiver.pipeline.rewrite.fallback import CardRenderer
from archiver.pipeline.rewrite.repairs import RepairTargets
from archiver.pipeline.rewrite.targets import Target
from archiver.providers import PROVIDERS
from archiver.providers.common.base import Provider
from archiver.sources.kinds import open_store
from archiver.sources.store import ArticleStore
from archiver.storage.models import Article

Mode = Literal["monitor", "approve", "apply"]


@dataclass(frozen=True, slots=True)
class Policy:
    """What a source allows: its mode and whether a returned embed is restored by itself."""

    mode: Mode = "approve"
    restore_on_return: bool = True


@dataclass
class RewriteDeps:
    """What the rewrite stage needs; `RewriteDeps.from_settings` builds the usual one."""

    settings: Settings
    clock: Clock
    renderer: CardRenderer
    providers: tuple[Provider, ...] = PROVIDERS
    # Stores by source name, opened on first use by the source's kind (`sources.kinds.open_store`).
    stores: dict[str, ArticleStore] = field(default_factory=dict)
    # More targets for an article than its broken embeds (spots recovered from web archives, residue
    # matched to a snapshot), asked each time an article is planned; `run` visits articles that only
    # have those.
    extra_targets: Callable[[Session, Article], Sequence[Target]] | None = None
    # The environment a sql source's `url_env` (a wordpress source's `password_env`) is read from.
    env: Mapping[str, str] = field(default_factory=dict)
    # The client a wordpress source's store is reached through (the caller's, closed by it); without
    # one a wordpress source cannot be opened.
    http: HttpClient | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        clock: Clock,
        providers: tuple[Provider, ...] = PROVIDERS,
        env: Mapping[str, str] | None = None,
        http: HttpClient | None = None,
    ) -> RewriteDeps:
        renderer = CardRenderer(settings.rewrite.template_dir)
        return cls(
            settings,
            clock,
            renderer,
            providers,
            env=dict(env or {}),
            extra_targets=RepairTargets(settings, providers),
            http=http,
        )

    def source_settings(self, name: str) -> SourceSettings | None:
        return next((source for source in self.settings.sources if source.name == name), None)

    def policy(self, source: str) -> Policy:
        """The configured source's policy; ad-hoc sources (paths on the command line) approve."""
        configured = self.source_settings(source)
        if configured is None:
            return Policy()
        return Policy(configured.mode, configured.restore_on_return)

    def store(self, source: str) -> ArticleStore:
        """The store of a source by name (a configured one by its kind; an ad-hoc one: files)."""
        store = self.stores.get(source)
        if store is None:
            configured = self.source_settings(source)
            store = open_store(
                configured or source, self.settings.scan, env=self.env, now=self.clock.now, http=self.http
            )
            self.stores[source] = store
        return store
