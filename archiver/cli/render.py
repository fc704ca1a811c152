"""What the CLI shows people: rich tables, progress bars and summaries, drawn from the same data the
`--json` output prints (`archiver.views`, the pipeline's reports). Nothing here reads the database."""

from __future__ import annotations

import difflib
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from archiver.cli.common import ERR, OUT
from archiver.pipeline.capture import CaptureReport
from archiver.pipeline.scan import ArticleReport, ArticleStatus
from archiver.records import EmbedRef, Outcome


@contextmanager
def progress(shown: bool, label: str, total: int | None) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr while the block runs (when `shown` and stderr is a terminal); yields the
    function that advances it, which has `set_total(n)` for totals known late."""
    if not shown or not ERR.is_terminal:

        def noop() -> None:
            return None

        noop.set_total = lambda n: None  # type: ignore[attr-defined]
        yield noop
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=ERR,
        transient=True,
    )
    with bar:
        task = bar.add_task(label, total=total)

        def advance() -> None:
            bar.advance(task)

        advance.set_total = lambda n: bar.update(task, total=n)  # type: ignore[attr-defined]
        yield advance


# ---------------------------------------------------------------- scan, fetch


def _found_label(ref: EmbedRef) -> str:
    if ref.is_residue:
        return f"{ref.provider} residue @{ref.handle or '?'}"
    if ref.is_lost:
        return f"lost {ref.announces or 'embed'}" + (f" ({ref.hint})" if ref.hint else "")
    return f"{ref.provider}:{ref.post_id}"


def scan_summary(reports: list[ArticleReport], *, stored: bool) -> None:
    table = Table("article", "embeds", "found")
    for report in reports:
        if report.status is ArticleStatus.ERROR:
            continue
        found = ", ".join(_found_label(e) for e in report.embeds)
        label = "unchanged" if report.status is ArticleStatus.UNCHANGED else str(len(report.embeds))
        table.add_row(report.article, label, found)
    if reports:
        OUT.print(table)
    errors = sum(1 for r in reports if r.status is ArticleStatus.ERROR)
    embeds_found = sum(1 for r in reports for e in r.embeds if not (e.is_residue or e.is_lost))
    residues = sum(1 for r in reports for e in r.embeds if e.is_residue)
    lost = sum(1 for r in reports for e in r.embeds if e.is_lost)
    new = sum(r.new_embeds for r in reports)
    line = f"Scanned {len(reports)} article(s): {embeds_found} embed(s), {residues} residue(s) of broken ones"
    if lost:
        line += f", {lost} lost (see `archive recover --list`)"
    if stored:
        line += f", {new} new"
    if errors:
        line += f"; {errors} article(s) could not be read (see above)"
    OUT.print(line + ".")


def capture_summary(report: CaptureReport) -> None:
    if not report.items:
        OUT.print("Nothing to capture: every embed has a snapshot or is waiting for its retry time.")
        return
    for item in report.items:
        if item.outcome is not Outcome.OK and not item.deferred:
            OUT.print(
                f"  {escape(item.provider)}:{escape(item.post_id)} [bold]{item.outcome.value}[/]: "
                f"{escape(item.reason)}",
                markup=True,
            )
    parts = [f"{n} {outcome}" for outcome, n in sorted(report.outcomes.items())]
    OUT.print(
        f"Captured {report.attempted} embed(s): {', '.join(parts)}; "
        f"{report.new_snapshots} new snapshot version(s)."
    )
    failed = report.transient - report.deferred
    if failed:
        OUT.print(
            f"{failed} capture(s) failed transiently (network, rate limit or provider "
            "error) and will be retried on the next run."
        )
    if report.deferred:
        OUT.print(
            f"{report.deferred} capture(s) were left for the next run (a rate budget, a host's backoff "
            "or the run's time limit, capture.max_run); nothing was recorded for them."
        )


# ---------------------------------------------------------------- reports (the shapes of archiver.views)


def status_tables(counts: dict[str, Any]) -> None:
    for paused in counts["paused_providers"]:
        ERR.print(
            f"[bold red]paused[/] {escape(paused['provider'])} since {paused['since']}: "
            f"{escape(paused['reason'])}",
            markup=True,
        )
    table = Table(title="Archive status", show_header=False)
    for key in ("articles", "articles_with_errors", "embeds", "residues", "lost", "snapshots", "media"):
        table.add_row(key.replace("_", " "), str(counts.get(key, 0)))
    rewrites = counts.get("rewrites") or {}
    table.add_row("rewrites", ", ".join(f"{n} {state}" for state, n in rewrites.items()) or "0")
    OUT.print(table)
    if counts.get("by_provider"):
        states = sorted({s for per in counts["by_provider"].values() for s in per})
        by_provider = Table("provider", *states, title="Embeds by provider and state")
        paused = {p["provider"] for p in counts["paused_providers"]}
        for provider, per in sorted(counts["by_provider"].items()):
            name = f"{provider} (paused)" if provider in paused else provider
            by_provider.add_row(name, *(str(per.get(s, 0)) for s in states))
        OUT.print(by_provider)


def embeds_table(rows: list[dict[str, Any]]) -> None:
    table = Table("id", "provider", "post", "state", "last check", "outcome", "snapshots", "articles")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["provider"],
            r["post_id"],
            r["state"] + (" (provider paused)" if r["provider_paused"] else ""),
            _minute(r["last_check"]) if r["last_check"] else "-",
            r["last_outcome"] or "-",
            str(r["snapshots"]),
            str(r["articles"]),
        )
    OUT.print(table)
    OUT.print(f"{len(rows)} embed(s)")


def residue_table(lines: list[dict[str, Any]]) -> None:
    table = Table("article", "provider", "author", "handle", "date", "status", "post", "why / candidates")
    for m in lines:
        post = "-"
        if m["embed"] is not None:
            post = next((str(c["id"]) for c in m["candidates"] if c["embed"] == m["embed"]), str(m["embed"]))
        detail = m["reason"]
        if m["status"] != "matched" and m["candidates"]:
            detail += "; " + "; ".join(f"{c['id']} ({c['why']})" for c in m["candidates"])
        table.add_row(
            m["article"],
            m["provider"],
            m["author"] or "-",
            m["handle"] or "-",
            m["date"] or "-",
            m["status"] + (" (repaired)" if m["repaired"] else ""),
            post,
            detail,
        )
    OUT.print(table)
    counts = Counter(m["status"] for m in lines)
    OUT.print(
        f"{len(lines)} residue line(s): {counts['matched']} matched, {counts['ambiguous']} ambiguous, "
        f"{counts['orphaned']} orphaned"
    )


def embed_detail(detail: dict[str, Any]) -> None:
    post = escape(f"{detail['provider']}:{detail['post_id']}")
    OUT.print(f"[bold]{post}[/]  {escape(detail['url'])}", markup=True)
    OUT.print(
        f"state: {detail['state']}   first seen: {detail['first_seen_at']}   "
        f"last outcome: {detail['last_outcome'] or '-'}"
    )
    if detail["provider_paused"]:
        OUT.print(
            f"[bold red]provider paused[/]: no verdicts until it recovers; the state is the last one told "
            f"({escape(detail['provider_paused_reason'] or 'no reason given')})",
            markup=True,
        )
    if detail["aliases"]:
        OUT.print("also known as: " + ", ".join(f"{a['post_id']} ({a['url']})" for a in detail["aliases"]))
    mirror = detail["mirror"]
    if mirror is not None:
        OUT.print(f"Save Page Now: {_mirror_line(mirror)}")
    snaps = detail["snapshots"]
    if not snaps:
        OUT.print("No snapshot yet" + (f" ({detail['last_reason']})" if detail["last_reason"] else "") + ".")
        for key, value in detail["markup"].items():
            OUT.print(f"  {key} (from the article's markup): {value}", markup=False)
    for snap in snaps:
        _snapshot(snap)
    for older, newer in itertools.pairwise(snaps):
        if (older["text"] or "") != (newer["text"] or ""):
            OUT.print(f"\n[bold]Caption change v{older['version']} -> v{newer['version']}[/]", markup=True)
            diff = difflib.unified_diff(
                (older["text"] or "").splitlines(),
                (newer["text"] or "").splitlines(),
                f"v{older['version']}",
                f"v{newer['version']}",
                lineterm="",
            )
            for line in diff:
                OUT.print(line, markup=False)
    if detail["state_changes"]:
        changes = Table("at", "from", "to", "why", title="State changes")
        for c in detail["state_changes"]:
            changes.add_row(c["at"][:19], c["from"], c["to"], c["reason"])
        OUT.print(changes)
    if detail["next_check_at"]:
        OUT.print(f"next check: {detail['next_check_at'][:19]}")
    if detail["checks"]:
        table = Table("checked at", "kind", "outcome", "status", "reason", title="History")
        for c in detail["checks"][-20:]:
            table.add_row(
                c["checked_at"][:19], c["kind"], c["outcome"], str(c["http_status"] or "-"), c["reason"]
            )
        OUT.print(table)
    OUT.print("\nEmbedded in: " + ", ".join(f"{a['article']} ({a['markup']})" for a in detail["articles"]))


def _mirror_line(mirror: dict[str, Any]) -> str:
    if mirror["state"] == "archived":
        return f"archived {mirror['memento_datetime'][:19]} at {mirror['memento_url']}"
    if mirror["state"] == "failed":
        return f"refused ({mirror['status_ext'] or '-'}: {mirror['reason'] or 'no reason given'})"
    return f"{mirror['state']} (asked by `archive mirror` and the daemon's mirror job)"


def _snapshot(snap: dict[str, Any]) -> None:
    prov = snap["provenance"] or {}
    OUT.print(f"\n[bold]Snapshot v{snap['version']}[/] captured {snap['captured_at']}", markup=True)
    for key, label in (
        ("author_name", "author"),
        ("handle", "handle"),
        ("published", "published"),
        ("title", "title"),
        ("text", "caption"),
    ):
        value = snap[key]
        if value:
            shown = f"@{value}" if key == "handle" else value
            OUT.print(f"  {label}: {escape(shown)}  [dim]({escape(prov.get(key, '?'))})[/]", markup=True)
    for media in snap["media"]:
        if media["sha256"]:
            OUT.print(
                f"  {media['kind']}: {escape(media['path'])} ({escape(media['type'])}, "
                f"{media['size']} bytes) "
                f"[dim]from {escape(media['original_url'])}[/]",
                markup=True,
            )
        else:
            OUT.print(
                f"  {media['kind']}: not stored: {escape(media['error'])}  "
                f"[dim]{escape(media['original_url'])}[/]",
                markup=True,
            )


def pending_table(rows: list[dict[str, Any]]) -> None:
    table = Table("id", "article", "embed", "state", "reason", title="Rewrites waiting for approval")
    for r in rows:
        table.add_row(
            str(r["id"]), r["article"], f"{r['provider']}:{r['post_id']}", r["state"], r["reason"] or ""
        )
    OUT.print(table)


def providers_table(rows: list[dict[str, Any]]) -> None:
    table = Table("provider", "enabled", "captures", "rate", "recognises", "endpoints")
    for row in rows:
        table.add_row(
            f"{row['title']} ({row['name']})",
            "yes" if row["enabled"] else "no",
            "yes" if row["captures"] else "no (detection only)",
            str(row["rate"] or "-"),
            "\n".join(row["recognises"]),
            "\n".join(f"{k} = {v}" for k, v in row["endpoints"].items()),
        )
    OUT.print(table)


def _minute(instant: str) -> str:
    """An ISO instant to the minute: "2026-11-20T20:00:00+00:00" as "2026-11-20 20:00"."""
    return instant[:16].replace("T", " ")
