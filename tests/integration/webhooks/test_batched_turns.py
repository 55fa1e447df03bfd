"""A partner's backlog goes out in claimed groups: in order, recorded together, never lost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from campaign.application.commands import Meta
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.domain import case
from campaign.domain.values import OnDate
from campaign.partners.webhooks import delivery
from tests.fakes.partner_receiver import PartnerReceiver
from tests.integration.webhooks.conftest import Clock, Pipeline, attempts, deliveries, register

BACKLOG = 20


def developments(container: Container, clock: Clock, count: int) -> None:
    container.commands.handle(seed.OPEN_CASE, Meta(actor="test", correlation_id="open"))
    for n in range(count):
        container.commands.handle(case.RecordDevelopment(
            case_id=seed.CASE_ID, development_id=f"news-{n}", kind="other",
            occurred=OnDate(clock.now.date()), summary=f"News {n}.",
            source=case.DevelopmentSource(kind="campaigner"),
            recorded_at=clock.now + timedelta(seconds=n)),
            Meta(actor="test", correlation_id=f"news-{n}"))


def test_a_partners_backlog_goes_out_in_order_and_is_recorded_in_few_transactions(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A turn's time budget would end it early on a busy machine (more turns, more
    # commits): what this counts is how claims group deliveries, so time is no limit here.
    monkeypatch.setattr(delivery, "TURN_SECONDS", 600.0)
    issued = register(container, receiver, clock())
    developments(container, clock, BACKLOG)
    pipeline.outbox()
    commits: list[Any] = []

    def count(conn: Any) -> None:
        commits.append(conn)

    event.listen(container.engine, "commit", count)
    try:
        done = pipeline.work()
    finally:
        event.remove(container.engine, "commit", count)

    assert [a.outcome for a in done] == ["succeeded"] * BACKLOG
    sent = [r.payload["data"]["development_id"] for r in receiver.requests()]
    assert sent == [f"news-{n}" for n in range(BACKLOG)]
    rows = deliveries(container, issued.partner_id)
    assert {(r.status, r.attempts, r.lease_until) for r in rows} == {("succeeded", 1, None)}
    assert all([a.attempt for a in attempts(container, r.delivery_id)] == [1] for r in rows)
    assert len(commits) <= BACKLOG // 2  # one transaction per delivery before


def test_deliveries_claimed_but_not_sent_go_back_unattempted(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    developments(container, clock, 5)
    receiver.rate_limit_next("60")
    pipeline.outbox()

    assert [a.outcome for a in pipeline.work()] == ["rate_limited"]

    first, *rest = deliveries(container, issued.partner_id)
    assert (first.attempts, len(attempts(container, first.delivery_id))) == (1, 1)
    assert {(r.status, r.attempts, r.lease_until) for r in rest} == {("pending", 0, None)}
    assert all(attempts(container, r.delivery_id) == [] for r in rest)
    clock.advance(timedelta(seconds=60))
    assert [a.outcome for a in pipeline.run()] == ["succeeded"] * 5
    assert [a.attempt for r in rest for a in attempts(container, r.delivery_id)] == [1] * 4
