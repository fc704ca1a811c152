"""What the demo simulates, read from its package data: the sources and their articles, the posts, the
recorded answer each post gives, and the day a post is deleted (or made private) and answers another.

The data lives in `archiver/demo/data/` (`scenario.json`, `articles/`, `recordings/`, and `SOURCES.md`
naming where every recording came from); this module only reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Any

DATA = "data"


@dataclass(frozen=True, slots=True)
class Recording:
    """One recorded HTTP answer: status, headers and body, as a provider sent it."""

    name: str
    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Post:
    """One post the sample articles embed, and what the replay server answers about it."""

    provider: str
    post_id: str
    alive: Recording
    # From this many days after the start, the post answers `then` ("deleted", "made private").
    changes_on_day: int | None = None
    then: Recording | None = None
    change: str = ""

    def answer(self, start: datetime, now: datetime) -> Recording:
        """The recording the post answers at `now`, the simulation having started at `start`."""
        changed = self.changes_on_day is not None and now >= start + timedelta(days=self.changes_on_day)
        return self.then if changed and self.then is not None else self.alive


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """A source of the demo: its name, its folder under `articles/`, its rewrite mode."""

    name: str
    folder: str
    mode: str


@dataclass(frozen=True, slots=True)
class Scenario:
    days: int
    sources: tuple[SourcePlan, ...]
    posts: tuple[Post, ...]

    def post(self, provider: str, post_id: str) -> Post | None:
        for post in self.posts:
            if post.provider == provider and post.post_id == post_id:
                return post
        return None

    def providers(self) -> list[str]:
        return sorted({post.provider for post in self.posts})


def data_root() -> Traversable:
    """The demo's package data folder."""
    return resources.files("archiver.demo").joinpath(DATA)


def load_scenario() -> Scenario:
    """The scenario the package ships (`data/scenario.json` and the recordings it names)."""
    root = data_root()
    raw = json.loads(root.joinpath("scenario.json").read_text(encoding="utf-8"))
    posts = tuple(_post(item, root) for item in raw["posts"])
    sources = tuple(SourcePlan(s["name"], s["folder"], s["mode"]) for s in raw["sources"])
    return Scenario(int(raw["days"]), sources, posts)


def article_files(source: SourcePlan) -> Iterator[tuple[str, bytes]]:
    """(file name, bytes) of each sample article of `source`, by name."""
    folder = data_root().joinpath("articles").joinpath(source.folder)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_file() and entry.name.endswith(".html"):
            yield entry.name, entry.read_bytes()


def sources_note() -> str:
    """The text of `data/SOURCES.md`: where every recording and article comes from."""
    return data_root().joinpath("SOURCES.md").read_text(encoding="utf-8")


def _post(item: Mapping[str, Any], root: Traversable) -> Post:
    then = item.get("then")
    return Post(
        provider=str(item["provider"]),
        post_id=str(item["post_id"]),
        alive=_recording(root, str(item["alive"])),
        changes_on_day=int(item["changes_on_day"]) if "changes_on_day" in item else None,
        then=_recording(root, str(then)) if then else None,
        change=str(item.get("change", "")),
    )


def _recording(root: Traversable, name: str) -> Recording:
    provider, stem = name.split("/", 1)
    path = root.joinpath("recordings").joinpath(provider).joinpath(f"{stem}.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    headers = {str(k): str(v) for k, v in raw["headers"].items()}
    return Recording(name, int(raw["status"]), MappingProxyType(headers), str(raw["body"]).encode("utf-8"))
