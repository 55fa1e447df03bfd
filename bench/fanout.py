"""Benchmark the e-mail fan-out: one action alert to 100,000 supporters, end to end.

Why: an urgent action is worth what reaches supporters before the deadline. This measures
the whole path a launch takes in production — `ActionLaunched` appended through the command
handler, the `mailing_planner` subscription writing the delivery rows and `MailingPlanned`,
the `mail_dispatcher` enqueueing one `send_batch` per batch of ≤ 1,000, the worker decrypting,
rendering once and making one SendGrid request per batch with the real `sendgrid` client —
until the fake SendGrid (tests/fakes/sendgrid_server.py, on loopback in this process) has
accepted the last batch. The worker and the clock are the Procfile's own commands, on real
PostgreSQL and Redis.

In the same run, on the same database and with the same worker processes and threads, the
naive design (bench/fanout_naive.py: one queue message and one request per recipient, run
as `dramatiq bench.fanout_naive` in place of `workers.main`) sends a second action to a subset
of the same supporters; the two are compared in recipients per second. The subset is made with the
product's own subscription rules: every supporter takes the alerts of the first action's
country, only the subset takes all actions.

Supporters are set up in bulk, as the product's write path would leave them (decided by the
supporter aggregate, personal fields sealed under a data key each, the `supporters` and
`stream_directory` rows the inline projections would write), COPYed by two processes; the
log's followers are then moved past those sign-ups, which cause no mail. The setup and the
workers' catch-up are timed apart from the measured interval.

    scripts/with-services .venv/bin/python -m bench.fanout [--quick] [--json] [--supporters N]

With `--json` the top level carries the batched launch's `recipients`, `seconds` (launch to
the last batch accepted), `recipients_per_s` and `worker_rss_mb` (the largest worker
process's peak); the rest of the report follows.

Worker peak RSS is VmHWM from /proc, reset at the launch, of dramatiq's parent and worker
processes: the target is judged on the largest one, the sum is shown.

A benchmark, not a test: missed targets are reported, never turned into a failing exit code.
Exit 1 when the fan-out was wrong (someone got no e-mail or two, or it did not finish).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select, text

from bench.api import (
    cpu_ticks,
    family,
    parent_of,
    postmaster_pid,
    redis_url,
    server_log_problems,
)
from bench.servers import (
    arguments,
    machine_facts,
    machine_line,
    server_for,
    server_url,
)
from campaign.application.commands import Meta
from campaign.bootstrap import Container, build
from campaign.demo import ua_135_10 as seed
from campaign.domain import action, mailing, supporter
from campaign.domain.base import decide_all
from campaign.domain.codec import to_data
from campaign.domain.values import Deadline, normalise_email
from campaign.infra.database import upgrade
from campaign.infra.tables import mail_deliveries, supporters
from campaign.mail.planning import launch_mailing_id
from campaign.read_models.supporters import changed_columns
from campaign.settings import Settings
from events import EventStore
from events.personal_data import BlindIndex, Vault, seal_with
from events.schema import events, personal_data_keys, subscription_checkpoints
from events.sql import upsert
from tests.commands import command_env
from tests.e2e.processes import Process, procfile, stop
from tests.fakes.sendgrid_server import FakeSendGrid

# Library versions each report names beside the machine.
PACKAGES = ("dramatiq", "redis", "sendgrid", "python-http-client", "sqlalchemy", "psycopg")

REPO = Path(__file__).resolve().parent.parent
SPEEDUP_TARGET = 25.0
RATE_TARGET = 2_000.0
RSS_TARGET_MB = 300.0
LAUNCH_TARGET_S, LAUNCH_AUDIENCE = 120.0, 1_000_000  # issue 15: a million in two minutes
LAUNCH_RSS_TARGET_MB = 256.0
SETUP_PROCESSES = 2
READY = "Worker process is ready for action."  # dramatiq logs it once per worker process
SETUP_CHUNK = 5_000  # supporters per setup transaction
META = Meta(actor="bench", correlation_id="bench-fanout")
METADATA = json.dumps(META.as_metadata())
SUPPORTER_AGGREGATE = supporter.AGGREGATE
BATCHED_ACTION, NAIVE_ACTION = "bench-fanout-batched", "bench-fanout-naive"
COUNTRY, OTHER_COUNTRY = "KG", "KZ"  # everyone takes KG alerts; the naive subset takes all
# Locale mix of the audience (n % 10): two with a template of their own, two that fall back.
LOCALES = [("en", "GB", "Europe/London")] * 6 + [("ru", "RU", "Europe/Moscow")] * 2 + [
    ("es", "AR", "America/Argentina/Buenos_Aires"), ("ky", "KG", "Asia/Bishkek")]
NAMESPACE = uuid.UUID("0b7e5c1a-3f4d-4e8b-9a61-fa9b0e7d2c55")


def log(message: str) -> None:
    """Progress goes to stderr so `--json` leaves stdout to the one JSON object."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Profile:
    """How many supporters get the alert, how many of them the naive design sends to."""

    supporters: int
    naive: int
    processes: int
    threads: int


