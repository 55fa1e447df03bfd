"""POST /webhooks/sendgrid: signed events suppress, unsubscribe and count, once each."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.application.commands import Meta
from campaign.application.supporters import erase_supporter
from campaign.bootstrap import Container
from campaign.domain import supporter
from campaign.domain.supporter import supporter_stream
from campaign.infra.clock import utc_now
from campaign.infra.tables import mailing_event_counts
from campaign.web.app import create_app
from tests.integration.mail.conftest import (
    MAILING_ID,
    SIGNATURE,
    TIMESTAMP,
    confirmed_supporter,
    delivered_to,
    event,
    post_events,
    supporter_row,
)

PROBLEM_JSON = "application/problem+json"
Key = ec.EllipticCurvePrivateKey


def assert_forbidden(response: Any) -> None:
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    assert response.get_json()["status"] == 403


def counts(container: Container) -> dict[str, int]:
    with container.engine.connect() as conn:
        rows = conn.execute(select(mailing_event_counts)
                            .where(mailing_event_counts.c.mailing_id == MAILING_ID))
        return {row.event_type: row._mapping["count"] for row in rows}


@pytest.fixture
def delivery(container: Container) -> tuple[str, str]:
    """A confirmed supporter and the delivery of MAILING_ID to them."""
    supporter_id = confirmed_supporter(container)
    return supporter_id, delivered_to(container, supporter_id)


@pytest.mark.parametrize("kind, reason", [
    ("bounce", "bounce"), ("dropped", "dropped"), ("spamreport", "spam_report"),
])
def test_a_bounce_drop_or_spam_report_suppresses_the_supporter(
    client: FlaskClient, container: Container, webhook_key: Key, delivery: tuple[str, str],
    kind: str, reason: str,
) -> None:
    supporter_id, delivery_id = delivery

    response = post_events(client, webhook_key, [event(kind, delivery_id)])

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["applied"] == 1
    assert supporter_row(container, supporter_id).suppressed == reason
    last = container.store.read_stream(supporter_stream(supporter_id))[-1]
    assert last.type == "SupporterSuppressed"
    assert last.metadata["actor"] == "provider:sendgrid"


@pytest.mark.parametrize("kind", ["unsubscribe", "group_unsubscribe"])
def test_an_unsubscribe_at_the_provider_unsubscribes_the_supporter(
    client: FlaskClient, container: Container, webhook_key: Key, delivery: tuple[str, str],
    kind: str,
) -> None:
    supporter_id, delivery_id = delivery

    assert post_events(client, webhook_key, [event(kind, delivery_id)]).status_code == 200

    assert supporter_row(container, supporter_id).unsubscribed is True
    last = container.store.read_stream(supporter_stream(supporter_id))[-1]
    assert (last.type, last.data["via"]) == ("Unsubscribed", "provider")


def test_delivery_and_engagement_events_count_on_the_mailing(
    client: FlaskClient, container: Container, webhook_key: Key, delivery: tuple[str, str],
) -> None:
    supporter_id, delivery_id = delivery
    kinds = ["delivered", "delivered", "open", "click", "deferred", "processed"]

    response = post_events(client, webhook_key, [event(k, delivery_id) for k in kinds])

    assert response.get_json() == {"received": 6, "applied": 0, "counted": 5, "duplicates": 0,
                                   "ignored": 1}
    assert counts(container) == {"delivered": 2, "open": 1, "click": 1, "deferred": 1}
    post_events(client, webhook_key, [event("delivered", delivery_id)])
    assert counts(container)["delivered"] == 3
    assert supporter_row(container, supporter_id).suppressed is None


def test_events_are_matched_by_their_delivery_id_not_their_position(
    client: FlaskClient, container: Container, webhook_key: Key,
) -> None:
    first = confirmed_supporter(container, "first@example.org")
    second = confirmed_supporter(container, "second@example.org")
    first_delivery = delivered_to(container, first)
    second_delivery = delivered_to(container, second)

    post_events(client, webhook_key, [event("bounce", second_delivery),
                                       event("delivered", first_delivery)])

    assert supporter_row(container, first).suppressed is None
    assert supporter_row(container, second).suppressed == "bounce"


def test_an_event_seen_before_has_no_second_effect(
    client: FlaskClient, container: Container, webhook_key: Key, delivery: tuple[str, str],
) -> None:
    supporter_id, delivery_id = delivery
    unsubscribed, delivered = event("unsubscribe", delivery_id), event("delivered", delivery_id)
    post_events(client, webhook_key, [unsubscribed, delivered, delivered])
    # The supporter opts in again; a retried post of the old event must not undo that.
    container.commands.handle(supporter.ConfirmConsent(supporter_id=supporter_id,
                                                      confirmed_at=utc_now()),
                             Meta(actor="test", correlation_id="again"))

    response = post_events(client, webhook_key, [unsubscribed, delivered])

    assert response.get_json()["duplicates"] == 2
    history = [e.type for e in container.store.read_stream(supporter_stream(supporter_id))]
    assert history[-2:] == ["Unsubscribed", "ConsentConfirmed"]
    assert counts(container) == {"delivered": 1, "unsubscribe": 1}


def test_unknown_event_types_are_accepted_and_ignored(
    client: FlaskClient, container: Container, webhook_key: Key, delivery: tuple[str, str],
) -> None:
    _, delivery_id = delivery

    response = post_events(client, webhook_key, [event("account_status_change", delivery_id),
                                                 "not an event", {"event": "bounce"}])

    assert response.status_code == 200
    assert response.get_json()["ignored"] == 3
    assert counts(container) == {}


def test_events_for_deliveries_we_never_made_are_ignored(
    client: FlaskClient, container: Container, webhook_key: Key,
) -> None:
    response = post_events(client, webhook_key, [event("bounce", "no-such-delivery"),
                                                 event("spamreport", None)])

    assert response.status_code == 200
    assert response.get_json()["applied"] == 0


def test_an_erased_supporter_is_left_alone(
    client: FlaskClient, container: Container, webhook_key: Key, delivery: tuple[str, str],
) -> None:
    supporter_id, delivery_id = delivery
    erase_supporter(container.commands, container.vault, supporter_id, "supporter",
                    Meta(actor="test", correlation_id="e"), utc_now())

    response = post_events(client, webhook_key, [event("bounce", delivery_id)])

    assert response.status_code == 200
    assert response.get_json()["applied"] == 0
    assert supporter_row(container, supporter_id).erased is True


def test_a_blocked_bounce_is_counted_but_suppresses_no_one(
    client: FlaskClient, container: Container, webhook_key: Key, delivery: tuple[str, str],
) -> None:
    supporter_id, delivery_id = delivery

    post_events(client, webhook_key, [event("bounce", delivery_id, type="blocked"),
                                      event("dropped", delivery_id, reason="Spam Content")])

    assert supporter_row(container, supporter_id).suppressed is None
    assert counts(container) == {"blocked": 1, "dropped": 1}


def test_the_recipients_address_is_never_logged(
    client: FlaskClient, webhook_key: Key, delivery: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, delivery_id = delivery
    caplog.set_level(logging.DEBUG)

    post_events(client, webhook_key, [event("bounce", delivery_id), event("open", "unknown")])
    post_events(client, webhook_key, "[not json", headers={})

    assert "ada.lovelace" not in caplog.text


# Refusals: always 403 problem+json, never a 500, and nothing applied.


def test_a_post_signed_with_another_key_is_refused(
    client: FlaskClient, container: Container, delivery: tuple[str, str],
) -> None:
    supporter_id, delivery_id = delivery
    stranger = ec.generate_private_key(ec.SECP256R1())

    assert_forbidden(post_events(client, stranger, [event("bounce", delivery_id)]))
    assert supporter_row(container, supporter_id).suppressed is None


def test_a_body_changed_after_signing_is_refused(
    client: FlaskClient, webhook_key: Key, delivery: tuple[str, str],
) -> None:
    _, delivery_id = delivery
    signed = post_events(client, webhook_key, [event("open", delivery_id)])
    assert signed.status_code == 200
    timestamp = str(signed.request.headers[TIMESTAMP])
    signature = str(signed.request.headers[SIGNATURE])

    response = client.post("/webhooks/sendgrid", data='[{"event": "bounce"}]',
                           headers={SIGNATURE: signature, TIMESTAMP: timestamp})

    assert_forbidden(response)


@pytest.mark.parametrize("missing", [SIGNATURE, TIMESTAMP])
def test_a_post_without_a_signature_header_is_refused(
    client: FlaskClient, webhook_key: Key, missing: str,
) -> None:
    response = post_events(client, webhook_key, [event("open", None)],
                           headers={missing: None})

    assert_forbidden(response)


@pytest.mark.parametrize("signature", ["not base64 at all!", "c2lnbmF0dXJl", "", "é"])
def test_a_malformed_signature_is_refused(
    client: FlaskClient, webhook_key: Key, signature: str,
) -> None:
    response = post_events(client, webhook_key, [event("open", None)],
                           headers={SIGNATURE: signature})

    assert_forbidden(response)


@pytest.mark.parametrize("timestamp", ["yesterday", "-5", "1e9", "9" * 40])
def test_a_malformed_timestamp_is_refused(
    client: FlaskClient, webhook_key: Key, timestamp: str,
) -> None:
    response = post_events(client, webhook_key, [event("open", None)],
                           headers={TIMESTAMP: timestamp})

    assert_forbidden(response)


def test_a_signature_older_than_the_maximum_age_is_refused(
    client: FlaskClient, webhook_key: Key, delivery: tuple[str, str],
) -> None:
    _, delivery_id = delivery

    assert_forbidden(post_events(client, webhook_key, [event("open", delivery_id)],
                                 age_seconds=301))
    assert post_events(client, webhook_key, [event("open", delivery_id)],
                       age_seconds=290).status_code == 200


def test_a_maximum_age_of_zero_disables_the_age_check(
    container: Container, webhook_key: Key, delivery: tuple[str, str],
) -> None:
    _, delivery_id = delivery
    client = with_settings(container, sendgrid_webhook_max_age=0)

    response = post_events(client, webhook_key, [event("open", delivery_id)],
                           age_seconds=30 * 86400)

    assert response.status_code == 200


def test_without_a_configured_key_every_post_is_refused(
    container: Container, webhook_key: Key, caplog: pytest.LogCaptureFixture,
) -> None:
    client = with_settings(container, sendgrid_webhook_public_key=None)

    assert_forbidden(post_events(client, webhook_key, [event("open", None)]))
    assert "SENDGRID_WEBHOOK_PUBLIC_KEY is not set" in caplog.text


def test_a_signed_body_that_is_not_a_json_array_is_a_400(
    client: FlaskClient, webhook_key: Key,
) -> None:
    for body in ("[not json", '{"event": "bounce"}'):
        response = post_events(client, webhook_key, body)
        assert response.status_code == 400
        assert response.mimetype == PROBLEM_JSON


def with_settings(container: Container, **changed: object) -> FlaskClient:
    """A client of an app whose settings differ from the container's in `changed`."""
    settings = dataclasses.replace(container.settings, **changed)  # type: ignore[arg-type]
    return create_app(dataclasses.replace(container, settings=settings)).test_client()


