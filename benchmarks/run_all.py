"""Every benchmark in benchmarks/ at a CI-friendly size, one table out (what `benchmarks/run` runs).

    benchmarks/run [--only NAME...] [--markdown]

Each benchmark module has `ci_figures()`; each runs in a process of its own (so one's peak memory or
threads are not another's), and its figures come back as JSON. A module without `ci_figures()` fails
the run: a benchmark left out of the table would read as measured. The exit status is 1 when a target
was missed or a benchmark failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from figures import Figure
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"figures", "run_all"}
ONE = """
import json, sys
sys.path.insert(0, {here!r})
import {name} as bench
print("\\nFIGURES " + json.dumps([list(f) for f in bench.ci_figures()]))
"""


def benchmarks() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.py") if p.stem not in NOT_BENCHMARKS)


def run_one(name: str) -> tuple[list[Figure], float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", ONE.format(here=str(HERE), name=name)],
        capture_output=True,
        text=True,
        cwd=HERE.parent,
        check=False,
    )
    took = time.monotonic() - started
    marker = done.stdout.rfind("\nFIGURES ")
    if done.returncode != 0 or marker < 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [Figure(name, "the benchmark", f"FAILED: {last[:200]}", "", "", False)], took
    rows = json.loads(done.stdout[marker + len("\nFIGURES ") :])
    return [Figure(*row) for row in rows], took


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"CPython {platform.python_version()}"
    )


def met_text(met: bool | None) -> str:
    return "-" if met is None else ("yes" if met else "NO")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="benchmark module names (default: all)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    names = args.only or benchmarks()
    figures: list[Figure] = []
    took: dict[str, float] = {}
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        found, took[name] = run_one(name)
        figures.extend(found)
    header = f"benchmarks/run on {machine()}; {sum(took.values()):.0f} s in all"
    if args.markdown:
        print(header + "\n")
        print("| benchmark | figure | value | baseline (same run) | target | met |")
        print("| --- | --- | --- | --- | --- | --- |")
        for f in figures:
            print(
                f"| {f.benchmark} | {f.measure} | {f.value} | {f.baseline} | {f.target} | {met_text(f.met)} |"
            )
    else:
        table = Table(title=header)
        for column in ("benchmark", "figure", "value", "baseline (same run)", "target", "met"):
            table.add_column(column)
        for f in figures:
            table.add_row(f.benchmark, f.measure, f.value, f.baseline, f.target, met_text(f.met))
        Console(width=200).print(table)
    return 1 if any(f.met is False for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
