"""Benchmark outbound webhooks end to end: append an event, measure when partners have it.

Why: partners should hear about a development within a second, and a partner whose
endpoint is slow must not make the others wait. This measures the whole path the product
takes — the command appends the event; the outbox follower (a worker) turns it into
delivery rows and queue messages; a worker signs and POSTs it — with the Procfile's
processes: `dramatiq workers.main --processes 2` (4 threads each) and the clock
(`python -m workers.main`), on real PostgreSQL and Redis (`TEST_POSTGRES_URL`,
`TEST_REDIS_URL`, as `scripts/with-services` sets them).

50 partner endpoints listen on loopback in a child process (tests/fakes/partner_receiver:
each request is verified with the `standardwebhooks` library and time-stamped on arrival).
The bench registers 50 partners over 500 cases, partner i following the cases c with
c mod 50 in {i, i - 1}, so every event goes to 2 partners (`--fanout`). Events are case
developments appended through the product's command handler at a steady rate (`--rate`,
open loop: a late append does not delay the next ones). Latency is from the append's
commit to the partner's receipt, for every delivery; after a warm-up, two scenarios run
on fresh databases:

1. steady: every endpoint answers at once;
2. one slow: partner 0 answers after 5 s; the other 49's latencies are reported (partner
   0 gets its deliveries two at a time, 5 s each: it falls behind, as it must);
3. backlog: events appended while no worker runs, then drained: deliveries/s at capacity
   (one appender could not outrun the workers), timed from the first delivery.

    scripts/with-services .venv/bin/python -m bench.webhooks [--quick] [--json]

A benchmark, not a test: a missed target is reported, never turned into a failing exit
code. Exit 1 when a delivery is lost, doubled or fails verification (the figures mean
nothing then).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, select

from bench.api import cpu_ticks, family, machine_ticks, postmaster_pid
from bench.servers import (
    Server,
    arguments,
    machine_facts,
    machine_line,
    server_for,
    server_url,
)
from bench.webhook_stages import percentile, recorded_times, stage_latencies, stage_lines
from campaign.application.commands import Meta
from campaign.bootstrap import Container, build
from campaign.domain import case
from campaign.domain.values import OnDate
from campaign.infra.database import upgrade
from campaign.infra.tables import webhook_deliveries
from campaign.partners.admin import PartnerForm, register_partner
from campaign.settings import Settings

# Library versions each report names beside the machine.
PACKAGES = ("sqlalchemy", "psycopg", "dramatiq", "redis", "urllib3", "standardwebhooks")

REPO = Path(__file__).resolve().parent.parent
PARTNERS = 50
CASES = 500
WORKER_PROCESSES = 2
WORKER_THREADS = 8  # dramatiq's default for `dramatiq workers.main --processes 2`
P99_TARGET_MS = 1000.0
SLOW_SECONDS = 5.0
META = Meta(actor="bench", correlation_id="bench-webhooks")
# Not a secret: the bench's own throwaway database and processes.
SECRET = "bench-webhooks-fixed-key-0123456789abcdef"
REDIS_DB = 15  # apart from anything else on the server


def log(message: str) -> None:
    """Progress goes to stderr so `--json` leaves stdout to the one JSON object."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Profile:
    """How many events, how fast, and how long to wait for the last deliveries."""

    events: int
    warmup: int
    rate: float  # events appended per second in the steady scenarios
    fanout: int
    drain_timeout: float
    burst: int  # events appended before the workers start, drained to measure deliveries/s


FULL = Profile(events=10_000, warmup=200, rate=40.0, fanout=2, drain_timeout=900.0,
               burst=3_000)
QUICK = Profile(events=150, warmup=30, rate=30.0, fanout=2, drain_timeout=120.0, burst=150)


# --- The partners' endpoints, in a process of their own -------------------------------------


