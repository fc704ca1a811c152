"""`[[archives]]` and `[recover]`: the web archives `archive recover` asks for earlier copies of
articles (Memento TimeMaps, Wayback layout), and how recovery goes."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from archiver.config.values import Section, parse_rate


class ArchiveSettings(Section):
    """One `[[archives]]` entry: a web archive `archive recover` asks for earlier copies of articles."""

    name: str = Field(description="Name of the archive, unique; named in the provenance of what it gave.")
    base: str = Field(
        description="Wayback-layout base URL: TimeMaps at {base}/timemap/link/{url}, raw copies at "
        "{base}/{timestamp}id_/{url} (the Wayback Machine, or a pywb collection such as .../web)."
    )
    rate: str = Field("15/m", description='Request budget for this archive, e.g. "15/m" (conservative).')

    @model_validator(mode="after")
    def _valid(self) -> ArchiveSettings:
        parts = urlsplit(self.base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"archive {self.name!r}: {self.base!r} is not an http(s) base URL")
        parse_rate(self.rate)
        object.__setattr__(self, "base", self.base.strip().rstrip("/"))
        return self


# Without any [[archives]] table: the Wayback Machine.
WAYBACK = ArchiveSettings(name="wayback", base="https://web.archive.org/web")


class RecoverSettings(Section):
    """`[recover]`: how `archive recover` and the cards of recovered spots go."""

    max_copies: int = Field(12, ge=1, description="Most earlier copies of one article fetched per run.")
    repairs: Literal["approve", "apply"] = Field(
        "approve",
        description="A repair of a spot recovered from a web archive (a card once its post is confirmed "
        "gone, the post's original embed markup once it answered live): 'approve' waits for an editor "
        "even where the source's mode is apply, since the evidence is an old copy of the page, not the "
        "article itself; 'apply' follows the source's mode.",
    )
