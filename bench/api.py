"""Benchmark the HTTP API under load: two write endpoints against the naive app doing the same.

Why: a supporter's pledge and each letter they confirm are the writes that arrive in bursts
when an urgent action goes out. This measures what they cost end to end — gunicorn, Flask,
validation, auth, the command handler, the event append and its inline projections — next to
the yardstick users would compare them with: the same stack doing the naive thing
(`bench/naive_api.py`: marshmallow validates a comparable body, one INSERT per POST in its
own transaction), served by the same gunicorn command against the same database server.
`GET /healthz` on our server (the HTTP and WSGI stack alone) is measured first, as the ceiling.

The bench creates its own database on the server of `TEST_POSTGRES_URL` (or
`BENCH_DATABASE_URL`), migrates it, loads the seed action `ua-135-10` and confirmed supporters
through the product's handlers, starts both gunicorns with the Procfile's web command on free
loopback ports (Redis from `TEST_REDIS_URL`, so no workers run inside the web process) and
drives them with wrk and `bench/wrk_api.lua`, which sends every prepared request once: each
pledge comes from a different supporter, each letter is new. After a warm-up of each, the
naive app, pledges and letters run three 5 s rounds each on fresh connections, interleaved in
an order that rotates every round, and each reports its median round (see `Profile`) and the
ratios ours / naive. Afterwards it checks that each table holds exactly the writes wrk sent,
and it reports the CPU time per request of gunicorn, PostgreSQL and wrk read from /proc:
where the cores went.

    scripts/with-services .venv/bin/python -m bench.api [--quick] [--json]

A benchmark, not a test: missed targets are reported, never turned into a failing exit code.
Exit 1 when the consistency check fails (writes lost or doubled: the figures mean nothing
then), 2 when wrk is not installed.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.client import HTTPException
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, NullPool, create_engine, text

from bench import naive_api
from bench.servers import (
    Server,
    arguments,
    machine_facts,
    machine_line,
    server_for,
    server_url,
)
from campaign.application.access import SupporterLinks
from campaign.application.commands import Meta
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import build
from campaign.demo.loader import load_demo
from campaign.demo.ua_135_10 import ACTION_ID
from campaign.domain.supporter import ConfirmConsent
from campaign.infra.database import upgrade
from campaign.settings import Settings

# Library versions the report names beside the machine.
PACKAGES = ("flask", "werkzeug", "flask-smorest", "marshmallow", "sqlalchemy", "psycopg",
            "gunicorn")
REPO = Path(__file__).resolve().parent.parent
LUA_SCRIPT = Path(__file__).resolve().with_name("wrk_api.lua")
CONNECTIONS = 16
WRK_THREADS = 2
# The Procfile's web process: one worker per core, threads to overlap database round trips.
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4
SETUP_PROCESSES = 2
PLEDGE_BODY = '{"target_ids":[],"letters_promised":3}'
# Rounds run again at most when wrk's connections landed mostly on one worker.
EXTRA_ROUNDS = 2
P99_TARGET_MS = 100.0
# Enough letters that the warm-up does not run out (repeats would answer 200, harmlessly).
WARMUP_LETTERS_PER_S = 3_000
SETUP_META = Meta(actor="bench", correlation_id="bench-api-setup")
PRODUCT_APP = "campaign.wsgi:app"
NAIVE_APP = "bench.naive_api:app"
NAIVE_RATIO_TARGET = 0.5
# Requests that need no setup of their own (naive pledges, letters) are prepared at least at
# this rate per measured second: a one-second warm-up runs cold, and sizing from it alone
# left a fast machine short (its naive app answered 1,800/s after a warm-up sized 3,564).
CHEAP_PER_S = 5_000


def log(message: str) -> None:
    """Progress goes to stderr so `--json` leaves stdout to the one JSON object."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Profile:
    """How long each scenario runs and how many supporters to prepare.

    A scenario runs `rounds` wrk windows of `seconds`, each on fresh connections, and reports
    the median one: on a shared 2-core machine one window drifts with whatever else runs,
    and gunicorn keeps a keep-alive connection on the worker that accepted it, so one
    window can pile most connections on one worker. The pledge runs need one supporter per
    request; their number is sized from the warm-up's rate (2.5 times what it would need),
    within `min_supporters`..`max_supporters`.
    """

    seconds: int
    rounds: int
    warmup_seconds: int
    warmup_supporters: int
    min_supporters: int
    max_supporters: int


FULL = Profile(seconds=5, rounds=3, warmup_seconds=2, warmup_supporters=1_000,
               min_supporters=2_000, max_supporters=20_000)
QUICK = Profile(seconds=2, rounds=1, warmup_seconds=1, warmup_supporters=400,
                min_supporters=200, max_supporters=4_000)


# --- Setup through the product's own handlers ------------------------------------------------


def settings_for(url: str, secret: str) -> Settings:
    """The settings the gunicorn workers get too: the same key signs tokens and seals data."""
    return Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": secret, "LOG_LEVEL": "WARNING"})


def seed(url: str, secret: str) -> None:
    """Migrate and load the demo case and its launched action `ua-135-10`."""
    upgrade(url)
    container = build(settings_for(url, secret))
    try:
        load_demo(container)
    finally:
        container.engine.dispose()


