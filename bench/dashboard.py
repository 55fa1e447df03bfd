"""Benchmark: the live action dashboard of an action with 100,000 pledges and 300,000 letters.

What a campaigner waits for when opening `/console/actions/<id>`: the Flask view, its
session check and its reads of the dashboard's read model, rendered to HTML (inline SVG
charts and their tables), timed through Flask's test client — server time, no network, no
browser. The same for the fragment the page polls every few seconds.

The action is drafted and launched through the command handler. Its supporters' events —
sign-up, a pledge to the action's three officials, three letters and the fulfilment — are
decided by the domain and written to the log in bulk, the rows the store's append would
write (600,000 appends one at a time, with inline projections the dashboard never reads,
took most of an hour on this machine). The catch-up projection behind the dashboard
(`action_dashboard`) then follows the log as the clock's subscription runs do; that
catch-up is timed too (events per second), apart from the measured renders.

    scripts/with-services .venv/bin/python -m bench.dashboard [--quick] [--json]
        [--database-url URL]

The figures in docs/performance.md come from a server with PostgreSQL's durable defaults
(`PG_DURABLE=1 scripts/with-services …`: fsync, synchronous_commit, full_page_writes on);
the report states the server's settings. Target: the page's median and p95 server time
under 300 ms. A benchmark, not a test: a missed target is reported, never turned into a
failing exit code; a page that shows other numbers than the ones appended exits 1.
"""

from __future__ import annotations

import json
import secrets
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from bench.servers import (
    arguments,
    machine_facts,
    machine_line,
    server_for,
    server_url,
)
from campaign.application.commands import Meta, command_routes
from campaign.bootstrap import Container, build
from campaign.demo import ua_135_10 as seed
from campaign.domain import action, pledge, supporter
from campaign.domain.base import decide_all
from campaign.domain.codec import to_data
from campaign.domain.values import Deadline
from campaign.infra.database import upgrade
from campaign.read_models.dashboard_reading import read_dashboard
from campaign.settings import Settings
from campaign.web.app import create_app
from events import SubscriptionRunner
from events.schema import events
from tests.integration.console.signing_in import sign_in

# Library versions each report names beside the machine.
PACKAGES = ("flask", "sqlalchemy", "psycopg")

TARGET_MS = 300.0
ACTION = "bench-dashboard"
META = Meta(actor="bench", correlation_id="bench-dashboard")
METADATA = META.as_metadata()
ROUTES = command_routes()
NAMESPACE = uuid.UUID("6f1d2b8e-0c3a-4f57-9e21-5b7a1c0d9e44")
SETUP_CHUNK = 500  # supporters per setup transaction
CHANNELS: tuple[pledge.Channel, ...] = ("post", "email", "fax", "online")
# Supporters from 40 countries (a long tail for the top-10 list) in six languages.
COUNTRIES = ("GB DE FR ES IT NL BE AT CH SE NO DK FI IE PT PL CZ SK HU RO BG GR TR RU UA KG "
             "KZ UZ AR BR CL MX CO PE US CA AU NZ JP KR").split()
LANGUAGES = [("en", "Europe/London"), ("ru", "Europe/Moscow"),
             ("es", "America/Argentina/Buenos_Aires"), ("fr", "Europe/Paris"),
             ("ar", "Africa/Cairo"), ("ky", "Asia/Bishkek")]


@dataclass(frozen=True)
class Profile:
    """How many supporters pledge (each pledge: three officials, three letters)."""

    supporters: int
    runs: int
    warmup: int


FULL = Profile(supporters=100_000, runs=200, warmup=20)
QUICK = Profile(supporters=1_000, runs=20, warmup=5)


def log(message: str) -> None:
    """Progress goes to stderr so `--json` leaves stdout to the one JSON object."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def settings_for(url: str, secret: str) -> Settings:
    return Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": secret, "LOG_LEVEL": "WARNING"})


# --- Setup through the product's event path -------------------------------------------------


def launch_action(container: Container, launched: datetime) -> None:
    """The seed's case and a fresh action about it with its three officials, launched."""
    for command in seed.CASE_COMMANDS:
        container.commands.handle(command, META)
    deadline = Deadline(on=(launched + timedelta(days=20)).date(), timezone=seed.TIMEZONE)
    container.commands.handle(replace(seed.DRAFT, action_id=ACTION, ua_number="903/24",
                                      issued_on=launched.date(), deadline=deadline,
                                      drafted_at=launched), META)
    container.commands.handle(action.LaunchAction(ACTION, launched_at=launched), META)