FULL = Profile(supporters=100_000, naive=10_000, processes=2, threads=4)
QUICK = Profile(supporters=2_000, naive=200, processes=2, threads=4)


# --- Setup through the product's event path ---------------------------------------------------


def settings_for(url: str, secret: str) -> Settings:
    return Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": secret, "LOG_LEVEL": "WARNING"})


def email_of(n: int) -> str:
    return f"fanout-{n}@bench.example.org"


def seed_actions(container: Container, now: datetime) -> None:
    """The seed case (UA 135/10's) and two drafted actions about it, one per design.

    Issued today with a deadline a month away: an action past its deadline is not launched.
    """
    for command in seed.CASE_COMMANDS:
        container.commands.handle(command, META)
    deadline = Deadline(on=now.date() + timedelta(days=30), timezone=seed.TIMEZONE)
    for action_id, ua, country in ((BATCHED_ACTION, "901/24", COUNTRY),
                                   (NAIVE_ACTION, "902/24", OTHER_COUNTRY)):
        container.commands.handle(replace(seed.DRAFT, action_id=action_id, ua_number=ua,
                                         country=country, issued_on=now.date(),
                                         deadline=deadline, drafted_at=now), META)


def name_of(n: int) -> str:
    return f"Supporter Nº{n}"


def supporter_id_of(n: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"supporter-{n}"))


def supporter_commands(n: int, naive: int, now: datetime) -> tuple[str, list[Any]]:
    """Sign-up and consent of supporter `n`; outside the naive subset, KG alerts only."""
    supporter_id = supporter_id_of(n)
    locale, country, timezone = LOCALES[n % len(LOCALES)]
    commands: list[Any] = [
        supporter.RegisterSupporter(supporter_id=supporter_id, email=email_of(n),
                                    name=name_of(n), locale=locale, country=country,
                                    timezone=timezone, registered_at=now),
        supporter.ConfirmConsent(supporter_id=supporter_id, confirmed_at=now),
    ]
    if n >= naive:
        commands.append(supporter.ChangeSubscriptions(
            supporter_id=supporter_id, all_actions=False, countries=(COUNTRY,), case_ids=(),
            changed_at=now))
    return supporter_id, commands


@dataclass(frozen=True)
class Shape:
    """The events the supporter aggregate decides for one kind of supporter of the audience
    (a locale, in the naive subset or not), and the `supporters` row its projection makes of
    them, for a prototype: a supporter of that kind differs only in id, address and name."""

    prototype: tuple[str, str, str]
    events: tuple[tuple[str, int, frozenset[str], dict[str, Any]], ...]
    person: dict[str, Any]


@cache
def shape(kind: int, naive: bool, now: datetime) -> Shape:
    """The Shape of supporters `n` with `n % len(LOCALES) == kind`, in the naive subset or not."""
    n = kind if naive else kind + len(LOCALES)
    supporter_id, commands = supporter_commands(n, len(LOCALES) if naive else 0, now)
    decided = decide_all(SUPPORTER_AGGREGATE, commands)
    person: dict[str, Any] = {}
    for event in decided:
        data = to_data(event)
        if isinstance(event, supporter.SupporterRegistered):
            person = {
                "supporter_id": supporter_id, "locale": event.locale, "country": event.country,
                "timezone": event.timezone, "consented": False,
                "all_actions": data.get("all_actions", True), "countries": [],
                "case_ids": list(data.get("case_ids", [])), "unsubscribed": False,
                "email_paused": False, "suppressed": None, "erased": False,
                "registered_at": event.registered_at}
        else:
            person.update(changed_columns(event.type_name, data) or {})
    return Shape((supporter_id, email_of(n), name_of(n)), tuple(
        (e.type_name, e.schema_version, e.personal_fields, to_data(e)) for e in decided), person)


