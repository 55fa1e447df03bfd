"""Benchmark our event store's append against eventsourcing's PostgreSQL recorder and raw INSERTs.

Why: `EventStore.append` goes through SQLAlchemy and the `events_append` PL/pgSQL function
(expected-version check, transaction id for gap-safe tails). This measures what that costs
next to a mature library doing the same job and next to the plainest INSERT the server takes,
all on one PostgreSQL server in one run. (Projection rebuilds: bench/rebuild.py.)

    scripts/with-services .venv/bin/python -m bench.append [--quick] [--json] [--neighbour]
        [--only a,b,c] [--database-url URL]

`--neighbour` keeps one CPU-bound process spinning beside the writers during every round of
the append scenarios (bench/neighbour.py), as another tenant of a shared host would.

A benchmark, not a test: missed targets are reported, never turned into a failing exit code.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import queue
import statistics
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from eventsourcing.persistence import StoredEvent as EsStoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from bench.neighbour import neighbour
from bench.servers import (
    Server,
    arguments,
    machine_facts,
    machine_line,
    server_for,
    server_url,
)
from campaign.infra.database import upgrade
from events import EventStore, NewEvent, create_store_engine

# Library versions each report names beside the machine.
PACKAGES = ("sqlalchemy", "psycopg", "eventsourcing")

CONTENDERS = ("ours", "eventsourcing", "raw")
EVENT_TYPE = "LetterSent"
TOPIC = f"campaign.events:{EVENT_TYPE}"
# A realistic payload (591 bytes of JSON): every contender stores these same two dicts.
DATA: dict[str, Any] = {
    "case_id": "case-7d3f9a2c",
    "action_id": "action-2291",
    "supporter_id": "supporter-58114",
    "channel": "email",
    "recipient": {"name": "Office of the Minister of Justice", "country": "XX"},
    "subject": "Release the detained journalist now",
    "body": "I am writing to urge you to release the journalist immediately. " * 3,
}
METADATA: dict[str, Any] = {
    "correlation_id": "6f0e1f8e-3c1b-4c55-9a57-0d5f7f1f0b52",
    "causation_id": "0b7c1f0e-2d7a-4c6b-8a0e-5b9a7f3c2e11",
    "actor": "supporter-58114",
    "request_id": "req-1c9e4b7a",
}
STREAM_LENGTH = 100  # single-event writers move to a new stream after this many events
BARRIER_TIMEOUT = 120.0


def log(message: str) -> None:
    """Progress goes to stderr so `--json` leaves stdout to the one JSON object."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def compact_json(value: dict[str, Any]) -> str:
    """The same encoding our store uses, so every contender ships the same bytes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


PAYLOAD_BYTES = len(compact_json(DATA).encode()) + len(compact_json(METADATA).encode())


# --- Settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """How long each cell runs; the quick profile only proves the bench works.

    A cell runs in `rounds` separate windows, contenders interleaved, and reports the
    median: on a shared 2-core machine one long window per contender drifts too much.
    """

    warmup: float
    duration: float
    rounds: int


FULL = Timing(warmup=0.5, duration=2.5, rounds=3)
QUICK = Timing(warmup=0.05, duration=0.25, rounds=1)


@dataclass(frozen=True)
class Scenario:
    """A workload every contender runs: how many writer processes, how many events per tx."""

    key: str
    title: str
    writers: int
    batch: int


SCENARIOS = (
    Scenario("a", "1 writer, 1 event/tx", writers=1, batch=1),
    Scenario("b", "8 writer processes, 1 event/tx", writers=8, batch=1),
    Scenario("c", "1 writer, 100 events/tx", writers=1, batch=100),
)


@dataclass(frozen=True)
class Target:
    """A ratio the store should reach in a scenario."""

    scenario: str
    ratio: str  # key into the scenario's ratios
    minimum: float


PARTS = frozenset(s.key for s in SCENARIOS)

TARGETS = (
    Target("a", "ours/eventsourcing", 1.5),
    Target("b", "ours/eventsourcing", 2.8),
    Target("c", "ours/eventsourcing", 1.0),
    Target("c", "ours/raw", 0.8),
)


# --- Contenders: one unit of work = one transaction of `count` events to one stream ------------


class Writer(Protocol):
    """What the driver needs from a contender; each process builds its own."""

    def write(self, stream: uuid.UUID, expected: int, count: int) -> None: ...

    def close(self) -> None: ...


class OursWriter:
    """`EventStore.append` with an exact expected version, as the application calls it."""

    def __init__(self, url: str) -> None:
        self.engine = create_store_engine(url)
        self.store = EventStore(self.engine)

    def write(self, stream: uuid.UUID, expected: int, count: int) -> None:
        batch = [NewEvent(type=EVENT_TYPE, data=DATA, metadata=METADATA) for _ in range(count)]
        result = self.store.append(f"bench-{stream}", batch, expected)
        if result.stream_version != expected + count:
            raise RuntimeError(f"stream at {result.stream_version}, wanted {expected + count}")

    def close(self) -> None:
        self.engine.dispose()


class EventsourcingWriter:
    """eventsourcing's PostgresApplicationRecorder: table lock, NOTIFY and INSERT, pipelined."""

    def __init__(self, url: str) -> None:
        self.datastore = eventsourcing_datastore(url)
        self.recorder = PostgresApplicationRecorder(self.datastore)

    def write(self, stream: uuid.UUID, expected: int, count: int) -> None:
        # Its mapper would serialise each event; do the same JSON work our store does.
        self.recorder.insert_events([
            EsStoredEvent(
                originator_id=stream,
                originator_version=expected + n,
                topic=TOPIC,
                state=compact_json({"data": DATA, "metadata": METADATA}).encode(),
            )
            for n in range(1, count + 1)
        ])

    def close(self) -> None:
        self.datastore.close()


