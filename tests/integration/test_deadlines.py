"""Deadlines and pledges: reminders at 10:00 local, lapses, extensions, stop action, the clock.

Everything runs through the real handlers, subscriptions and scans on SQLite and
PostgreSQL; the racing scans, the query plans and the actor on Redis need PostgreSQL.
The only stand-in is the reminder sender, the seam where the mail workers plug in.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import Connection, Engine, func, select, text

from campaign.application.commands import Meta
from campaign.application.deadlines import (
    ACTOR,
    lapse_candidates,
    lapse_due_pledges,
    run_deadline_scans,
    send_due_reminders,
)
from campaign.application.pledges import SentLetter, confirm_letter, make_pledge
from campaign.application.reminders import DueReminder, due_reminders_query
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container, build
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import load_demo
from campaign.domain import action
from campaign.domain.values import Deadline
from campaign.infra.clock import utc_now
from campaign.infra.tables import mail_deliveries, pledge_reminders, pledges
from campaign.settings import ConfigError, Settings
from events import SubscriptionRunner, as_utc
from events.schema import events
from tests.commands import SECRET_KEY
from tests.databases import engine_for
from tests.wiring import actors_of, container_on_redis, with_actors
from workers.actors import (
    DEADLINES_QUEUE,
    MAIL_QUEUE,
    PARTNER_JOBS_QUEUE,
    RETENTION_QUEUE,
    SUBSCRIPTIONS_QUEUE,
    WEBHOOKS_QUEUE,
)
from workers.clock import Cadences, Every, tick

META = Meta(actor="test", correlation_id="test")
BISHKEK, LONDON, BUENOS_AIRES = "Asia/Bishkek", "Europe/London", "America/Argentina/Buenos_Aires"
# UA 135/10 extended to 2 November 2010 (Bishkek): appeals stop at 18:00 UTC that day,
# two days after the United Kingdom leaves summer time (31 October 2010).
NOVEMBER_2 = date(2010, 11, 2)
NOVEMBER_2_ENDS = datetime(2010, 11, 2, 18, tzinfo=UTC)
# The demo's deadline (27 October 2010, Bishkek) and its pledgers.
OCTOBER_27_ENDS = datetime(2010, 10, 27, 18, tzinfo=UTC)
DEMO_OPEN = {"Europe/Moscow", BUENOS_AIRES}  # Olga and Lucía have letters to write


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass
class RecordingSender:
    """The mail side as the deadline scan sees it: each claimed batch of reminders to send."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send_reminders(self, conn: Connection, reminders: Sequence[DueReminder],
                       now: datetime) -> None:
        with self.lock:
            self.sent.extend((r.pledge_id, r.kind) for r in reminders)


# --- Building histories through the handlers -------------------------------------------------


LAUNCHED = datetime(2010, 9, 15, 7, tzinfo=UTC)


def launch(container: Container, action_id: str, deadline: Deadline,
           at: datetime = LAUNCHED) -> None:
    draft = replace(seed.DRAFT, action_id=action_id, deadline=deadline, drafted_at=at)
    container.commands.handle(draft, META)
    container.commands.handle(action.LaunchAction(action_id, launched_at=at), META)


def pledge_from(container: Container, action_id: str, timezone: str, at: datetime) -> str:
    """A new supporter in `timezone` pledges one letter at `at`; the pledge's id."""
    form = Registration(f"{uuid.uuid4().hex}@example.org", "Test Supporter", "en", "GB", timezone)
    supporter_id = register_supporter(container.commands, container.blind_index, form, META, at)
    make_pledge(container.commands, action_id, supporter_id, (), 1, META, at)
    return f"{action_id}-{supporter_id}"


def fulfil(container: Container, pledge_id: str, at: datetime) -> None:
    """Confirm the one letter a single-target pledge promised."""
    with container.engine.connect() as conn:
        row = conn.execute(select(pledges).where(pledges.c.pledge_id == pledge_id)).one()
    letter = SentLetter("l1", row.target_ids[0], "post", at.date())
    confirm_letter(container.commands, row.action_id, row.supporter_id, letter, META, at)


def catch_up(container: Container) -> None:
    """Run every subscription until caught up (twice: the policy's commands feed reminders)."""
    for _ in range(2):
        for subscription in container.subscriptions.values():
            result = SubscriptionRunner(container.store, subscription).run()
            assert not result.failed, subscription.name


Key = tuple[str, datetime, str]


