"""The daemon at scale and over time (issue 7). Two measures, each against a loopback fake YouTube:

    .venv/bin/python benchmarks/daemon_soak.py three --postgres URL [--checks 10000] [--delay 0.02]
    .venv/bin/python benchmarks/daemon_soak.py soak [--postgres URL] [--minutes 60] [--sample 30]

`three`: three daemon processes on one PostgreSQL share `--checks` due checks; one is killed with SIGKILL
half way. Reports whether every check ran exactly once, how long after the kill the killed daemon's
leased embeds were claimed again (target: within one lease + one tick), and the throughput.

`soak`: one daemon runs for `--minutes` while a feeder makes a slice of the embeds due again every few
seconds (so it checks all the time), scans a source folder every minute and collects media every five.
Every `--sample` seconds /metrics is read: resident memory, open file descriptors, threads, and (on
PostgreSQL) the daemon's connections. Target: flat, i.e. the last quarter's numbers no higher than the
first quarter's (memory within 10%). SQLite when no `--postgres` is given.

`--postgres URL` names a server (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres); a database
of its own is created there and dropped afterwards. ARCHIVER_TEST_POSTGRES_URL is used when set.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, make_url, select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the loopback provider and helpers the daemon tests use

from daemon_world import (  # noqa: E402
    DaemonProcess,
    FakeYouTube,
    add_due_checks,
    check_counts,
    free_port,
    scalar,
    settings_data,
    wait_for,
    write_config,
)

from archiver.storage import db  # noqa: E402
from archiver.storage.models import Embed  # noqa: E402

OUT = Console()


@contextmanager
def database(server: str | None, folder: Path) -> Iterator[str]:
    if not server:
        yield f"sqlite:///{folder / 'soak.db'}"
        return
    name = f"archiver_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def held_by(url: str, pid: int | None = None) -> int:
    stmt = select(func.count(Embed.id)).where(Embed.lease_owner.is_not(None))
    if pid is not None:
        stmt = stmt.where(Embed.lease_owner.like(f"%/{pid}/%"))
    return int(scalar(url, stmt) or 0)


def three(args: argparse.Namespace) -> int:
    server = args.postgres or os.environ.get("ARCHIVER_TEST_POSTGRES_URL")
    if not server:
        OUT.print("three daemons need PostgreSQL: --postgres URL")
        return 2
    lease, tick = 10.0, 1.0
    with tempfile.TemporaryDirectory() as tmp, database(server, Path(tmp)) as url:
        folder = Path(tmp)
        add_due_checks(url, args.checks, datetime.now(UTC))
        with FakeYouTube(delay=args.delay).running() as fake:
            data = settings_data(url, folder, fake.url, check="every 1s", lease=f"{lease:g}s", batch=50)
            data["capture"].update(workers=args.workers, per_provider=args.workers)
            config = write_config(folder / "archiver.toml", data)
            started = time.monotonic()
            daemons = [DaemonProcess(config, folder / f"d{i}.log", {}).start() for i in range(3)]
            victim = daemons[0]
            try:
                wait_for(
                    lambda: (
                        sum(check_counts(url).values()) >= args.checks // 2 and held_by(url, victim.pid) > 0
                    ),
                    timeout=3600,
                    interval=0.2,
                )
                held = held_by(url, victim.pid)
                done_at_kill = sum(check_counts(url).values())
                victim.signal(signal.SIGKILL)
                killed = time.monotonic()
                victim.wait(timeout=10)
                reclaimed = wait_for(lambda: held_by(url, victim.pid) == 0, timeout=600, interval=0.02)
                wait_for(
                    lambda: min(check_counts(url).values()) >= 1 and held_by(url) == 0,
                    timeout=3600,
                    interval=0.2,
                )
                total = time.monotonic() - started
                after_kill = time.monotonic() - killed
                stops = []
                for daemon in daemons[1:]:
                    asked = time.monotonic()
                    code = daemon.stop()
                    stops.append((code, time.monotonic() - asked))
            finally:
                for daemon in daemons:
                    if daemon.process is not None and daemon.process.poll() is None:
                        daemon.process.kill()
        counts = Counter(check_counts(url).values())
        shares = Counter(
            r["daemon"].split("/")[1] for d in daemons for r in d.logs() if r.get("msg") == "embed checked"
        )
    table = Table(title=f"three daemons, {args.checks} due checks, one killed (SIGKILL) half way")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("checks per embed", ", ".join(f"{k}: {v} embeds" for k, v in sorted(counts.items())))
    table.add_row("exactly once", "yes" if set(counts) == {1} else "NO")
    table.add_row("killed after / holding", f"{done_at_kill} checks / {held} leases")
    table.add_row("its work claimed again after", f"{reclaimed:.2f} s (lease {lease:g} s + tick {tick:g} s)")
    table.add_row("within one lease + one tick", "yes" if reclaimed <= lease + tick else "NO")
    table.add_row(
        "all done", f"{total:.1f} s ({args.checks / total:.0f} checks/s), {after_kill:.1f} s after the kill"
    )
    table.add_row("provider asked", f"{sum(fake.asked.values())} times for {args.checks} posts")
    table.add_row("checks per daemon (pid)", ", ".join(f"{pid}: {n}" for pid, n in sorted(shares.items())))
    table.add_row("SIGTERM of the two others", ", ".join(f"exit {c} in {s:.2f} s" for c, s in stops))
    OUT.print(table)
    return 0 if set(counts) == {1} and reclaimed <= lease + tick else 1


def metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        body = answer.read().decode()
    found: dict[str, float] = {}
    for line in body.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, value = line.rsplit(" ", 1)
        key = name.split("{", 1)[0]
        found[key] = found.get(key, 0.0) + float(value)
    return found


def connections(server_url: str, database_name: str) -> int:
    engine = create_engine(server_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"),
                    {"name": database_name},
                ).scalar()
                or 0
            )
    finally:
        engine.dispose()


def soak(args: argparse.Namespace) -> int:
    server = args.postgres or os.environ.get("ARCHIVER_TEST_POSTGRES_URL")
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp, database(server, Path(tmp)) as url:
        folder = Path(tmp)
        ids = add_due_checks(url, args.embeds, datetime.now(UTC))
        articles = folder / "articles"
        articles.mkdir()
        for n in range(20):
            embeds = "".join(
                f'<iframe src="https://www.youtube.com/embed/{post_id}"></iframe>\n'
                for post_id in ids[n * 5 : n * 5 + 5]
            )
            (articles / f"a{n}.html").write_text(f"<html><body><p>story {n}</p>{embeds}</body></html>")
        port = free_port()
        stop_feeding = threading.Event()
        with FakeYouTube(delay=args.delay).running() as fake:
            data = settings_data(
                url,
                folder,
                fake.url,
                check="every 10s",
                capture="every 10s",
                scan="every 1m",
                gc="every 5m",
                gc_grace="1m",
                http_port=port,
            )
            data["sources"] = [{"name": "site", "kind": "files", "path": str(articles)}]
            config = write_config(folder / "archiver.toml", {k: v for k, v in data.items() if k != "sources"})
            with config.open("a", encoding="utf-8") as file:
                file.write(
                    f'\n[[sources]]\nname = "site"\nkind = "files"\npath = "{articles}"\nmode = "monitor"\n'
                )

            def feed() -> None:
                engine = db.make_engine(url)
                try:
                    while not stop_feeding.wait(5):
                        due = rng.sample(ids, k=min(len(ids), args.embeds // 20))
                        # Touch an article too, so scans have something to do.
                        article = articles / f"a{rng.randrange(20)}.html"
                        article.write_text(article.read_text() + f"<p>{time.time()}</p>")
                        with engine.begin() as connection:
                            connection.execute(
                                update(Embed)
                                .where(Embed.post_id.in_(due))
                                .values(next_check_at=datetime.now(UTC) - timedelta(seconds=1))
                            )
                finally:
                    engine.dispose()

            daemon = DaemonProcess(config, folder / "soak.log", {}).start()
            feeder = threading.Thread(target=feed, daemon=True)
            feeder.start()
            samples: list[dict[str, float]] = []
            started = time.monotonic()
            try:
                wait_for(lambda: _answers(port), timeout=60)
                while time.monotonic() - started < args.minutes * 60:
                    sample = metrics(port)
                    sample["t"] = time.monotonic() - started
                    if server:
                        sample["pg_connections"] = connections(server, make_url(url).database or "")
                    samples.append(sample)
                    OUT.print(_line(sample))
                    time.sleep(args.sample)
            finally:
                stop_feeding.set()
                asked = time.monotonic()
                code = daemon.stop()
                stopped = time.monotonic() - asked
        errors = [r for r in daemon.logs() if r.get("level") in ("error", "critical")]
    quarter = max(len(samples) // 4, 1)
    table = Table(title=f"one daemon for {args.minutes:g} minutes ({len(samples)} samples)")
    for column in ("measure", "first quarter (median)", "last quarter (median)", "max", "flat"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    flat_all = True
    for key, label, tolerance in (
        ("process_resident_memory_bytes", "resident memory, MB", 1.10),
        ("process_open_fds", "open file descriptors", 1.0),
        ("process_threads", "threads", 1.0),
        ("pg_connections", "PostgreSQL connections", 1.0),
    ):
        values = [s[key] for s in samples if key in s]
        if not values:
            continue
        scale = 1e6 if "bytes" in key else 1
        first = statistics.median(values[:quarter])
        last = statistics.median(values[-quarter:])
        early_max = max(values[:quarter])
        flat = last <= first * tolerance if tolerance > 1 else last <= early_max
        flat_all &= flat
        table.add_row(
            label,
            f"{first / scale:.1f}",
            f"{last / scale:.1f}",
            f"{max(values) / scale:.1f}",
            "yes" if flat else "NO",
        )
    OUT.print(table)
    checks = samples[-1].get("archiver_checks_total", 0) if samples else 0
    OUT.print(f"checks: {checks:.0f}; errors logged: {len(errors)}; SIGTERM: exit {code} in {stopped:.2f} s")
    return 0 if flat_all and not errors and code == 0 else 1


def _line(sample: dict[str, float]) -> str:
    rss = sample.get("process_resident_memory_bytes", 0) / 1e6
    fds, threads = sample.get("process_open_fds", 0), sample.get("process_threads", 0)
    pg, checks = sample.get("pg_connections", 0), sample.get("archiver_checks_total", 0)
    return (
        f"{sample['t'] / 60:6.1f} min  rss {rss:7.1f} MB  fds {fds:4.0f}  threads {threads:3.0f}"
        f"  pg {pg:3.0f}  checks {checks:8.0f}"
    )


def _answers(port: int) -> bool:
    try:
        metrics(port)
    except OSError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="mode", required=True)
    one = sub.add_parser("three", help="three daemons on PostgreSQL, one killed half way")
    one.add_argument("--postgres")
    one.add_argument("--checks", type=int, default=10_000)
    one.add_argument("--delay", type=float, default=0.02, help="seconds the fake provider takes per answer")
    one.add_argument("--workers", type=int, default=4, help="capture.workers of each daemon")
    two = sub.add_parser("soak", help="one daemon for an hour: memory, threads, connections, files")
    two.add_argument("--postgres")
    two.add_argument("--minutes", type=float, default=60)
    two.add_argument("--sample", type=float, default=30)
    two.add_argument("--embeds", type=int, default=2000)
    two.add_argument("--delay", type=float, default=0.02)
    args = parser.parse_args()
    return three(args) if args.mode == "three" else soak(args)


if __name__ == "__main__":
    sys.exit(main())
