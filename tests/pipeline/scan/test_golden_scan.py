"""The scan's output over the shared corpus and the fixture pages, byte for byte as recorded.

Refactors must not change what the scanner reports. When detection is improved on purpose, record the
file again (the command is in tests/golden/README.md) and say in the commit what changed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.archive_cli import run_archive

SHARED = Path(__file__).resolve().parents[4] / "shared"
GOLDEN = Path(__file__).resolve().parent / "golden" / "corpus_scan.jsonl"

pytestmark = pytest.mark.skipif(not (SHARED / "corpus" / "dev" / "pages").is_dir(), reason="no shared/")


def test_corpus_scan_is_byte_identical_to_the_recorded_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(SHARED)
    fixture_pages = sorted(str(p.relative_to(SHARED)) for p in (SHARED / "fixtures").rglob("*.html"))
    result = run_archive(
        monkeypatch, capsys, "scan", "--dry-run", "--json", "corpus/dev/pages", *fixture_pages
    )
    assert result.code == 0, result.err
    want = GOLDEN.read_text(encoding="utf-8").splitlines()
    got = result.out.splitlines()
    assert len(got) == len(want)
    for mine, recorded in zip(got, want, strict=True):
        assert mine == recorded