def history(n: int, launched: datetime, due_at: datetime) -> list[tuple[str, list[Any]]]:
    """Supporter `n`'s sign-up, pledge to every official and three letters, by stream."""
    supporter_id = str(uuid.uuid5(NAMESPACE, f"supporter-{n}"))
    language, timezone = LANGUAGES[n % len(LANGUAGES)]
    country = COUNTRIES[(n * 7) % len(COUNTRIES) if n % 3 else n % 4]  # a few big ones
    pledged_at = launched + timedelta(minutes=(n * 13) % (10 * 24 * 60))
    targets = seed.DRAFT.target_ids
    register = supporter.RegisterSupporter(
        supporter_id=supporter_id, email=f"dashboard-{n}@bench.example.org",
        name=f"Supporter Nº{n}", locale=language, country=country, timezone=timezone,
        registered_at=pledged_at)
    promise = pledge.MakePledge(
        action_id=ACTION, supporter_id=supporter_id, target_ids=targets, letters_promised=3,
        pledged_at=pledged_at, action_open=True, action_target_ids=targets, due_at=due_at)
    letters = [pledge.ConfirmLetter(
        action_id=ACTION, supporter_id=supporter_id, letter_id=f"letter-{k}", target_id=t,
        channel=CHANNELS[(n + k) % len(CHANNELS)],
        sent_on=(pledged_at + timedelta(hours=6 * k)).date(),
        confirmed_at=pledged_at + timedelta(hours=6 * k), action_issued_on=launched.date())
        for k, t in enumerate(targets, start=1)]
    return [(supporter.supporter_stream(supporter_id), [register]),
            (pledge.pledge_stream(ACTION, supporter_id), [promise, *letters])]


def decided(n: int, launched: datetime, due_at: datetime) -> list[tuple[str, list[Any]]]:
    """Supporter `n`'s events by stream, as the domain decides them."""
    streams = []
    for stream, commands in history(n, launched, due_at):
        streams.append((stream, decide_all(ROUTES[type(commands[0])].aggregate, commands)))
    return streams


def log_rows(n: int, launched: datetime, due_at: datetime) -> list[dict[str, Any]]:
    """The rows of `events` the product's append would write for supporter `n`.

    The name and e-mail are not sealed (no key is made per supporter): nothing here reads
    them, and the dashboard never could.
    """
    rows = []
    for stream, found in decided(n, launched, due_at):
        for version, event in enumerate(found, start=1):
            data = to_data(event)
            for field in event.personal_fields:
                data[field] = "(not kept by this bench)"
            rows.append({"event_id": uuid.uuid4(), "stream_id": stream,
                         "stream_version": version, "type": event.type_name,
                         "schema_version": event.schema_version, "data": data,
                         "metadata": METADATA, "recorded_at": launched})
    return rows


def fill(container: Container, profile: Profile) -> dict[str, Any]:
    """The action through the command handler, then every supporter's events written to the
    log in bulk, SETUP_CHUNK supporters per statement; what it took."""
    launched = datetime.now(UTC).replace(microsecond=0) - timedelta(days=12)
    launch_action(container, launched)
    with container.engine.connect() as conn:
        found = read_dashboard(conn, ACTION)
    assert found is not None
    started, count, written = time.monotonic(), profile.supporters, 0
    for first in range(0, count, SETUP_CHUNK):
        rows = [row for n in range(first, min(first + SETUP_CHUNK, count))
                for row in log_rows(n, launched, found.deadline_at)]
        with container.engine.begin() as conn:
            conn.execute(events.insert(), rows)
        written += len(rows)
        if first and first % 20_000 == 0:
            log(f"  {first:,} / {count:,} supporters written")
    seconds = time.monotonic() - started
    log(f"setup: {count:,} supporters, pledges and {3 * count:,} letters ({written:,} events) "
        f"in {seconds:.0f} s")
    return {"supporters": count, "events": written, "seconds": round(seconds, 1)}


def catch_up(container: Container) -> dict[str, Any]:
    """The dashboard's projection follows the log, as the clock's runs would; its rate."""
    runner = SubscriptionRunner(container.store, container.subscriptions["action_dashboard"],
                                batch_size=2000)
    started, applied = time.monotonic(), 0
    while True:
        result = runner.run(max_seconds=60)
        if result.failed:
            raise SystemExit(f"bench: the dashboard projection failed: {result}")
        applied += result.delivered
        if result.delivered == 0:
            break
    seconds = time.monotonic() - started
    log(f"catch-up: {applied:,} events in {seconds:.1f} s ({applied / seconds:,.0f}/s)")
    return {"events": applied, "seconds": round(seconds, 1),
            "events_per_s": round(applied / seconds)}


