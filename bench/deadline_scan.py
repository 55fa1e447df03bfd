"""Benchmark: a deadline scan costs what is due, not what is stored.

The clock's scans (campaign/application/deadlines.py) run two queries: the open pledges due by now
(`lapse_candidates`) and the claim of the pending reminders due by now
(`due_reminders_query`, FOR UPDATE SKIP LOCKED). This fills `pledges` and
`pledge_reminders` directly (server-side INSERT … SELECT generate_series: a benchmark
fixture, not product data) with a small and a large number of open pledges, the same
number due in both, and times exactly those two queries on each.

    scripts/with-services .venv/bin/python -m bench.deadline_scan [--quick] [--json]
        [--database-url URL]

Target: the large table's median time ≤ 2× the small one's, for each query. A benchmark,
not a test: a missed target is reported, never turned into a failing exit code.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, text

from bench.servers import (
    arguments,
    machine_facts,
    machine_line,
    server_for,
    server_url,
)
from campaign.application.deadlines import BATCH, lapse_candidates
from campaign.application.reminders import due_reminders_query
from campaign.infra.database import upgrade
from events import create_store_engine

# Library versions each report names beside the machine.
PACKAGES = ("sqlalchemy", "psycopg")

TARGET_RATIO = 2.0
# A fixed "now" so every run sees the same data; due rows lie before it, the rest after.
NOW = datetime(2030, 1, 15, 12, tzinfo=UTC)
FILL_CHUNK = 250_000


@dataclass(frozen=True)
class Profile:
    """Table sizes and repetitions; the quick profile only proves the bench works."""

    small: int
    large: int
    due: int
    runs: int
    warmup: int


FULL = Profile(small=10_000, large=1_000_000, due=500, runs=60, warmup=10)
QUICK = Profile(small=2_000, large=20_000, due=100, runs=15, warmup=5)


def log(message: str) -> None:
    """Progress goes to stderr so `--json` leaves stdout to the one JSON object."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- The fixture: open pledges, two reminders each -----------------------------------------------

# Pledges 1..due are overdue (due seconds before NOW); the others are due within the next
# 60 days. Every pledge is open: the worst case for an index on (status, due_at).
FILL_PLEDGES = """
INSERT INTO pledges (pledge_id, action_id, supporter_id, status, target_ids, letters_promised,
                     letters_confirmed, pledged_at, due_at, version)
SELECT 'action-' || (i % 500) || '-' || md5(i::text), 'action-' || (i % 500), md5(i::text),
       'open', '["minister-interior"]', 2, 0, :now - interval '20 days',
       CASE WHEN i <= :due THEN :now - i * interval '1 second'
            ELSE :now + interval '1 hour' + (i % 86400) * interval '1 minute' END,
       1
FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS i
"""

# Two reminders per pledge. The overdue pledges' 2-day reminders are the due ones; half of
# the others already had their 7-day reminder sent (due in the past, status 'sent'), the
# rest are pending in the future — as in a live system where sent rows accumulate.
FILL_REMINDERS = """
INSERT INTO pledge_reminders (reminder_id, pledge_id, deadline_at, kind, due_at, status, sent_at)
SELECT md5(i::text || k), 'action-' || (i % 500) || '-' || md5(i::text),
       :now + interval '10 days', k,
       CASE WHEN k = '2d' AND i <= :due THEN :now - i * interval '1 second'
            WHEN k = '7d' AND (i <= :due OR i % 2 = 0)
                 THEN :now - interval '1 day' - (i % 86400) * interval '1 second'
            ELSE :now + interval '1 hour' + (i % 86400) * interval '1 minute' END,
       CASE WHEN k = '7d' AND (i <= :due OR i % 2 = 0) THEN 'sent' ELSE 'pending' END,
       CASE WHEN k = '7d' AND (i <= :due OR i % 2 = 0) THEN :now - interval '1 day' END
FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS i,
     (VALUES ('7d'), ('2d')) AS kinds (k)
"""


def fill(engine: Engine, pledges: int, due: int) -> dict[str, float]:
    """Load `pledges` open pledges (`due` of them overdue) and their reminders; seconds taken."""
    started = time.perf_counter()
    for first in range(1, pledges + 1, FILL_CHUNK):
        last = min(first + FILL_CHUNK - 1, pledges)
        with engine.begin() as conn:
            params = {"now": NOW, "due": due, "first": first, "last": last}
            conn.execute(text(FILL_PLEDGES), params)
            conn.execute(text(FILL_REMINDERS), params)
        if pledges > FILL_CHUNK:
            log(f"  {last:,} / {pledges:,} pledges loaded")
    loaded = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE pledges")
        conn.exec_driver_sql("VACUUM ANALYZE pledge_reminders")
    return {"load_seconds": round(loaded - started, 1),
            "vacuum_analyze_seconds": round(time.perf_counter() - loaded, 1)}


