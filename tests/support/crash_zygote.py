"""A fork server for the crash tests: imports the archiver once, then runs each `archive` command asked of
it in a forked child, and can kill that child with SIGKILL at a chosen point.

Starting a Python process that imports the archiver takes seconds on a loaded machine; forking one that
already has takes milliseconds, so hundreds of killed runs fit in a test run. The child is a real process
running the real command line (`archiver.cli.main`), with its own database connections and threads.

Protocol, one JSON object per line. The caller writes a request on stdin:

    {"argv": [...], "env": {...}, "cwd": "...", "out": "file for stdout and stderr",
     "kill_at": N or null, "kill_after": seconds or null, "timeout": seconds}

and reads two lines back: {"pid": PID} once the child runs, then {"code": exit code or null,
"signal": the signal that ended it or null, "steps": steps counted, "seconds": run time}. While the
child runs, a line {"signal": N} on stdin sends it signal N (the daemon tests stop it with SIGTERM).

Kill points (`kill_at`): the child counts its steps, and SIGKILLs itself just before step N happens.
A step is a database commit about to be sent, a commit done (seen by a session), and, through Python's
audit hooks, a file opened for writing, renamed over (`os.replace`) or removed: the points where a
crash leaves a different state behind. The kill is a real SIGKILL, so nothing runs after it (no
`finally`, no atexit, no buffered write). `kill_after` kills from outside instead, after that many
seconds (a random moment, not a chosen step). `timeout` kills a run that does not end (reported with
"timeout": true).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import archiver.cli  # noqa: E402  (imported once here, before forking)
import archiver.daemon  # noqa: E402

with contextlib.suppress(ImportError):  # PostgreSQL's driver, when the postgres extra is installed
    import psycopg  # noqa: F401

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class KillPoint:
    """Counts the steps of the child and SIGKILLs it just before step `kill_at`."""

    def __init__(self, kill_at: int | None) -> None:
        self.kill_at = kill_at
        self.steps = 0
        self.lock = threading.Lock()

    def step(self) -> None:
        with self.lock:
            self.steps += 1
            if self.kill_at is not None and self.steps >= self.kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    def install(self) -> None:
        event.listen(Engine, "commit", lambda _connection: self.step())
        event.listen(Session, "after_commit", lambda _session: self.step())
        sys.addaudithook(self._audit)

    def _audit(self, name: str, args: tuple[Any, ...]) -> None:
        if name == "open":
            mode, flags = args[1], args[2]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writing and not str(args[0]).endswith((".pyc", ".steps")):
                self.step()
        elif name in ("os.rename", "os.remove"):
            self.step()


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become the command, run it, report the steps, exit with its code."""
    out = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["archive", *request["argv"]]
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    kill = KillPoint(request.get("kill_at"))
    kill.install()
    code = 0
    try:
        archiver.cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except BaseException as exc:  # an unexpected exception is a failure the caller reads in `out`
        print(f"crash_zygote: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 99
    sys.stdout.flush()
    sys.stderr.flush()
    Path(request["out"] + ".steps").write_text(str(kill.steps))
    os._exit(code)


def _run(request: dict[str, Any]) -> dict[str, Any]:
    steps_file = Path(request["out"] + ".steps")
    steps_file.unlink(missing_ok=True)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            _child(request)
        finally:
            os._exit(98)
    _reply({"pid": pid})
    kill_after = request.get("kill_after")
    deadline = started + float(request.get("timeout") or 300)
    timed_out = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        now = time.monotonic()
        if kill_after is not None and now - started >= kill_after:
            os.kill(pid, signal.SIGKILL)
            kill_after = None
        elif now >= deadline and not timed_out:
            os.kill(pid, signal.SIGKILL)
            timed_out = True
        readable, _, _ = select.select([sys.stdin], [], [], 0.005)
        if readable:
            line = sys.stdin.readline()
            if line.strip():
                os.kill(pid, int(json.loads(line)["signal"]))
    seconds = time.monotonic() - started
    steps = int(steps_file.read_text()) if steps_file.exists() else request.get("kill_at") or 0
    return {
        "code": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "steps": steps,
        "seconds": round(seconds, 4),
        "timeout": timed_out,
    }


def _reply(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def main() -> None:
    _reply({"ready": True})
    for line in sys.stdin:
        request = json.loads(line) if line.strip() else {}
        # A signal meant for a child that ended meanwhile arrives here: there is no one to send it to.
        if "argv" in request:
            _reply(_run(request))


if __name__ == "__main__":
    main()