def supporter_rows(n: int, naive: int, now: datetime, vault: Vault,
                   blind_index: BlindIndex) -> tuple[dict[str, Any], list[dict[str, Any]],
                                                     dict[str, Any]]:
    """Supporter `n` as the product's write path leaves it: the data key's row, the events
    (as the supporter aggregate decides them, e-mail and name sealed) and the read-model row
    `SupportersProjection` makes of them."""
    found = shape(n % len(LOCALES), n < naive, now)
    supporter_id, email, name = supporter_id_of(n), email_of(n), name_of(n)
    ours = dict(zip(found.prototype, (supporter_id, email, name), strict=True))
    stream = supporter.supporter_stream(supporter_id)
    key, key_row = vault.new_key_row(stream)
    sealed = {"email": seal_with(key, stream, "email", email),
              "name": seal_with(key, stream, "name", name)}
    rows = []
    for version, (type_name, schema_version, personal, data) in enumerate(found.events, 1):
        mine = {k: sealed[k] if k in personal else ours.get(v, v) if isinstance(v, str) else v
                for k, v in data.items()}
        rows.append({"event_id": str(uuid.uuid4()), "stream_id": stream,
                     "stream_version": version, "type": type_name,
                     "schema_version": schema_version, "data": json.dumps(mine),
                     "metadata": METADATA, "recorded_at": now})
    person = {**found.person, "supporter_id": supporter_id,
              "email_index": blind_index.digest(normalise_email(email)),
              "email_sealed": sealed["email"], "name_sealed": sealed["name"]}
    return {**key_row, "created_at": now}, rows, person


def copy_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """COPY `rows` into `table` (PostgreSQL): the bulk load a seed of a million needs."""
    columns = list(rows[0])
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, list) else v
                            for v in row.values()])


def register_range(url: str, secret: str, start: int, stop_at: int, naive: int) -> int:
    """Supporters `start`..`stop_at` in bulk (one process), SETUP_CHUNK per transaction:
    their data keys, events and supporters rows, COPYed. Events written."""
    container = build(settings_for(url, secret))
    now, written = datetime.now(UTC), 0
    try:
        for first in range(start, stop_at, SETUP_CHUNK):
            keys, log_rows, people = [], [], []
            for n in range(first, min(first + SETUP_CHUNK, stop_at)):
                key_row, rows, person = supporter_rows(n, naive, now, container.vault,
                                                       container.blind_index)
                keys.append(key_row)
                log_rows += rows
                people.append(person)
            with container.engine.begin() as conn:
                copy_rows(conn, personal_data_keys, keys)
                copy_rows(conn, events, log_rows)
                copy_rows(conn, supporters, people)
            written += len(log_rows)
    finally:
        container.engine.dispose()
    return written


def create_supporters(url: str, secret: str, profile: Profile) -> dict[str, Any]:
    """Every supporter, in bulk by forked processes to use both cores; what it took.

    Then what the product's inline projections would have kept too (`stream_directory`), and
    every follower of the log is moved past the supporters' sign-ups: they cause no mail, and
    the read models that count them (the dashboard, the audit trail) are not measured here.
    """
    started = time.monotonic()
    count = profile.supporters
    bounds = [count * p // SETUP_PROCESSES for p in range(SETUP_PROCESSES + 1)]
    with ProcessPoolExecutor(SETUP_PROCESSES, mp_context=mp.get_context("fork")) as pool:
        appended = sum(pool.map(register_range, *zip(*[
            (url, secret, bounds[p], bounds[p + 1], profile.naive)
            for p in range(SETUP_PROCESSES)], strict=True)))
    container = build(settings_for(url, secret))
    try:
        with container.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO stream_directory (stream_id, category, version, last_position,"
                " first_recorded_at, last_recorded_at) SELECT stream_id, 'supporter',"
                " max(stream_version), max(position), min(recorded_at), max(recorded_at)"
                " FROM events WHERE stream_id LIKE 'supporter-%' GROUP BY stream_id"))
            head = EventStore(container.engine).head(conn=conn)
            now = datetime.now(UTC)
            for name in container.subscription_names:
                upsert(conn, subscription_checkpoints,
                       [{"name": name, "position": head, "updated_at": now}], ["name"],
                       lambda new: {"position": new.position})
            conn.execute(text("ANALYZE"))
    finally:
        container.engine.dispose()
    seconds = time.monotonic() - started
    log(f"setup: {count:,} consented supporters ({appended:,} events) in bulk in "
        f"{seconds:.1f} s ({count / seconds:,.0f}/s)")
    return {"supporters": count, "events": appended, "seconds": round(seconds, 1),
            "supporters_per_s": round(count / seconds)}