def register_chunk(url: str, secret: str, prefix: str, start: int, stop: int) -> list[str]:
    """Register and confirm supporters `start`..`stop` (one process); their ids."""
    container = build(settings_for(url, secret))
    now = datetime.now(UTC)
    ids = []
    try:
        for n in range(start, stop):
            form = Registration(f"{prefix}-{n}@bench.example.org", f"Bench Supporter {n}",
                                "en", "GB", "Europe/London")
            supporter_id = register_supporter(container.commands, container.blind_index, form,
                                              SETUP_META, now)
            container.commands.handle(
                ConfirmConsent(supporter_id=supporter_id, confirmed_at=now), SETUP_META)
            ids.append(supporter_id)
    finally:
        container.engine.dispose()
    return ids


def create_supporters(url: str, secret: str, count: int, prefix: str) -> list[str]:
    """`count` confirmed supporters, registered by forked processes to use both cores."""
    started = time.monotonic()
    bounds = [count * p // SETUP_PROCESSES for p in range(SETUP_PROCESSES + 1)]
    with ProcessPoolExecutor(SETUP_PROCESSES, mp_context=mp.get_context("fork")) as pool:
        chunks = pool.map(register_chunk, *zip(*[
            (url, secret, prefix, bounds[p], bounds[p + 1]) for p in range(SETUP_PROCESSES)
        ], strict=True))
        ids = [supporter_id for chunk in chunks for supporter_id in chunk]
    seconds = time.monotonic() - started
    log(f"setup: {count:,} confirmed supporters in {seconds:.1f} s ({count / seconds:,.0f}/s)")
    return ids


# --- Requests, one line each for the Lua script ----------------------------------------------


@dataclass(frozen=True)
class Item:
    """One request for wrk, and the key its write leaves in the log (None for reads)."""

    method: str
    path: str
    authorization: str
    body: str
    key: str | None = None

    def line(self) -> str:
        return "\t".join((self.method, self.path, self.authorization, self.body))


HEALTHZ = [Item("GET", "/healthz", "", "")]


def pledge_items(links: SupporterLinks, supporter_ids: Sequence[str]) -> list[Item]:
    """One pledge to `ua-135-10` per supporter, to all its targets; keyed by supporter id."""
    return [Item("POST", f"/api/v1/actions/{ACTION_ID}/pledges",
                 f"Supporter {links.sign_action(s, ACTION_ID)}", PLEDGE_BODY, key=s)
            for s in supporter_ids]


def letter_items(links: SupporterLinks, pledges: Sequence[Any], count: int,
                 prefix: str) -> list[Item]:
    """`count` new letters, round-robin over the pledges so concurrent ones hit other streams.

    Each carries its own letter id (as a retrying client would), the key to find it in the log.
    """
    tokens = {p.supporter_id: links.sign_action(p.supporter_id, ACTION_ID) for p in pledges}
    today = datetime.now(UTC).date().isoformat()
    items = []
    for n in range(count):
        row = pledges[n % len(pledges)]
        target = row.target_ids[(n // len(pledges)) % len(row.target_ids)]
        letter_id = f"{prefix}-{n}"
        body = json.dumps({"letter_id": letter_id, "target_id": target, "channel": "post",
                           "sent_on": today}, separators=(",", ":"))
        items.append(Item("POST", f"/api/v1/pledges/{row.pledge_id}/letters",
                          f"Supporter {tokens[row.supporter_id]}", body, key=letter_id))
    return items


def open_pledges(engine: Engine) -> list[Any]:
    """Every pledge to the action: the demo's and the ones the pledge scenario made."""
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT pledge_id, supporter_id, target_ids FROM pledges WHERE action_id = :a "
            "ORDER BY pledged_at, pledge_id"), {"a": ACTION_ID}))


# --- The server under test -------------------------------------------------------------------


def listening_socket() -> socket.socket:
    """A loopback socket, already bound and listening, for gunicorn to inherit (`fd://`).

    Picking a free port and letting gunicorn bind it later races with other processes
    doing the same (the e2e tests start gunicorns too): one of them would answer our
    /healthz with its own server.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(2048)
    return listener


def gunicorn_binary() -> str:
    """The gunicorn of this interpreter's virtualenv."""
    beside = Path(sys.executable).parent / "gunicorn"
    found = str(beside) if beside.exists() else shutil.which("gunicorn")
    if not found:
        raise SystemExit("bench: gunicorn not found next to this Python or on PATH")
    return found


@dataclass(frozen=True)
class Served:
    """The running gunicorn: where it listens and its master's pid (its workers' parent)."""

    base: str
    pid: int


