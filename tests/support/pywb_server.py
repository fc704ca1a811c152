"""A real pywb on loopback serving WARC files the tests write: `wb-manager init/add`, then `wayback -p PORT
-b 127.0.0.1` in a scratch folder; waited for, and stopped (its own process group) afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType

BIN = Path(sys.executable).parent
COLLECTION = "web"


def pywb_available() -> bool:
    return (BIN / "wayback").is_file() and (BIN / "wb-manager").is_file()


class PywbServer:
    def __init__(self, folder: Path, warcs: list[Path]) -> None:
        self.folder = folder
        self.warcs = warcs
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/{COLLECTION}"

    def __enter__(self) -> PywbServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        run = {"cwd": self.folder, "check": True, "capture_output": True}
        subprocess.run([str(BIN / "wb-manager"), "init", COLLECTION], **run)  # type: ignore[call-overload]
        for warc in self.warcs:
            subprocess.run([str(BIN / "wb-manager"), "add", COLLECTION, str(warc)], **run)  # type: ignore[call-overload]
        self.port = _free_port()
        with (self.folder / "wayback.log").open("wb") as log:  # the child keeps its own descriptor
            self._process = subprocess.Popen(
                [str(BIN / "wayback"), "-p", str(self.port), "-b", "127.0.0.1"],
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1):
                    return self
            except OSError:
                if self._process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"pywb did not start: {(self.folder / 'wayback.log').read_text(errors='replace')[-500:]}"
        )

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=10)
        self._process = None
        shutil.rmtree(self.folder / "collections", ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