class RawWriter:
    """The floor: one multi-row INSERT in autocommit, i.e. one transaction and one round trip."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(conninfo(url), autocommit=True)
        self.statements: dict[int, str] = {}

    def write(self, stream: uuid.UUID, expected: int, count: int) -> None:
        stream_id = f"bench-{stream}"
        params: list[Any] = []
        for n in range(1, count + 1):
            params += (uuid.uuid4(), stream_id, expected + n, EVENT_TYPE, 1,
                       compact_json(DATA), compact_json(METADATA))
        rows = self.conn.execute(self.statement(count), params).fetchall()
        if len(rows) != count:
            raise RuntimeError(f"inserted {len(rows)} rows, wanted {count}")

    def statement(self, count: int) -> str:
        """`INSERT … VALUES (…), (…) RETURNING position`, built once per batch size."""
        if count not in self.statements:
            row = "(%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb)"
            self.statements[count] = (
                "INSERT INTO events (event_id, stream_id, stream_version, type, schema_version,"
                " data, metadata) VALUES " + ", ".join([row] * count) + " RETURNING position"
            )
        return self.statements[count]

    def close(self) -> None:
        self.conn.close()


WRITERS: dict[str, Callable[[str], Writer]] = {
    "ours": OursWriter,
    "eventsourcing": EventsourcingWriter,
    "raw": RawWriter,
}

# Our `events` table without the append function and triggers; same columns and unique keys.
RAW_SCHEMA = """
CREATE TABLE events (
  position bigserial PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  stream_id text NOT NULL,
  stream_version integer NOT NULL,
  type text NOT NULL,
  schema_version smallint NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  xact_id bigint
);
CREATE UNIQUE INDEX events_stream_version_key ON events (stream_id, stream_version);
"""


def conninfo(url: str) -> str:
    """A libpq connection string for a SQLAlchemy URL."""
    parsed = make_url(url)
    parts = {"host": parsed.host, "port": parsed.port, "dbname": parsed.database,
             "user": parsed.username, "password": parsed.password}
    return make_conninfo(**{k: v for k, v in parts.items() if v is not None})


def eventsourcing_datastore(url: str) -> PostgresDatastore:
    """A one-connection datastore, as each of our writer processes has one engine."""
    parsed = make_url(url)
    return PostgresDatastore(
        dbname=parsed.database or "postgres", host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432, user=parsed.username or "postgres",
        password=parsed.password or "", pool_size=1,
    )


# --- Driving writers -------------------------------------------------------------------------


@dataclass
class StreamPlan:
    """Each writer fills its own streams, `length` events each, with exact expected versions."""

    length: int
    stream: uuid.UUID = field(default_factory=uuid.uuid4)
    version: int = 0

    def next(self, count: int) -> tuple[uuid.UUID, int]:
        """The stream for the next `count` events and the version it must be at."""
        if self.version + count > self.length:
            self.stream, self.version = uuid.uuid4(), 0
        expected, self.version = self.version, self.version + count
        return self.stream, expected


@dataclass(frozen=True)
class Outcome:
    """What one writer process did in the measured window."""

    events: int
    started: float
    finished: float
    latencies: list[float]


def drive(writer: Writer, plan: StreamPlan, batch: int, seconds: float) -> Outcome:
    """Write transactions back to back for `seconds`, timing each."""
    latencies: list[float] = []
    started = time.monotonic()
    deadline = started + seconds
    now = started
    while now < deadline:
        stream, expected = plan.next(batch)
        writer.write(stream, expected, batch)
        later = time.monotonic()
        latencies.append(later - now)
        now = later
    return Outcome(len(latencies) * batch, started, now, latencies)


def writer_process(
    contender: str, url: str, batch: int, timing: Timing, barrier: Any, results: Any
) -> None:
    """One writer: connect, warm up, start with the others, report its outcome or traceback."""
    try:
        writer = WRITERS[contender](url)
        try:
            plan = StreamPlan(max(STREAM_LENGTH, batch))
            drive(writer, plan, batch, timing.warmup)
            barrier.wait(BARRIER_TIMEOUT)
            outcome = drive(writer, plan, batch, timing.duration)
        finally:
            writer.close()
        results.put((outcome, None))
    except BaseException:
        barrier.abort()
        results.put((None, traceback.format_exc()))


@dataclass(frozen=True)
class CellResult:
    """One contender in one scenario."""

    events: int
    seconds: float
    events_per_s: float
    tx_per_s: float
    p50_ms: float
    p99_ms: float


def run_cell(contender: str, url: str, scenario: Scenario, timing: Timing) -> CellResult:
    """Run the scenario's writers as processes (forked: cheap, and no GIL shared)."""
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(scenario.writers)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=writer_process, daemon=True,
                    args=(contender, url, scenario.batch, timing, barrier, results))
        for _ in range(scenario.writers)
    ]
    for process in processes:
        process.start()
    try:
        wait = timing.warmup + timing.duration + BARRIER_TIMEOUT
        replies = [results.get(timeout=wait) for _ in processes]
    except queue.Empty:
        raise RuntimeError(f"{contender} writers of scenario {scenario.key} timed out") from None
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
    errors = [error for _, error in replies if error]
    if errors:
        raise RuntimeError(f"a {contender} writer failed in scenario {scenario.key}:\n{errors[0]}")
    return summarize([outcome for outcome, _ in replies], scenario.batch)