# --- The fake SendGrid, counting instead of keeping 100,000 personalizations -------------------


class CountingSendGrid(FakeSendGrid):
    """The fake server, validating as ever, but keeping per-address counts and accept times
    rather than every request body."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()
        self.requests = 0
        self.first_accept: float | None = None
        self.last_accept: float | None = None
        self._tally = threading.Lock()

    def record(self, body: dict[str, Any], status: int) -> str:
        recipients = [to["email"].lower() for p in body["personalizations"] for to in p["to"]]
        now = time.monotonic()
        with self._tally:
            self.counts.update(recipients)
            self.requests += 1
            self.first_accept = self.first_accept or now
            self.last_accept = now
        return secrets.token_urlsafe(16)[:22]

    def accepted_recipients(self) -> int:
        with self._tally:
            return sum(self.counts.values())


# --- The Procfile's worker and clock ------------------------------------------------------------


def start(name: str, argv: list[str], env: dict[str, str], workdir: Path) -> Process:
    """Start a Procfile command from the repository (so `bench.fanout_naive` imports)."""
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as sink:
        popen = subprocess.Popen(argv, env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=sink,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    return Process(name, popen, log_path)


def process_env(url: str, secret: str, fake: FakeSendGrid, profile: Profile) -> dict[str, str]:
    return command_env(
        DATABASE_URL=url, REDIS_URL=redis_url(), SECRET_KEY=secret,
        SENDGRID_API_KEY=fake.api_key, SENDGRID_API_HOST=fake.url,
        MAIL_FROM="Urgent Actions <urgent-actions@bench.example.org>",
        WORKER_PROCESSES=str(profile.processes), WORKER_THREADS=str(profile.threads))


def descendants(pid: int) -> list[int]:
    """A process and every process below it (dramatiq's parent and its worker processes)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                children.setdefault(parent_of(int(entry)), []).append(int(entry))
            except OSError:
                continue
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue += children.get(current, [])
    return found


def peak_rss_mb(pids: list[int]) -> dict[int, float]:
    """VmHWM (peak resident set size) of each live process, in MB (10^6 bytes)."""
    found = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        found[pid] = round(int(line.split()[1]) * 1024 / 1e6, 1)
        except OSError:
            continue
    return found


def reset_peak_rss(pids: list[int]) -> bool:
    """Start the peak over from the current RSS (Linux ≥ 4.0: clear_refs "5")."""
    try:
        for pid in pids:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
    except OSError:
        return False
    return True


def wait_until(probe: Callable[[], bool], what: str, timeout: float, processes: list[Process],
               interval: float = 0.05, watch: Callable[[], None] | None = None) -> None:
    """Poll `probe` until true (calling `watch` each time); fail when it takes `timeout` or a
    process exits."""
    deadline = time.monotonic() + timeout
    while not probe():
        if watch is not None:
            watch()
        for process in processes:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{process.name} exited with {process.popen.returncode}:\n"
                                   + process.output()[-3000:])
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def caught_up(engine: Engine, names: list[str]) -> bool:
    """Every subscription has read the whole log: the named ones, and any other log follower
    that keeps a checkpoint (the partner webhook outbox does), so none of them is still
    working through the setup's events during the measured interval."""
    with engine.connect() as conn:
        head = EventStore(engine).head(conn=conn)
        positions = dict(conn.execute(
            select(subscription_checkpoints.c.name, subscription_checkpoints.c.position)).all())
    return all(positions.get(name, -1) >= head for name in {*names, *positions})


