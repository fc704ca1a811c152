"""Rewrite speed: broken embeds replaced by verified cards, against a bare selectolax parse of the same pages.

    .venv/bin/python benchmarks/rewrite_speed.py [--files 318] [--rounds 3]

The dev corpus pages are replicated to `--files` articles (at least 300) in a `files` source, scanned
into a SQLite archive, and every embed is marked broken with a synthetic snapshot (outside the timing).
Then, best of the rounds (each on a fresh copy):

- baseline: read, decode and parse every page once with lexbor (what any rewrite must at least do);
- core: plan and verify every page in memory (`rewrite.rewrite_bytes`: a survey parse with probes, the
  cards rendered, the splice, the re-parse and every check), no database, no writing;
- archive rewrite (mode apply): the whole stage, `rewrite.run`: read, plan, verify, journal rows
  committed as applying, atomic write (temporary file, fsync, rename, fsync of the folder), rows
  applied. Target: at least 100 articles per second.

Rates count the articles that hold embeds (the pages without any are never read by a rewrite), except
the baseline, which parses every page.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from figures import Figure  # noqa: E402
from scan_speed import bare_parse  # noqa: E402  (the same baseline as the scan benchmark)

from archiver.pipeline import rewrite  # noqa: E402
from archiver.pipeline.rewrite.fallback import CardData, CardRenderer  # noqa: E402
from archiver.pipeline.scan import scan_article  # noqa: E402
from archiver.records import Article  # noqa: E402
from archiver.storage import queries  # noqa: E402
from archiver.storage.models import Embed  # noqa: E402
from tests.support.rewrite_world import World, break_everything, corpus_pages, make_world, scan  # noqa: E402

TARGET = 100.0


def fresh_world(folder: Path, files: int) -> World:
    pages = corpus_pages()
    if not pages:
        sys.exit("no corpus pages in shared/corpus/dev/pages")
    world = make_world(folder, pages, count=files, mode="apply")
    scan(world)
    break_everything(world)
    return world


def core_inputs(world: World) -> list[tuple[Article, list[rewrite.Target]]]:
    """The articles with their targets (what plan_article hands to rewrite_bytes), built untimed."""
    deps = world.deps()
    store = deps.store("site")
    inputs = []
    with world.sessions() as session:
        snapshots = queries.latest_snapshots(session, [e.id for e in session.query(Embed)])
        embeds = {embed.id: embed for embed in session.query(Embed)}
        by_key = {(e.provider, e.post_id): e for e in embeds.values()}
        for path in world.files():
            article = store.read(str(path))
            targets = []
            for ref in scan_article(article).embeds:
                embed = by_key.get((ref.provider, ref.post_id or ""))
                if ref.span is None or embed is None or embed.id not in snapshots:
                    continue
                card = CardData.from_snapshot(embed, snapshots[embed.id], world.settings.rewrite)
                targets.append(rewrite.Target(ref.span, card, embed.id))
            inputs.append((article, targets))
    return inputs


def core(inputs: list[tuple[Article, list[rewrite.Target]]], renderer: CardRenderer) -> int:
    changed = 0
    for article, targets in inputs:
        if targets:
            changed += len(rewrite.rewrite_bytes(article, targets, renderer).changes)
    return changed


@dataclass(frozen=True)
class Measured:
    files: int
    size: int
    rounds: int
    base_time: float
    core_time: float
    run_time: float
    elements: int
    changed: int
    with_embeds: int
    rewritten: int

    @property
    def rate(self) -> float:
        return self.rewritten / self.run_time


def measure(files: int, rounds: int) -> Measured:
    base: list[float] = []
    cores: list[float] = []
    runs: list[float] = []
    rewritten = elements = changed = with_embeds = size = 0
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(rounds):
            world = fresh_world(Path(tmp) / f"round-{round_}", files)
            paths = world.files()
            size = sum(path.stat().st_size for path in paths)

            started = time.perf_counter()
            elements = bare_parse(paths)
            base.append(time.perf_counter() - started)

            inputs = core_inputs(world)
            with_embeds = sum(1 for _, targets in inputs if targets)
            renderer = world.deps().renderer
            started = time.perf_counter()
            changed = core(inputs, renderer)
            cores.append(time.perf_counter() - started)

            deps = world.deps()
            started = time.perf_counter()
            report = rewrite.run(world.sessions, deps)
            runs.append(time.perf_counter() - started)
            rewritten = sum(1 for outcome in report.articles if outcome.status == "applied")
            assert not report.failed, [o.error for o in report.articles if o.error]
    return Measured(
        files, size, rounds, min(base), min(cores), min(runs), elements, changed, with_embeds, rewritten
    )


def ci_figures(files: int = 120, rounds: int = 1) -> list[Figure]:
    """The target figure at a CI-friendly size (`benchmarks/run`): articles rewritten per second."""
    m = measure(files, rounds)
    return [
        Figure(
            "rewrite_speed",
            f"archive rewrite, mode apply: {m.rewritten} of {files} articles, best of {rounds}",
            f"{m.rate:.0f} articles/s ({m.run_time:.2f} s)",
            f"{files / m.base_time:.0f} articles/s lexbor read + decode + parse ({m.base_time:.2f} s)",
            f">= {TARGET:.0f} articles/s",
            m.rate >= TARGET,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=318)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    m = measure(max(args.files, 300), args.rounds)
    files, base_time, core_time, run_time = m.files, m.base_time, m.core_time, m.run_time
    table = Table(title=f"Rewrite speed: {files} articles, {m.size / 1e6:.0f} MB, best of {m.rounds}")
    table.add_column("run")
    table.add_column("seconds", justify="right")
    table.add_column("articles/s", justify="right")
    table.add_column("done", justify="right")
    table.add_row(
        "lexbor read + decode + parse (baseline)",
        f"{base_time:.2f}",
        f"{files / base_time:.0f}",
        f"{m.elements} elements",
    )
    table.add_row(
        "core: plan + verify in memory",
        f"{core_time:.2f}",
        f"{m.with_embeds / core_time:.0f}",
        f"{m.changed} cards in {m.with_embeds} articles",
    )
    table.add_row(
        "archive rewrite, mode apply (journal, atomic writes)",
        f"{run_time:.2f}",
        f"{m.rate:.0f}",
        f"{m.rewritten} articles rewritten",
    )
    table.add_row("ratio rewrite / baseline", f"{run_time / base_time:.1f}", "", "")
    verdict = "met" if m.rate >= TARGET else "NOT met"
    table.add_row(f"target >= {TARGET:.0f} articles/s", verdict, "", "")
    Console().print(table)


if __name__ == "__main__":
    main()