def reminders(container: Container) -> dict[Key, tuple[datetime, str]]:
    """(pledge, deadline, kind) -> (due time, status) of every reminder row."""
    r = pledge_reminders.c
    with container.engine.connect() as conn:
        rows = conn.execute(select(r.pledge_id, r.deadline_at, r.kind, r.due_at, r.status))
        return {(p, as_utc(d), k): (as_utc(due), s) for p, d, k, due, s in rows}


def pledge_statuses(container: Container) -> dict[str, str]:
    with container.engine.connect() as conn:
        rows = conn.execute(select(pledges.c.pledge_id, pledges.c.status))
        return {pledge_id: status for pledge_id, status in rows}


def demo_pledges(container: Container) -> dict[str, str]:
    """The demo's pledge ids by their supporter's timezone."""
    from campaign.infra.tables import supporters
    with container.engine.connect() as conn:
        rows = conn.execute(select(pledges.c.pledge_id, supporters.c.timezone)
                            .join(supporters, supporters.c.supporter_id == pledges.c.supporter_id))
        return {zone: pledge_id for pledge_id, zone in rows}


def events_of_type(container: Container, type_name: str) -> list[tuple[str, dict[str, Any]]]:
    with container.engine.connect() as conn:
        rows = conn.execute(select(events.c.stream_id, events.c.metadata)
                            .where(events.c.type == type_name).order_by(events.c.position))
        return [(stream, dict(metadata)) for stream, metadata in rows]


# --- Settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value, offsets", [
    (None, (7, 2)), ("", (7, 2)), ("7,2", (7, 2)), ("2, 7", (7, 2)), ("1", (1,)),
    ("14,7,3,1", (14, 7, 3, 1)),
])
def test_reminder_offsets_come_from_the_environment(
    tmp_path: Path, value: str | None, offsets: tuple[int, ...]
) -> None:
    env = {"VAR_DIR": str(tmp_path)}
    if value is not None:
        env["REMINDER_OFFSETS_DAYS"] = value

    assert Settings.from_env(env).reminder_offsets_days == offsets


@pytest.mark.parametrize("value", ["0", "7,7", "seven", "7;2", "400", "-2", "7,"])
def test_bad_reminder_offsets_are_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="REMINDER_OFFSETS_DAYS"):
        Settings.from_env({"REMINDER_OFFSETS_DAYS": value, "VAR_DIR": str(tmp_path)})


# --- Scheduling -------------------------------------------------------------------------------


def test_reminders_are_due_at_ten_in_the_supporters_own_timezone(container: Container) -> None:
    launch(container, "ua-1", Deadline(on=NOVEMBER_2, timezone=BISHKEK))
    at = utc(2010, 10, 1, 12)
    bishkek, london, buenos_aires = (pledge_from(container, "ua-1", zone, at)
                                     for zone in (BISHKEK, LONDON, BUENOS_AIRES))

    catch_up(container)

    end = NOVEMBER_2_ENDS
    assert reminders(container) == {
        # UTC+6: 26 Oct 18:00 UTC is already 27 Oct there, so 10:00 on the 27th.
        (bishkek, end, "7d"): (utc(2010, 10, 27, 4), "pending"),
        (bishkek, end, "2d"): (utc(2010, 11, 1, 4), "pending"),
        # Summer time (UTC+1) for the first, winter time (UTC+0) after 31 October.
        (london, end, "7d"): (utc(2010, 10, 26, 9), "pending"),
        (london, end, "2d"): (utc(2010, 10, 31, 10), "pending"),
        # UTC-3.
        (buenos_aires, end, "7d"): (utc(2010, 10, 26, 13), "pending"),
        (buenos_aires, end, "2d"): (utc(2010, 10, 31, 13), "pending"),
    }


def test_offsets_are_configurable(settings: Settings, engine: Engine) -> None:
    container = with_actors(build(replace(settings, reminder_offsets_days=(3,)), engine=engine))
    launch(container, "ua-1", Deadline(on=NOVEMBER_2, timezone=BISHKEK))
    london = pledge_from(container, "ua-1", LONDON, utc(2010, 10, 1))

    catch_up(container)

    assert reminders(container) == {
        (london, NOVEMBER_2_ENDS, "3d"): (utc(2010, 10, 30, 9), "pending"),  # still summer time
    }