# --- One design, end to end ---------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    """What differs between the two runs: the worker's module and the audience."""

    name: str
    action_id: str
    audience: range
    worker_module: str


def run_design(design: Design, container: Container, url: str, secret: str, profile: Profile,
               workdir: Path, names: list[str]) -> dict[str, Any]:
    """Start worker and clock, let them catch up, launch, wait for the last e-mail, check."""
    fake = CountingSendGrid()
    fake.start()
    env = process_env(url, secret, fake, profile)
    commands = procfile(REPO / "Procfile", env)
    worker = commands["worker"]
    at = worker.index("workers.main")  # the module that declares the actors
    worker_argv = [*worker[:at], design.worker_module, *worker[at + 1:]]
    log(f"{design.name}: {Path(worker_argv[0]).name} {' '.join(worker_argv[1:])}")
    processes = [start(f"{design.name}-worker", worker_argv, env, workdir),
                 start(f"{design.name}-clock", commands["clock"], env, workdir)]
    try:
        started = time.monotonic()
        wait_until(lambda: processes[0].output().count(READY) >= profile.processes,
                   "the worker processes to boot", 120, processes, interval=0.2)
        for _ in range(2):  # again a moment later: a follower may start after the first look
            wait_until(lambda: caught_up(container.engine, names),
                       "the subscriptions to catch up", 600, processes, interval=0.5)
            time.sleep(2)
        catch_up = time.monotonic() - started
        log(f"{design.name}: workers up and caught up with the log in {catch_up:.1f} s")
        result = {"catch_up_seconds": round(catch_up, 1),
                  **measure(design, container, fake, processes)}
    finally:
        stop(processes)
        fake.stop()
        problems = worker_log_problems(processes[0])
        if problems["error_lines"]:
            log(f"{design.name}: the worker logged {problems['error_lines']} error lines; "
                f"first traceback:\n{problems['first_traceback']}")
    return {**result, "worker_log": problems}


def worker_log_problems(worker: Process) -> dict[str, Any]:
    """Error lines in the worker's log, and its first traceback in full (each one matters:
    a retried batch may have reached the provider already)."""
    text = worker.output()
    lines = text.splitlines()
    start_at = next((n for n, line in enumerate(lines) if line.startswith("Traceback")), None)
    traceback: list[str] = []
    if start_at is not None:
        for line in lines[start_at:]:
            if line.startswith("[") and traceback:
                break  # the next log record
            traceback.append(line)
    return {**server_log_problems(worker.log), "first_traceback": "\n".join(traceback)[-4000:]}