def receivers_process(count: int, slow: int | None, pipe: Pipe) -> None:
    """Serve `count` endpoints; learn their secrets; on "stop", send back what arrived."""
    sys.path.insert(0, str(REPO))
    from tests.fakes.partner_receiver import Answer, PartnerReceiver

    servers = [PartnerReceiver().start() for _ in range(count)]
    if slow is not None:
        servers[slow].answer_always(Answer(200, body=b"{}", delay=SLOW_SECONDS))
    pipe.send([s.url for s in servers])
    for server, secret in zip(servers, pipe.recv(), strict=True):
        server.secrets = [secret]
    pipe.recv()  # "stop"
    arrived = [[(r.webhook_id, r.received_at, r.verified, r.answered,
                 r.payload["data"].get("development_id") if r.verified else None)
                for r in server.requests()] for server in servers]
    pipe.send(arrived)
    for server in servers:
        server.stop()


@contextmanager
def receivers(count: int, slow: int | None) -> Iterator[tuple[list[str], Pipe, int]]:
    ctx = mp.get_context("fork")
    ours, theirs = ctx.Pipe()
    process = ctx.Process(target=receivers_process, args=(count, slow, theirs), daemon=True)
    process.start()
    try:
        yield ours.recv(), ours, process.pid or 0
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()


# --- The product's processes -----------------------------------------------------------------


def settings_for(url: str, redis_url: str, var_dir: Path) -> dict[str, str]:
    return {"DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": SECRET,
            "WEBHOOK_ALLOW_PRIVATE": "1", "LOG_LEVEL": "WARNING", "VAR_DIR": str(var_dir)}


def binary(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@contextmanager
def workers_and_clock(env: dict[str, str], workdir: Path) -> Iterator[dict[str, int]]:
    """`dramatiq workers.main --processes 2 --threads 4` and the clock, until the block ends."""
    full = {**os.environ, **env}
    commands = {
        "worker": [binary("dramatiq"), "workers.main", "--processes", str(WORKER_PROCESSES),
                   "--threads", str(WORKER_THREADS)],
        "clock": [sys.executable, "-m", "workers.main"],
    }
    started = []
    try:
        for name, command in commands.items():
            out = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
            started.append((name, subprocess.Popen(command, env=full, cwd=REPO, stdout=out,
                                                   stderr=subprocess.STDOUT), out))
        yield {name: process.pid for name, process, _ in started}
    finally:
        for _, process, _ in started:
            process.terminate()
        for name, process, out in started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            out.close()
            if process.returncode not in (0, -15):
                log(f"{name} exited with {process.returncode}:\n"
                    + (workdir / f"{name}.log").read_text(errors="replace")[-2000:])


# --- Setup through the product's own handlers -----------------------------------------------


def seed(container: Container, urls: Sequence[str], fanout: int) -> list[str]:
    """The cases and partners; each partner's secret, in the order of `urls`."""
    now = datetime.now(UTC)
    for c in range(CASES):
        container.commands.handle(case.OpenCase(
            case_id=f"case-{c}", subject_name=f"Defender {c}", subject_kind="person",
            country="KG", summary="A human rights defender at risk.", tags=(), opened_at=now),
            META)
    secrets = []
    for p, url in enumerate(urls):
        followed = tuple(f"case-{c}" for c in range(CASES)
                         if (c - p) % PARTNERS in range(fanout))
        issued = register_partner(container.commands, container.vault, PartnerForm(
            name=f"Partner {p}", contact_email=f"partner{p}@example.org", webhook_url=url,
            case_ids=followed, event_types=("case.development_recorded",),
            partner_id=f"partner-{p}"), META, now,
            allow_private=container.settings.webhook_allow_private)
        secrets.append(issued.signing_secret)
    return secrets


def partners_of(case_number: int, fanout: int) -> list[int]:
    return [(case_number - k) % PARTNERS for k in range(fanout)]


def append(container: Container, development_id: str, case_number: int) -> float:
    """One development through the command handler; the wall time just after its commit."""
    now = datetime.now(UTC)
    container.commands.handle(case.RecordDevelopment(
        case_id=f"case-{case_number}", development_id=development_id, kind="hearing_scheduled",
        occurred=OnDate(date(2026, 5, 13)), summary="A hearing is scheduled at the Supreme "
        "Court to consider the cassation appeal.", source=case.DevelopmentSource(
            kind="campaigner"), recorded_at=now), META)
    return time.time()


def append_steadily(container: Container, prefix: str, count: int, rate: float | None,
                    first_case: int = 0) -> dict[str, tuple[float, int]]:
    """`count` events at `rate` per second (open loop; None: at once, one after the other);
    development id -> (time, case)."""
    appended: dict[str, tuple[float, int]] = {}
    start = time.monotonic()
    for n in range(count):
        wait = start + n / rate - time.monotonic() if rate else 0
        if wait > 0:
            time.sleep(wait)
        case_number = (first_case + n) % CASES
        development_id = f"{prefix}-{n}"
        appended[development_id] = (append(container, development_id, case_number), case_number)
    return appended


def delivered(container: Container, slow: int | None) -> int:
    """Deliveries made so far, the slow partner's left out."""
    d = webhook_deliveries.c
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(webhook_deliveries)
                                .where(d.status == "succeeded",
                                       d.partner_id != f"partner-{slow}")).scalar_one())


