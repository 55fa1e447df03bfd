"""Deliveries reach partners signed (Standard Webhooks v1), once per event, as they follow."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.infra.tables import webhook_messages
from campaign.partners.payloads import MAX_BODY_BYTES
from campaign.partners.webhooks.deliveries import REQUEUE_AFTER
from campaign.partners.webhooks.outbox import Outbox, following, outbox_subscription
from events import as_utc
from tests.fakes.partner_receiver import PartnerReceiver
from tests.integration.webhooks.conftest import (
    META,
    Clock,
    Pipeline,
    attempts,
    deliveries,
    launch_seed_action,
    register,
)

SEED_TYPES = ["case.development_recorded"] * 5 + ["action.launched", "action.updated"]


def test_every_event_a_partner_follows_arrives_signed_and_verified(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    launch_seed_action(container)

    done = pipeline.run()

    arrived = receiver.deliveries()
    assert [d.payload["type"] for d in arrived] == SEED_TYPES
    assert [a.outcome for a in done] == ["succeeded"] * len(SEED_TYPES)
    assert receiver.rejected() == []
    rows = deliveries(container, issued.partner_id)
    assert [d.webhook_id for d in arrived] == [r.delivery_id for r in rows]
    assert all(r.status == "succeeded" and r.delivery_id.startswith("msg_") for r in rows)
    for delivery in arrived:
        body = delivery.body
        assert len(body) < MAX_BODY_BYTES
        compact = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False)
        assert body == compact.encode()
        assert set(delivery.payload) == {"event_id", "type", "timestamp", "data"}
        assert delivery.headers["content-type"] == "application/json"
    launched = arrived[5].payload["data"]
    assert (launched["action_id"], launched["case_id"]) == (seed.ACTION_ID, seed.CASE_ID)


def test_a_development_held_for_approval_is_not_sent(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    register(container, receiver, clock())
    launch_seed_action(container)  # the 2020 hearing is recorded pending approval

    pipeline.run()

    ids = [d.payload["data"].get("development_id") for d in receiver.deliveries()]
    assert seed.SUPREME_COURT_HEARING.development_id not in ids
    assert len(ids) == len(SEED_TYPES)


def test_partners_get_only_the_cases_countries_and_types_they_follow(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver,
    other_receiver: PartnerReceiver, clock: Clock,
) -> None:
    register(container, receiver, clock(), case_ids=(), countries=("RU",))
    register(container, other_receiver, clock(), case_ids=(), action_ids=(seed.ACTION_ID,),
             event_types=("action.launched", "action.closed"))
    launch_seed_action(container)

    pipeline.run()

    assert receiver.requests() == []
    assert [d.payload["type"] for d in other_receiver.deliveries()] == ["action.launched"]


def test_reading_an_event_again_adds_no_delivery_and_sending_again_sends_nothing(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    launch_seed_action(container)
    pipeline.run()
    rows = deliveries(container, issued.partner_id)

    # The outbox sees the same events again (a crash before its checkpoint moved).
    woken: list[tuple[str, str]] = []
    again = outbox_subscription(container.store, clock, woken)
    with container.engine.begin() as conn:
        events = [e for e in container.store.read_all(conn=conn) if e.type in again.event_types]
        again.handle(conn, events)
    # A queue message for a delivery already made (at-least-once delivery of messages).
    replayed = [pipeline.deliverer.turn(r.delivery_id) for r in rows]

    assert len(woken) == len(rows)
    assert deliveries(container, issued.partner_id) == rows
    assert all(turn.attempts == [] for turn in replayed)
    assert len(receiver.requests()) == len(SEED_TYPES)


def test_the_message_body_is_kept_once_per_event(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver,
    other_receiver: PartnerReceiver, clock: Clock,
) -> None:
    register(container, receiver, clock())
    register(container, other_receiver, clock(), case_ids=(), countries=("KG",))
    launch_seed_action(container)

    pipeline.run()

    with container.engine.connect() as conn:
        bodies = conn.execute(select(webhook_messages.c.body)).scalars().all()
    assert len(bodies) == len(SEED_TYPES)
    first, second = receiver.deliveries(), other_receiver.deliveries()
    assert [d.body for d in first] == [d.body for d in second]
    # The same event has another webhook-id for another partner.
    assert not {d.webhook_id for d in first} & {d.webhook_id for d in second}


def test_every_attempt_is_logged_with_status_latency_and_error(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=("action.launched",))
    launch_seed_action(container)
    receiver.fail_next(1, status=500)

    pipeline.run()
    clock.advance(timedelta(seconds=6))
    pipeline.run()

    (row,) = deliveries(container, issued.partner_id)
    logged = attempts(container, row.delivery_id)
    assert [(a.attempt, a.outcome, a.status_code) for a in logged] == [
        (1, "failed", 500), (2, "succeeded", 200)]
    assert logged[0].error == "HTTP 500: temporarily broken"
    assert logged[1].error is None
    assert all(a.latency_ms >= 0 for a in logged)
    assert [as_utc(a.attempted_at) for a in logged] == [clock.now - timedelta(seconds=6), clock.now]
    # The same webhook-id on both attempts, each verified.
    assert [r.webhook_id for r in receiver.requests()] == [row.delivery_id] * 2
    assert all(r.verified for r in receiver.requests())


def test_a_partner_registered_later_gets_events_from_then_on(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    for command in seed.CASE_COMMANDS:
        container.commands.handle(command, META)
    pipeline.run()
    register(container, receiver, clock())
    for command in seed.ACTION_COMMANDS:
        container.commands.handle(command, META)

    pipeline.run()

    assert [d.payload["type"] for d in receiver.deliveries()] == [
        "action.launched", "action.updated"]


def test_deliveries_written_while_the_queue_is_down_go_out_once_the_scan_finds_them(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    launch_seed_action(container)

    def broker_down(delivery_id: str) -> None:
        raise ConnectionError("Redis is down")

    with pytest.raises(ConnectionError):
        Outbox(container.store, broker_down, clock).run_once()
    assert len(deliveries(container, issued.partner_id)) == len(SEED_TYPES)  # committed
    assert pipeline.scan() == 0  # their message may still be on its way
    clock.advance(REQUEUE_AFTER)
    assert pipeline.scan() == 1  # one message for the partner, which sends them all

    pipeline.work()

    assert [d.payload["type"] for d in receiver.deliveries()] == SEED_TYPES


def test_one_outbox_follower_at_a_time(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    register(container, receiver, clock())
    launch_seed_action(container)

    with following(container.engine) as first:
        assert first
        assert Outbox(container.store, pipeline.queued.append, clock).follow(5.0) is None
    assert pipeline.queued == []  # the second run did nothing
    assert pipeline.outbox() == len(SEED_TYPES)
