"""What every benchmark shares: the PostgreSQL server it runs on and the machine's facts."""

from __future__ import annotations

import argparse
import os
import platform
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import version as package_version
from typing import Any

from sqlalchemy import URL, NullPool, create_engine, text
from sqlalchemy.engine import make_url

SETTINGS = ("server_version", "fsync", "synchronous_commit", "full_page_writes",
            "shared_buffers", "wal_level", "random_page_cost", "effective_cache_size")


class Server:
    """Creates a fresh database per measurement and drops them all at the end.

    The admin engine pools nothing, so no connection is open when writers are forked.
    """

    def __init__(self, url: str, tag: str = "bench") -> None:
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.tag = f"{tag}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.created: list[str] = []

    def database(self, name: str) -> str:
        """Create an empty database; its URL."""
        full = f"{self.tag}_{name}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{full}"'))
        self.created.append(full)
        return self.url.set(database=full).render_as_string(hide_password=False)

    def settings(self, names: Sequence[str] = SETTINGS) -> dict[str, str]:
        """Version and durability settings, so readers know what the numbers mean."""
        with self.admin.connect() as conn:
            found = {n: str(conn.execute(text(f"SHOW {n}")).scalar_one()) for n in names}
            found["version"] = str(conn.execute(text("SELECT version()")).scalar_one())
        return found

    def drop_all(self) -> None:
        """Drop every database this run created, even after an error."""
        if self.created:
            with self.admin.connect() as conn:
                for name in self.created:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@contextmanager
def server_for(url: str, tag: str = "bench") -> Iterator[Server]:
    """A Server whose databases are dropped when the block ends."""
    server = Server(url, tag)
    try:
        yield server
    finally:
        server.drop_all()


def server_url(given: str | None) -> str:
    """The server to use, as a psycopg SQLAlchemy URL; exits with a hint when none is set."""
    raw = given or os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_POSTGRES_URL")
    if not raw:
        raise SystemExit("bench: no server: pass --database-url or set BENCH_DATABASE_URL "
                         "(scripts/with-services sets TEST_POSTGRES_URL)")
    url: URL = make_url(raw)
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise SystemExit(f"bench: needs PostgreSQL, got {url.get_backend_name()}")
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def cpuinfo_model() -> str:
    """The CPU's model name, for the record."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total_gib() -> float | None:
    """Installed memory in GiB, for the record."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def machine_facts(server: Server, packages: Sequence[str], **extra: Any) -> dict[str, Any]:
    """CPU, memory, load, library versions and server settings the figures depend on.

    The load average at start is there because other work on the machine skews every figure,
    and a reader should see whether there was any.
    """
    return {
        "cpu_count": os.cpu_count(), "cpu_model": cpuinfo_model(),
        "mem_total_gib": mem_total_gib(), "load_average_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "packages": {name: package_version(name) for name in packages},
        "postgres": server.settings(),
        **extra,
    }


def machine_line(facts: dict[str, Any], also: str = "") -> str:
    """The report's first line: the machine and the PostgreSQL settings every figure ran with."""
    pg = facts["postgres"]
    return (f"Machine: {facts['cpu_count']} CPUs ({facts['cpu_model']}), "
            f"{facts['mem_total_gib']} GiB RAM; PostgreSQL {pg['server_version']} "
            f"(fsync={pg['fsync']}, synchronous_commit={pg['synchronous_commit']}, "
            f"full_page_writes={pg['full_page_writes']}); Python {facts['python']}, "
            + ", ".join(f"{k} {v}" for k, v in facts["packages"].items())
            + (f"; {also}" if also else "")
            + f"; 1-min load average at start {facts['load_average_at_start']:.2f}.")


def arguments(module: str, description: str, quick: str,
              database_url: bool = False) -> argparse.ArgumentParser:
    """The options every benchmark takes: `--quick` (what `make test` runs, only to prove the
    bench works), `--json`, and for those that need only a server, `--database-url`."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{module}", description=description)
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    if database_url:
        parser.add_argument("--database-url", help="PostgreSQL server (default: "
                            "BENCH_DATABASE_URL or TEST_POSTGRES_URL)")
    return parser
