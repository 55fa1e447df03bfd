"""A CPU-bound neighbour: another tenant's busy process beside a bench, as on a shared host.

Why: production hosts are shared, and a write path that wins on an idle machine can lose
its lead when another process competes for the cores. A bench that takes `--neighbour`
runs its measured rounds inside `neighbour()`, which keeps one process spinning in a
loop (no I/O, no sleeps) until the block ends, and reports how much CPU it actually got.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class NeighbourReport:
    """What the neighbour did: filled in when the block ends."""

    processes: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def as_dict(self) -> dict[str, float | int | str]:
        share = self.cpu_seconds / self.seconds if self.seconds else 0.0
        return {"processes": self.processes, "kind": "busy loop (pure Python, no I/O)",
                "seconds": round(self.seconds, 3), "cpu_seconds": round(self.cpu_seconds, 3),
                "cores_used": round(share, 3)}


def spin() -> None:
    """Burn one core until killed."""
    count = 0
    while True:
        count += 1


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, from /proc (0.0 where there is none)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def neighbour(enabled: bool) -> Iterator[NeighbourReport]:
    """Run one spinning process for the block when `enabled`; stop it, whatever happens."""
    report = NeighbourReport()
    if not enabled:
        yield report
        return
    process = mp.get_context("fork").Process(target=spin, name="bench-neighbour", daemon=True)
    process.start()
    started = time.monotonic()
    try:
        yield report
    finally:
        assert process.pid is not None
        report.processes = 1
        report.cpu_seconds = cpu_seconds(process.pid)
        report.seconds = time.monotonic() - started
        process.terminate()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
