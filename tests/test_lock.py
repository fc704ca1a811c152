"""The lock file is the tested set: every requirement of pyproject.toml (its dependencies and its `test`
extra) is pinned in requirements/test.lock within its range, with hashes, so `.ci/run` can install it
with `pip install --require-hashes`. A dependency added without `scripts/lock` fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "test.lock"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")


def pins() -> dict[str, list[tuple[str, list[str]]]]:
    """name -> [(version, its hashes)] (a name is pinned twice when markers split it)."""
    found: dict[str, list[tuple[str, list[str]]]] = {}
    current: list[str] | None = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if match := PIN.match(line):
            current = []
            found.setdefault(canonicalize_name(match[1]), []).append((match[2], current))
        elif current is not None and (hashed := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            current.append(hashed[1])
    return found


def requirements_under_test() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [
        Requirement(text) for text in [*project["dependencies"], *project["optional-dependencies"]["test"]]
    ]


def test_every_tested_requirement_is_pinned_in_range() -> None:
    locked = pins()
    stale = []
    for requirement in requirements_under_test():
        versions = [version for version, _ in locked.get(canonicalize_name(requirement.name), [])]
        if not versions or not all(requirement.specifier.contains(v, prereleases=True) for v in versions):
            stale.append(f"{requirement} (locked: {versions or 'absent'})")
    assert not stale, f"requirements/test.lock is stale, run scripts/lock: {stale}"


def test_every_pin_carries_hashes() -> None:
    locked = pins()
    assert len(locked) > 30  # the whole tree, not only the direct requirements
    unhashed = [name for name, entries in locked.items() for _, hashes in entries if not hashes]
    assert not unhashed, unhashed


def test_the_lock_names_no_local_index_or_folder() -> None:
    text = LOCK.read_text(encoding="utf-8")
    assert "file://" not in text and "--find-links" not in text and "--index-url" not in text
    assert "#    scripts/lock" in text  # how to refresh it, in its own header
