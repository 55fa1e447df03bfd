"""One reading of `Retry-After`, shared by the SendGrid transport and partner webhooks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaign.infra.http import retry_after_seconds

NOW = datetime(2026, 5, 13, 8, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("value, seconds", [
    ("120", 120.0),
    (" 7 ", 7.0),
    ("0", 0.0),
    ("Wed, 13 May 2026 08:10:00 GMT", 600.0),
    ("Wed, 13 May 2026 08:00:30 -0000", 30.0),  # no zone: taken as UTC
    ("Wed, 13 May 2026 07:59:00 GMT", -60.0),  # in the past: the caller clamps
])
def test_delay_seconds_and_http_dates_are_read(value: str, seconds: float) -> None:
    assert retry_after_seconds(value, NOW) == seconds


@pytest.mark.parametrize("value", [None, "", "  ", "soon", "-5", "1.5", "٣", "Wed, 99 Foo"])
def test_what_cannot_be_read_is_none(value: str | None) -> None:
    assert retry_after_seconds(value, NOW) is None
