"""The viewer's fixture: the world of `support.viewer_world` with two articles of two embeds each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.viewer_world import Viewer, build_world, open_viewer, page


@pytest.fixture
def viewer(tmp_path: Path) -> Iterator[Viewer]:
    world = build_world(
        tmp_path,
        {
            "harbour.html": page("Harbour", "CODE111", "CODE222"),
            "market.html": page("Market", "CODE333", "CODE444"),
        },
    )
    opened = open_viewer(world)
    try:
        yield opened
    finally:
        opened.app.close()
        world.close()
