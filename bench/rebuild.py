"""Benchmark: rebuild every projection of the product from a log of a million domain events.

The log is a campaign's (bench/campaign_log.py): supporters signing up and confirming,
pledges and letters, cases with developments and actions with updates, every event decided
by the product's aggregates and sealed by its event mapper (the supporters' e-mail and name
under each supporter's own key), then bulk-loaded with COPY — the rows the store's append
writes, without a million round trips. Each projection of `campaign.bootstrap.all_projections`
is then rebuilt with `events.rebuild`, one after the other; events/s is the events in the log
divided by the rebuild's seconds (a projection reads and applies only the types it handles).

Rebuilt must equal live: on a smaller log of the same mix, appended one command at a time
through the store (inline projections in each append's transaction, the catch-up ones
following the log in the clock's batches as it grows), every projection's tables are kept,
the projection rebuilt, and its tables compared row by row. A difference exits 1.

    PG_DURABLE=1 scripts/with-services .venv/bin/python -m bench.rebuild
        [--events N] [--quick] [--json] [--database-url URL]

Target: at least 50,000 events/s for every projection, judged on PostgreSQL's durable
settings (fsync, synchronous_commit, full_page_writes on); the report states the server's
settings. A benchmark, not a test: a missed target is reported, never turned into a
failing exit code.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Engine, Table, select

from bench.campaign_log import Unit, campaign_log
from bench.servers import (
    arguments,
    machine_facts,
    machine_line,
    server_for,
    server_url,
)
from campaign.bootstrap import all_projections, upcasters
from campaign.infra.database import upgrade
from campaign.infra.event_mapping import EventMapper
from events import EventStore, Projection, SubscriptionRunner, create_store_engine, rebuild
from events.personal_data import BlindIndex, Vault
from events.subscriptions import projection_subscription

# Library versions each report names beside the machine.
PACKAGES = ("sqlalchemy", "psycopg")

TARGET = 50_000.0
# Not a secret: the vault and the blind index only need some key.
BENCH_SECRET_KEY = "bench-rebuild-fixed-key-0123456789abcdef"
LOAD_CHUNK = 5_000  # events sealed and copied per transaction
CATCH_UP_EVERY = 300  # appends between two runs of the catch-up projections (live check)
COLUMNS = ("event_id", "stream_id", "stream_version", "type", "schema_version", "data",
           "metadata", "recorded_at")


@dataclass(frozen=True)
class Profile:
    """How many events the timed log holds, and the log appended live for the check."""

    events: int
    check_events: int


FULL = Profile(events=1_000_000, check_events=10_000)
QUICK = Profile(events=2_000, check_events=600)


def log(message: str) -> None:
    """Progress goes to stderr so `--json` leaves stdout to the one JSON object."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def wiring(engine: Engine) -> tuple[EventStore, EventMapper]:
    """The store with every projection of the product, and the mapper that seals."""
    vault, blind_index = Vault(BENCH_SECRET_KEY), BlindIndex(BENCH_SECRET_KEY)
    store = EventStore(engine, upcasters())
    store.projections = all_projections(store, vault, blind_index)
    return store, EventMapper(vault)


# --- The timed log, bulk-loaded --------------------------------------------------------------


def chunks(units: Iterable[Unit], size: int) -> Iterator[list[Unit]]:
    chunk: list[Unit] = []
    count = 0
    for unit in units:
        chunk.append(unit)
        count += len(unit.events)
        if count >= size:
            yield chunk
            chunk, count = [], 0
    if chunk:
        yield chunk


def bulk_load(engine: Engine, mapper: EventMapper, events: int) -> dict[str, Any]:
    """The log of about `events` events, sealed by the mapper, copied in chunks."""
    started, written = time.monotonic(), 0
    types: Counter[str] = Counter()
    for chunk in chunks(campaign_log(events), LOAD_CHUNK):
        with engine.begin() as conn:
            rows = [row for unit in chunk for row in log_rows(conn, mapper, unit)]
            copy_rows(conn, rows)
        written += len(rows)
        types.update(row[3] for row in rows)
        if written // 100_000 != (written - len(rows)) // 100_000:
            log(f"  {written:,} events loaded")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    seconds = time.monotonic() - started
    log(f"loaded {written:,} events in {seconds:.0f} s")
    return {"events": written, "seconds": round(seconds, 1),
            "types": dict(types.most_common())}


def log_rows(conn: Connection, mapper: EventMapper, unit: Unit) -> list[tuple[Any, ...]]:
    """The rows of `events` the store's append would write for `unit`."""
    new = mapper.to_new_events(conn, unit.stream_id, unit.events, unit.metadata)
    return [(e.event_id, unit.stream_id, unit.expected_version + n, e.type, e.schema_version,
             Jsonb(e.data), Jsonb(e.metadata), unit.at) for n, e in enumerate(new, start=1)]