def wait_until(condition: Any, timeout: float, what: str) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            log(f"gave up waiting for {what}")
            return False
        time.sleep(0.25)
    return True


# --- One scenario ------------------------------------------------------------------------------


def run_scenario(server: Server, redis_url: str, profile: Profile, slow: int | None,
                 name: str, backlog: bool = False) -> dict[str, Any]:
    """Fresh database, endpoints and processes; warm up, then the measured events.

    `backlog`: the events are appended before the workers start, which then drain them:
    the pipeline's capacity, not limited by how fast one appender can go.
    """
    url = server.database(name)
    upgrade(url)
    flush = redis.Redis.from_url(redis_url)
    flush.flushdb()
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp, \
            receivers(PARTNERS, slow) as (urls, pipe, receivers_pid):
        workdir = Path(tmp)
        env = settings_for(url, redis_url, workdir / "var")
        container = build(Settings.from_env(env))
        counted = 0

        def expected_now() -> bool:
            return delivered(container, slow) >= counted

        try:
            pipe.send(seed(container, urls, profile.fanout))
            appended: dict[str, tuple[float, int]] = {}
            if backlog:
                log(f"{name}: appending {profile.burst:,} events before the workers start")
                appended = append_steadily(container, "event", profile.burst, None)
            with workers_and_clock(env, workdir) as pids:
                groups = {"workers": (pids["worker"], True), "clock": (pids["clock"], False),
                          "postgres": (postmaster_pid(container.engine) or 0, True),
                          "partners": (receivers_pid, False), "appends": (os.getpid(), False)}
                if not backlog:
                    warm = append_steadily(container, "warmup", profile.warmup, profile.rate)
                    counted = sum(len(others(c, profile.fanout, slow)) for _, c in warm.values())
                    wait_until(expected_now, profile.drain_timeout, "the warm-up deliveries")
                    log(f"{name}: warm-up done ({counted} deliveries); appending "
                        f"{profile.events:,} events at {profile.rate:g}/s")
                started, before = time.time(), cpu(groups)
                if not backlog:
                    appended = append_steadily(container, "event", profile.events, profile.rate,
                                               first_case=profile.warmup)
                appending = time.time() - started
                counted += sum(len(others(c, profile.fanout, slow))
                               for _, c in appended.values())
                drained = wait_until(expected_now, profile.drain_timeout, "the deliveries")
                used = {name: ticks - before[name] for name, ticks in cpu(groups).items()}
            pipe.send("stop")
            arrived = pipe.recv()
            recorded = recorded_times(container.engine)
        finally:
            container.engine.dispose()
    flush.flushdb()
    result = summarize(name, profile, slow, appended, arrived, appending, drained, backlog)
    result["stages"] = stage_latencies(appended, arrived, recorded, slow)
    per_delivery = 1000 / os.sysconf("SC_CLK_TCK") / max(result["deliveries"], 1)
    result["cpu_ms_per_delivery"] = {k: round(v * per_delivery, 2) for k, v in used.items()}
    return result