def test_a_signed_batch_over_the_global_limit_but_within_sendgrids_is_accepted(
    client: FlaskClient, webhook_key: Key, delivery: tuple[str, str]
) -> None:
    _, delivery_id = delivery
    padding = "x" * (2 * 1024 * 1024)

    response = post_events(client, webhook_key, [event("open", delivery_id, note=padding)])

    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def test_a_signed_batch_over_sendgrids_limit_is_a_413(
    client: FlaskClient, webhook_key: Key, delivery: tuple[str, str]
) -> None:
    _, delivery_id = delivery
    padding = "x" * (6 * 1024 * 1024)

    response = post_events(client, webhook_key, [event("open", delivery_id, note=padding)])

    assert response.status_code == 413
    assert response.mimetype == PROBLEM_JSON


def test_a_signed_batch_nested_thousands_deep_is_a_400_naming_the_nesting(
    client: FlaskClient, webhook_key: Key
) -> None:
    response = post_events(client, webhook_key, "[" * 5000 + "]" * 5000)

    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM_JSON
    assert "nest" in response.get_json()["detail"]


def test_a_signed_batch_sent_as_text_is_a_415(
    client: FlaskClient, webhook_key: Key, delivery: tuple[str, str]
) -> None:
    _, delivery_id = delivery

    response = post_events(client, webhook_key, [event("open", delivery_id)],
                           headers={"Content-Type": "text/plain"})

    assert response.status_code == 415
    assert response.mimetype == PROBLEM_JSON
