"""When to try a delivery again, and how long a partner may ask us to wait.

The schedule is Standard Webhooks' usual one: immediately, then 5 s, 5 min, 30 min, 2 h,
5 h, 10 h and 10 h after each failure; after the eighth failed attempt the delivery has
failed (a campaigner can still redeliver it). Each wait gets ±10 % of jitter, derived from
the delivery id and the attempt so a retried computation gives the same answer and
deliveries that failed together do not come back together.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Final

from campaign.infra.http import retry_after_seconds

RETRY_DELAYS: Final = (
    timedelta(0), timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30),
    timedelta(hours=2), timedelta(hours=5), timedelta(hours=10), timedelta(hours=10),
)
"""The wait before attempt n + 1 (n from 0): the first attempt is immediate."""

MAX_ATTEMPTS: Final = len(RETRY_DELAYS)
JITTER: Final = 0.1
DISABLE_AFTER: Final = timedelta(days=5)
"""An endpoint failing for this long without a single success is disabled."""
MAX_RETRY_AFTER: Final = timedelta(hours=24)
MIN_RETRY_AFTER: Final = timedelta(seconds=1)


def retry_delay(delivery_id: str, failures: int) -> timedelta | None:
    """The wait after the `failures`-th failed attempt, jittered; None once all are used."""
    if failures >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS[failures]
    digest = hashlib.sha256(f"{delivery_id}:{failures}".encode()).digest()
    spread = int.from_bytes(digest[:8], "big") / 2**64  # in [0, 1)
    return base * (1 - JITTER + 2 * JITTER * spread)


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """The wait a `Retry-After` header asks for (seconds or an HTTP date), kept to 1 s–24 h.

    None when there is no header or it cannot be read: the ordinary schedule applies then.
    """
    seconds = retry_after_seconds(value, now.timestamp())
    if seconds is None:
        return None
    return min(max(timedelta(seconds=seconds), MIN_RETRY_AFTER), MAX_RETRY_AFTER)
