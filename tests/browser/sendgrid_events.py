"""SendGrid's Event Webhook as SendGrid calls it: events signed with ECDSA P-256 over the
timestamp and the raw body, posted to the product's real endpoint (/webhooks/sendgrid).

The running product is configured with the public half of a key made for the session
(`SENDGRID_WEBHOOK_PUBLIC_KEY`, base64 DER as SendGrid's settings page shows it).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


def public_key_text(key: ec.EllipticCurvePrivateKey) -> str:
    """The verification key as SendGrid's settings page shows it: base64 DER."""
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def event(kind: str, delivery: dict[str, str], **extra: Any) -> dict[str, Any]:
    """One SendGrid event about one recipient: our custom args (`delivery`: delivery_id,
    mailing_id, batch_id, as the e-mail's X-Campaign-Delivery header lists them) come back
    as top-level keys, as SendGrid sends them."""
    return {"email": "someone@example.org", "timestamp": int(time.time()), "event": kind,
            "sg_event_id": uuid.uuid4().hex, "sg_message_id": f"{uuid.uuid4().hex}.filter0001",
            **delivery, **extra}


def post_events(base_url: str, key: ec.EllipticCurvePrivateKey,
                events: list[dict[str, Any]]) -> requests.Response:
    """POST `events` to the product's SendGrid endpoint, signed now."""
    body = json.dumps(events)
    timestamp = str(int(time.time()))
    signature = base64.b64encode(key.sign((timestamp + body).encode(),
                                          ec.ECDSA(hashes.SHA256()))).decode()
    return requests.post(f"{base_url}/webhooks/sendgrid", data=body, timeout=30, headers={
        SIGNATURE: signature, TIMESTAMP: timestamp, "Content-Type": "application/json"})
