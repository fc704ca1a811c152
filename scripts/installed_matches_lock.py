"""Exit 1 unless the running Python's installed distributions are exactly requirements/test.lock's pins
(for this platform's markers), plus embed-archiver itself and the venv's own pip and setuptools.

`.ci/run` runs it with the test venv's Python after `pip install --require-hashes -r ...`: the tests ran
on the locked set, no more, no less.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import distributions
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

LOCK = Path(__file__).resolve().parent.parent / "requirements" / "test.lock"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
ALWAYS_THERE = {"embed-archiver", "pip", "setuptools"}


def locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match and (match[3] is None or Marker(match[3]).evaluate()):
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def main() -> int:
    pins = locked()
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}
    missing = sorted(f"{n}=={v}" for n, v in pins.items() if installed.get(n) != v)
    extra = sorted(f"{n}=={v}" for n, v in installed.items() if n not in pins and n not in ALWAYS_THERE)
    if missing or extra:
        print(f"installed set differs from {LOCK.name}: missing {missing or 'none'}, extra {extra or 'none'}")
        return 1
    print(f"installed set is {LOCK.name} exactly ({len(pins)} pins)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