def summarize(outcomes: list[Outcome], batch: int) -> CellResult:
    """Throughput over the window in which any writer ran, latency over all transactions."""
    events = sum(o.events for o in outcomes)
    seconds = max(o.finished for o in outcomes) - min(o.started for o in outcomes)
    latencies = sorted(x for o in outcomes for x in o.latencies)
    return CellResult(
        events=events,
        seconds=round(seconds, 3),
        events_per_s=round(events / seconds, 1),
        tx_per_s=round(events / batch / seconds, 1),
        p50_ms=round(statistics.median(latencies) * 1000, 3),
        p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 3),
    )


# --- Databases ---------------------------------------------------------------------------------


def prepare(server: Server, contender: str, name: str) -> str:
    """A fresh database holding the contender's schema; its URL."""
    url = server.database(name)
    if contender == "ours":
        upgrade(url)
    elif contender == "eventsourcing":
        datastore = eventsourcing_datastore(url)
        try:
            PostgresApplicationRecorder(datastore).create_table()
        finally:
            datastore.close()
    else:
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            conn.execute(RAW_SCHEMA)
    return url


# --- Scenarios -----------------------------------------------------------------------------------


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator else float("nan")


def run_scenario(server: Server, scenario: Scenario, timing: Timing) -> dict[str, Any]:
    """Every contender in its own fresh database; rounds interleave them, order rotating."""
    urls = {c: prepare(server, c, f"{scenario.key}_{c}") for c in CONTENDERS}
    rounds: dict[str, list[CellResult]] = {c: [] for c in CONTENDERS}
    for r in range(timing.rounds):
        for contender in CONTENDERS[r % 3:] + CONTENDERS[:r % 3]:
            result = run_cell(contender, urls[contender], scenario, timing)
            rounds[contender].append(result)
            log(f"scenario {scenario.key} ({scenario.title}) round {r + 1}/{timing.rounds}: "
                f"{contender} {result.events_per_s:,.0f} events/s")
    results = {c: combine(rounds[c]) for c in CONTENDERS}
    ours = results["ours"]["events_per_s"]
    return {
        "title": scenario.title,
        "writers": scenario.writers,
        "events_per_tx": scenario.batch,
        "results": results,
        "ratios": {
            "ours/eventsourcing": ratio(ours, results["eventsourcing"]["events_per_s"]),
            "ours/raw": ratio(ours, results["raw"]["events_per_s"]),
        },
    }


def combine(rounds: list[CellResult]) -> dict[str, Any]:
    """Medians over the rounds, plus every round's rate so the spread shows."""
    return {
        "events_per_s": round(statistics.median(r.events_per_s for r in rounds), 1),
        "tx_per_s": round(statistics.median(r.tx_per_s for r in rounds), 1),
        "p50_ms": round(statistics.median(r.p50_ms for r in rounds), 3),
        "p99_ms": round(statistics.median(r.p99_ms for r in rounds), 3),
        "events": sum(r.events for r in rounds),
        "seconds": round(sum(r.seconds for r in rounds), 3),
        "rounds_events_per_s": [r.events_per_s for r in rounds],
    }


