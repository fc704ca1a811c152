"""`archive providers` says which providers capture posts (the `captures` key and column)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.archive_cli import run_archive

from archiver.providers import PROVIDERS, provider_named

# The providers whose ladders this issue built beyond the default oEmbed one, and one without any.
CAPTURING = ("instagram", "twitter", "bluesky", "mastodon", "threads", "reddit")


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    result = run_archive(monkeypatch, capsys, *args)
    assert result.code == 0, result.err
    return result.out


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARCHIVER_NOW", raising=False)
    (tmp_path / "archiver.toml").write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "archive.db"}"\n[media]\ndir = "{tmp_path / "media"}"\n',
        encoding="utf-8",
    )
    return tmp_path


def test_json_has_captures_for_every_provider(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = {row["name"]: row for row in json.loads(run(monkeypatch, capsys, "providers", "--json"))}
    assert set(rows) == {p.name for p in PROVIDERS}
    assert all(row["captures"] is provider_named(name).can_capture() for name, row in rows.items())
    assert all(rows[name]["captures"] is True for name in CAPTURING)


def test_table_has_a_captures_column(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(monkeypatch, capsys, "providers")
    header = next(line for line in out.splitlines() if "provider" in line and "recognises" in line)
    assert header.index("enabled") < header.index("captures") < header.index("rate")
    mastodon = next(line for line in out.splitlines() if "(mastodon)" in line)
    assert mastodon.split("│")[3].strip() == "yes"
    assert "[/HASH]" in out  # recognises text is printed as text, never read as markup
