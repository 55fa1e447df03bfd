"""What a partner's answer to a delivery means: its outcome, and the error shown for it."""

from __future__ import annotations

from datetime import datetime, timedelta

from campaign.partners.webhooks.http import Answer
from campaign.partners.webhooks.schedule import retry_after


def classify(answer: Answer, now: datetime) -> tuple[str, timedelta | None]:
    """The outcome of an answer, and for a rate limit how long to wait."""
    if answer.ok:
        return "succeeded", None
    if answer.status == 410:
        return "gone", None
    if answer.status in (429, 503):
        wait = retry_after(answer.headers.get("retry-after"), now)
        if wait is not None:
            return "rate_limited", wait
    return "failed", None


def describe(answer: Answer) -> str:
    """The error to show for a failed attempt: the transport error, or status and body."""
    if answer.status is None:
        return answer.error or "no response"
    if 300 <= answer.status < 400:
        location = answer.headers.get("location", "")[:200]
        return f"HTTP {answer.status}: redirect to {location!r} not followed"
    snippet = " ".join(answer.body[:300].decode("utf-8", "replace").split())[:200]
    return f"HTTP {answer.status}" + (f": {snippet}" if snippet else "")
