"""The transport interface and its result.

Two implementations: SendGridTransport (production) and FileTransport (the embedded
default, `.eml` files under var/outbox/). Both take the same Batch, enforce the same
limits and raise the errors of campaign.mail.errors, so callers never branch on which.
campaign.bootstrap chooses one from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from campaign.mail.message import Batch


@dataclass(frozen=True)
class Accepted:
    """The provider took the whole batch; `message_id` is its id for it (X-Message-Id)."""

    message_id: str | None


class Transport(Protocol):
    """Hands one batch to a provider, all of it or none of it."""

    def send(self, batch: Batch) -> Accepted:
        """Send `batch`; raise InvalidBatch, TransientSendError or PermanentSendError."""
        ...