def cpu(groups: dict[str, tuple[int, bool]]) -> dict[str, int]:
    """CPU ticks so far of each group: a process, or one and its children (Linux /proc);
    "other" is the rest of the machine (other workloads shows there)."""
    found = {name: sum(cpu_ticks(p) for p in (family(pid) if children else [pid]))
             for name, (pid, children) in groups.items() if pid}
    found["other"] = machine_ticks()[0] - sum(found.values())
    return found


def others(case_number: int, fanout: int, slow: int | None) -> list[int]:
    return [p for p in partners_of(case_number, fanout) if p != slow]


def summarize(name: str, profile: Profile, slow: int | None,
              appended: dict[str, tuple[float, int]], arrived: list[list[Any]],
              appending: float, drained: bool, backlog: bool) -> dict[str, Any]:
    """Latency per delivery of the measured events, throughput, and the consistency check."""
    latencies: list[float] = []
    seen: set[tuple[int, str]] = set()
    problems = {"unverified": 0, "doubled": 0, "missing": 0}
    first_append = min(t for t, _ in appended.values())
    first_receipt, last_receipt = float("inf"), first_append
    for partner, requests in enumerate(arrived):
        for webhook_id, received_at, verified, answered, development_id in requests:
            if not verified:
                problems["unverified"] += 1
                continue
            if (partner, webhook_id) in seen:
                problems["doubled"] += 1
            seen.add((partner, webhook_id))
            if development_id in appended and partner != slow and 200 <= answered < 300:
                latencies.append(received_at - appended[development_id][0])
                first_receipt = min(first_receipt, received_at)
                last_receipt = max(last_receipt, received_at)
    expected = sum(len(others(c, profile.fanout, slow)) for _, c in appended.values())
    problems["missing"] = expected - len(latencies)
    latencies.sort()
    slow_received = None if slow is None else sum(
        1 for r in arrived[slow] if r[4] in appended)
    slow_expected = None if slow is None else sum(
        1 for _, c in appended.values() if slow in partners_of(c, profile.fanout))
    ms = [x * 1000 for x in latencies] or [float("nan")]
    result: dict[str, Any] = {
        "scenario": name, "events": len(appended),
        "appended_at_per_s": None if backlog else round(len(appended) / appending, 1),
        "deliveries": len(latencies),
        # A backlog is timed from its first delivery (the workers' start-up is not counted).
        "deliveries_per_s": round(len(latencies) / (
            last_receipt - (first_receipt if backlog else first_append)), 1),
        "p50_ms": round(statistics.median(ms), 1), "p90_ms": round(percentile(ms, 0.90), 1),
        "p99_ms": round(percentile(ms, 0.99), 1), "max_ms": round(ms[-1], 1),
        "drained": drained, "problems": problems,
        "slow_partner": None if slow is None else {
            "answers_after_s": SLOW_SECONDS, "received": slow_received,
            "of": slow_expected},
    }
    # A backlog measures capacity: its deliveries queue by design, so no latency target.
    result["target_met"] = None if backlog else result["p99_ms"] < P99_TARGET_MS
    log(f"{name}: {result['deliveries']:,} deliveries, p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms, {result['deliveries_per_s']} deliveries/s")
    return result


# --- Report ------------------------------------------------------------------------------------




