"""Real processes for end-to-end tests: free ports, start and stop, poll until ready."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tests.commands import BIN

T = TypeVar("T")

_DEFAULTED = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def free_port() -> int:
    """A loopback port free right now (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def procfile(path: Path, env: Mapping[str, str]) -> dict[str, list[str]]:
    """The Procfile's commands as argv lists, `${VAR:-default}` expanded from `env`.

    The first word runs from this virtualenv (`gunicorn` becomes `.venv/bin/gunicorn`).
    """
    commands: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, command = line.partition(":")
        expanded = _DEFAULTED.sub(lambda m: env.get(m[1]) or m[2] or "", command)
        argv = shlex.split(expanded)
        argv[0] = str(BIN / argv[0])
        commands[name.strip()] = argv
    return commands


@dataclass
class Process:
    """A started process whose stdout and stderr go to one log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def assert_running(self) -> None:
        code = self.popen.poll()
        assert code is None, f"{self.name} exited with {code}:\n{self.output()}"


def start(name: str, argv: list[str], env: Mapping[str, str], cwd: Path) -> Process:
    """Start `argv` in its own process group, logging to cwd/<name>.log."""
    log = cwd / f"{name}.log"
    with log.open("wb") as sink:
        popen = subprocess.Popen(
            argv, env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=sink,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    return Process(name, popen, log)


def stop(processes: Sequence[Process], grace: float = 30.0) -> None:
    """SIGTERM each process, as a supervisor would; SIGKILL the groups of those slow to go.

    30 seconds, as platforms that run Procfiles allow: a worker finishes the messages it
    is handling before it exits, and one may be waiting on the database or SendGrid.
    """
    for process in processes:
        if process.popen.poll() is None:
            process.popen.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.popen.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.popen.wait(timeout=grace)
    for process in processes:
        # dramatiq's and gunicorn's children share the group: none may outlive the test.
        _signal_group(process, signal.SIGKILL)


def _signal_group(process: Process, signum: signal.Signals) -> None:
    try:
        os.killpg(process.popen.pid, signum)
    except ProcessLookupError:
        pass


@contextmanager
def running(processes: list[Process]) -> Iterator[list[Process]]:
    """Stop every process on the way out and print their logs (pytest shows them on failure)."""
    try:
        yield processes
    finally:
        stop(processes)
        for process in processes:
            print(f"----- {process.name} (exit {process.popen.returncode}) -----")
            print(process.output())


def wait_for(
    probe: Callable[[], T | None], what: str, timeout: float = 120.0,
    processes: Sequence[Process] = (),
) -> T:
    """Call `probe` until it returns something other than None; fail after `timeout`.

    Fails at once, with its log, when one of `processes` exits meanwhile. The deadline only
    decides when to give up: a machine slowed by other work can take tens of seconds to start
    a process that imports the whole product.
    """
    deadline = time.monotonic() + timeout
    while True:
        for process in processes:
            process.assert_running()
        result = probe()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


def http_status(url: str) -> int | None:
    """The HTTP status of GET `url`, or None when nothing answers yet."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
