"""Standard Webhooks headers for one attempt, signed with the `standardwebhooks` library.

During a secret rotation's overlap every valid secret signs: the header then carries one
`v1,<signature>` per secret, separated by spaces, and a partner holding either secret
accepts the delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache

from standardwebhooks import Webhook


def signed_headers(
    webhook_id: str, secrets: Sequence[str], body: bytes, signed_at: datetime
) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` and `webhook-signature` for `body` at `signed_at`."""
    if not secrets:
        raise ValueError("a partner without a signing secret cannot be sent webhooks")
    moment = signed_at.astimezone(UTC)
    text = body.decode()
    signatures = " ".join(_signer(s).sign(webhook_id, moment, text) for s in secrets)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signatures,
        "Content-Type": "application/json",
    }


@lru_cache(maxsize=1024)
def _signer(secret: str) -> Webhook:
    """The library's signer for a secret, built once (it decodes the key each time)."""
    return Webhook(secret)