def test_a_reminder_whose_time_has_passed_is_not_created(container: Container) -> None:
    launch(container, "ua-1", Deadline(on=NOVEMBER_2, timezone=BISHKEK))
    late = pledge_from(container, "ua-1", LONDON, utc(2010, 10, 28))          # after the 7d time
    just_late = pledge_from(container, "ua-1", LONDON, utc(2010, 10, 31, 10))  # at the 2d time
    on_time = pledge_from(container, "ua-1", LONDON, utc(2010, 10, 31, 9, 59))

    catch_up(container)

    assert reminders(container) == {
        (late, NOVEMBER_2_ENDS, "2d"): (utc(2010, 10, 31, 10), "pending"),
        (on_time, NOVEMBER_2_ENDS, "2d"): (utc(2010, 10, 31, 10), "pending"),
    }
    assert just_late not in {key[0] for key in reminders(container)}


def test_the_schedule_is_idempotent(container: Container) -> None:
    load_demo(container)
    catch_up(container)
    before = reminders(container)

    # Deliver the whole log to the subscription again, as after a crash before its commit.
    subscription = container.subscriptions["reminder_schedule"]
    types = subscription.event_types or frozenset()
    log = [e for e in container.store.read_all() if e.type in types]
    with container.engine.begin() as conn:
        subscription.handle(conn, log)

    assert reminders(container) == before


# --- Extensions and stop action ---------------------------------------------------------------


def test_an_extension_reschedules_open_pledges_and_leaves_fulfilled_ones_alone(
    container: Container,
) -> None:
    load_demo(container)
    catch_up(container)
    by_zone = demo_pledges(container)
    olga, lucia = by_zone["Europe/Moscow"], by_zone[BUENOS_AIRES]
    sender = RecordingSender()
    sent = send_due_reminders(container.commands, sender, utc(2010, 10, 21))  # the 7d ones
    assert sent.reminders_sent == 2
    before = reminders(container)

    container.commands.handle(action.PublishUpdate(
        action_id=seed.ACTION_ID, number=6, published_at=utc(2010, 10, 22),
        deadline=Deadline(on=date(2010, 11, 30), timezone=BISHKEK)), META)
    catch_up(container)

    after = reminders(container)
    old, new = OCTOBER_27_ENDS, datetime(2010, 11, 30, 18, tzinfo=UTC)
    assert after == {
        **before,
        # Sent stays sent, pending is cancelled: nothing is sent twice for one deadline.
        (olga, old, "7d"): (utc(2010, 10, 20, 6), "sent"),
        (olga, old, "2d"): (utc(2010, 10, 25, 6), "cancelled"),
        (lucia, old, "7d"): (utc(2010, 10, 20, 13), "sent"),
        (lucia, old, "2d"): (utc(2010, 10, 25, 13), "cancelled"),
        # Moscow left summer time on 31 October 2010 (UTC+3 from then on).
        (olga, new, "7d"): (utc(2010, 11, 23, 7), "pending"),
        (olga, new, "2d"): (utc(2010, 11, 28, 7), "pending"),
        (lucia, new, "7d"): (utc(2010, 11, 23, 13), "pending"),
        (lucia, new, "2d"): (utc(2010, 11, 28, 13), "pending"),
    }
    fulfilled = {k: v for k, v in after.items() if k[0] not in (olga, lucia)}
    assert fulfilled == {k: v for k, v in before.items() if k[0] not in (olga, lucia)}
    assert {status for _, status in fulfilled.values()} == {"cancelled"}
    assert {k[1] for k in fulfilled} == {old}


def test_stop_action_cancels_open_pledges_and_their_pending_reminders(
    container: Container,
) -> None:
    load_demo(container)
    catch_up(container)
    assert {s for _, s in reminders(container).values()} == {"pending", "cancelled"}

    container.commands.handle(action.CloseAction(
        action_id=seed.ACTION_ID, reason="released", note="Released on appeal",
        closed_at=utc(2010, 10, 1)), META)
    catch_up(container)  # pledge_policy -> PledgeCancelled -> reminder_schedule

    assert {s for _, s in reminders(container).values()} == {"cancelled"}
    assert sorted(pledge_statuses(container).values()) == [
        "cancelled", "cancelled", "fulfilled", "fulfilled"]
    sender = RecordingSender()
    assert run_deadline_scans(container.commands, sender, utc(2010, 10, 26)).reminders_sent == 0
    assert sender.sent == []


# --- The scans --------------------------------------------------------------------------------


