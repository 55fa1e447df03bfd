"""What HTTP servers tell us about waiting: a `Retry-After` header, read once, here."""

from __future__ import annotations

from datetime import UTC
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds a `Retry-After` value asks us to wait (delay-seconds or an HTTP date).

    None when there is no value or it cannot be read. A date in the past gives a negative
    number: callers clamp to their own bounds. A date without a zone is taken as UTC.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp() - now
