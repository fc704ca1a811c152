"""Crash safety, the long run (issue 18): SIGKILL the archiver `--kills` times at seeded points of scan,
fetch, check, rewrite, restore and the daemon, on SQLite and (with a server) PostgreSQL, and print one
table: kills, runs and failures per phase and database.

    .venv/bin/python benchmarks/crash_soak.py [--kills 2000] [--postgres URL] [--seed 0]

The kills are spread over the phases as in the CI test (`tests/pipeline/test_crash_safety.py`, 200
kills), scaled up; each is checked as the test checks it (`tests/support/crash_harness.py`): the
database's integrity, no media row without its file, every article file and CMS row wholly old or
wholly new as the journal allows, the journal agreeing with the articles, and a rerun finishing the
work to the reference outcome. `--seed` moves every trial to other seeds (the CI test uses seeds from
0). Exit code 1 when any kill broke an invariant (each failure is printed with its phase and seed, so
it can be replayed). PostgreSQL is used when `--postgres` or ARCHIVER_TEST_POSTGRES_URL names a server.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.crash_harness import (  # noqa: E402
    EXHAUSTIVE,
    PLAN,
    POSTGRES_URL_ENV,
    Harness,
    TrialReport,
    kill_phase,
)
from tests.support.fake_server import FakeServer  # noqa: E402


def soak(harness: Harness, kills: int, seed: int) -> dict[str, list[TrialReport]]:
    """`kills` kills on one database: the short phases at every step, the rest spread over the phases
    like the CI plan."""
    planned = sum(PLAN.values())
    reports = {phase: [harness.exhaustive(phase)] for phase in EXHAUSTIVE}
    left = kills - sum(r.kills for found in reports.values() for r in found)
    for phase, count in PLAN.items():
        reports[phase] = kill_phase(harness, phase, max(1, round(left * count / planned)), seed)
    return reports


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=2000, help="kills in all, over the databases")
    parser.add_argument(
        "--postgres", default=os.environ.get(POSTGRES_URL_ENV, ""), help="PostgreSQL server URL"
    )
    parser.add_argument("--seed", type=int, default=0, help="first seed of every phase's trials")
    args = parser.parse_args()
    kinds = ["sqlite", *(["postgresql"] if args.postgres else [])]
    if args.postgres:
        os.environ[POSTGRES_URL_ENV] = args.postgres
    console = Console()
    table = Table(title=f"crash soak: {args.kills} kills requested, seed {args.seed}")
    for column in ("database", "phase", "kills", "runs", "failures", "seconds", "s / kill"):
        table.add_column(column, justify="left" if column in ("database", "phase") else "right")
    failures: list[str] = []
    total_kills = 0
    started = time.monotonic()
    with FakeServer() as server, tempfile.TemporaryDirectory(prefix="crash-soak-") as folder:
        for kind in kinds:
            harness = Harness(Path(folder) / kind, kind, server)
            try:
                harness.prepare()
                results = soak(harness, args.kills // len(kinds), args.seed)
            finally:
                harness.close()
            for phase, reports in results.items():
                kills = sum(r.kills for r in reports)
                seconds = sum(r.seconds for r in reports)
                broken = [str(f) for r in reports for f in r.failures]
                failures += broken
                total_kills += kills
                table.add_row(
                    kind,
                    phase,
                    str(kills),
                    str(sum(r.runs for r in reports)),
                    str(len(broken)),
                    f"{seconds:.1f}",
                    f"{seconds / kills:.2f}" if kills else "-",
                )
    console.print(table)
    console.print(
        f"{total_kills} kills in {time.monotonic() - started:.0f} s; "
        + ("nothing lost or half written, every rerun finished the work" if not failures else "FAILURES:")
    )
    for failure in failures:
        console.print(failure, markup=False)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