def test_the_lapse_scan_lapses_exactly_the_overdue_open_pledges_once(container: Container) -> None:
    load_demo(container)  # two open and two fulfilled pledges, due 27 October 2010, 18:00 UTC
    launch(container, "ua-later", Deadline(on=date(2010, 11, 30), timezone=BISHKEK))
    later = pledge_from(container, "ua-later", LONDON, utc(2010, 10, 1))
    by_zone = demo_pledges(container)
    overdue = {by_zone[zone] for zone in DEMO_OPEN}

    assert lapse_due_pledges(container.commands, OCTOBER_27_ENDS - timedelta(microseconds=1)) == 0
    assert lapse_due_pledges(container.commands, OCTOBER_27_ENDS, limit=1) == 2  # batches of one
    assert lapse_due_pledges(container.commands, OCTOBER_27_ENDS + timedelta(days=1)) == 0

    statuses = pledge_statuses(container)
    assert {p for p, s in statuses.items() if s == "lapsed"} == overdue
    assert statuses[later] == "open"
    assert sorted(statuses.values()).count("fulfilled") == 2
    lapses = events_of_type(container, "PledgeLapsed")
    assert sorted(stream.removeprefix("pledge-") for stream, _ in lapses) == sorted(overdue)
    assert {metadata["actor"] for _, metadata in lapses} == {ACTOR}


def test_due_reminders_go_out_once_and_only_while_they_still_apply(container: Container) -> None:
    load_demo(container)
    catch_up(container)
    by_zone = demo_pledges(container)
    olga, lucia = by_zone["Europe/Moscow"], by_zone[BUENOS_AIRES]
    sender = RecordingSender()

    # 20 Oct 12:00 UTC: Olga's 7-day reminder (10:00 Moscow) is due, Lucía's (10:00 in
    # Buenos Aires, 13:00 UTC) is not yet.
    first = send_due_reminders(container.commands, sender, utc(2010, 10, 20, 12))
    again = send_due_reminders(container.commands, sender, utc(2010, 10, 20, 12))

    assert (first.reminders_sent, again.reminders_sent) == (1, 0)
    assert sender.sent == [(olga, "7d")]

    # Lucía's pledge is fulfilled before her 7-day reminder goes out: it is cancelled.
    fulfil(container, lucia, utc(2010, 10, 20, 12, 30))
    later = send_due_reminders(container.commands, sender, utc(2010, 10, 20, 14))
    assert (later.reminders_sent, later.reminders_cancelled) == (0, 1)

    rows = reminders(container)
    assert rows[(olga, OCTOBER_27_ENDS, "7d")] == (utc(2010, 10, 20, 6), "sent")
    assert rows[(lucia, OCTOBER_27_ENDS, "7d")][1] == "cancelled"
    assert rows[(olga, OCTOBER_27_ENDS, "2d")][1] == "pending"
    with container.engine.connect() as conn:
        sent_at = conn.execute(select(pledge_reminders.c.sent_at)
                               .where(pledge_reminders.c.status == "sent")).scalar_one()
    assert as_utc(sent_at) == utc(2010, 10, 20, 12)


def test_after_downtime_only_the_latest_due_reminder_goes_out(container: Container) -> None:
    load_demo(container)
    catch_up(container)
    olga = demo_pledges(container)["Europe/Moscow"]
    sender = RecordingSender()

    # 26 October: both of Olga's and Lucía's reminders are overdue, the deadline is not.
    result = run_deadline_scans(container.commands, sender, utc(2010, 10, 26))

    assert (result.lapsed, result.reminders_sent, result.reminders_cancelled) == (0, 2, 2)
    assert {kind for _, kind in sender.sent} == {"2d"}
    assert reminders(container)[(olga, OCTOBER_27_ENDS, "7d")][1] == "cancelled"


def test_no_reminder_goes_out_after_the_deadline(container: Container) -> None:
    load_demo(container)
    catch_up(container)
    sender = RecordingSender()

    # The clock was down until after the deadline: the pledges lapse, nobody is reminded.
    result = run_deadline_scans(container.commands, sender, utc(2010, 10, 28))
    catch_up(container)

    assert (result.lapsed, result.reminders_sent) == (2, 0)
    assert sender.sent == []
    assert "pending" not in {status for _, status in reminders(container).values()}