def table_sizes(conn: Connection) -> dict[str, Any]:
    sizes: dict[str, Any] = {}
    for table in ("pledges", "pledge_reminders"):
        rows = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        size = conn.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar_one()
        sizes[table] = {"rows": int(rows), "total_mib": round(int(size) / 1024**2, 1)}
    return sizes


# --- Measuring ------------------------------------------------------------------------------------


# More than are due: one query reads the whole due range and finds its end. (The scan reads
# the same range in batches of campaign.application.deadlines.BATCH rows.)
LIMIT = 1_000
QUERIES: dict[str, Select[Any]] = {
    "lapse_candidates": lapse_candidates(NOW, LIMIT),
    "due_reminders_claim": due_reminders_query(NOW, LIMIT),
}


def time_query(conn: Connection, statement: Select[Any]) -> tuple[float, int]:
    """Milliseconds to run `statement` and fetch every row, in its own transaction."""
    with conn.begin() as tx:
        started = time.perf_counter()
        rows = conn.execute(statement).all()
        elapsed = (time.perf_counter() - started) * 1000
        tx.rollback()  # the claim took row locks: give them back, the rows stay due
    return elapsed, len(rows)


def plan(conn: Connection, statement: Select[Any], generic: bool = False) -> dict[str, Any]:
    """The executed plan's node types, index names and buffers (custom or generic plan)."""
    compiled = statement.compile(dialect=conn.dialect)
    names = re.findall(r"%\((\w+)\)s", str(compiled))
    with conn.begin() as tx:
        if generic:
            # What psycopg's automatic prepared statements may end up using: a plan made
            # without looking at the parameters' values.
            numbered = dict.fromkeys(names)
            order = {name: n for n, name in enumerate(numbered, start=1)}
            sql = re.sub(r"%\((\w+)\)s", lambda m: f"${order[m.group(1)]}", str(compiled))
            conn.exec_driver_sql(f"PREPARE scan_query AS {sql}")
            conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
            args = ", ".join(_literal(compiled.params[name]) for name in numbered)
            explained = f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE scan_query({args})"
            document = conn.exec_driver_sql(explained).scalar_one()
        else:
            document = conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {compiled}", compiled.params
            ).scalar_one()
        tx.rollback()  # DEALLOCATE is not transactional: roll back and drop the statement
    if generic:
        conn.exec_driver_sql("DEALLOCATE scan_query")
        conn.commit()
    top = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    nodes: list[str] = []
    _walk(top, nodes)
    return {"nodes": nodes, "seq_scan": any(n.startswith("Seq Scan") for n in nodes),
            "buffers": int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0)),
            "rows": int(top["Actual Rows"])}


def _literal(value: Any) -> str:
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _walk(node: dict[str, Any], into: list[str]) -> None:
    name = node["Node Type"]
    if "Index Name" in node:
        name += f" using {node['Index Name']}"
    into.append(name)
    for child in node.get("Plans", []):
        _walk(child, into)


