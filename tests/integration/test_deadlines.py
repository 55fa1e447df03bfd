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
from campaign.application.pledges import make_pledge
from campaign.application.reminders import DueReminder, due_reminders_query
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Services, bootstrap
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import load_demo
from campaign.domain import action, pledge
from campaign.domain.values import Deadline
from campaign.infra.clock import utc_now
from campaign.infra.tables import mail_deliveries, pledge_reminders, pledges
from campaign.settings import ConfigError, Settings
from events import SubscriptionRunner, as_utc
from events.schema import events
from tests.commands import SECRET_KEY
from tests.databases import engine_for
from tests.redis_services import isolated_broker, services_on_redis
from workers.actors import DEADLINES_QUEUE, MAIL_QUEUE, SUBSCRIPTIONS_QUEUE, Actors, declare_actors
from workers.clock import Every, tick
from workers.webhooks.actors import PARTNER_JOBS_QUEUE, WEBHOOKS_QUEUE

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


def launch(services: Services, action_id: str, deadline: Deadline,
           at: datetime = LAUNCHED) -> None:
    draft = replace(seed.DRAFT, action_id=action_id, deadline=deadline, drafted_at=at)
    services.commands.handle(draft, META)
    services.commands.handle(action.LaunchAction(action_id, launched_at=at), META)


def pledge_from(services: Services, action_id: str, timezone: str, at: datetime) -> str:
    """A new supporter in `timezone` pledges one letter at `at`; the pledge's id."""
    form = Registration(f"{uuid.uuid4().hex}@example.org", "Test Supporter", "en", "GB", timezone)
    supporter_id = register_supporter(services, form, META, at)
    make_pledge(services, action_id, supporter_id, (), 1, META, at)
    return f"{action_id}-{supporter_id}"


def fulfil(services: Services, pledge_id: str, at: datetime) -> None:
    """Confirm the one letter a single-target pledge promised."""
    with services.engine.connect() as conn:
        row = conn.execute(select(pledges).where(pledges.c.pledge_id == pledge_id)).one()
    services.commands.handle(pledge.ConfirmLetter(
        action_id=row.action_id, supporter_id=row.supporter_id, letter_id="l1",
        target_id=row.target_ids[0], channel="post", sent_on=at.date(), confirmed_at=at), META)


def catch_up(services: Services) -> None:
    """Run every subscription until caught up (twice: the policy's commands feed reminders)."""
    for _ in range(2):
        for subscription in services.subscriptions:
            result = SubscriptionRunner(services.store, subscription).run()
            assert not result.failed, subscription.name


Key = tuple[str, datetime, str]


def reminders(services: Services) -> dict[Key, tuple[datetime, str]]:
    """(pledge, deadline, kind) -> (due time, status) of every reminder row."""
    r = pledge_reminders.c
    with services.engine.connect() as conn:
        rows = conn.execute(select(r.pledge_id, r.deadline_at, r.kind, r.due_at, r.status))
        return {(p, as_utc(d), k): (as_utc(due), s) for p, d, k, due, s in rows}


def pledge_statuses(services: Services) -> dict[str, str]:
    with services.engine.connect() as conn:
        rows = conn.execute(select(pledges.c.pledge_id, pledges.c.status))
        return {pledge_id: status for pledge_id, status in rows}


def demo_pledges(services: Services) -> dict[str, str]:
    """The demo's pledge ids by their supporter's timezone."""
    from campaign.infra.tables import supporters
    with services.engine.connect() as conn:
        rows = conn.execute(select(pledges.c.pledge_id, supporters.c.timezone)
                            .join(supporters, supporters.c.supporter_id == pledges.c.supporter_id))
        return {zone: pledge_id for pledge_id, zone in rows}


def events_of_type(services: Services, type_name: str) -> list[tuple[str, dict[str, Any]]]:
    with services.engine.connect() as conn:
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


