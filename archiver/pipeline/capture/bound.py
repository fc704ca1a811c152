"""How long a run may go on: `RunBound`, the instant after which a capture or check run starts nothing
more and gives back what it has not finished (it stays due for the next run, never counted).

A bound is measured on `time.monotonic()`, never on the injected `Clock`: a pinned clock (ARCHIVER_NOW)
never moves, so a limit measured on it would never come. The run's HTTP client is bounded by the same
instant (`HttpClient.ending_at`), so a request in flight when the time is up ends then too, whatever the
provider does (answers 429 forever, never answers, drips a byte a second).
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RunBound:
    """The end of a run on the monotonic clock, and the setting that set it (named in what is left)."""

    ends_at: float
    setting: str

    @classmethod
    def of(cls, seconds: float, setting: str) -> RunBound:
        """A bound `seconds` from now, set by `setting` (e.g. "checks.max_run")."""
        return cls(time.monotonic() + seconds, f"{setting} = {seconds:g}s")

    def left(self) -> float:
        """Seconds until the end (0.0 once it has passed)."""
        return max(self.ends_at - time.monotonic(), 0.0)

    def over(self) -> bool:
        return time.monotonic() >= self.ends_at

    @property
    def reason(self) -> str:
        return f"left for the next run: this run's time ({self.setting}) was up"