@contextmanager
def gunicorn(url: str, redis_url: str, secret: str, workers: int, threads: int,
             log_path: Path, app: str = PRODUCT_APP) -> Iterator[Served]:
    """Serve `app` on a loopback port of its own until the block ends, with the Procfile's
    web command (its configuration file, workers and threads)."""
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": secret,
           "LOG_LEVEL": "WARNING", "NAIVE_DATABASE_URL": url}
    with listening_socket() as listener, open(log_path, "wb") as out:
        fd = listener.fileno()
        command = [gunicorn_binary(), "--config", "python:campaign.gunicorn_config",
                   "--bind", f"fd://{fd}", "--workers", str(workers),
                   "--threads", str(threads), "--log-level", "warning", app]
        process = subprocess.Popen(command, env=env, cwd=REPO, stdout=out,
                                   stderr=subprocess.STDOUT, pass_fds=(fd,))
        base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        wait_healthy(base, process, log_path)
        wait_booted(process.pid, workers)
        log(f"gunicorn {app} on {base}: {workers} workers x {threads} threads")
        yield Served(base, process.pid)
    except BaseException:
        state = "running" if process.poll() is None else f"exited with {process.returncode}"
        log(f"gunicorn ({state}) logged:\n" + log_path.read_text(errors="replace")[-3000:])
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Poll /healthz until it answers; fail with gunicorn's log if it dies or hangs."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n"
                               + log_path.read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, HTTPException):
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def wait_booted(master: int, workers: int, timeout: float = 60.0) -> None:
    """Wait until every worker has finished importing the app (its CPU time stops growing).

    /healthz answers as soon as one worker is up; wrk's keep-alive connections stay with
    the worker that accepted them, so a run started earlier piles them all on that one.
    """
    if not os.path.exists(f"/proc/{master}/stat"):
        time.sleep(5)  # no /proc: give the others time
        return
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        pids = family(master)[1:]
        ticks = sorted((p, cpu_ticks(p)) for p in pids)
        if len(pids) >= workers and ticks == last:
            return
        last = ticks
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn's {workers} workers did not settle within {timeout:.0f} s")


def server_log_problems(log_path: Path) -> dict[str, Any]:
    """Tracebacks and error lines gunicorn wrote during the run: each one is a product issue."""
    lines = log_path.read_text(errors="replace").splitlines()
    errors = [line for line in lines if "Traceback" in line or " ERROR " in line
              or "[ERROR]" in line or "[CRITICAL]" in line]
    return {"tracebacks": sum("Traceback" in line for line in lines),
            "error_lines": len(errors), "first": errors[:5]}


# --- Where the CPU goes: per-process CPU time from /proc (Linux) ------------------------------


def cpu_ticks(pid: int) -> int:
    """User + system clock ticks of a process (all its threads); 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rpartition(")")[2].split()[1])


def family(pid: int) -> list[int]:
    """A process and its direct children: gunicorn's master and workers, or PostgreSQL's
    postmaster and its backends."""
    found = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if parent_of(int(entry)) == pid:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values[:8]) - idle, sum(values[:8])


@dataclass(frozen=True)
class CpuGroups:
    """The processes whose CPU time each scenario reports separately."""

    gunicorn: int  # master pid
    postmaster: int


def cpu_groups(served: Served, engine: Engine) -> CpuGroups | None:
    """What to meter, when /proc can tell (Linux, PostgreSQL on this machine)."""
    if not os.path.exists("/proc/stat"):
        return None
    postmaster = postmaster_pid(engine)
    return CpuGroups(served.pid, postmaster) if postmaster else None


def postmaster_pid(engine: Engine) -> int | None:
    """The PostgreSQL server's main process: the parent of our own backend (same machine)."""
    with engine.connect() as conn:  # read while the backend lives: NullPool ends it after
        backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        try:
            return parent_of(backend)
        except OSError:
            return None  # the server runs elsewhere: no per-process figures


def cpu_snapshot(groups: CpuGroups | None) -> dict[str, Any] | None:
    """Ticks so far per group and per gunicorn worker; wrk, a finished child of ours, is in
    RUSAGE_CHILDREN."""
    if groups is None:
        return None
    busy, total = machine_ticks()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = {p: cpu_ticks(p) for p in family(groups.gunicorn)[1:]}
    return {
        "gunicorn": cpu_ticks(groups.gunicorn) + sum(workers.values()),
        "postgres": sum(cpu_ticks(p) for p in family(groups.postmaster)),
        "wrk": round((children.ru_utime + children.ru_stime) * os.sysconf("SC_CLK_TCK")),
        "bench": cpu_ticks(os.getpid()),
        "machine_busy": busy, "machine_total": total, "workers": workers,
    }


def cpu_per_request(before: dict[str, Any] | None, after: dict[str, Any] | None,
                    requests: int) -> dict[str, Any] | None:
    """CPU ms per request by process group, how busy all the cores were, and how many cores
    each gunicorn worker used (one GIL each: about 1.0 is a worker's ceiling).

    "other" is every other process on the machine (other workloads shows up there).
    Processes that exit during the window (an autovacuum worker) are missed.
    """
    if before is None or after is None or not requests:
        return None
    delta = {k: after[k] - before[k] for k in after if k != "workers"}
    ms_per_tick = 1000 / os.sysconf("SC_CLK_TCK")
    groups = ("gunicorn", "postgres", "wrk", "bench")
    other = delta["machine_busy"] - sum(delta[g] for g in groups)
    found: dict[str, Any] = {g: round(delta[g] * ms_per_tick / requests, 3) for g in groups}
    found["other"] = round(max(other, 0) * ms_per_tick / requests, 3)
    found["machine_busy_pct"] = round(100 * delta["machine_busy"] / delta["machine_total"], 1)
    per_core = delta["machine_total"] / (os.cpu_count() or 1)
    found["worker_cores"] = sorted(
        (round((ticks - before["workers"].get(pid, 0)) / per_core, 2)
         for pid, ticks in after["workers"].items()), reverse=True)
    return found


