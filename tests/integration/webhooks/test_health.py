"""Delivery health per partner: last success and failure, the last day's rate, latency and
hours, the backlog and its age, the secret's age; the same numbers in the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import insert

from campaign.application.access import Role
from campaign.bootstrap import Container
from campaign.infra.tables import webhook_attempts
from campaign.partners.webhooks.health import PartnerHealth, every_partner_health, partner_health
from tests.fakes.partner_receiver import PartnerReceiver
from tests.integration.webhooks.conftest import (
    Clock,
    Pipeline,
    launch_seed_action,
    register,
)

LAUNCH_ONLY = ("action.launched",)


def health(container: Container, partner_id: str, now: datetime) -> PartnerHealth:
    with container.engine.connect() as conn:
        found = partner_health(conn, partner_id, now)
    assert found is not None
    return found


def test_two_failures_then_a_success_show_in_the_last_day_and_the_last_failure(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=LAUNCH_ONLY)
    launch_seed_action(container)
    receiver.fail_next(1, status=500)
    receiver.fail_next(1, status=502)
    pipeline.run()  # 500
    clock.advance(timedelta(seconds=6))
    pipeline.run()  # 502, five seconds on
    clock.advance(timedelta(minutes=6))
    pipeline.run()  # 200, five minutes on

    found = health(container, issued.partner_id, clock())

    assert [r.answered for r in receiver.requests()] == [500, 502, 200]
    assert (found.attempts, found.succeeded) == (3, 1)
    assert found.success_rate == 1 / 3
    assert found.last_failure_status == 502
    assert found.last_success_at == clock() and found.last_failure_at is not None
    assert found.failing_since is None
    assert [(h.attempts, h.failures) for h in found.hours if h.attempts] == [(3, 2)]
    assert found.hours[-1].attempts == 3 and len(found.hours) == 24
    assert (found.backlog, found.failed_deliveries, found.oldest_undelivered_at) == (0, 0, None)
    assert found.p95_latency_ms is not None
    assert found.secret_age is not None and found.secret_age >= timedelta(minutes=1)


def test_a_partner_that_only_ever_succeeded_has_a_last_success(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=LAUNCH_ONLY)
    launch_seed_action(container)

    pipeline.run()

    found = health(container, issued.partner_id, clock())
    assert (found.last_success_at, found.last_failure_at, found.success_rate) == (
        clock(), None, 1.0)


def test_the_backlog_counts_pending_deliveries_and_ages_the_oldest_event(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    launch_seed_action(container)
    written = pipeline.outbox()  # rows made, nothing sent yet
    clock.advance(timedelta(hours=2))

    found = health(container, issued.partner_id, clock())

    assert found.backlog == written and written
    assert found.oldest_undelivered_at is not None
    age = found.oldest_undelivered_age
    assert age is not None and timedelta(hours=1, minutes=59) < age < timedelta(hours=2, minutes=1)
    assert found.attempts == 0 and found.success_rate is None and found.p95_latency_ms is None


def test_a_410_is_a_failed_delivery_a_disabled_endpoint_and_its_status(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    receiver.gone_next()
    launch_seed_action(container)

    pipeline.run()

    found = health(container, issued.partner_id, clock())
    assert (found.endpoint_enabled, found.disabled_reason) == (False, "gone")
    assert (found.failed_deliveries, found.backlog, found.last_failure_status) == (1, 0, 410)


def test_latency_is_the_nearest_rank_95th_percentile_of_the_last_day_only(
    container: Container, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())
    now = clock()
    rows = [{"delivery_id": f"msg_{n}", "attempt": 1, "partner_id": issued.partner_id,
             "attempted_at": now - timedelta(minutes=n), "outcome": "succeeded",
             "status_code": 200, "latency_ms": n * 10, "error": None} for n in range(1, 21)]
    rows.append({**rows[0], "delivery_id": "msg_old", "latency_ms": 99_999,
                 "attempted_at": now - timedelta(hours=25)})
    rows.append({**rows[0], "delivery_id": "msg_other", "partner_id": "someone-else",
                 "latency_ms": 88_888})
    with container.engine.begin() as conn:
        conn.execute(insert(webhook_attempts), rows)

    found = health(container, issued.partner_id, now)

    assert found.attempts == 20
    assert found.p95_latency_ms == 190  # the 19th of 20, rounded up from 0.95 * 20
    assert sum(h.attempts for h in found.hours) == 20


def test_the_api_shows_each_partners_health_as_the_list_does_to_admins_only(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver,
    other_receiver: PartnerReceiver, clock: Clock, client: FlaskClient,
    token_headers: Callable[[Role], dict[str, str]],
) -> None:
    first = register(container, receiver, clock(), event_types=LAUNCH_ONLY)
    register(container, other_receiver, clock(), event_types=LAUNCH_ONLY)
    receiver.fail_next(1, status=500)
    launch_seed_action(container)
    pipeline.run()
    admin = token_headers("admin")

    listed = client.get("/api/v1/partner-health", headers=admin)
    one = client.get(f"/api/v1/partner-health/{first.partner_id}", headers=admin)

    assert listed.status_code == one.status_code == 200, listed.get_json()
    (item,) = [i for i in listed.get_json()["items"] if i["partner_id"] == first.partner_id]
    shown = one.get_json()
    for moving in ("as_of", "hours"):  # move with the clock
        assert (moving in item) and (moving in shown)
    assert [(h["attempts"], h["failures"]) for h in item.pop("hours")] == [
        (h["attempts"], h["failures"]) for h in shown.pop("hours")]
    item.pop("as_of"), shown.pop("as_of")
    for age in ("signing_secret_age_seconds", "oldest_undelivered_age_seconds"):
        assert abs(item.pop(age) - shown.pop(age)) < 5
    assert item == shown
    assert (shown["attempts_24h"], shown["last_failure_status"]) == (1, 500)
    assert (shown["success_rate_24h"], shown["backlog"]) == (0.0, 1)
    assert len(listed.get_json()["items"]) == 2
    with container.engine.connect() as conn:
        assert len(every_partner_health(conn, clock())) == 2
    campaigner = token_headers("campaigner")
    assert client.get("/api/v1/partner-health", headers=campaigner).status_code == 403
    assert client.get(f"/api/v1/partner-health/{first.partner_id}",
                      headers=campaigner).status_code == 403
    assert client.get("/api/v1/partner-health/nosuch", headers=admin).status_code == 404