def test_the_default_sender_plans_one_reminder_mailing_per_action(container: Container) -> None:
    load_demo(container)
    catch_up(container)

    result = send_due_reminders(container.commands, container.reminder_sender,
                                utc(2010, 10, 21))

    assert result.reminders_sent == 2
    planned = [e for e in container.store.read_all() if e.type == "MailingPlanned"
               and e.data["kind"] == "pledge_reminder"]
    assert len(planned) == 1
    assert planned[0].data["action_id"] == seed.ACTION_ID
    with container.engine.connect() as conn:
        recipients = set(conn.execute(select(mail_deliveries.c.supporter_id).where(
            mail_deliveries.c.mailing_id == planned[0].data["mailing_id"])).scalars())
        open_pledgers = set(conn.execute(select(pledges.c.supporter_id).where(
            pledges.c.status == "open")).scalars())
    assert recipients == open_pledgers and len(recipients) == 2


def run_together(count: int, job: Callable[[], object]) -> list[object]:
    barrier = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(job())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.postgres
def test_racing_scans_send_each_reminder_once_and_lapse_each_pledge_once(
    postgres_url: str, tmp_path: Path,
) -> None:
    container = with_actors(build(Settings.from_env({
        "DATABASE_URL": postgres_url, "SECRET_KEY": SECRET_KEY, "VAR_DIR": str(tmp_path)})))
    try:
        launch(container, "ua-1", Deadline(on=NOVEMBER_2, timezone=BISHKEK))
        pledged = {pledge_from(container, "ua-1", "UTC", utc(2010, 10, 1)) for _ in range(40)}
        catch_up(container)
        sender = RecordingSender()

        # 30 October: every 7-day reminder (26 October, 10:00 UTC) is due, no 2-day one.
        run_together(4, lambda: send_due_reminders(container.commands, sender,
                                                   utc(2010, 10, 30), limit=3))

        assert sorted(sender.sent) == sorted((p, "7d") for p in pledged)
        statuses = [s for (_, _, kind), (_, s) in reminders(container).items() if kind == "7d"]
        assert statuses == ["sent"] * 40

        lapsed = run_together(3, lambda: lapse_due_pledges(container.commands, NOVEMBER_2_ENDS,
                                                           limit=7))

        assert sum(lapsed) == 40  # type: ignore[arg-type]
        streams = [stream for stream, _ in events_of_type(container, "PledgeLapsed")]
        assert sorted(streams) == sorted(f"pledge-{p}" for p in pledged)
    finally:
        container.engine.dispose()


# --- Cost: index range scans only (PostgreSQL plans) ------------------------------------------

FILL_PLEDGES = """
INSERT INTO pledges (pledge_id, action_id, supporter_id, status, target_ids, letters_promised,
                     letters_confirmed, pledged_at, due_at, version)
SELECT 'p' || i, 'a' || (i % 40), 's' || i, 'open', '["t"]', 1, 0, :now - interval '30 days',
       CASE WHEN i <= :due THEN :now - i * interval '1 second'
            ELSE :now + interval '1 hour' + (i % 50000) * interval '1 minute' END, 1
FROM generate_series(1, :total) AS i
"""
FILL_REMINDERS = """
INSERT INTO pledge_reminders (reminder_id, pledge_id, deadline_at, kind, due_at, status, sent_at)
SELECT 'r' || i || k, 'p' || i, :now + interval '30 days', k,
       CASE WHEN i <= :due AND k = '2d' THEN :now - i * interval '1 second'
            WHEN k = '7d' THEN :now - interval '1 day' - i * interval '1 second'
            ELSE :now + interval '1 hour' + (i % 50000) * interval '1 minute' END,
       CASE WHEN k = '7d' THEN 'sent' ELSE 'pending' END,
       CASE WHEN k = '7d' THEN :now - interval '1 day' END
FROM generate_series(1, :total) AS i, (VALUES ('7d'), ('2d')) AS kinds (k)
"""


def plan_of(conn: Connection, statement: Any) -> str:
    compiled = statement.compile(dialect=conn.dialect)
    rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).scalars()
    return "\n".join(rows)


