"""Fan-out end to end: the log plans a mailing, the dispatcher enqueues, workers send.

Real parts: the store, the subscriptions, Dramatiq's worker threads, the real `sendgrid`
client against the fake SendGrid server. Every recipient gets exactly one e-mail.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from dramatiq.brokers.stub import StubBroker

from campaign.application.commands import Meta
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import SUPPORTERS, load_demo
from campaign.domain import mailing
from campaign.infra.clock import utc_now
from campaign.mail import sending as fanout
from campaign.mail.planning import launch_mailing_id, plan_mailings
from campaign.mail.sending import LOST_AFTER, claimed, lost_batches, record_outcome, stamp_attempt
from events import SubscriptionRunner
from tests.fakes.fixtures import sendgrid_server  # noqa: F401 (a fixture)
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration.mail.conftest import confirmed_supporter, deliver
from workers.actors import MAIL_QUEUE, Actors
from workers.clock import DEADLINE_SCAN_SECONDS, MAIL_SWEEP_SECONDS, Cadences, Every, tick

EMAILS = {s.registration.email for s in SUPPORTERS}
# The demo launches UA 135/10 and publishes its fifth update: two mailings, one e-mail each.
MAILINGS = ("action_launched", "action_updated")


def once_per_mailing(server: FakeSendGrid) -> bool:
    """Every demo supporter got exactly one e-mail from each of the two mailings."""
    got = Counter((r.body["categories"][0], address)
                  for r in server.accepted for address in r.recipients)
    return got == Counter({(kind, a): 1 for kind in MAILINGS for a in EMAILS})


def outcomes(container: Container) -> list[str]:
    return [e.type for e in container.store.read_stream(
        mailing.mailing_stream(launch_mailing_id(seed.ACTION_ID)))]


def test_the_launch_reaches_every_subscriber_exactly_once_with_one_click_unsubscribe(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, _ = workers
    load_demo(mail_container)

    deliver(mail_container, broker)
    deliver(mail_container, broker)  # the clock ticks again: nothing is sent twice

    assert once_per_mailing(sendgrid_server)
    request = sendgrid_server.accepted[0].body
    person = request["personalizations"][0]
    assert person["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in person["headers"]["List-Unsubscribe"]
    assert "mailto:ua@example.org" in person["headers"]["List-Unsubscribe"]
    assert set(person["custom_args"]) == {"delivery_id"}
    assert not any("@" in value for value in request["custom_args"].values())
    first = sendgrid_server.accepted[0].mails()[0]
    assert re.search(r"27\D+2010|2010\D+27", first.text)  # the deadline, in any locale
    assert "Zarylbek Rysaliev" in request["content"][0]["value"]
    launch_batches = [r for r in sendgrid_server.accepted
                      if r.body["categories"] == ["action_launched"]]
    # One batch per language received: UA 135/10 exists in English and in Russian.
    assert outcomes(mail_container).count("BatchAccepted") == len(launch_batches) == 2
    assert outcomes(mail_container)[-1] == "MailingCompleted"


def test_server_errors_for_a_while_are_retried_and_nothing_is_sent_twice(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, _ = workers
    load_demo(mail_container)
    sendgrid_server.fail_next(2, status=503)

    deliver(mail_container, broker)

    assert sendgrid_server.statuses.count(503) == 2
    assert once_per_mailing(sendgrid_server)


def test_a_rate_limit_waits_as_told_and_then_sends_once(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, _ = workers
    load_demo(mail_container)
    sendgrid_server.rate_limit_next(3, reset_in=1, retry_after=1)

    deliver(mail_container, broker)

    assert sendgrid_server.statuses.count(429) == 3
    assert once_per_mailing(sendgrid_server)


def test_a_refused_batch_is_recorded_as_failed_and_not_retried(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, _ = workers
    load_demo(mail_container)
    sendgrid_server.reject_next(400, n=100, message="The from address does not match")

    deliver(mail_container, broker)

    failed = [e for e in mail_container.store.read_all(limit=10_000) if e.type == "BatchFailed"]
    assert failed and sendgrid_server.statuses == [400] * len(failed)  # one try per batch
    assert failed[0].data["status"] == 400
    assert sendgrid_server.deliveries() == {}


def test_a_redelivered_message_sends_nothing(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, actors = workers
    load_demo(mail_container)
    deliver(mail_container, broker)
    requests = len(sendgrid_server.accepted)
    batch_id = f"{launch_mailing_id(seed.ACTION_ID)}-1"

    actors["send_batch"].send(batch_id)
    broker.join(MAIL_QUEUE, timeout=30_000)

    assert len(sendgrid_server.accepted) == requests


def test_a_batch_another_worker_holds_is_looked_at_again_and_sent_once(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, actors = workers
    load_demo(mail_container)
    SubscriptionRunner(mail_container.store, mail_container.subscriptions["mailing_planner"]).run()
    batch_id = f"{launch_mailing_id(seed.ACTION_ID)}-1"

    with claimed(mail_container.engine, batch_id) as mine:  # a worker that may yet die holding it
        assert mine
        actors["send_batch"].send(batch_id)
        time.sleep(1)  # the message is handled meanwhile, and must not be dropped
        assert sendgrid_server.accepted == []
    broker.join(MAIL_QUEUE, timeout=30_000)  # the delayed second look sends it

    assert len(sendgrid_server.accepted) == 1
    assert outcomes(mail_container).count("BatchAccepted") == 1


def test_batches_whose_queue_message_was_lost_are_found_and_sent_once(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broker, actors = workers
    load_demo(mail_container)
    # Planned, but the messages never reached a worker (Redis flushed, failed over).
    SubscriptionRunner(mail_container.store, mail_container.subscriptions["mailing_planner"]).run()
    planned = {f"{launch_mailing_id(seed.ACTION_ID)}-{n}" for n in (1, 2)}  # en, ru
    now = utc_now()
    assert lost_batches(mail_container.engine, now) == []  # too soon to call them lost
    later = now + LOST_AFTER + timedelta(minutes=1)
    lost = set(lost_batches(mail_container.engine, later))
    assert planned <= lost
    first = f"{launch_mailing_id(seed.ACTION_ID)}-1"
    # A worker retrying it:
    stamp_attempt(mail_container.engine, first, later - timedelta(minutes=1))
    assert first not in lost_batches(mail_container.engine, later)
    stamp_attempt(mail_container.engine, first, now)  # ... whose retries then stopped

    monkeypatch.setattr(fanout, "LOST_AFTER", timedelta(0))  # what the clock asks, later on
    actors["resend_lost_batches"].send()
    broker.join(MAIL_QUEUE, timeout=30_000)
    actors["resend_lost_batches"].send()  # the next sweep: nothing is lost any more
    broker.join(MAIL_QUEUE, timeout=30_000)

    assert lost_batches(mail_container.engine, later) == []
    assert once_per_mailing(sendgrid_server)


def test_the_clock_asks_for_a_lost_batch_sweep_every_five_minutes(
    mail_container: Container, broker: StubBroker,
) -> None:
    minute, sweeps = Every(DEADLINE_SCAN_SECONDS), Every(MAIL_SWEEP_SECONDS)
    cadences = Cadences(deadline_scans=minute, mail_sweeps=sweeps)

    for _ in range(3):
        tick(mail_container, cadences)
    assert broker.queues[MAIL_QUEUE].qsize() == 1
    assert sweeps.last is not None and minute.last is not None
    minute.last -= DEADLINE_SCAN_SECONDS  # a minute later: a scan, but no sweep yet
    tick(mail_container, cadences)
    assert broker.queues[MAIL_QUEUE].qsize() == 1
    sweeps.last -= MAIL_SWEEP_SECONDS
    tick(mail_container, cadences)
    assert broker.queues[MAIL_QUEUE].qsize() == 2


def test_outcomes_of_many_batches_finishing_together_are_all_recorded(
    mail_container: Container,
) -> None:
    meta = Meta(actor="test", correlation_id="outcomes-at-once")
    mailing_id = "m-finishing-together"
    batches = tuple(mailing.BatchPlan(f"{mailing_id}-{n}", "action_launched", "en", 1)
                    for n in range(1, 41))
    mail_container.commands.handle(mailing.PlanMailing(
        mailing_id, "action_launched", "a-1", "c-1", None, batches, utc_now()), meta)

    def record(batch_ids: list[str]) -> None:
        for batch_id in batch_ids:
            record_outcome(mail_container.commands, mailing.RecordBatchAccepted(
                mailing_id, batch_id, f"sg-{batch_id}", utc_now()), meta)

    ids = [b.batch_id for b in batches]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for finished in [pool.submit(record, ids[n::8]) for n in range(8)]:
            finished.result()  # no thread ran out of conflict retries

    recorded = Counter(e.type for e in mail_container.store.read_stream(
        mailing.mailing_stream(mailing_id)))
    assert recorded == Counter({"MailingPlanned": 1, "BatchAccepted": 40, "MailingCompleted": 1})


def test_the_mailing_state_outcomes_are_decided_on_is_the_state_its_stream_replays_to(
    mail_container: Container,
) -> None:
    meta = Meta(actor="test", correlation_id="state-without-replay")
    mailing_id = "m-state"
    commands = mail_container.commands
    stream = mailing.mailing_stream(mailing_id)
    batches = tuple(mailing.BatchPlan(f"{mailing_id}-{n}", "action_launched", "en", 2)
                    for n in range(1, 4))
    plans = fanout.Plans(mail_container.store)

    def same_as_replayed() -> None:
        with mail_container.engine.connect() as conn:
            assert fanout.mailing_state(conn, plans, mailing_id) == commands.load(
                conn, stream, mailing.AGGREGATE)

    same_as_replayed()  # never planned
    commands.handle(mailing.PlanMailing(
        mailing_id, "action_launched", "a-1", "c-1", None, batches, utc_now()), meta)
    same_as_replayed()
    record_outcome(commands, mailing.RecordBatchFailed(
        mailing_id, batches[1].batch_id, 400, "refused", utc_now()), meta, plans)
    for batch in (batches[0], batches[0], batches[2]):  # the first one twice: redelivered
        record_outcome(commands, mailing.RecordBatchAccepted(
            mailing_id, batch.batch_id, "sg", utc_now()), meta, plans)
        same_as_replayed()

    recorded = [e.type for e in mail_container.store.read_stream(stream)]
    assert recorded == ["MailingPlanned", "BatchFailed", "BatchAccepted", "BatchAccepted",
                        "MailingCompleted"]
    completed = commands.mapper.to_domain(mail_container.engine.connect(),
                                          mail_container.store.read_stream(stream)[-1])
    assert completed == mailing.MailingCompleted(mailing_id, 2, 1, completed.completed_at)  # type: ignore[attr-defined]


def test_a_launch_planned_in_parts_is_sent_part_by_part_each_recipient_once(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, _ = workers
    for command in (*seed.CASE_COMMANDS, *seed.ACTION_COMMANDS[:3]):  # launched
        mail_container.commands.handle(command, Meta(actor="test", correlation_id="parts"))
    people = {confirmed_supporter(mail_container, f"p{n}@example.org") for n in range(30)}
    planner = SubscriptionRunner(mail_container.store, plan_mailings(mail_container.commands, 7))
    dispatcher = SubscriptionRunner(mail_container.store,
                                    mail_container.subscriptions["mail_dispatcher"])
    stream = mailing.mailing_stream(launch_mailing_id(seed.ACTION_ID))

    planner.run_batch()  # the first part only
    dispatcher.run()
    broker.join(MAIL_QUEUE, timeout=30_000)

    first = {a for r in sendgrid_server.accepted for a in r.recipients}
    assert 0 < len(first) <= 7  # sent while the rest is still to plan
    assert "MailingCompleted" not in outcomes(mail_container)
    while planner.run_batch().delivered:
        dispatcher.run()
        broker.join(MAIL_QUEUE, timeout=30_000)

    got = Counter(a for r in sendgrid_server.accepted for a in r.recipients)
    assert set(got.values()) == {1} and len(got) == len(people) == 30
    recorded = Counter(e.type for e in mail_container.store.read_stream(stream))
    assert recorded["BatchesPlanned"] == 30 // 7 and recorded["MailingCompleted"] == 1
    assert outcomes(mail_container)[-1] == "MailingCompleted"