# --- wrk -------------------------------------------------------------------------------------


def wrk_version() -> str:
    result = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    first = (result.stdout + result.stderr).splitlines()[0]
    return first.split(" Copyright")[0].strip()


def run_wrk(base: str, items: Sequence[Item], seconds: int, workdir: Path,
            label: str) -> dict[str, Any]:
    """Run wrk over `items` for `seconds`; what the Lua script counted, plus wrk's summary."""
    items_path = workdir / f"{label}.tsv"
    items_path.write_text("".join(item.line() + "\n" for item in items))
    env = {**os.environ, "BENCH_WRK_ITEMS": str(items_path),
           "BENCH_WRK_THREADS": str(WRK_THREADS)}
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
               "--timeout", "5s", "-s", str(LUA_SCRIPT), base]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False,
                            timeout=seconds + 120)
    found = [line for line in result.stdout.splitlines() if line.startswith("BENCH_RESULT ")]
    if result.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    parsed: dict[str, Any] = json.loads(found[0].removeprefix("BENCH_RESULT "))
    parsed["first_error"] = next(
        (line.removeprefix("BENCH_FIRST_ERROR ") for line in result.stdout.splitlines()
         if line.startswith("BENCH_FIRST_ERROR ")), None)
    parsed["sent_items"] = sent_items(items, parsed["sent_by_thread"])
    return parsed


def sent_items(items: Sequence[Item], sent_by_thread: Sequence[int]) -> list[Item]:
    """The items the Lua script sent: thread t sent items t, t+T, ... (mod len), in turn."""
    stride = len(sent_by_thread)
    return [items[(k * stride + t) % len(items)]
            for t, sent in enumerate(sent_by_thread) for k in range(sent)]


def rate(result: dict[str, Any]) -> float:
    return float(result["requests"] / (result["duration_us"] / 1e6))


def figures(result: dict[str, Any]) -> dict[str, Any]:
    """Requests/s, latency in ms, and every way a request went wrong."""
    statuses = {int(k): v for k, v in result["statuses"].items()}
    socket_errors = {k: v for k, v in result["errors"].items() if k != "status"}
    return {
        "requests": result["requests"],
        "seconds": round(result["duration_us"] / 1e6, 3),
        "requests_per_s": round(rate(result), 1),
        "p50_ms": result["p50_us"] / 1000, "p90_ms": result["p90_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000, "max_ms": result["max_us"] / 1000,
        "mean_ms": round(result["mean_us"] / 1000, 3),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "non_2xx": sum(v for k, v in statuses.items() if not 200 <= k < 300),
        "socket_errors": socket_errors,
        "socket_errors_total": sum(socket_errors.values()),
        "sent": sum(result["sent_by_thread"]),
        "unanswered": sum(result["sent_by_thread"]) - sum(statuses.values()),
        "wrapped": result["wrapped"],
        "first_error": result["first_error"],
    }


# --- Consistency: the log holds exactly the writes wrk sent ----------------------------------


@dataclass(frozen=True)
class Written:
    """Where a write endpoint leaves its rows: how far the table was, and each write's key.

    `keys_sql` takes the position reached before the rounds as `:p`.
    """

    label: str
    position_sql: str
    keys_sql: str


def events_of(event_type: str, key_sql: str) -> Written:
    """The events of one type appended to the product's log."""
    return Written(event_type, "SELECT coalesce(max(position), 0) FROM events",
                   f"SELECT {key_sql} FROM events WHERE type = '{event_type}' AND position > :p")


PLEDGED = events_of("Pledged", f"substr(stream_id, {len('pledge-' + ACTION_ID + '-') + 1})")
LETTER_CONFIRMED = events_of("LetterConfirmed", "data->>'letter_id'")
NAIVE_ROWS = Written("naive_pledges rows", "SELECT coalesce(max(id), 0) FROM naive_pledges",
                     "SELECT supporter_id FROM naive_pledges WHERE id > :p")


def position(engine: Engine, written: Written) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(written.position_sql)).scalar_one())


def settle(engine: Engine, written: Written, quiet_seconds: float = 1.0) -> None:
    """Wait until nothing was written for `quiet_seconds`: requests wrk left in flight end."""
    last, quiet_since = position(engine, written), time.monotonic()
    while time.monotonic() - quiet_since < quiet_seconds:
        time.sleep(0.2)
        now = position(engine, written)
        if now != last:
            last, quiet_since = now, time.monotonic()


def written_keys(engine: Engine, written: Written, after: int) -> list[str]:
    """The keys of the rows written after position `after`."""
    with engine.connect() as conn:
        return [str(k) for k in conn.execute(text(written.keys_sql), {"p": after}).scalars()]


