"""The house plan holds: small modules, no import cycles, no imports hidden in functions, a front door per
package that says what lives there.

The import graph is read with `ast` from the source files (nothing is imported to read it), with imports
inside functions and classes included, so a cycle cannot hide behind a call-time import.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "archiver"
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str, tree: ast.AST) -> list[tuple[str, int, bool]]:
    """(module imported, line, whether the import sits inside a function) for each archiver import."""
    known = modules()
    is_package = modules()[name].name == "__init__.py"
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, inside) for a in child.names if a.name in known)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                if not base.startswith("archiver"):
                    continue
                for alias in child.names:
                    target = f"{base}.{alias.name}"
                    found.append((target if target in known else base, child.lineno, inside))
            visit(child, inside)

    visit(tree, False)
    return found


@cache
def graph() -> dict[str, list[tuple[str, int, bool]]]:
    return {
        name: imported_modules(name, ast.parse(path.read_text(encoding="utf-8")))
        for name, path in modules().items()
    }


def test_the_graph_reader_sees_the_package() -> None:
    assert "archiver.cli" in modules() and "archiver.pipeline.scan" in modules()
    assert "archiver.config" in {target for target, _, _ in graph()["archiver.app"]}


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_passes_the_line_limit(name: str) -> None:
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{modules()[name]} has {lines} lines (limit {MAX_LINES}): split it by room"


def test_no_import_is_placed_inside_a_function() -> None:
    hidden = [
        f"{modules()[name].relative_to(PACKAGE.parent)}:{line} imports {target}"
        for name, edges in graph().items()
        for target, line, inside in edges
        if inside
    ]
    assert not hidden, "imports inside functions (move them to the top, or fix the cycle they dodge):\n" + (
        "\n".join(hidden)
    )


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """One import cycle of the graph, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := walk(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := walk(start)) is not None:
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) is None


def ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def runs_on_import(importer: str, target: str) -> list[str]:
    """What importing `target` executes first: its packages' front doors (except those the importer is
    inside, which are already running), then the module itself."""
    mine = set(ancestors(importer))
    return [p for p in ancestors(target) if p not in mine and p in modules()] + [target]


def test_there_is_no_import_cycle() -> None:
    edges = {
        name: sorted({r for t, _, _ in found for r in runs_on_import(name, t) if r != name})
        for name, found in graph().items()
    }
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("name", sorted(n for n, p in modules().items() if p.name == "__init__.py"))
def test_every_package_says_what_lives_in_it(name: str) -> None:
    doc = ast.get_docstring(ast.parse(modules()[name].read_text(encoding="utf-8")))
    assert doc and len(doc.split()) >= 8, f"{name}: the docstring says what lives here"


def test_every_exception_is_in_the_tree() -> None:
    """Exceptions are declared in errors.py, under ArchiverError, so the CLI edge can catch them all."""
    strays = []
    for name, path in modules().items():
        if name == "archiver.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b) for b in node.bases}
                if bases & {"Exception", "ValueError", "RuntimeError", "ArchiverError", "LookupError"}:
                    strays.append(f"{name}.{node.name}")
    assert not strays, f"exceptions outside archiver/errors.py: {strays}"