def check_targets(scenarios: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target of the scenarios run, with the measured ratio and whether it was met."""
    checked = []
    for target in TARGETS:
        if target.scenario not in scenarios:
            continue
        value = scenarios[target.scenario]["ratios"][target.ratio]
        checked.append({"scenario": target.scenario, "ratio": target.ratio,
                        "minimum": target.minimum, "value": value,
                        "met": value >= target.minimum})
    return checked




# --- Output --------------------------------------------------------------------------------------


def mark(met: bool) -> str:
    return "pass" if met else "FAIL"


def neighbour_line(beside: dict[str, Any] | None) -> str:
    """Whether the rounds ran beside a spinning process, and how much CPU it got."""
    if beside is None:
        return "Neighbour: none (no process was started beside the writers)."
    return (f"Neighbour: {beside['processes']} CPU-bound process ({beside['kind']}) ran beside "
            f"the writers during every round of the scenarios: {beside['cpu_seconds']:.1f} "
            f"CPU-s in {beside['seconds']:.1f} s ({beside['cores_used']:.2f} of a core).")


def markdown(report: dict[str, Any]) -> str:
    """The report as tables a reader can paste into docs/performance.md."""
    m = report["machine"]
    lines = [
        machine_line(m),
        f"Mode: {report['mode']}; each cell: {report['rounds']} round(s) of "
        f"{report['seconds_per_round']} s after {report['warmup_seconds']} s warm-up, "
        f"contenders interleaved, median shown; payload {report['payload_bytes']} bytes "
        "of JSON per event; events/s are committed events per second of wall time.",
        neighbour_line(report["neighbour"]),
        "",
        "| Scenario | ours ev/s | eventsourcing ev/s | raw ev/s | ours/es | ours/raw |"
        " ours p50 / p99 ms | es p50 / p99 ms | raw p50 / p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, s in report["scenarios"].items():
        r = s["results"]
        lat = [f"{r[c]['p50_ms']:.2f} / {r[c]['p99_ms']:.2f}" for c in CONTENDERS]
        lines.append(
            f"| ({key}) {s['title']} | {r['ours']['events_per_s']:,.0f} | "
            f"{r['eventsourcing']['events_per_s']:,.0f} | {r['raw']['events_per_s']:,.0f} | "
            f"{s['ratios']['ours/eventsourcing']:.2f} | {s['ratios']['ours/raw']:.2f} | "
            + " | ".join(lat) + " |"
        )
    lines += ["", "Events/s of each round (spread):", "",
              "| Scenario | ours | eventsourcing | raw |", "|---|---|---|---|"]
    for key, s in report["scenarios"].items():
        rounds = [", ".join(f"{x:,.0f}" for x in s["results"][c]["rounds_events_per_s"])
                  for c in CONTENDERS]
        lines.append(f"| ({key}) | " + " | ".join(rounds) + " |")
    lines += ["", "| Target | measured | result |", "|---|---:|---|"]
    for t in report["targets"]:
        lines.append(f"| ({t['scenario']}) {t['ratio']} ≥ {t['minimum']} | {t['value']:.2f} | "
                     f"{mark(t['met'])} |")
    return "\n".join(lines)


# --- Entry point ---------------------------------------------------------------------------------


def run(
    url: str, timing: Timing, mode: str, *, with_neighbour: bool = False,
    only: frozenset[str] = PARTS,
) -> dict[str, Any]:
    """The chosen scenarios (beside a spinning neighbour if asked) and the targets."""
    with server_for(url) as server:
        facts = machine_facts(server, PACKAGES)
        with neighbour(with_neighbour) as beside:
            scenarios = {s.key: run_scenario(server, s, timing)
                         for s in SCENARIOS if s.key in only}
    targets = check_targets(scenarios)
    return {
        "mode": mode, "rounds": timing.rounds, "warmup_seconds": timing.warmup,
        "seconds_per_round": timing.duration,
        "payload_bytes": PAYLOAD_BYTES, "machine": facts,
        "neighbour": beside.as_dict() if with_neighbour else None,
        "scenarios": scenarios, "targets": targets,
        "all_targets_met": all(t["met"] for t in targets),
    }


def parts(value: str) -> frozenset[str]:
    """`--only a,c`: the scenario keys to run."""
    chosen = frozenset(p.strip() for p in value.split(",") if p.strip())
    if not chosen or chosen - PARTS:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(sorted(PARTS))}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = arguments("append", "Event store appends vs eventsourcing and raw "
                       "INSERTs.", "tiny counts: prove it runs", database_url=True)
    parser.add_argument("--neighbour", action="store_true",
                        help="one CPU-bound process spins beside the writers in every round")
    parser.add_argument("--only", type=parts, default=PARTS, metavar="a,b,c",
                        help="run only these scenarios; default: all")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    report = run(server_url(args.database_url), QUICK if args.quick else FULL, mode,
                 with_neighbour=args.neighbour, only=args.only)
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
