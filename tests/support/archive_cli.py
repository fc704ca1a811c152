"""`archive ARGS...` run in-process, as a user runs it: its exit code and what it printed."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from archiver.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def lines(self) -> list[dict[str, object]]:
        """The JSON objects printed one per line (`--json` of the line-by-line commands)."""
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


def run_archive(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    monkeypatch.setattr("sys.argv", ["archive", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