def measure(design: Design, container: Container, fake: CountingSendGrid,
            processes: list[Process]) -> dict[str, Any]:
    """The measured interval: ActionLaunched appended → the last recipient accepted."""
    expected = len(design.audience)
    worker_pids = descendants(processes[0].popen.pid)
    lifetime_peak = peak_rss_mb(worker_pids)
    reset = reset_peak_rss(worker_pids)
    cpu_before = cpu_snapshot(container.engine, worker_pids, processes[1].popen.pid)
    load = os.getloadavg()[0]
    launched_wall = datetime.now(UTC)
    launched = time.monotonic()
    container.commands.handle(action.LaunchAction(design.action_id, launched_wall), META)
    timeout = 120 + expected / (100 if design.name == "batched" else 10)
    planned = Milestone(lambda: is_planned(container.engine, design))
    all_planned = Milestone(lambda: is_planned(container.engine, design, last_part=True))

    def watch() -> None:
        planned.poll()
        if planned.at is not None:
            all_planned.poll()

    wait_until(lambda: fake.accepted_recipients() >= expected, f"{expected:,} recipients",
               timeout, processes, watch=watch)
    assert fake.last_accept is not None and fake.first_accept is not None
    seconds = fake.last_accept - launched
    cpu = cpu_delta(cpu_before, cpu_snapshot(container.engine, worker_pids,
                                             processes[1].popen.pid))
    log(f"{design.name}: {expected:,} recipients in {seconds:.2f} s "
        f"({expected / seconds:,.0f}/s, {fake.requests:,} requests)")
    wait_until(lambda: recorded(container, design) >= expected,
               "every outcome to be recorded", 120, processes, interval=0.2)
    peaks = peak_rss_mb(worker_pids)
    return {
        "design": design.name, "recipients": expected, "requests": fake.requests,
        "seconds": round(seconds, 3), "recipients_per_s": round(expected / seconds, 1),
        "planned_after_s": round(planned.at - launched, 2) if planned.at else None,
        "fully_planned_after_s": (round(all_planned.at - launched, 2) if all_planned.at
                                  else None),
        "first_accepted_after_s": round(fake.first_accept - launched, 3),
        "sending_seconds": round(fake.last_accept - fake.first_accept, 3),
        "load_average_before": load, "load_average_after": os.getloadavg()[0],
        "cpu_seconds": cpu,
        # Load-independent: what one recipient costs the machine, whatever else ran.
        "cpu_ms_per_recipient": {
            "workers": round(1000 * cpu["workers"] / expected, 3),
            "ours": round(1000 * (cpu["workers"] + cpu["clock"] + cpu["postgres"]
                                  + cpu["bench_and_fake_sendgrid"]) / expected, 3)},
        "worker_processes": len(worker_pids),
        "peak_rss_mb": {"per_process": sorted(peaks.values(), reverse=True),
                        "max": max(peaks.values()), "sum": round(sum(peaks.values()), 1),
                        "reset_before_launch": reset,
                        "lifetime_before_launch_max": max(lifetime_peak.values())},
        "check": check(fake, design),
    }


def recorded(container: Container, design: Design) -> int:
    """Recipients whose outcome the workers have recorded in the log."""
    with container.engine.connect() as conn:
        if design.name == "naive":
            return int(conn.execute(select(func.count()).select_from(events).where(
                events.c.type == "NaiveDeliveryAccepted")).scalar_one())
        stream = mailing.mailing_stream(launch_mailing_id(design.action_id))
        aggregate = container.commands.routes[mailing.PlanMailing].aggregate
        state, _ = container.commands.load(conn, stream, aggregate)
    return sum(state.batches[b].recipients for b, o in state.outcomes.items() if o == "accepted")


class Milestone:
    """When a condition polled in the wait loop first held (monotonic), polled at most 4×/s."""

    def __init__(self, probe: Callable[[], bool]) -> None:
        self.probe = probe
        self.at: float | None = None
        self._next = 0.0

    def poll(self) -> None:
        now = time.monotonic()
        if self.at is None and now >= self._next:
            self._next = now + 0.25
            if self.probe():
                self.at = time.monotonic()


def is_planned(engine: Engine, design: Design, last_part: bool = False) -> bool:
    """Whether the launch's `MailingPlanned` has committed (its first part's deliveries
    written with it); with `last_part`, whether its last part has (nothing more to plan)."""
    stream = mailing.mailing_stream(launch_mailing_id(design.action_id))
    with engine.connect() as conn:
        data = conn.execute(select(events.c.data).where(
            events.c.stream_id == stream,
            events.c.type.in_(("MailingPlanned", "BatchesPlanned")))
            .order_by(events.c.stream_version.desc()).limit(1)).scalar()
    return data is not None and not (last_part and data.get("more_to_plan"))


def check(fake: CountingSendGrid, design: Design) -> dict[str, Any]:
    """Each supporter of the audience got exactly one e-mail, and nobody else got any."""
    wanted = {email_of(n) for n in design.audience}
    got = fake.counts
    return {
        "missing": len(wanted - set(got)),
        "twice_or_more": sum(1 for address in wanted if got[address] > 1),
        "unexpected": len(set(got) - wanted),
        "error_answers": sum(1 for s in fake.statuses if s >= 400),
        "exactly_once": set(got) == wanted and all(got[a] == 1 for a in wanted),
    }


# --- Where the CPU went --------------------------------------------------------------------------


def cpu_snapshot(engine: Engine, workers: list[int], clock: int) -> dict[str, int]:
    postmaster = postmaster_pid(engine)
    return {"workers": sum(cpu_ticks(p) for p in workers), "clock": cpu_ticks(clock),
            "postgres": sum(cpu_ticks(p) for p in family(postmaster)) if postmaster else 0,
            "bench_and_fake_sendgrid": cpu_ticks(os.getpid()),
            "machine": machine_busy_ticks()}