# --- Measuring -------------------------------------------------------------------------------


def time_get(client: FlaskClient, path: str, profile: Profile) -> dict[str, Any]:
    """Median and p95 milliseconds of GET `path` through the test client."""
    samples: list[float] = []
    size = 0
    for run in range(profile.warmup + profile.runs):
        started = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"bench: GET {path} answered {response.status_code}")
        size = len(response.data)
        if run >= profile.warmup:
            samples.append(elapsed)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[(len(samples) * 95) // 100 - 1], 2),
            "max_ms": round(samples[-1], 2), "bytes": size}


def check_page(client: FlaskClient, container: Container, profile: Profile) -> None:
    """The page shows the numbers appended: people, letters pledged, letters confirmed."""
    with container.engine.connect() as conn:
        found = read_dashboard(conn, ACTION)
    assert found is not None
    expected = (profile.supporters, 3 * profile.supporters, 3 * profile.supporters)
    totals = found.totals
    if (totals.supporters, totals.letters_pledged, totals.letters_confirmed) != expected:
        raise SystemExit(f"bench: the read model counts {totals}, expected {expected}")
    page = client.get(f"/console/actions/{ACTION}").get_data(as_text=True)
    for number in expected:
        if f">{number:,}<" not in page:
            raise SystemExit(f"bench: the page does not show {number:,}")




def run(url: str, profile: Profile, mode: str) -> dict[str, Any]:
    with server_for(url, tag="bench_dashboard") as server:
        facts = machine_facts(server, PACKAGES)
        db_url = server.database("dashboard")
        upgrade(db_url)
        secret = secrets.token_urlsafe(48)
        container = build(settings_for(db_url, secret))
        try:
            setup = fill(container, profile)
            caught_up = catch_up(container)
            with container.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
            client = logged_in_client(container)
            check_page(client, container, profile)
            log(f"timing {profile.runs} renders of each after {profile.warmup} warm-up")
            results = {
                "page": time_get(client, f"/console/actions/{ACTION}", profile),
                "live_fragment": time_get(client, f"/console/actions/{ACTION}/live", profile),
            }
        finally:
            container.engine.dispose()
    return {
        "mode": mode, "supporters": profile.supporters, "letters": 3 * profile.supporters,
        "runs": profile.runs, "warmup_runs": profile.warmup, "machine": facts,
        "setup": setup, "catch_up": caught_up, "results": results, "target_ms": TARGET_MS,
        "target_met": all(r["median_ms"] < TARGET_MS and r["p95_ms"] < TARGET_MS
                          for r in results.values()),
    }


def logged_in_client(container: Container) -> FlaskClient:
    """A test client holding a viewer's console session, signed in through the login form."""
    client = create_app(container).test_client()
    sign_in(client, container, "viewer")
    return client


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        machine_line(m),
        f"Mode: {report['mode']}; {report['supporters']:,} pledges (each to 3 officials) and "
        f"{report['letters']:,} letters confirmed on one action; {report['runs']} renders "
        f"after {report['warmup_runs']} warm-up.",
        "",
        f"| Request | median ms | p95 ms | max ms | bytes "
        f"| target < {report['target_ms']:.0f} ms |",
        "|---|---:|---:|---:|---:|---|",
    ]
    names = {"page": "`GET /console/actions/<id>`", "live_fragment": "`GET …/live` (poll)"}
    for key, r in report["results"].items():
        ok = r["median_ms"] < report["target_ms"] and r["p95_ms"] < report["target_ms"]
        lines.append(f"| {names[key]} | {r['median_ms']:.1f} | {r['p95_ms']:.1f} | "
                     f"{r['max_ms']:.1f} | {r['bytes']:,} | {'pass' if ok else 'FAIL'} |")
    s, c = report["setup"], report["catch_up"]
    lines += ["", f"Setup: {s['events']:,} events written in {s['seconds']} s. The dashboard "
              f"projection caught up on {c['events']:,} events in {c['seconds']} s "
              f"({c['events_per_s']:,} events/s)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = arguments("dashboard", "The action dashboard's server time with 100,000 pledges "
                       "and 300,000 letters.", "1,000 pledges: prove it runs",
                       database_url=True)
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    report = run(server_url(args.database_url), QUICK if args.quick else FULL, mode)
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
