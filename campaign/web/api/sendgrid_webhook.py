"""SendGrid's Event Webhook: signed delivery events in, suppressions and mailing counts out.

The ECDSA signature is checked over the raw body before anything is parsed; every refusal
is a 403 problem, never a 500. A signed body must still be application/json (415) and nest
no deeper than json_body.MAX_DEPTH (400). What the events do is campaign.mail.provider_events.
Events carry the recipient's address: nothing here logs a payload.
"""

from __future__ import annotations

import binascii
import logging
import time
from dataclasses import asdict
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import marshmallow as ma
from flask import Response, request
from sendgrid.helpers.eventwebhook import EventWebhook
from werkzeug.exceptions import BadRequest

from campaign.mail.provider_events import apply_events
from campaign.web.api import json_body
from campaign.web.api.common import PUBLIC
from campaign.web.api.json_body import Blueprint, require_json
from campaign.web.context import container, correlation_id
from campaign.web.problems import problem

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_BODY_BYTES = 5 * 1024 * 1024  # SendGrid sizes its batches, not us: more than the app's 1 MB

blueprint = Blueprint("sendgrid_webhook", __name__, url_prefix="/webhooks",
                      description="Inbound webhooks from the e-mail provider.")


class WebhookTallySchema(ma.Schema):
    """What the post did: events received, applied to a supporter, counted, seen, ignored."""

    received = ma.fields.Integer(required=True)
    applied = ma.fields.Integer(required=True)
    counted = ma.fields.Integer(required=True)
    duplicates = ma.fields.Integer(required=True)
    ignored = ma.fields.Integer(required=True)


EVENT_DOC = {
    "type": "object", "additionalProperties": True,
    "required": ["event", "sg_event_id"],
    "properties": {name: {"type": "string"} for name in (
        "event", "sg_event_id", "delivery_id", "mailing_id", "batch_id")}
    | {"timestamp": {"type": "integer"}},
}
HEADER_DOCS = [
    {"in": "header", "name": SIGNATURE_HEADER, "required": True, "schema": {"type": "string"},
     "description": "Base64 ECDSA (P-256, SHA-256) signature of timestamp + raw body."},
    {"in": "header", "name": TIMESTAMP_HEADER, "required": True, "schema": {"type": "string"},
     "description": "Unix time of signing; older than SENDGRID_WEBHOOK_MAX_AGE is refused."},
]


@blueprint.route("/sendgrid", methods=["POST"])
@blueprint.response(200, WebhookTallySchema)
@blueprint.alt_response(400, description="The body is not a JSON array, or nests too deep")
@blueprint.alt_response(403, description="The signature is missing, stale or wrong")
@blueprint.alt_response(413, description="The body is over 5 MB")
@blueprint.alt_response(415, description="The body is not sent as application/json")
@blueprint.doc(security=PUBLIC, parameters=HEADER_DOCS, requestBody={
    "required": True,
    "content": {"application/json": {"schema": {"type": "array", "items": EVENT_DOC}}},
})
def receive() -> Response | dict[str, int]:
    """SendGrid's signed Event Webhook.

    Bounces, drops and spam reports suppress the supporter; unsubscribes unsubscribe;
    delivered, open, click and deferred count on the mailing; other types are ignored.
    Each `sg_event_id` is applied once. Refused (403) without a valid signature made within
    SENDGRID_WEBHOOK_MAX_AGE seconds.
    """
    request.max_content_length = MAX_BODY_BYTES
    settings = container().settings
    raw = request.get_data()
    refusal = signature_refusal(
        raw, request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER),
        settings.sendgrid_webhook_public_key, settings.sendgrid_webhook_max_age, time.time())
    if refusal is not None:
        log.warning("SendGrid webhook refused: %s", refusal)
        return problem(403, "Forbidden", refusal)
    require_json(request)
    tally = apply_events(container().commands, _parse(raw), correlation_id(),
                         datetime.now(UTC))
    log.info("SendGrid webhook: %s", tally)
    return asdict(tally)


def signature_refusal(
    raw: bytes, signature: str | None, timestamp: str | None, public_key: str | None,
    max_age: int, now: float,
) -> str | None:
    """Why this post must be refused, or None when SendGrid signed it recently."""
    if public_key is None:
        log.warning("SENDGRID_WEBHOOK_PUBLIC_KEY is not set: every SendGrid event is refused")
        return "event signature verification is not configured"
    if not signature or not timestamp:
        return f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required"
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return f"{TIMESTAMP_HEADER} is not a Unix time"
    if max_age and abs(now - int(timestamp)) > max_age:
        return f"the signature is older than {max_age} seconds"
    try:
        valid = EventWebhook().verify_signature(raw.decode("utf-8"), signature, timestamp,
                                                _ecdsa_key(public_key))
    except (ValueError, TypeError, binascii.Error):  # not base64, not DER, not UTF-8
        valid = False
    return None if valid else "the signature does not match"


@lru_cache(maxsize=4)
def _ecdsa_key(public_key: str) -> Any:
    return EventWebhook().convert_public_key_to_ecdsa(public_key)


def _parse(raw: bytes) -> list[Any]:
    try:
        events = json_body.parse(raw)
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(events, list):
        raise BadRequest("the body must be a JSON array of events")
    return events