def consistency(engine: Engine, written: Written, after: int, sent: Sequence[Item],
                measured: dict[str, Any]) -> dict[str, Any]:
    """Rows written vs writes answered 201, and vs the exact set of writes sent.

    wrk stops with a request in flight on most connections: the server still completes it,
    so the table holds the 201s wrk counted plus those `unanswered` ones.
    """
    settle(engine, written)
    keys = written_keys(engine, written, after)
    sent_keys = {item.key for item in sent}
    created = int(measured["statuses"].get("201", 0))
    return {
        "event_type": written.label,
        "events": len(keys),
        "answered_201": created,
        "answered_other_2xx": sum(v for k, v in measured["statuses"].items()
                                  if k.startswith("2") and k != "201"),
        "unanswered": measured["unanswered"],
        "events_equal_201": len(keys) == created,
        "events_equal_201_plus_unanswered": len(keys) == created + measured["unanswered"],
        "duplicates": len(keys) - len(set(keys)),
        "sent_not_written": len(sent_keys - set(keys)),
        "written_not_sent": len(set(keys) - sent_keys),
        "consistent": (len(keys) == created + measured["unanswered"] == len(sent)
                       and len(keys) == len(set(keys)) and set(keys) == sent_keys),
    }


# --- Scenarios -------------------------------------------------------------------------------


@dataclass
class Run:
    """What every scenario needs: the servers, the database, and where to put files."""

    base: str
    cpu: CpuGroups | None
    naive_base: str
    naive_cpu: CpuGroups | None
    engine: Engine
    url: str
    secret: str
    links: SupporterLinks
    profile: Profile
    workdir: Path


@dataclass
class Contender:
    """One scenario of the interleaved rounds: its server, its requests, its rounds so far."""

    key: str
    base: str
    cpu: CpuGroups | None
    items: Sequence[Item]
    rounds: list[dict[str, Any]] = field(default_factory=list)
    sent: list[Item] = field(default_factory=list)


def interleave(run: Run, contenders: Sequence[Contender]) -> None:
    """`profile.rounds` rounds of every contender, in an order that rotates each round, so
    a neighbour's burst on the shared machine hits each of them alike.

    A round whose connections ended up mostly on one gunicorn worker (see `uneven`) is run
    again afterwards, up to EXTRA_ROUNDS times while enough unsent items are left, and left
    out of the median: it measures where wrk's connections landed, not the endpoint.
    """
    for n in range(run.profile.rounds):
        shift = n % len(contenders)
        for contender in [*contenders[shift:], *contenders[:shift]]:
            play(run, contender)
    for contender in contenders:
        while (sum(not m["uneven"] for m in contender.rounds) < run.profile.rounds
               and can_repeat(run, contender)):
            play(run, contender)


def play(run: Run, contender: Contender) -> None:
    """One more round of `contender`, on items no earlier round sent."""
    label = f"{contender.key}-{len(contender.rounds) + 1}"
    contender.rounds.append(measure_round(run, contender, label,
                                          unsent(contender.items, contender.sent)))
    contender.sent += contender.rounds[-1].pop("sent_items")


def can_repeat(run: Run, contender: Contender) -> bool:
    """Whether an uneven round may be run again: extra rounds left, and enough fresh writes
    for 1.5 times what the last round used."""
    if len(contender.rounds) >= run.profile.rounds + EXTRA_ROUNDS:
        return False
    wanted = contender.rounds[-1]["requests_per_s"] * run.profile.seconds * 1.5
    items = contender.items
    return items[0].key is None or len(unsent(items, contender.sent)) >= wanted


def measure_round(run: Run, contender: Contender, label: str,
                  items: Sequence[Item]) -> dict[str, Any]:
    """One wrk window on fresh connections: figures, CPU per request, and what it sent."""
    load = os.getloadavg()[0]
    before = cpu_snapshot(contender.cpu)
    result = run_wrk(contender.base, items, run.profile.seconds, run.workdir, label)
    cpu = cpu_per_request(before, cpu_snapshot(contender.cpu), result["requests"])
    m = {**figures(result), "load_average_before": load, "cpu_ms_per_request": cpu,
         "uneven": uneven(cpu), "sent_items": result["sent_items"]}
    log(f"{label}: {m['requests_per_s']:,.0f} req/s, p50 {m['p50_ms']:.1f} ms, "
        f"p99 {m['p99_ms']:.1f} ms, non-2xx {m['non_2xx']}, "
        f"socket errors {m['socket_errors_total']}, load average before {load:.2f}"
        + (f", cores per worker {cpu['worker_cores']}" if cpu else "")
        + (" (uneven: left out of the median)" if m["uneven"] else ""))
    return m


def uneven(cpu: dict[str, Any] | None) -> bool:
    """One worker used less than half the CPU of another: gthread keeps each keep-alive
    connection on the worker that accepted it, and when one worker's main thread wakes
    first it can take most of wrk's 16 connections (seen: 0.98 and 0.00 cores)."""
    cores = (cpu or {}).get("worker_cores") or []
    return len(cores) > 1 and cores[-1] < 0.5 * cores[0]


def unsent(items: Sequence[Item], sent: Sequence[Item]) -> Sequence[Item]:
    """The writes not sent yet (all of them once none is left: the Lua script counts repeats).

    Reads (no key) are always all of them.
    """
    done = {item.key for item in sent if item.key is not None}
    remaining = [item for item in items if item.key is None or item.key not in done]
    return remaining or items