def test_reminders_are_due_at_ten_in_the_supporters_own_timezone(services: Services) -> None:
    launch(services, "ua-1", Deadline(on=NOVEMBER_2, timezone=BISHKEK))
    at = utc(2010, 10, 1, 12)
    bishkek, london, buenos_aires = (pledge_from(services, "ua-1", zone, at)
                                     for zone in (BISHKEK, LONDON, BUENOS_AIRES))

    catch_up(services)

    end = NOVEMBER_2_ENDS
    assert reminders(services) == {
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
    services = bootstrap(replace(settings, reminder_offsets_days=(3,)), engine)
    launch(services, "ua-1", Deadline(on=NOVEMBER_2, timezone=BISHKEK))
    london = pledge_from(services, "ua-1", LONDON, utc(2010, 10, 1))

    catch_up(services)

    assert reminders(services) == {
        (london, NOVEMBER_2_ENDS, "3d"): (utc(2010, 10, 30, 9), "pending"),  # still summer time
    }


def test_a_reminder_whose_time_has_passed_is_not_created(services: Services) -> None:
    launch(services, "ua-1", Deadline(on=NOVEMBER_2, timezone=BISHKEK))
    late = pledge_from(services, "ua-1", LONDON, utc(2010, 10, 28))          # after the 7d time
    just_late = pledge_from(services, "ua-1", LONDON, utc(2010, 10, 31, 10))  # at the 2d time
    on_time = pledge_from(services, "ua-1", LONDON, utc(2010, 10, 31, 9, 59))

    catch_up(services)

    assert reminders(services) == {
        (late, NOVEMBER_2_ENDS, "2d"): (utc(2010, 10, 31, 10), "pending"),
        (on_time, NOVEMBER_2_ENDS, "2d"): (utc(2010, 10, 31, 10), "pending"),
    }
    assert just_late not in {key[0] for key in reminders(services)}


def test_the_schedule_is_idempotent(services: Services) -> None:
    load_demo(services)
    catch_up(services)
    before = reminders(services)

    # Deliver the whole log to the subscription again, as after a crash before its commit.
    subscription = services.subscription("reminder_schedule")
    types = subscription.event_types or frozenset()
    log = [e for e in services.store.read_all() if e.type in types]
    with services.engine.begin() as conn:
        subscription.handle(conn, log)

    assert reminders(services) == before


# --- Extensions and stop action ---------------------------------------------------------------


def test_an_extension_reschedules_open_pledges_and_leaves_fulfilled_ones_alone(
    services: Services,
) -> None:
    load_demo(services)
    catch_up(services)
    by_zone = demo_pledges(services)
    olga, lucia = by_zone["Europe/Moscow"], by_zone[BUENOS_AIRES]
    sender = RecordingSender()
    sent = send_due_reminders(services, utc(2010, 10, 21), sender=sender)  # the 7d ones
    assert sent.reminders_sent == 2
    before = reminders(services)

    services.commands.handle(action.PublishUpdate(
        action_id=seed.ACTION_ID, number=6, published_at=utc(2010, 10, 22),
        deadline=Deadline(on=date(2010, 11, 30), timezone=BISHKEK)), META)
    catch_up(services)

    after = reminders(services)
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
    services: Services,
) -> None:
    load_demo(services)
    catch_up(services)
    assert {s for _, s in reminders(services).values()} == {"pending", "cancelled"}

    services.commands.handle(action.CloseAction(
        action_id=seed.ACTION_ID, reason="released", note="Released on appeal",
        closed_at=utc(2010, 10, 1)), META)
    catch_up(services)  # pledge_policy -> PledgeCancelled -> reminder_schedule

    assert {s for _, s in reminders(services).values()} == {"cancelled"}
    assert sorted(pledge_statuses(services).values()) == [
        "cancelled", "cancelled", "fulfilled", "fulfilled"]
    sender = RecordingSender()
    assert run_deadline_scans(services, utc(2010, 10, 26), sender=sender).reminders_sent == 0
    assert sender.sent == []


# --- The scans --------------------------------------------------------------------------------


def test_the_lapse_scan_lapses_exactly_the_overdue_open_pledges_once(services: Services) -> None:
    load_demo(services)  # two open and two fulfilled pledges, due 27 October 2010, 18:00 UTC
    launch(services, "ua-later", Deadline(on=date(2010, 11, 30), timezone=BISHKEK))
    later = pledge_from(services, "ua-later", LONDON, utc(2010, 10, 1))
    by_zone = demo_pledges(services)
    overdue = {by_zone[zone] for zone in DEMO_OPEN}

    assert lapse_due_pledges(services, OCTOBER_27_ENDS - timedelta(microseconds=1)) == 0
    assert lapse_due_pledges(services, OCTOBER_27_ENDS, limit=1) == 2  # batches of one
    assert lapse_due_pledges(services, OCTOBER_27_ENDS + timedelta(days=1)) == 0

    statuses = pledge_statuses(services)
    assert {p for p, s in statuses.items() if s == "lapsed"} == overdue
    assert statuses[later] == "open"
    assert sorted(statuses.values()).count("fulfilled") == 2
    lapses = events_of_type(services, "PledgeLapsed")
    assert sorted(stream.removeprefix("pledge-") for stream, _ in lapses) == sorted(overdue)
    assert {metadata["actor"] for _, metadata in lapses} == {ACTOR}


