"""What can go wrong handing a batch to a transport: retryable, permanent, or our own mistake."""

from __future__ import annotations

from events import TemporaryFailure


class SendError(Exception):
    """Raised when a transport could not hand a batch over; the base of the errors below."""


class InvalidBatch(SendError, ValueError):
    """Raised when a batch breaks the provider's limits before anything is sent.

    A planning bug, not a provider answer: retrying the same batch cannot succeed.
    Messages name recipients by their index, never by address.
    """


class TransientSendError(SendError, TemporaryFailure):
    """Raised when the provider may accept the same batch later (429, 5xx, timeout, network).

    `retry_after_seconds` is the provider's own hint (X-RateLimit-Reset or Retry-After),
    or None when it gave none and the caller's backoff decides.
    """

    def __init__(
        self, retry_after_seconds: float | None = None, *, status: int | None = None,
        reason: str = "",
    ) -> None:
        self.retry_after_seconds = retry_after_seconds
        self.status = status
        self.reason = reason
        wait = "" if retry_after_seconds is None else f"; retry after {retry_after_seconds:g}s"
        super().__init__(f"transient send failure ({status or 'no response'}): {reason}{wait}")


class PermanentSendError(SendError):
    """Raised when the provider refused the batch for good (400, 401, 403, 413, other 4xx).

    `reason` comes from the provider's error body with e-mail addresses masked, so it can
    be logged and recorded in an event.
    """

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"permanent send failure ({status}): {reason}")