def combine(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The median even round by requests/s, whole (its latency and CPU belong to that
    window), with counts summed over all rounds and every round's rate and p99 so the
    spread shows. With no even round at all, the median of all."""
    kept = [m for m in rounds if not m["uneven"]] or rounds
    median = sorted(kept, key=lambda m: m["requests_per_s"])[len(kept) // 2]
    statuses: dict[str, int] = {}
    for m in rounds:
        for status, n in m["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    summed = ("requests", "non_2xx", "socket_errors_total", "sent", "unanswered", "wrapped")
    return {
        **median,
        **{k: sum(m[k] for m in rounds) for k in summed},
        "statuses": dict(sorted(statuses.items())),
        "socket_errors": {k: sum(m["socket_errors"][k] for m in rounds)
                          for k in median["socket_errors"]},
        "max_ms": max(m["max_ms"] for m in rounds),
        "first_error": next((m["first_error"] for m in rounds if m["first_error"]), None),
        "rounds_requests_per_s": [m["requests_per_s"] for m in rounds],
        "rounds_p99_ms": [m["p99_ms"] for m in rounds],
        "rounds_uneven": [m["uneven"] for m in rounds],
        "rounds_worker_cores": [(m["cpu_ms_per_request"] or {}).get("worker_cores")
                                for m in rounds],
    }


def warm_up(run: Run, base: str, label: str, items: Sequence[Item]) -> float:
    """A short unmeasured run (pools fill, code paths compile); its requests/s."""
    result = run_wrk(base, items, run.profile.warmup_seconds, run.workdir, f"{label}-warm")
    log(f"{label} warm-up: {rate(result):,.0f} req/s over {result['requests']:,} requests")
    return rate(result)


def needed(profile: Profile, warm_rate: float, minimum: int, maximum: int) -> int:
    """Prepared requests for the measured rounds: 2.5 times what the warm-up rate would use
    (the warm-up starts cold, so it runs slower than the rounds)."""
    wanted = math.ceil(warm_rate * profile.seconds * profile.rounds * 2.5) + 4 * CONNECTIONS
    return max(minimum, min(maximum, wanted))


def cheap_minimum(profile: Profile) -> int:
    """The floor for requests that cost nothing to prepare (see `CHEAP_PER_S`)."""
    return CHEAP_PER_S * profile.seconds * profile.rounds


def naive_items(count: int, prefix: str) -> list[Item]:
    """`count` naive pledges, each from a supporter id of its own (its key)."""
    return [Item("POST", f"/actions/{ACTION_ID}/pledges", "",
                 f'{{"supporter_id":"{prefix}-{n}",{PLEDGE_BODY[1:]}', key=f"{prefix}-{n}")
            for n in range(count)]


def scenario_ceiling(run: Run) -> dict[str, Any]:
    ceiling = Contender("healthz", run.base, run.cpu, HEALTHZ)
    warm_up(run, run.base, "healthz", HEALTHZ)
    interleave(run, [ceiling])
    return {"title": "GET /healthz (ceiling)", **combine(ceiling.rounds)}


def prepare_naive(run: Run) -> Contender:
    """The naive app's pledges, sized from its warm-up."""
    warm_count = WARMUP_LETTERS_PER_S * run.profile.warmup_seconds
    warm_rate = warm_up(run, run.naive_base, "naive", naive_items(warm_count, "warm"))
    count = needed(run.profile, warm_rate, cheap_minimum(run.profile), 500_000)
    return Contender("naive", run.naive_base, run.naive_cpu, naive_items(count, "bench"))


def prepare_pledges(run: Run) -> Contender:
    """Each request: a different confirmed supporter pledges 3 letters to all targets."""
    warm_ids = create_supporters(run.url, run.secret, run.profile.warmup_supporters, "warm")
    warm_rate = warm_up(run, run.base, "pledges", pledge_items(run.links, warm_ids))
    count = needed(run.profile, warm_rate, run.profile.min_supporters,
                   run.profile.max_supporters)
    ids = create_supporters(run.url, run.secret, count, "bench")
    return Contender("pledges", run.base, run.cpu, pledge_items(run.links, ids))


def prepare_letters(run: Run) -> tuple[Contender, int]:
    """Each request: a new letter on one of the pledges made so far, round-robin."""
    pledges = open_pledges(run.engine)
    warm_count = WARMUP_LETTERS_PER_S * run.profile.warmup_seconds
    warm_rate = warm_up(run, run.base, "letters",
                        letter_items(run.links, pledges, warm_count, "warm"))
    count = needed(run.profile, warm_rate, cheap_minimum(run.profile), 500_000)
    items = letter_items(run.links, pledges, count, "bench")
    return Contender("letters", run.base, run.cpu, items), len(pledges)


TITLES = {"naive": f"naive POST /actions/{ACTION_ID}/pledges",
          "pledges": f"POST /api/v1/actions/{ACTION_ID}/pledges",
          "letters": "POST /api/v1/pledges/{id}/letters"}


def scenario_writes(run: Run) -> dict[str, dict[str, Any]]:
    """The naive app, pledges and letters in interleaved rounds; then each one's check that
    its table holds exactly the writes wrk sent."""
    naive = prepare_naive(run)
    pledges = prepare_pledges(run)
    letters, pledge_count = prepare_letters(run)
    written = {"naive": NAIVE_ROWS, "pledges": PLEDGED, "letters": LETTER_CONFIRMED}
    after = {}
    for key, source in written.items():
        settle(run.engine, source)
        after[key] = position(run.engine, source)
    contenders = [naive, pledges, letters]
    interleave(run, contenders)
    found = {}
    for contender in contenders:
        measured = combine(contender.rounds)
        key = contender.key
        found[key] = {"title": TITLES[key], **measured, "prepared": len(contender.items),
                      "consistency": consistency(run.engine, written[key], after[key],
                                                 contender.sent, measured)}
    found["letters"]["pledges"] = pledge_count
    for key in ("pledges", "letters"):
        found[key]["vs_naive"] = versus(found[key], found["naive"])
    return found


def versus(ours: dict[str, Any], naive: dict[str, Any]) -> dict[str, float]:
    """Ours / naive: requests/s (higher is better), p50 and p99 (lower is better)."""
    return {k: round(ours[k] / naive[k], 3) if naive[k] else math.inf
            for k in ("requests_per_s", "p50_ms", "p99_ms")}


# --- Report ----------------------------------------------------------------------------------


def check_targets(scenarios: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The targets with the measured values; `shown` is the value as the table prints it."""
    checked = []
    for key in ("pledges", "letters"):
        s = scenarios[key]
        ratio = s["vs_naive"]["requests_per_s"]
        checked += [
            {"target": f"{key} req/s ≥ {NAIVE_RATIO_TARGET}× the naive app's", "value": ratio,
             "shown": f"{ratio:.2f}×", "met": ratio >= NAIVE_RATIO_TARGET},
            {"target": f"{key} p99 < {P99_TARGET_MS:.0f} ms", "value": s["p99_ms"],
             "shown": f"{s['p99_ms']:.1f} ms", "met": s["p99_ms"] < P99_TARGET_MS},
        ]
    for key, s in scenarios.items():
        errors = s["non_2xx"] + s["socket_errors_total"]
        checked.append({"target": f"{key}: zero errors (non-2xx + socket errors)",
                        "value": errors, "shown": str(errors), "met": errors == 0})
    return checked


def machine(server: Server, workers: int, threads: int) -> dict[str, Any]:
    """The machine's facts, with wrk's version and how the servers were run."""
    return machine_facts(server, PACKAGES, wrk=wrk_version(),
                         gunicorn={"workers": workers, "threads": threads,
                                   "worker_class": "gthread"},
                         load={"connections": CONNECTIONS, "wrk_threads": WRK_THREADS})


def mark(met: bool) -> str:
    return "pass" if met else "FAIL"


def markdown(report: dict[str, Any]) -> str:
    """The report as tables a reader can paste into docs/performance.md."""
    m = report["machine"]
    g = m["gunicorn"]
    lines = [
        machine_line(m, m["wrk"]),
        f"Mode: {report['mode']}; gunicorn {g['workers']} workers x {g['threads']} threads "
        f"({g['worker_class']}); wrk -t{WRK_THREADS} -c{CONNECTIONS}, "
        f"{report['rounds']} round(s) of {report['seconds_per_round']} s per scenario after a "
        f"{report['warmup_seconds']} s warm-up; the median round shown, requests and errors "
        "summed over all rounds.",
        "",
        "| Scenario | req/s | vs naive | vs healthz | p50 ms | p90 ms | p99 ms | max ms |"
        " requests | non-2xx | socket errors | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ceiling = report["scenarios"]["healthz"]["requests_per_s"]
    naive = report["scenarios"]["naive"]["requests_per_s"]
    for s in report["scenarios"].values():
        lines.append(
            f"| {s['title']} | {s['requests_per_s']:,.0f} | {s['requests_per_s'] / naive:.2f}× | "
            f"{s['requests_per_s'] / ceiling:.1%} | {s['p50_ms']:.2f} | {s['p90_ms']:.2f} | "
            f"{s['p99_ms']:.2f} | {s['max_ms']:.1f} | {s['requests']:,} | {s['non_2xx']} | "
            f"{s['socket_errors_total']} | {s['load_average_before']:.2f} |")
    lines += ["", "Requests/s / p99 ms of each round (* uneven over the workers, left out): "
              + "; ".join(f"{key} " + ", ".join(
                  f"{r:,.0f} / {p:.0f}{'*' if u else ''}" for r, p, u in zip(
                      s["rounds_requests_per_s"], s["rounds_p99_ms"], s["rounds_uneven"],
                      strict=True))
                  for key, s in report["scenarios"].items()) + "."]
    lines += ["", "| Ours / naive (interleaved rounds, medians) | req/s | p50 | p99 |",
              "|---|---:|---:|---:|"]
    for key in ("pledges", "letters"):
        v = report["scenarios"][key]["vs_naive"]
        lines.append(f"| {key} | {v['requests_per_s']:.2f}× | {v['p50_ms']:.2f}× | "
                     f"{v['p99_ms']:.2f}× |")
    lines += ["", "| Target | measured | result |", "|---|---:|---|"]
    lines += [f"| {t['target']} | {t['shown']} | {mark(t['met'])} |" for t in report["targets"]]
    lines += ["", "| Consistency | events | 201 answered | unanswered at stop | "
              "events = 201 | events = 201 + unanswered, same set as sent |",
              "|---|---:|---:|---:|---|---|"]
    for key in ("naive", "pledges", "letters"):
        c = report["scenarios"][key]["consistency"]
        lines.append(
            f"| {c['event_type']} ({key}) | {c['events']:,} | {c['answered_201']:,} | "
            f"{c['unanswered']} | {'yes' if c['events_equal_201'] else 'no'} | "
            f"{mark(c['consistent'])} |")
    lines += cpu_table(report)
    lines += notes(report)
    return "\n".join(lines)


def cpu_table(report: dict[str, Any]) -> list[str]:
    """CPU ms per request by process group: where the two cores went."""
    rows = [(s["title"], s["cpu_ms_per_request"]) for s in report["scenarios"].values()
            if s["cpu_ms_per_request"]]
    if not rows:
        return []
    lines = ["", "| CPU ms per request | gunicorn | PostgreSQL | wrk | other processes |"
             " all cores busy | cores used per worker |", "|---|---:|---:|---:|---:|---:|---|"]
    for title, c in rows:
        workers = " / ".join(f"{w:.2f}" for w in c["worker_cores"])
        lines.append(f"| {title} | {c['gunicorn']:.3f} | {c['postgres']:.3f} | {c['wrk']:.3f} | "
                     f"{c['other'] + c['bench']:.3f} | {c['machine_busy_pct']:.0f} % | "
                     f"{workers} |")
    return lines


def notes(report: dict[str, Any]) -> list[str]:
    """Anything that makes a figure suspect: repeats, first error, server tracebacks."""
    found = []
    for key, s in report["scenarios"].items():
        if key != "healthz" and s["wrapped"]:
            found.append(f"- {key}: ran out of prepared requests; {s['wrapped']} repeats.")
        if all(s["rounds_uneven"]):
            found.append(f"- {key}: every round had its connections mostly on one gunicorn "
                         f"worker (cores per worker: {s['rounds_worker_cores']}): "
                         "the figures are low.")
        if s["first_error"]:
            found.append(f"- {key}: first non-2xx answer: {s['first_error'][:300]}")
    problems = report["server_log"]
    if problems["error_lines"]:
        found.append(f"- gunicorn logged {problems['error_lines']} error lines, "
                     f"{problems['tracebacks']} tracebacks; first: {problems['first'][:1]}")
    return ["", *found] if found else []


# --- Entry point -----------------------------------------------------------------------------


def redis_url() -> str:
    """Redis for the web process: without one it would run workers inside itself."""
    found = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL")
    if not found:
        raise SystemExit("bench: no Redis: run under scripts/with-services (TEST_REDIS_URL)")
    return found


def run(profile: Profile, mode: str, workers: int, threads: int) -> dict[str, Any]:
    """Set up, run the three scenarios side by side on one server, tear down: the report."""
    secret = secrets.token_urlsafe(36)  # 48 characters
    with server_for(server_url(None)) as server, tempfile.TemporaryDirectory() as tmp:
        facts = machine(server, workers, threads)
        url = server.database("api")
        seed(url, secret)
        engine = create_engine(url, poolclass=NullPool)
        log_path = Path(tmp) / "gunicorn.log"
        naive_log = Path(tmp) / "naive.log"
        naive_api.metadata.create_all(engine)
        try:
            with gunicorn(url, redis_url(), secret, workers, threads, log_path) as served, \
                    gunicorn(url, redis_url(), secret, workers, threads, naive_log,
                             NAIVE_APP) as naive:
                bench = Run(served.base, cpu_groups(served, engine), naive.base,
                            cpu_groups(naive, engine), engine, url, secret,
                            SupporterLinks(secret), profile, Path(tmp))
                scenarios = {"healthz": scenario_ceiling(bench), **scenario_writes(bench)}
        finally:
            engine.dispose()
        server_log = server_log_problems(log_path)
        naive_server_log = server_log_problems(naive_log)
    facts["load_average_at_end"] = os.getloadavg()[0]
    targets = check_targets(scenarios)
    return {
        "mode": mode, "rounds": profile.rounds, "seconds_per_round": profile.seconds,
        "warmup_seconds": profile.warmup_seconds, "machine": facts, "scenarios": scenarios,
        "targets": targets, "all_targets_met": all(t["met"] for t in targets),
        "consistent": all(scenarios[k]["consistency"]["consistent"]
                          for k in ("naive", "pledges", "letters")),
        "server_log": server_log, "naive_server_log": naive_server_log,
    }


def main(argv: list[str] | None = None) -> int:
    parser = arguments("api", "HTTP API under load: pledges and letters vs the naive app "
                       "(and GET /healthz), with wrk.", "one 2 s round per scenario: prove it runs")
    parser.add_argument("--seconds", type=int, help="seconds per measured round "
                        "(default: 5 x 3 rounds, or 2 x 1 with --quick)")
    parser.add_argument("--workers", type=int, default=GUNICORN_WORKERS,
                        help=f"gunicorn worker processes (default {GUNICORN_WORKERS})")
    parser.add_argument("--threads", type=int, default=GUNICORN_THREADS,
                        help=f"threads per gunicorn worker (default {GUNICORN_THREADS})")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed; install it with `apt-get install -y wrk`",
              file=sys.stderr)
        return 2
    mode = "quick" if args.quick else "full"
    profile = QUICK if args.quick else FULL
    if args.seconds:
        profile = replace(profile, seconds=args.seconds)
    report = run(profile, mode, args.workers, args.threads)
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 0 if report["consistent"] else 1


if __name__ == "__main__":
    sys.exit(main())
