"""A redis-server of the tests' own: for tests that stop and restart it, and one per pytest-xdist
worker, so workers running side by side never flush or read each other's queues.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class RedisProcess:
    """A redis-server of our own on a free port, stoppable and restartable."""

    def __init__(self, workdir: Path) -> None:
        self.binary = os.environ.get("TEST_REDIS_BIN") or shutil.which("redis-server") or ""
        self.workdir = workdir
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def private_server_for_this_worker(shared_url: str | None) -> str | None:
    """The Redis URL this test process should use: the shared one, or under pytest-xdist a
    server of this worker's own (started now, stopped when the process exits).

    Tests pick Redis databases by number (`…/5`, `…/6`) and flush them; two workers on one
    server would flush each other's.
    """
    if not shared_url or not os.environ.get("PYTEST_XDIST_WORKER"):
        return shared_url
    workdir = Path(tempfile.mkdtemp(prefix="campaign-redis-"))
    server = RedisProcess(workdir)
    server.start()

    def stop() -> None:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    atexit.register(stop)
    os.environ["TEST_REDIS_URL"] = server.url
    return server.url
