"""Scan speed: the archiver's dry-run scan against a bare selectolax parse of the same files.

    .venv/bin/python benchmarks/scan_speed.py [--files 1000] [--rounds 3]

Both sides read each file, decode it the same way and parse it once; the baseline then selects
blockquotes and iframes, the archiver runs its whole detection. The table gives the best of the
rounds for each side and the ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from figures import Figure
from rich.console import Console
from rich.table import Table
from selectolax.lexbor import LexborHTMLParser

from archiver.clock import SystemClock
from archiver.config import ScanSettings
from archiver.pipeline.scan.articles import resolve_targets, scan_targets
from archiver.providers import PROVIDERS
from archiver.sources.files import decode_html, files_of

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev" / "pages"


def replicate(target: Path, count: int) -> list[Path]:
    pages = sorted(CORPUS.glob("*.html"))
    if not pages:
        sys.exit(f"no corpus pages in {CORPUS}")
    made = []
    for i in range(count):
        page = pages[i % len(pages)]
        path = target / f"{i:05d}-{page.name}"
        shutil.copyfile(page, path)
        made.append(path)
    return made


def bare_parse(paths: list[Path]) -> int:
    found = 0
    for path in paths:
        text, _ = decode_html(path.read_bytes())
        found += len(LexborHTMLParser(text).css("blockquote, iframe"))
    return found


def bare_parse_bytes(paths: list[Path]) -> int:
    """The baseline as the scan parses: UTF-8 files from their bytes (selectolax need not encode the
    decoded text again), others from the text. For information: the target is against `bare_parse`."""
    found = 0
    for path in paths:
        data = path.read_bytes()
        text, encoding = decode_html(data)
        source: str | bytes = data if encoding in ("utf-8", "utf-8-sig") else text
        found += len(LexborHTMLParser(source).css("blockquote, iframe"))
    return found


def archiver_scan(folder: Path, workers: int = 1) -> int:
    targets = resolve_targets([str(folder)], [])
    reports = scan_targets(
        targets, ScanSettings(), PROVIDERS, sessions=None, clock=SystemClock(), workers=workers
    )
    return sum(len(r.embeds) for r in reports)


def archiver_scan_pooled(folder: Path) -> int:
    """`archive scan --dry-run --workers N`, one worker per core (process start-up included)."""
    return archiver_scan(folder, os.cpu_count() or 1)


def best_of(rounds: int, work: object, arg: object) -> tuple[float, int]:
    times = []
    result = 0
    for _ in range(rounds):
        started = time.perf_counter()
        result = work(arg)  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times), result


TARGET_RATIO = 1.5


def ci_figures(files: int = 200, rounds: int = 2) -> list[Figure]:
    """The target figure at a CI-friendly size (`benchmarks/run`): scan against the bare parse."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = replicate(Path(tmp), files)
        base_time, _ = best_of(rounds, bare_parse, paths)
        scan_time, embeds = best_of(rounds, archiver_scan, Path(tmp))
    ratio = scan_time / base_time
    return [
        Figure(
            "scan_speed",
            f"archive scan --dry-run, {files} files ({embeds} embeds), best of {rounds}",
            f"{scan_time:.2f} s = {ratio:.2f} x baseline",
            f"{base_time:.2f} s selectolax parse + select",
            f"<= {TARGET_RATIO} x",
            ratio <= TARGET_RATIO,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = replicate(folder, args.files)
        size = sum(p.stat().st_size for p in paths)
        assert len(list(files_of(str(folder)))) == len(paths)
        base_time, elements = best_of(args.rounds, bare_parse, paths)
        bytes_time, _ = best_of(args.rounds, bare_parse_bytes, paths)
        scan_time, embeds = best_of(args.rounds, archiver_scan, folder)
        pooled_time, pooled_embeds = best_of(args.rounds, archiver_scan_pooled, folder)
    assert pooled_embeds == embeds, "a scan in worker processes must find what one process finds"
    table = Table(title=f"Scan speed: {len(paths)} files, {size / 1e6:.0f} MB, best of {args.rounds}")
    table.add_column("run")
    table.add_column("seconds", justify="right")
    table.add_column("files/s", justify="right")
    table.add_column("found", justify="right")
    table.add_row(
        "selectolax parse + select (baseline)",
        f"{base_time:.2f}",
        f"{len(paths) / base_time:.0f}",
        f"{elements} elements",
    )
    table.add_row(
        "archive scan --dry-run", f"{scan_time:.2f}", f"{len(paths) / scan_time:.0f}", f"{embeds} embeds"
    )
    table.add_row(f"ratio (target <= {TARGET_RATIO})", f"{scan_time / base_time:.2f}", "", "")
    table.add_row(
        "baseline parsing UTF-8 bytes, as the scan does (information)",
        f"{bytes_time:.2f}",
        f"{len(paths) / bytes_time:.0f}",
        "",
    )
    table.add_row("ratio to it (information)", f"{scan_time / bytes_time:.2f}", "", "")
    table.add_row(
        f"archive scan --dry-run --workers {os.cpu_count() or 1} (information: wall time, all cores)",
        f"{pooled_time:.2f}",
        f"{len(paths) / pooled_time:.0f}",
        f"{pooled_embeds} embeds",
    )
    Console().print(table)


if __name__ == "__main__":
    main()