def machine_busy_ticks() -> int:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return sum(values[:8]) - values[3] - values[4]


def cpu_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, float]:
    """CPU seconds per process group over the interval; "other" is the rest of the machine."""
    tick = os.sysconf("SC_CLK_TCK")
    delta = {k: (after[k] - before[k]) / tick for k in after}
    delta["other"] = max(0.0, delta.pop("machine") - sum(delta.values()))
    return {k: round(v, 1) for k, v in delta.items()}


# --- Report --------------------------------------------------------------------------------------




def targets(batched: dict[str, Any], naive: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets with the measured values. Peak RSS is judged on the largest process: the
    sum (shown, `met` None) adds an interpreter per process, growing with --processes."""
    speedup = batched["recipients_per_s"] / naive["recipients_per_s"]
    rss, total = batched["peak_rss_mb"]["max"], batched["peak_rss_mb"]["sum"]
    return [
        {"target": f"batched ≥ {SPEEDUP_TARGET:.0f}× the naive design's recipients/s",
         "value": round(speedup, 1), "shown": f"{speedup:.1f}×", "met": speedup >= SPEEDUP_TARGET},
        {"target": f"batched ≥ {RATE_TARGET:,.0f} recipients/s end to end",
         "value": batched["recipients_per_s"], "shown": f"{batched['recipients_per_s']:,.0f}",
         "met": batched["recipients_per_s"] >= RATE_TARGET},
        {"target": f"launch → last batch accepted ≤ {LAUNCH_TARGET_S:.0f} s for "
                   f"{LAUNCH_AUDIENCE:,} supporters (judged only at that audience)",
         "value": batched["seconds"], "shown": f"{batched['seconds']:.1f} s",
         "met": (batched["seconds"] <= LAUNCH_TARGET_S
                 if batched["recipients"] >= LAUNCH_AUDIENCE else None),
         "note": f"{batched['recipients']:,} supporters only"},
        {"target": f"worker peak RSS ≤ {LAUNCH_RSS_TARGET_MB:.0f} MB (largest worker process)",
         "value": rss, "shown": f"{rss:.0f} MB", "met": rss <= LAUNCH_RSS_TARGET_MB},
        {"target": f"worker peak RSS < {RSS_TARGET_MB:.0f} MB (largest worker process)",
         "value": rss, "shown": f"{rss:.0f} MB", "met": rss < RSS_TARGET_MB},
        {"target": "(shown, not the target's reading) worker peak RSS summed over dramatiq's "
                   "parent and worker processes",
         "value": total, "shown": f"{total:.0f} MB",
         "met": None, "note": "under 300" if total < RSS_TARGET_MB else "over 300"},
    ]


def markdown(report: dict[str, Any]) -> str:
    m, p = report["machine"], report["profile"]
    lines = [
        machine_line(m),
        f"Mode: {report['mode']}; worker `--processes {p['processes']} --threads "
        f"{p['threads']}`; batched to all {p['supporters']:,} supporters, naive to "
        f"{p['naive']:,} of them"
        + (" (a subset: compared in recipients/s)." if p["naive"] < p["supporters"] else "."),
        f"Setup (not measured): {report['setup']['supporters']:,} supporters, "
        f"{report['setup']['events']:,} events in {report['setup']['seconds']} s "
        f"({report['setup']['supporters_per_s']:,}/s).",
        "",
        "| Design | recipients | requests | end to end s | recipients/s |"
        " planned (first part / all committed) after s | first accepted after s | sending s |"
        " worker peak RSS MB (max / sum) | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for d in report["designs"].values():
        rss = d["peak_rss_mb"]
        lines.append(
            f"| {d['design']} | {d['recipients']:,} | {d['requests']:,} | {d['seconds']:.2f} | "
            f"{d['recipients_per_s']:,.0f} | {d['planned_after_s']} / "
            f"{d.get('fully_planned_after_s')} | "
            f"{d['first_accepted_after_s']:.2f} | {d['sending_seconds']:.2f} | "
            f"{rss['max']:.0f} / {rss['sum']:.0f} | {d['load_average_before']:.2f} |")
    lines += ["", "| Target | measured | result |", "|---|---:|---|"]
    lines += [f"| {t['target']} | {t['shown']} | "
              f"{t.get('note') if t['met'] is None else 'pass' if t['met'] else 'FAIL'} |"
              for t in report["targets"]]
    lines += ["", "| CPU s over the interval | workers | clock | PostgreSQL |"
              " bench + fake SendGrid | other processes | CPU ms per recipient (workers / all"
              " but other) | catch-up before launch s |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for d in report["designs"].values():
        c, per = d["cpu_seconds"], d["cpu_ms_per_recipient"]
        lines.append(f"| {d['design']} | {c['workers']} | {c['clock']} | {c['postgres']} | "
                     f"{c['bench_and_fake_sendgrid']} | {c['other']} | "
                     f"{per['workers']:.2f} / {per['ours']:.2f} | {d['catch_up_seconds']} |")
    costs = [report["designs"][k]["cpu_ms_per_recipient"]["ours"] for k in ("naive", "batched")]
    lines += ["", f"CPU per recipient, naive / batched: {costs[0] / costs[1]:.1f}× (all but "
              "other processes: independent of what else ran on the machine)."]
    lines += ["", "Exactly one e-mail per supporter of each audience: " + ", ".join(
        f"{d['design']} {'yes' if d['check']['exactly_once'] else 'NO ' + str(d['check'])}"
        for d in report["designs"].values()) + "."]
    return "\n".join(lines)


# --- Entry point ---------------------------------------------------------------------------------


def run(profile: Profile, mode: str) -> dict[str, Any]:
    """Set up once, then the batched and the naive design one after the other."""
    secret = secrets.token_urlsafe(36)
    with server_for(server_url(None), tag="bench_fanout") as server, \
            tempfile.TemporaryDirectory() as tmp:
        facts = machine_facts(server, PACKAGES)
        url = server.database("fanout")
        upgrade(url)
        container = build(settings_for(url, secret))
        try:
            container.engine.dispose()  # no pooled connection crosses the fork
            setup = create_supporters(url, secret, profile)
            seed_actions(container, datetime.now(UTC))
            names = sorted(container.subscriptions)
            designs = [Design("batched", BATCHED_ACTION, range(profile.supporters),
                              "workers.main"),
                       Design("naive", NAIVE_ACTION, range(profile.naive), "bench.fanout_naive")]
            results = {d.name: run_design(d, container, url, secret, profile, Path(tmp), names)
                       for d in designs}
            with container.engine.connect() as conn:
                facts["mail_deliveries"] = conn.execute(
                    select(func.count()).select_from(mail_deliveries)).scalar_one()
        finally:
            container.engine.dispose()
    facts["load_average_at_end"] = os.getloadavg()[0]
    batched = results["batched"]
    return {"recipients": batched["recipients"], "seconds": batched["seconds"],
            "recipients_per_s": batched["recipients_per_s"],
            "worker_rss_mb": batched["peak_rss_mb"]["max"],
            "mode": mode, "profile": vars(profile), "machine": facts, "setup": setup,
            "designs": results, "targets": targets(results["batched"], results["naive"]),
            "exactly_once": all(d["check"]["exactly_once"] for d in results.values())}


def main(argv: list[str] | None = None) -> int:
    parser = arguments("fanout", "One action alert to 100,000 supporters, batched vs one "
                       "request each.", "2,000 supporters, naive to 200: prove it runs")
    parser.add_argument("--supporters", type=int, help="audience of the batched design")
    parser.add_argument("--naive", type=int, help="audience of the naive design (a subset)")
    parser.add_argument("--processes", type=int, help="worker processes (default 2)")
    parser.add_argument("--threads", type=int, help="threads per worker process (default 4)")
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    profile = replace(profile, **{k: v for k, v in vars(args).items()
                                  if k in ("supporters", "naive", "processes", "threads")
                                  and v is not None})
    if not 0 < profile.naive <= profile.supporters:
        parser.error("--naive must be between 1 and --supporters")
    report = run(profile, "quick" if args.quick else "full")
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 0 if report["exactly_once"] else 1


if __name__ == "__main__":
    sys.exit(main())