def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        machine_line(m),
        f"Mode: {report['mode']}; {PARTNERS} endpoints, fan-out {report['fanout']}, "
        f"{WORKER_PROCESSES} worker processes x {WORKER_THREADS} threads.",
        "",
        "| Scenario | events | appended/s | deliveries | deliveries/s | p50 ms | p90 ms | p99 ms |"
        " max ms | p99 < 1 s | lost / doubled / unverified |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in report["scenarios"]:
        p = r["problems"]
        lines.append(
            f"| {r['scenario']} | {r['events']:,} | {r['appended_at_per_s'] or '—'} | "
            f"{r['deliveries']:,} | {r['deliveries_per_s']:,.1f} | {r['p50_ms']:,.1f} | "
            f"{r['p90_ms']:,.1f} | {r['p99_ms']:,.1f} | {r['max_ms']:,.1f} | "
            f"{ {True: 'pass', False: 'FAIL', None: 'n/a'}[r['target_met']]} | "
            f"{p['missing']} / {p['doubled']} / {p['unverified']} |")
    names = list(report["scenarios"][0]["cpu_ms_per_delivery"])
    lines += ["", "| CPU ms per delivery | " + " | ".join(names) + " |",
              "|---|" + "---:|" * len(names)]
    for r in report["scenarios"]:
        lines.append(f"| {r['scenario']} | "
                     + " | ".join(f"{r['cpu_ms_per_delivery'][n]:.2f}" for n in names) + " |")
    lines += stage_lines(report["scenarios"])
    for r in report["scenarios"]:
        if r["slow_partner"]:
            s = r["slow_partner"]
            lines += ["", f"Slow partner ({s['answers_after_s']:g} s per answer): "
                      f"{s['received']} of its {s['of']} deliveries arrived while the others "
                      "got all of theirs."]
    return "\n".join(lines)


SCENARIOS = ("steady", "one_slow", "backlog")
TITLES = {"steady": "steady", "one_slow": "one slow (5 s) partner",
          "backlog": "backlog drained (capacity)"}


def run(profile: Profile, mode: str, only: Sequence[str] = SCENARIOS) -> dict[str, Any]:
    url = server_url(None)
    redis_base = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL")
    if not redis_base:
        raise SystemExit("bench: no Redis: set BENCH_REDIS_URL (scripts/with-services sets "
                         "TEST_REDIS_URL)")
    redis_url = redis_base.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    with server_for(url, "bench_webhooks") as server:
        facts = machine_facts(server, PACKAGES,
                              workers={"processes": WORKER_PROCESSES,
                                       "threads": WORKER_THREADS})
        tag = uuid.uuid4().hex[:6]
        scenarios = [run_scenario(server, redis_url, profile, 0 if name == "one_slow" else None,
                                  f"{name}_{tag}", name == "backlog")
                     for name in SCENARIOS if name in only]
    for scenario, name in zip(scenarios, [n for n in SCENARIOS if n in only], strict=True):
        scenario["scenario"] = TITLES[name]
    return {"mode": mode, "fanout": profile.fanout, "machine": facts, "scenarios": scenarios,
            "all_targets_met": all(s["target_met"] is not False for s in scenarios),
            "consistent": all(s["drained"] and not any(s["problems"].values())
                              for s in scenarios)}


def main(argv: list[str] | None = None) -> int:
    parser = arguments("webhooks", "Append-to-receipt latency of partner webhooks.",
                       "few events: prove it runs")
    parser.add_argument("--events", type=int, help="measured events per scenario")
    parser.add_argument("--rate", type=float, help="events appended per second")
    parser.add_argument("--burst", type=int, help="events of the backlog scenario")
    parser.add_argument("--only", choices=SCENARIOS, action="append",
                        help="run this scenario (repeatable; default: all three)")
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    if args.events or args.rate or args.burst:
        profile = Profile(args.events or profile.events, profile.warmup,
                          args.rate or profile.rate, profile.fanout, profile.drain_timeout,
                          args.burst or profile.burst)
    report = run(profile, "quick" if args.quick else "full", args.only or SCENARIOS)
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 0 if report["consistent"] else 1


if __name__ == "__main__":
    sys.exit(main())
