"""A loopback Save Page Now 2 for the mirror's tests: a real HTTP server (`FakeServer`) answering
`POST /save` and `GET /save/status/JOB_ID` the way SPN2's documentation says it does.

By default every capture request starts a job (`{"url": ..., "job_id": "spn2-N"}`) whose status is
`pending` once, then `success` with `TIMESTAMP` and the URL asked. Tests script other answers:
`save_answers` (taken one per capture request; when empty, the default job) and `job(job_id, ...)`
(a job's statuses, one per poll; the last repeats). Requests are recorded on the server, with their
headers, so a test can check the keys went where they should and nowhere else.

The answers' shapes follow the SPN2 API document of the Internet Archive ("Save Page Now 2 Public API
Docs Draft"): job ids, the `status` field, `timestamp` (14 digits), `original_url`, `status_ext`
codes such as `error:not-found` and `error:too-many-daily-captures`. The bodies are written here, not
recorded: no request was ever made to the real service.
"""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs

from support.fake_server import Canned, FakeServer, Recorded

TIMESTAMP = "20261120120500"
JSON = {"Content-Type": "application/json"}


def answer(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Canned:
    return Canned(status, {**JSON, **(headers or {})}, json.dumps(body).encode())


def pending(job_id: str) -> Canned:
    return answer({"status": "pending", "job_id": job_id, "resources": []})


def success(job_id: str, original_url: str, timestamp: str = TIMESTAMP) -> Canned:
    return answer(
        {
            "status": "success",
            "job_id": job_id,
            "original_url": original_url,
            "timestamp": timestamp,
            "duration_sec": 6.2,
            "http_status": 200,
        }
    )


def error(job_id: str | None, status_ext: str, message: str) -> Canned:
    body: dict[str, object] = {"status": "error", "status_ext": status_ext, "message": message}
    if job_id is not None:
        body["job_id"] = job_id
    return answer(body)


class FakeSpn:
    """Save Page Now on `server` (give it a loopback address of its own: 127.0.0.2)."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.save_answers: list[Canned] = []
        self._statuses: dict[str, list[Canned]] = {}
        self._count = 0
        self._lock = threading.Lock()
        server.route("/save", self._save, method="POST")

    @property
    def base(self) -> str:
        return self.server.url

    def job(self, job_id: str, *statuses: Canned) -> None:
        """Script the statuses of job `job_id`, one per poll (the last repeats)."""
        with self._lock:
            self._statuses[job_id] = list(statuses)
        self.server.route(f"/save/status/{job_id}", self._status)

    def requests(self, path_prefix: str = "/save") -> list[Recorded]:
        return [r for r in self.server.requests if r.path.startswith(path_prefix)]

    def asked_urls(self) -> list[str]:
        """The URLs capture requests asked for, in order."""
        return [
            parse_qs(r.body.decode())["url"][0] for r in self.server.requests if r.path == "/save" and r.body
        ]

    def _save(self, request: Recorded) -> Canned:
        url = parse_qs(request.body.decode()).get("url", [""])[0]
        with self._lock:
            if self.save_answers:
                return self.save_answers.pop(0)
            self._count += 1
            job_id = f"spn2-{self._count:04d}"
        self.job(job_id, pending(job_id), success(job_id, url))
        return answer({"url": url, "job_id": job_id})

    def _status(self, request: Recorded) -> Canned:
        job_id = request.path.rsplit("/", 1)[-1]
        with self._lock:
            script = self._statuses.get(job_id, [])
            if not script:
                return answer({"status": "error", "status_ext": "error:job-not-found"}, 404)
            return script.pop(0) if len(script) > 1 else script[0]