def copy_rows(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """COPY the rows into `events` on the connection's transaction."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    with dbapi.cursor() as cursor, cursor.copy(  # type: ignore[attr-defined]
            f"COPY events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def time_rebuilds(store: EventStore, total: int) -> dict[str, dict[str, Any]]:
    """Rebuild each projection in turn; its events applied, seconds and events/s."""
    timed: dict[str, dict[str, Any]] = {}
    for projection in store.projections:
        started = time.monotonic()
        applied = rebuild(store, projection)
        seconds = time.monotonic() - started
        rate = total / seconds
        timed[projection.name] = {
            "mode": projection.mode, "applied": applied, "seconds": round(seconds, 2),
            "events_per_s": round(rate), "target_met": rate >= TARGET}
        log(f"rebuild {projection.name}: {applied:,} applied in {seconds:.2f} s "
            f"({rate:,.0f} events/s)")
    return timed


# --- Rebuilt equals live ---------------------------------------------------------------------


def append_live(store: EventStore, mapper: EventMapper, events: int) -> int:
    """The log appended one command at a time, the catch-up projections following it."""
    catch_up = [projection_subscription(p) for p in store.projections if p.mode == "catch-up"]
    appended = 0
    for n, unit in enumerate(campaign_log(events), start=1):
        with store.engine.begin() as conn:
            new = mapper.to_new_events(conn, unit.stream_id, unit.events, unit.metadata)
            store.append(unit.stream_id, new, unit.expected_version, conn=conn)
        appended += len(unit.events)
        if n % CATCH_UP_EVERY == 0:
            follow(store, catch_up)
    follow(store, catch_up)
    return appended


def follow(store: EventStore, subscriptions: list[Any]) -> None:
    for subscription in subscriptions:
        result = SubscriptionRunner(store, subscription).run(max_seconds=600)
        if result.failed or result.parked:
            raise SystemExit(f"bench: {subscription.name} failed live: {result}")


def table_rows(conn: Connection, table: Table) -> list[tuple[Any, ...]]:
    order = list(table.primary_key) or list(table.c)
    return [tuple(r) for r in conn.execute(select(table).order_by(*order))]


def tables_of(engine: Engine, projection: Projection) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {t.name: table_rows(conn, t) for t in projection.tables}


def check_rebuilt_equals_live(store: EventStore, mapper: EventMapper, events: int
                              ) -> dict[str, Any]:
    """Append the mix live, then rebuild each projection and compare its tables."""
    started = time.monotonic()
    appended = append_live(store, mapper, events)
    log(f"check: {appended:,} events appended live in {time.monotonic() - started:.0f} s")
    differing: dict[str, list[str]] = {}
    rows: dict[str, int] = {}
    for projection in store.projections:
        live = tables_of(store.engine, projection)
        rebuild(store, projection)
        rebuilt = tables_of(store.engine, projection)
        rows[projection.name] = sum(len(r) for r in live.values())
        wrong = [name for name in live if live[name] != rebuilt[name]]
        if wrong:
            differing[projection.name] = wrong
            log(f"check: {projection.name} rebuilt differs from live in {', '.join(wrong)}")
    return {"events": appended, "rows_per_projection": rows, "differing": differing,
            "equal": not differing}


# --- Report ----------------------------------------------------------------------------------




def run(url: str, profile: Profile, mode: str) -> dict[str, Any]:
    with server_for(url, tag="bench_rebuild") as server:
        facts = machine_facts(server, PACKAGES)
        check_url = server.database("live")
        upgrade(check_url)
        check_engine = create_store_engine(check_url)
        try:
            checked = check_rebuilt_equals_live(*wiring(check_engine), profile.check_events)
        finally:
            check_engine.dispose()
        timed_url = server.database("log")
        upgrade(timed_url)
        engine = create_store_engine(timed_url)
        try:
            store, mapper = wiring(engine)
            log(f"loading about {profile.events:,} events")
            loaded = bulk_load(engine, mapper, profile.events)
            projections = time_rebuilds(store, loaded["events"])
        finally:
            engine.dispose()
    return {"mode": mode, "machine": facts, "log": loaded, "projections": projections,
            "target_events_per_s": TARGET, "check": checked,
            "all_targets_met": all(p["target_met"] for p in projections.values())}


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    loaded, check = report["log"], report["check"]
    lines = [
        machine_line(m),
        f"Mode: {report['mode']}; {loaded['events']:,} domain events loaded in "
        f"{loaded['seconds']} s: " + ", ".join(f"{t} {n:,}" for t, n in loaded["types"].items())
        + ".",
        "",
        f"| Projection | mode | events applied | seconds | events/s "
        f"| target ≥ {report['target_events_per_s']:,.0f} |",
        "|---|---|---:|---:|---:|---|",
    ]
    for name, p in report["projections"].items():
        lines.append(f"| {name} | {p['mode']} | {p['applied']:,} | {p['seconds']:.2f} | "
                     f"{p['events_per_s']:,} | {'pass' if p['target_met'] else 'FAIL'} |")
    verdict = ("every projection rebuilt equals its live tables" if check["equal"] else
               "DIFFERENT from live: " + ", ".join(check["differing"]))
    lines += ["", f"Check on {check['events']:,} events appended live: {verdict}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = arguments("rebuild", "Rebuild every projection from a million domain events.",
                       "a few thousand events: prove it runs", database_url=True)
    parser.add_argument("--events", type=int, help="events in the timed log")
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    if args.events:
        profile = Profile(args.events, min(profile.check_events, args.events))
    report = run(server_url(args.database_url), profile, "quick" if args.quick else "full")
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 0 if report["check"]["equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
