"""Crash safety, the long run (issue 18): SIGKILL the archiver `--kills` times at seeded points of scan,
fetch, check, rewrite, restore, the daemon, an editor's approve, original markup put back (and a card
over it, restored in layers) and media garbage collection, on SQLite and (with a server) PostgreSQL,
and print one table: kills, runs and failures per phase and database.

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
from dataclasses import dataclass
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

sys.path.insert(0, str(ROOT / "benchmarks"))
from figures import Figure  # noqa: E402


def soak(harness: Harness, kills: int, seed: int) -> dict[str, list[TrialReport]]:
    """`kills` kills on one database: the short phases at every step, the rest spread over the phases
    like the CI plan."""
    planned = sum(PLAN.values())
    reports = {phase: [harness.exhaustive(phase)] for phase in EXHAUSTIVE}
    left = kills - sum(r.kills for found in reports.values() for r in found)
    for phase, count in PLAN.items():
        reports[phase] = kill_phase(harness, phase, max(1, round(left * count / planned)), seed)
    return reports


@dataclass
class SoakResult:
    rows: list[tuple[str, str, int, int, int, float]]  # database, phase, kills, runs, failures, seconds
    failures: list[str]
    seconds: float

    @property
    def kills(self) -> int:
        return sum(row[2] for row in self.rows)


def run_soak(kills: int, seed: int, postgres: str) -> SoakResult:
    """`kills` kills over SQLite and, with a `postgres` server URL, PostgreSQL."""
    kinds = ["sqlite", *(["postgresql"] if postgres else [])]
    if postgres:
        os.environ[POSTGRES_URL_ENV] = postgres
    result = SoakResult([], [], 0.0)
    started = time.monotonic()
    with FakeServer() as server, tempfile.TemporaryDirectory(prefix="crash-soak-") as folder:
        for kind in kinds:
            harness = Harness(Path(folder) / kind, kind, server)
            try:
                harness.prepare()
                found = soak(harness, kills // len(kinds), seed)
            finally:
                harness.close()
            for phase, reports in found.items():
                broken = [str(f) for r in reports for f in r.failures]
                result.failures += broken
                result.rows.append(
                    (
                        kind,
                        phase,
                        sum(r.kills for r in reports),
                        sum(r.runs for r in reports),
                        len(broken),
                        sum(r.seconds for r in reports),
                    )
                )
    result.seconds = time.monotonic() - started
    return result


def ci_figures(kills: int = 60) -> list[Figure]:
    """The measure at a CI-friendly size (`benchmarks/run`): `kills` kills (PostgreSQL too when
    ARCHIVER_TEST_POSTGRES_URL is set), none of which may lose or tear anything."""
    result = run_soak(kills, 500, os.environ.get(POSTGRES_URL_ENV, ""))
    databases = sorted({row[0] for row in result.rows})
    return [
        Figure(
            "crash_soak",
            f"SIGKILLs at seeded points of every phase ({', '.join(databases)}) with anything lost, torn or"
            " left unfinished by a rerun",
            f"{len(result.failures)} of {result.kills}",
            f"{result.seconds:.0f} s in all",
            "0",
            not result.failures,
        )
    ]


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
    result = run_soak(args.kills, args.seed, args.postgres)
    console = Console()
    table = Table(title=f"crash soak: {args.kills} kills requested, seed {args.seed}")
    for column in ("database", "phase", "kills", "runs", "failures", "seconds", "s / kill"):
        table.add_column(column, justify="left" if column in ("database", "phase") else "right")
    for kind, phase, kills, runs, failures, seconds in result.rows:
        table.add_row(
            kind,
            phase,
            str(kills),
            str(runs),
            str(failures),
            f"{seconds:.1f}",
            f"{seconds / kills:.2f}" if kills else "-",
        )
    console.print(table)
    console.print(
        f"{result.kills} kills in {result.seconds:.0f} s; "
        + (
            "nothing lost or half written, every rerun finished the work"
            if not result.failures
            else "FAILURES:"
        )
    )
    for failure in result.failures:
        console.print(failure, markup=False)
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
