"""One measured figure of a benchmark, as `benchmarks/run` puts it in its table: the value, its baseline
measured in the same run (or what the figure is held against, said so), the target, and whether it was
met (None: information, no target)."""

from __future__ import annotations

from typing import NamedTuple


class Figure(NamedTuple):
    benchmark: str
    measure: str
    value: str
    baseline: str
    target: str
    met: bool | None
