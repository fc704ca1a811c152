"""`benchmarks/run` runs every module in benchmarks/ through its `ci_figures()`; a module without one
shows in the table as FAILED, so each benchmark added must come with it (found by reading the source,
not by running the benchmarks)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import run_all  # noqa: E402


def test_every_benchmark_module_gives_its_figures_to_the_table() -> None:
    names = run_all.benchmarks()
    assert "scan_speed" in names and "viewer_speed" in names
    missing = []
    for name in names:
        tree = ast.parse((BENCHMARKS / f"{name}.py").read_text(encoding="utf-8"))
        defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        if "ci_figures" not in defined:
            missing.append(name)
    assert missing == []