def test_due_reminders_go_out_once_and_only_while_they_still_apply(services: Services) -> None:
    load_demo(services)
    catch_up(services)
    by_zone = demo_pledges(services)
    olga, lucia = by_zone["Europe/Moscow"], by_zone[BUENOS_AIRES]
    sender = RecordingSender()

    # 20 Oct 12:00 UTC: Olga's 7-day reminder (10:00 Moscow) is due, Lucía's (10:00 in
    # Buenos Aires, 13:00 UTC) is not yet.
    first = send_due_reminders(services, utc(2010, 10, 20, 12), sender=sender)
    again = send_due_reminders(services, utc(2010, 10, 20, 12), sender=sender)

    assert (first.reminders_sent, again.reminders_sent) == (1, 0)
    assert sender.sent == [(olga, "7d")]

    # Lucía's pledge is fulfilled before her 7-day reminder goes out: it is cancelled.
    fulfil(services, lucia, utc(2010, 10, 20, 12, 30))
    later = send_due_reminders(services, utc(2010, 10, 20, 14), sender=sender)
    assert (later.reminders_sent, later.reminders_cancelled) == (0, 1)

    rows = reminders(services)
    assert rows[(olga, OCTOBER_27_ENDS, "7d")] == (utc(2010, 10, 20, 6), "sent")
    assert rows[(lucia, OCTOBER_27_ENDS, "7d")][1] == "cancelled"
    assert rows[(olga, OCTOBER_27_ENDS, "2d")][1] == "pending"
    with services.engine.connect() as conn:
        sent_at = conn.execute(select(pledge_reminders.c.sent_at)
                               .where(pledge_reminders.c.status == "sent")).scalar_one()
    assert as_utc(sent_at) == utc(2010, 10, 20, 12)


def test_after_downtime_only_the_latest_due_reminder_goes_out(services: Services) -> None:
    load_demo(services)
    catch_up(services)
    olga = demo_pledges(services)["Europe/Moscow"]
    sender = RecordingSender()

    # 26 October: both of Olga's and Lucía's reminders are overdue, the deadline is not.
    result = run_deadline_scans(services, utc(2010, 10, 26), sender=sender)

    assert (result.lapsed, result.reminders_sent, result.reminders_cancelled) == (0, 2, 2)
    assert {kind for _, kind in sender.sent} == {"2d"}
    assert reminders(services)[(olga, OCTOBER_27_ENDS, "7d")][1] == "cancelled"


def test_no_reminder_goes_out_after_the_deadline(services: Services) -> None:
    load_demo(services)
    catch_up(services)
    sender = RecordingSender()

    # The clock was down until after the deadline: the pledges lapse, nobody is reminded.
    result = run_deadline_scans(services, utc(2010, 10, 28), sender=sender)
    catch_up(services)

    assert (result.lapsed, result.reminders_sent) == (2, 0)
    assert sender.sent == []
    assert "pending" not in {status for _, status in reminders(services).values()}


def test_the_default_sender_plans_one_reminder_mailing_per_action(services: Services) -> None:
    load_demo(services)
    catch_up(services)

    result = send_due_reminders(services, utc(2010, 10, 21))

    assert result.reminders_sent == 2
    planned = [e for e in services.store.read_all() if e.type == "MailingPlanned"
               and e.data["kind"] == "pledge_reminder"]
    assert len(planned) == 1
    assert planned[0].data["action_id"] == seed.ACTION_ID
    with services.engine.connect() as conn:
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
    services = bootstrap(Settings.from_env({
        "DATABASE_URL": postgres_url, "SECRET_KEY": SECRET_KEY, "VAR_DIR": str(tmp_path)}))
    try:
        launch(services, "ua-1", Deadline(on=NOVEMBER_2, timezone=BISHKEK))
        pledged = {pledge_from(services, "ua-1", "UTC", utc(2010, 10, 1)) for _ in range(40)}
        catch_up(services)
        sender = RecordingSender()

        # 30 October: every 7-day reminder (26 October, 10:00 UTC) is due, no 2-day one.
        run_together(4, lambda: send_due_reminders(services, utc(2010, 10, 30), limit=3,
                                                   sender=sender))

        assert sorted(sender.sent) == sorted((p, "7d") for p in pledged)
        statuses = [s for (_, _, kind), (_, s) in reminders(services).items() if kind == "7d"]
        assert statuses == ["sent"] * 40

        lapsed = run_together(3, lambda: lapse_due_pledges(services, NOVEMBER_2_ENDS, limit=7))

        assert sum(lapsed) == 40  # type: ignore[arg-type]
        streams = [stream for stream, _ in events_of_type(services, "PledgeLapsed")]
        assert sorted(streams) == sorted(f"pledge-{p}" for p in pledged)
    finally:
        services.engine.dispose()


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


