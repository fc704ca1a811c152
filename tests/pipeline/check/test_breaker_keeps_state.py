"""When the mass-failure breaker pauses a provider and voids the window's checks, a captured embed keeps
its last telling state (never `new`, which means "not captured yet"), and every report says that its
provider is paused: `archive status`, `embeds` and `show`, as JSON and as tables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from archiver import views
from archiver.cli import render
from archiver.storage import queries
from archiver.storage.models import Check, Embed
from tests.support.sim_world import START, Answer, world


def ids(n: int) -> list[str]:
    return [f"mass{i:06d}A" for i in range(n)]


def test_every_post_deleted_at_once_pauses_the_provider_and_captured_embeds_stay_live(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deleted_from = START + timedelta(hours=5)

    def answers(post_id: str, now: object) -> Answer:
        return Answer(404, b"Not Found", "text/html") if now >= deleted_from else Answer()  # type: ignore[operator]

    with world(tmp_path, answers, canaries=False) as w:
        w.add_posts(ids(12))
        assert set(w.states().values()) == {"live"}
        paused: list[str] = []
        for _ in range(4):  # every embed is due at every 4-hour tick: all of them go at once
            w.tick(hours=4)
            with w.app.sessions() as session:
                paused = [h.provider for h in queries.paused_providers(session)]
            if paused:
                break
        assert paused == ["youtube"]
        with w.app.sessions() as session:
            voided = session.query(Check).filter(Check.counted.is_(False)).count()
            assert voided > 0  # the window's checks, the captures among them, stopped counting
            assert session.query(Check).filter(Check.counted, Check.outcome == "ok").count() == 0
        # Captured and live before the breaker: still live, never "new" (not captured yet).
        assert set(w.states().values()) == {"live"}

        with w.app.sessions() as session:
            rows = views.embeds(session)
            detail = views.embed(session, "mass000000A", w.app.blobs)
            status = views.status(session)
        assert {(r["state"], r["provider_paused"]) for r in rows} == {("live", True)}
        assert detail is not None and detail["state"] == "live" and detail["provider_paused"] is True
        assert "gone or ambiguous" in detail["provider_paused_reason"]
        assert [p["provider"] for p in status["paused_providers"]] == ["youtube"]
        assert status["by_provider"]["youtube"] == {"live": 12}

        render.embeds_table(rows)
        assert capsys.readouterr().out.count("live (provider paused)") == 12
        render.embed_detail(detail)
        shown = capsys.readouterr().out
        assert "state: live" in shown and "provider paused: no verdicts until it recovers" in shown
        render.status_tables(status)
        shown_status = capsys.readouterr()
        assert "youtube (paused)" in shown_status.out and "paused youtube" in shown_status.err

        # Probed while paused, still failing: the state stays what it was told, the pause stays shown.
        for _ in range(6):
            w.tick(hours=4)
        assert set(w.states().values()) == {"live"}
        with w.app.sessions() as session:
            assert {r["provider_paused"] for r in views.embeds(session)} == {True}
            new_again = session.query(Embed).filter(Embed.state == "new").count()
        assert new_again == 0
