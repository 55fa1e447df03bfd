"""The transport interface, its result, and the choice of transport from settings.

Two implementations: SendGridTransport (production) and FileTransport (the embedded
default, `.eml` files under var/outbox/). Both take the same Batch, enforce the same
limits and raise the errors of workers.mail.errors, so callers never branch on which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from workers.mail.message import Batch

if TYPE_CHECKING:
    from campaign.settings import Settings


@dataclass(frozen=True)
class Accepted:
    """The provider took the whole batch; `message_id` is its id for it (X-Message-Id)."""

    message_id: str | None


class Transport(Protocol):
    """Hands one batch to a provider, all of it or none of it."""

    def send(self, batch: Batch) -> Accepted:
        """Send `batch`; raise InvalidBatch, TransientSendError or PermanentSendError."""
        ...


def transport_from_settings(settings: Settings) -> Transport:
    """SendGrid when SENDGRID_API_KEY is set, else `.eml` files under VAR_DIR/outbox."""
    if settings.sendgrid_api_key:
        from workers.mail.sendgrid_transport import SendGridTransport

        return SendGridTransport(
            api_key=settings.sendgrid_api_key, host=settings.sendgrid_api_host,
            timeout_seconds=settings.sendgrid_timeout, sandbox=settings.sendgrid_sandbox,
        )
    from workers.mail.file_transport import FileTransport

    return FileTransport(settings.var_dir / "outbox")
