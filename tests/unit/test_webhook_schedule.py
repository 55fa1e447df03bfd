"""The retry schedule, Retry-After, and the signature headers, checked by the partner's library."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from campaign.partners.webhooks.schedule import (
    JITTER,
    MAX_RETRY_AFTER,
    MIN_RETRY_AFTER,
    RETRY_DELAYS,
    retry_after,
    retry_delay,
)
from campaign.partners.webhooks.signing import signed_headers

NOW = datetime(2026, 5, 13, 8, 0, tzinfo=UTC)
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()


def test_the_schedule_is_immediately_5s_5min_30min_2h_5h_10h_10h() -> None:
    assert RETRY_DELAYS == (
        timedelta(0), timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30),
        timedelta(hours=2), timedelta(hours=5), timedelta(hours=10), timedelta(hours=10))


@pytest.mark.parametrize("failures", range(1, 8))
def test_each_wait_is_jittered_within_ten_percent_and_spread_out(failures: int) -> None:
    waits = {retry_delay(f"msg_{n}", failures) for n in range(50)}
    base = RETRY_DELAYS[failures]

    assert all(w is not None and base * (1 - JITTER) <= w <= base * (1 + JITTER) for w in waits)
    assert len(waits) > 40  # deliveries that failed together do not come back together
    assert retry_delay("msg_1", failures) == retry_delay("msg_1", failures)


def test_after_the_eighth_failure_there_is_no_next_attempt() -> None:
    assert retry_delay("msg_1", 8) is None


@pytest.mark.parametrize("header, wait", [
    ("120", timedelta(seconds=120)),
    ("0", MIN_RETRY_AFTER),
    ("999999", MAX_RETRY_AFTER),
    ("Wed, 13 May 2026 08:10:00 GMT", timedelta(minutes=10)),
    ("Wed, 13 May 2026 07:00:00 GMT", MIN_RETRY_AFTER),
])
def test_retry_after_in_seconds_or_as_a_date_is_kept_within_bounds(
    header: str, wait: timedelta
) -> None:
    assert retry_after(header, NOW) == wait


@pytest.mark.parametrize("header", [None, "", "soon", "-5", "1.5"])
def test_an_unreadable_retry_after_leaves_the_ordinary_schedule(header: str | None) -> None:
    assert retry_after(header, NOW) is None


def test_headers_verify_with_the_standardwebhooks_library() -> None:
    body = b'{"type":"action.launched","timestamp":"2026-05-13T08:00:00+00:00","data":{}}'
    now = datetime.now(UTC)
    headers = signed_headers("msg_abc", [SECRET], body, now)

    assert Webhook(SECRET).verify(body, headers)["type"] == "action.launched"
    assert headers["webhook-id"] == "msg_abc"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body + b" ", headers)


def test_during_a_rotation_each_secret_adds_a_signature() -> None:
    body = b"{}"
    headers = signed_headers("msg_abc", [OTHER, SECRET], body, datetime.now(UTC))

    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(SECRET).verify(body, headers) == {}
    assert Webhook(OTHER).verify(body, headers) == {}


def test_a_stale_signature_is_refused_by_the_partner() -> None:
    headers = signed_headers("msg_abc", [SECRET], b"{}", datetime.now(UTC) - timedelta(hours=1))

    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(b"{}", headers)


def test_no_secret_no_signature() -> None:
    with pytest.raises(ValueError):
        signed_headers("msg_abc", [], b"{}", NOW)
