"""scripts/screenshots.py makes the README's screenshots again: over a fresh demo, every page answers 200,
is not the sign-in page and shows what it is for, and each PNG is written at its width."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

from tests.web.browser import require_chromium

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "screenshots.py"
WIDTHS = {
    "dashboard.png": 1280,
    "review-queue.png": 1280,
    "embed-timeline.png": 1280,
    "public-page.png": 1280,
    "public-page-phone.png": 390,
}


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_script_checks_every_page_and_writes_each_png(tmp_path: Path) -> None:
    require_chromium()
    out = tmp_path / "shots"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(out)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(WIDTHS)
    for name, width in WIDTHS.items():
        shot_width, shot_height = png_size(out / name)
        assert shot_width == width and 300 < shot_height <= 1600, (name, shot_width, shot_height)