def test_the_clock_asks_for_a_deadline_scan_once_a_minute(services: Services) -> None:
    broker = StubBroker()
    actors = declare_actors(broker, services)
    minute = Every(60)

    for _ in range(3):
        tick(services, actors, minute)
    assert broker.queues[DEADLINES_QUEUE].qsize() == 1
    assert broker.queues[SUBSCRIPTIONS_QUEUE].qsize() == 3 * len(services.subscriptions)

    assert minute.last is not None
    minute.last -= 60  # a minute later
    tick(services, actors, minute)
    assert broker.queues[DEADLINES_QUEUE].qsize() == 2
    assert actors.queues == {SUBSCRIPTIONS_QUEUE, DEADLINES_QUEUE, MAIL_QUEUE,
                             WEBHOOKS_QUEUE, PARTNER_JOBS_QUEUE}
    broker.close()


@pytest.fixture
def redis_services(postgres_url: str, tmp_path: Path) -> Iterator[Services]:
    with services_on_redis(postgres_url, tmp_path / "var") as found:
        yield found


@pytest.fixture
def redis_broker(redis_services: Services) -> Iterator[RedisBroker]:
    assert redis_services.settings.redis_url
    with isolated_broker(redis_services.settings.redis_url) as broker:
        yield broker


def run_two_clocks_once(services: Services, actors: Actors, broker: RedisBroker,
                        worker: dramatiq.Worker) -> None:
    tick(services, actors)
    tick(services, actors)  # a second clock ticking at the same moment
    broker.join(SUBSCRIPTIONS_QUEUE, timeout=30_000)
    broker.join(DEADLINES_QUEUE, timeout=30_000)
    worker.join()


@pytest.mark.redis
@pytest.mark.postgres
def test_the_actor_lapses_and_reminds_on_redis_even_after_a_flush(
    redis_services: Services, redis_broker: RedisBroker,
) -> None:
    services, broker = redis_services, redis_broker
    sender = RecordingSender()
    services.reminder_sender = sender  # where the mail workers plug in
    load_demo(services)  # due in October 2010: long overdue by the wall clock
    # An action still open by the wall clock, pledged ten days ago: its 7-day reminder is due.
    today = utc_now().date()
    launch(services, "ua-now", Deadline(on=today + timedelta(days=3), timezone="UTC"))
    current = pledge_from(services, "ua-now", "UTC", utc_now() - timedelta(days=10))
    actors = declare_actors(broker, services)
    broker.flush_all()
    assert actors.queues == broker.get_declared_queues()

    tick(services, actors)
    broker.flush_all()  # Redis loses the messages: nothing lived only there
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        assert sorted(pledge_statuses(services).values()).count("lapsed") == 0
        for _ in range(3):
            run_two_clocks_once(services, actors, broker, worker)
    finally:
        worker.stop()

    statuses = pledge_statuses(services)
    assert sorted(statuses.values()) == ["fulfilled", "fulfilled", "lapsed", "lapsed", "open"]
    assert statuses[current] == "open"
    assert len(events_of_type(services, "PledgeLapsed")) == 2
    assert sender.sent == [(current, "7d")]
    rows = reminders(services)
    assert {s for (p, _, _), (_, s) in rows.items() if p != current} == {"cancelled"}
    with services.engine.connect() as conn:
        pending = conn.execute(select(func.count()).select_from(pledge_reminders)
                               .where(pledge_reminders.c.status == "pending")).scalar_one()
    assert pending == 1  # the current pledge's 2-day reminder, due in two days
