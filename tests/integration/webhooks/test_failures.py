"""When partners fail: the retry schedule, 410, Retry-After, redirects, timeouts, five days."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from campaign.application.commands import Meta
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.domain import case
from campaign.domain.partner import PartnerEndpointDisabled
from campaign.domain.values import OnDate
from campaign.infra.tables import partners, webhook_endpoints
from campaign.mail import alerts
from campaign.partners.admin import set_endpoint
from campaign.partners.webhooks.delivery import Deliverer
from campaign.partners.webhooks.schedule import JITTER, MAX_ATTEMPTS, RETRY_DELAYS
from events import SubscriptionRunner, as_utc
from tests.fakes.partner_receiver import Answer, PartnerReceiver
from tests.integration.webhooks.conftest import (
    Clock,
    Pipeline,
    attempts,
    deliveries,
    launch_seed_action,
    register,
)

LAUNCH_ONLY = ("action.launched",)


def only_delivery(container: Container, partner_id: str) -> object:
    (row,) = deliveries(container, partner_id)
    return row


def endpoint_row(container: Container, partner_id: str) -> object:
    with container.engine.connect() as conn:
        return conn.execute(select(partners.c.endpoint_enabled, partners.c.disabled_reason)
                            .where(partners.c.partner_id == partner_id)).one()


def disabled_events(container: Container) -> list[dict[str, object]]:
    return [e.data for e in container.store.read_all(limit=10_000)
            if e.type == PartnerEndpointDisabled.type_name]


def test_failures_are_retried_on_the_schedule_with_jitter_until_it_runs_out(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=LAUNCH_ONLY)
    receiver.answer_always(Answer(500, body=b"down"))
    launch_seed_action(container)
    pipeline.run()

    for failures in range(1, MAX_ATTEMPTS):
        row = only_delivery(container, issued.partner_id)
        wait = as_utc(row.next_attempt_at) - clock.now
        base = RETRY_DELAYS[failures]
        assert (row.status, row.failures) == ("pending", failures)
        assert base * (1 - JITTER) <= wait <= base * (1 + JITTER)
        clock.advance(wait - timedelta(seconds=1))
        assert pipeline.scan() == 0  # not yet
        clock.advance(timedelta(seconds=1))
        assert pipeline.scan() == 1
        pipeline.work()

    row = only_delivery(container, issued.partner_id)
    assert (row.status, row.failures, row.next_attempt_at) == ("failed", MAX_ATTEMPTS, None)
    assert len(attempts(container, row.delivery_id)) == MAX_ATTEMPTS == 8
    assert len(receiver.requests()) == 8
    clock.advance(timedelta(days=1))
    assert pipeline.scan() == 0


def test_a_partner_that_recovers_gets_the_delivery_with_the_same_id(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=LAUNCH_ONLY)
    receiver.fail_next(2, status=502)
    launch_seed_action(container)

    pipeline.run()
    clock.advance(timedelta(seconds=6))
    pipeline.run()
    clock.advance(timedelta(minutes=6))
    pipeline.run()

    row = only_delivery(container, issued.partner_id)
    assert row.status == "succeeded"
    assert [r.answered for r in receiver.requests()] == [502, 502, 200]
    assert {r.webhook_id for r in receiver.requests()} == {row.delivery_id}
    with container.engine.connect() as conn:
        health = conn.execute(select(webhook_endpoints)).one()
    assert health.failing_since is None and health.last_success_at is not None


def test_410_disables_the_endpoint_at_once_and_stops_everything_pending(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    receiver.gone_next()
    launch_seed_action(container)

    done = pipeline.run()

    assert [a.outcome for a in done] == ["gone"]
    assert len(receiver.requests()) == 1
    statuses = [r.status for r in deliveries(container, issued.partner_id)]
    assert statuses == ["failed"] + ["cancelled"] * 6
    assert tuple(endpoint_row(container, issued.partner_id)) == (False, "gone")
    assert [d["reason"] for d in disabled_events(container)] == ["gone"]
    clock.advance(timedelta(days=1))
    assert pipeline.run() == []  # nothing more is sent


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_pauses_the_partner_without_spending_a_retry(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
    status: int,
) -> None:
    issued = register(container, receiver, clock())
    receiver.rate_limit_next("120", status=status)
    launch_seed_action(container)

    done = pipeline.run()

    assert [a.outcome for a in done] == ["rate_limited"]  # the others wait too
    rows = deliveries(container, issued.partner_id)
    first = rows[0]
    assert (first.failures, as_utc(first.next_attempt_at)) == (0, clock.now + timedelta(
        seconds=120))
    clock.advance(timedelta(seconds=119))
    assert pipeline.run() == []
    clock.advance(timedelta(seconds=1))
    assert [a.outcome for a in pipeline.run()] == ["succeeded"] * 7
    assert [r.answered for r in receiver.requests()] == [status] + [200] * 7


def test_retry_after_as_an_http_date_is_honoured(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=LAUNCH_ONLY)
    receiver.rate_limit_next(format_datetime(clock.now + timedelta(minutes=10), usegmt=True))
    launch_seed_action(container)

    pipeline.run()

    row = only_delivery(container, issued.partner_id)
    assert as_utc(row.next_attempt_at) == clock.now + timedelta(minutes=10)
    assert row.failures == 0


def test_a_429_without_retry_after_is_an_ordinary_failure(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=LAUNCH_ONLY)
    receiver.answer_next(Answer(429))
    launch_seed_action(container)

    assert [a.outcome for a in pipeline.run()] == ["failed"]
    assert only_delivery(container, issued.partner_id).failures == 1


def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver,
    other_receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=LAUNCH_ONLY)
    receiver.redirect_next(other_receiver.url, status=307)
    launch_seed_action(container)

    assert [a.outcome for a in pipeline.run()] == ["failed"]

    row = only_delivery(container, issued.partner_id)
    (attempt,) = attempts(container, row.delivery_id)
    assert attempt.status_code == 307
    assert attempt.error == f"HTTP 307: redirect to {other_receiver.url!r} not followed"
    assert other_receiver.requests() == []


def test_a_partner_slower_than_the_timeout_fails_the_attempt(
    container: Container, clock: Clock, receiver: PartnerReceiver,
) -> None:
    issued = register(container, receiver, clock(), event_types=LAUNCH_ONLY)
    receiver.answer_next(Answer(200, delay=3.0))
    launch_seed_action(container)
    impatient = Pipeline(container, clock, timeout=0.5)
    try:
        done = impatient.run()
    finally:
        impatient.close()

    assert [a.outcome for a in done] == ["failed"]
    (attempt,) = attempts(container, only_delivery(container, issued.partner_id).delivery_id)
    assert (attempt.status_code, attempt.error) == (None, "timed out")


def test_a_huge_answer_is_read_only_up_to_the_cap(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    receiver.answer_next(Answer(500, body=b"x" * 5_000_000))
    receiver.answer_next(Answer(200, body=b"y" * 5_000_000))
    launch_seed_action(container)

    done = pipeline.run()

    assert [a.outcome for a in done][:2] == ["failed", "succeeded"]
    first = attempts(container, deliveries(container, issued.partner_id)[0].delivery_id)[0]
    assert first.error == "HTTP 500: " + "x" * 200
    assert len(receiver.deliveries()) == 6


def test_the_url_is_checked_again_at_every_attempt(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=LAUNCH_ONLY)
    launch_seed_action(container)
    # The same loopback URL that was allowed at registration is no longer acceptable.
    pipeline.deliverer = Deliverer(container.commands, container.vault, pipeline.sender,
                                   allow_private=False, wake=pipeline.queued.append,
                                   clock=clock)

    assert [a.outcome for a in pipeline.run()] == ["failed"]

    (attempt,) = attempts(container, only_delivery(container, issued.partner_id).delivery_id)
    assert attempt.error == "not sent: the webhook URL must use https://"
    assert receiver.requests() == []


def test_five_days_of_failures_disable_the_endpoint_and_campaigners_are_emailed(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    receiver.answer_always(Answer(503, body=b"maintenance"))
    launch_seed_action(container)
    pipeline.run()
    for step in range(40):  # retries, and a new development every six hours, for days
        clock.advance(timedelta(hours=6))
        record_development(container, clock, f"news-{step}")
        pipeline.run()
        if not endpoint_row(container, issued.partner_id).endpoint_enabled:
            break

    assert tuple(endpoint_row(container, issued.partner_id)) == (False, "failing")
    (disabled,) = disabled_events(container)
    assert disabled["reason"] == "failing"
    assert as_utc_iso(disabled["disabled_at"]) - first_attempt(container) >= timedelta(days=5)
    assert {r.status for r in deliveries(container, issued.partner_id)} <= {
        "failed", "cancelled"}
    assert receiver.deliveries() == []

    SubscriptionRunner(container.store, container.subscriptions[alerts.NAME]).run()
    (mail,) = list((container.settings.var_dir / "outbox").glob("*.eml"))
    text = mail.read_text()
    assert "To: Campaigners <campaigners@example.org>" in text
    assert "Bir Duino-Kyrgyzstan" in text and "failing" in text
    assert f"/api/v1/partners/{issued.partner_id}/replay" in text


def test_a_success_in_between_starts_the_five_days_again(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=LAUNCH_ONLY)
    receiver.fail_next(1)
    launch_seed_action(container)
    pipeline.run()
    clock.advance(timedelta(days=4))
    pipeline.run()  # the retry succeeds

    with container.engine.connect() as conn:
        health = conn.execute(select(webhook_endpoints)).one()
    assert health.failing_since is None
    assert endpoint_row(container, issued.partner_id).endpoint_enabled


def test_a_campaigner_disabling_the_endpoint_cancels_what_is_pending_and_sends_no_mail(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    launch_seed_action(container)
    pipeline.outbox()
    set_endpoint(container.commands, issued.partner_id, False,
                 Meta(actor="test", correlation_id="t"), clock())

    assert [a.outcome for a in pipeline.work()] == ["cancelled"]
    assert {r.status for r in deliveries(container, issued.partner_id)} == {"cancelled"}
    assert receiver.requests() == []
    SubscriptionRunner(container.store, container.subscriptions[alerts.NAME]).run()
    assert list((container.settings.var_dir / "outbox").glob("*.eml")) == []


def record_development(container: Container, clock: Clock, development_id: str) -> None:
    container.commands.handle(case.RecordDevelopment(
        case_id=seed.CASE_ID, development_id=development_id, kind="other",
        occurred=OnDate(clock.now.date()), summary="Still detained.",
        source=case.DevelopmentSource(kind="campaigner"), recorded_at=clock.now),
        Meta(actor="test", correlation_id="news"))


def first_attempt(container: Container) -> object:
    rows = deliveries(container)
    return min(as_utc(a.attempted_at) for r in rows for a in attempts(container, r.delivery_id))


def as_utc_iso(value: object) -> object:
    from datetime import datetime

    assert isinstance(value, str)
    return datetime.fromisoformat(value)