def measure(engines: dict[str, Engine], profile: Profile) -> dict[str, dict[str, Any]]:
    """Median milliseconds per query and table size; sizes interleaved run by run."""
    results: dict[str, dict[str, Any]] = {size: {} for size in engines}
    conns = {size: engine.connect() for size, engine in engines.items()}
    try:
        for query_name, statement in QUERIES.items():
            samples: dict[str, list[float]] = {size: [] for size in engines}
            for run in range(profile.warmup + profile.runs):
                for size, conn in conns.items():
                    elapsed, rows = time_query(conn, statement)
                    if rows != profile.due:
                        raise SystemExit(f"bench: {query_name} on {size} found {rows} rows, "
                                         f"expected {profile.due}")
                    if run >= profile.warmup:
                        samples[size].append(elapsed)
            for size, conn in conns.items():
                times = sorted(samples[size])
                results[size][query_name] = {
                    "median_ms": round(statistics.median(times), 3),
                    "p10_ms": round(times[len(times) // 10], 3),
                    "p90_ms": round(times[(len(times) * 9) // 10], 3),
                    "plan": plan(conn, statement),
                    "generic_plan": plan(conn, statement, generic=True),
                }
    finally:
        for conn in conns.values():
            conn.close()
    return results


# --- Report ---------------------------------------------------------------------------------------




def run(url: str, profile: Profile, mode: str) -> dict[str, Any]:
    sizes = {"small": profile.small, "large": profile.large}
    with server_for(url, tag="bench_deadlines") as server:
        facts = machine_facts(server, PACKAGES)
        engines: dict[str, Engine] = {}
        fixtures: dict[str, Any] = {}
        try:
            for label, count in sizes.items():
                db_url = server.database(label)
                upgrade(db_url)
                engines[label] = create_store_engine(db_url)
                log(f"filling {count:,} open pledges ({profile.due} due) and their reminders")
                fixtures[label] = fill(engines[label], count, profile.due)
                with engines[label].connect() as conn:
                    fixtures[label]["tables"] = table_sizes(conn)
            log(f"timing {profile.runs} runs per query and size after {profile.warmup} warm-up")
            results = measure(engines, profile)
        finally:
            for engine in engines.values():
                engine.dispose()
    ratios = {q: round(results["large"][q]["median_ms"] / results["small"][q]["median_ms"], 2)
              for q in QUERIES}
    return {
        "mode": mode, "pledges": sizes, "due": profile.due, "runs": profile.runs,
        "warmup_runs": profile.warmup, "limit": LIMIT, "scan_batch": BATCH,
        "machine": facts, "fixtures": fixtures, "results": results, "ratios": ratios,
        "target_ratio": TARGET_RATIO,
        "target_met": all(r <= TARGET_RATIO for r in ratios.values()),
        "no_seq_scan": not any(results[s][q][p]["seq_scan"] for s in sizes for q in QUERIES
                               for p in ("plan", "generic_plan")),
    }


def markdown(report: dict[str, Any]) -> str:
    m, pg = report["machine"], report["machine"]["postgres"]
    small, large = report["pledges"]["small"], report["pledges"]["large"]
    lines = [
        machine_line(m, f"shared_buffers={pg['shared_buffers']}, "
                        f"random_page_cost={pg['random_page_cost']}"),
        f"Mode: {report['mode']}; {report['due']} pledges and {report['due']} reminders due in "
        f"both databases; LIMIT {report['limit']}; median of {report['runs']} runs after "
        f"{report['warmup_runs']} warm-up runs, sizes interleaved.",
        "",
        f"| Query | {small:,} pledges ms (p10–p90) | {large:,} pledges ms (p10–p90) | ratio | "
        f"buffers {small:,} / {large:,} | plan ({large:,}) | target ≤ {report['target_ratio']}× |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for query, ratio in report["ratios"].items():
        s, big = report["results"]["small"][query], report["results"]["large"][query]
        plan_text = " → ".join(big["plan"]["nodes"])
        if big["generic_plan"]["nodes"] != big["plan"]["nodes"]:
            plan_text += f" (generic: {' → '.join(big['generic_plan']['nodes'])})"
        lines.append(
            f"| `{query}` | {s['median_ms']:.3f} ({s['p10_ms']:.3f}–{s['p90_ms']:.3f}) | "
            f"{big['median_ms']:.3f} ({big['p10_ms']:.3f}–{big['p90_ms']:.3f}) | {ratio:.2f} | "
            f"{s['plan']['buffers']} / {big['plan']['buffers']} | {plan_text} | "
            f"{'pass' if ratio <= report['target_ratio'] else 'FAIL'} |")
    lines += ["", "| Fixture | pledges rows / MiB | pledge_reminders rows / MiB | load s |",
              "|---|---:|---:|---:|"]
    for label, fx in report["fixtures"].items():
        t = fx["tables"]
        lines.append(f"| {label} | {t['pledges']['rows']:,} / {t['pledges']['total_mib']} | "
                     f"{t['pledge_reminders']['rows']:,} / {t['pledge_reminders']['total_mib']} | "
                     f"{fx['load_seconds']} |")
    lines += ["", f"No sequential scan in any plan (custom or generic): {report['no_seq_scan']}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = arguments("deadline_scan", "Deadline scan queries with 10,000 vs 1,000,000 open "
                       "pledges, same number due.", "2,000 vs 20,000: prove it runs",
                       database_url=True)
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    report = run(server_url(args.database_url), QUICK if args.quick else FULL, mode)
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
