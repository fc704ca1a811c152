"""Every provider that can capture (`Provider.can_capture()`) has its own capture tests against the loopback
server: a `tests/providers/test_capture_<name>.py` that serves the provider from `FakeServer` and drives at
least one capture through the real pipeline (`capture_due`, directly or through a test world module).

Nothing is skipped: a capture-capable provider without such a file fails here by name.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archiver.providers import PROVIDERS

TESTS = Path(__file__).resolve().parent
SUPPORT = TESTS.parent / "support"
CAPTURING = sorted(provider.name for provider in PROVIDERS if provider.can_capture())
# What "drives a capture through the real pipeline" looks like in a test or in a world module it uses.
PIPELINE = re.compile(r"\bcapture_due\b|\bcapture_one\b")
LOOPBACK = re.compile(r"\bFakeServer\b|\bfake_server\b")
_LOCAL_IMPORT = re.compile(r"^\s*from\s+tests\.support\.(\w+)\s+import", re.MULTILINE)


def with_local_worlds(path: Path) -> str:
    """The test file's text and that of the test-local modules it imports (one level deep)."""
    text = path.read_text(encoding="utf-8")
    texts = [text]
    for match in _LOCAL_IMPORT.finditer(text):
        module = SUPPORT / f"{match.group(1)}.py"
        if module.is_file():
            texts.append(module.read_text(encoding="utf-8"))
    return "\n".join(texts)


def test_the_registry_has_capturing_providers() -> None:
    assert "instagram" in CAPTURING and "generic" in CAPTURING
    assert "linkedin" not in CAPTURING  # no oEmbed and no documented public source: detection only


@pytest.mark.parametrize("name", CAPTURING)
def test_capture_capable_provider_has_loopback_capture_tests(name: str) -> None:
    path = TESTS / f"test_capture_{name}.py"
    assert path.is_file(), f"{name} can capture but has no tests/providers/{path.name}"
    text = with_local_worlds(path)
    assert LOOPBACK.search(text), (
        f"tests/providers/{path.name} never serves {name} from the loopback FakeServer"
    )
    assert PIPELINE.search(text), f"tests/providers/{path.name} never drives a capture through the pipeline"
    assert re.search(r"^def test_\w+\(", text, re.MULTILINE), f"tests/providers/{path.name} has no tests"