@pytest.mark.postgres
def test_the_scan_queries_read_index_ranges_only(postgres_url: str) -> None:
    now = utc(2026, 6, 1)
    with engine_for(postgres_url) as engine:
        with engine.begin() as conn:
            params = {"now": now, "due": 50, "total": 20_000}
            conn.execute(text(FILL_PLEDGES), params)
            conn.execute(text(FILL_REMINDERS), params)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE pledges")
            conn.exec_driver_sql("ANALYZE pledge_reminders")
        with engine.begin() as conn:
            lapse_plan = plan_of(conn, lapse_candidates(now, 200))
            reminder_plan = plan_of(conn, due_reminders_query(now, 200))
            assert len(conn.execute(lapse_candidates(now, 200)).all()) == 50
            assert len(conn.execute(due_reminders_query(now, 200)).all()) == 50

    assert "Index Scan using ix_pledges_status_due_at on pledges" in lapse_plan, lapse_plan
    assert "Seq Scan" not in lapse_plan and "Sort" not in lapse_plan, lapse_plan
    assert ("Index Scan using ix_pledge_reminders_status_due_at on pledge_reminders"
            in reminder_plan), reminder_plan
    assert "Seq Scan" not in reminder_plan and "Sort" not in reminder_plan, reminder_plan


# --- The clock and the actor ------------------------------------------------------------------


def test_the_clock_asks_for_a_deadline_scan_once_a_minute(
    container: Container, broker: StubBroker,
) -> None:
    actors = actors_of(container)
    minute = Cadences(deadline_scans=Every(60))

    for _ in range(3):
        tick(container, minute)
    assert broker.queues[DEADLINES_QUEUE].qsize() == 1
    assert broker.queues[SUBSCRIPTIONS_QUEUE].qsize() == 3 * len(container.subscriptions)

    assert minute.deadline_scans is not None and minute.deadline_scans.last is not None
    minute.deadline_scans.last -= 60  # a minute later
    tick(container, minute)
    assert broker.queues[DEADLINES_QUEUE].qsize() == 2
    assert actors.queues == {SUBSCRIPTIONS_QUEUE, DEADLINES_QUEUE, MAIL_QUEUE,
                             WEBHOOKS_QUEUE, PARTNER_JOBS_QUEUE, RETENTION_QUEUE}


@pytest.fixture
def recording_sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def redis_container(postgres_url: str, tmp_path: Path,
                   recording_sender: RecordingSender) -> Iterator[Container]:
    """On Redis, with the reminder sender recording instead of mailing."""
    with container_on_redis(postgres_url, tmp_path / "var",
                            reminder_sender=recording_sender) as found:
        yield found


def run_two_clocks_once(container: Container, broker: RedisBroker,
                        worker: dramatiq.Worker) -> None:
    tick(container)
    tick(container)  # a second clock ticking at the same moment
    broker.join(SUBSCRIPTIONS_QUEUE, timeout=30_000)
    broker.join(DEADLINES_QUEUE, timeout=30_000)
    worker.join()


@pytest.mark.redis
@pytest.mark.postgres
def test_the_actor_lapses_and_reminds_on_redis_even_after_a_flush(
    redis_container: Container, recording_sender: RecordingSender,
) -> None:
    container, sender = redis_container, recording_sender
    broker = container.broker
    assert isinstance(broker, RedisBroker)
    load_demo(container)  # due in October 2010: long overdue by the wall clock
    # An action still open by the wall clock, pledged ten days ago: its 7-day reminder is due.
    today = utc_now().date()
    launch(container, "ua-now", Deadline(on=today + timedelta(days=3), timezone="UTC"))
    current = pledge_from(container, "ua-now", "UTC", utc_now() - timedelta(days=10))
    actors = actors_of(container)
    broker.flush_all()
    assert actors.queues == broker.get_declared_queues()

    tick(container)
    broker.flush_all()  # Redis loses the messages: nothing lived only there
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        assert sorted(pledge_statuses(container).values()).count("lapsed") == 0
        for _ in range(3):
            run_two_clocks_once(container, broker, worker)
    finally:
        worker.stop()

    statuses = pledge_statuses(container)
    assert sorted(statuses.values()) == ["fulfilled", "fulfilled", "lapsed", "lapsed", "open"]
    assert statuses[current] == "open"
    assert len(events_of_type(container, "PledgeLapsed")) == 2
    assert sender.sent == [(current, "7d")]
    rows = reminders(container)
    assert {s for (p, _, _), (_, s) in rows.items() if p != current} == {"cancelled"}
    with container.engine.connect() as conn:
        pending = conn.execute(select(func.count()).select_from(pledge_reminders)
                               .where(pledge_reminders.c.status == "pending")).scalar_one()
    assert pending == 1  # the current pledge's 2-day reminder, due in two days
