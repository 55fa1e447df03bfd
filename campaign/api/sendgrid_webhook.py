"""SendGrid's Event Webhook: signed delivery events in, suppressions and mailing counts out.

The ECDSA signature is checked over the raw body before anything is parsed; every refusal
is a 403 problem, never a 500. Events are correlated by the ids we put in `custom_args`
(`delivery_id`, `mailing_id`; SendGrid repeats them as top-level keys), never by
position, and applied once per `sg_event_id`. Events carry the recipient's address:
nothing here logs a payload.
"""

from __future__ import annotations

import binascii
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

import marshmallow as ma
from flask import Response, current_app, request
from flask_smorest import Blueprint
from sendgrid.helpers.eventwebhook import EventWebhook
from sqlalchemy import Connection, select
from werkzeug.exceptions import BadRequest

from campaign.api.common import PUBLIC, services
from campaign.bootstrap import Services
from campaign.domain.base import DomainError
from campaign.domain.supporter import Suppress, SuppressionReason, Unsubscribe
from campaign.handlers import Meta
from campaign.problems import problem
from campaign.request_context import correlation_id
from campaign.tables import mail_deliveries, mailing_event_counts, sendgrid_events
from events.sql import upsert

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
ACTOR = "provider:sendgrid"
MAX_BODY_BYTES = 5 * 1024 * 1024  # SendGrid posts batches far smaller than this

SUPPRESSING: dict[str, SuppressionReason] = {
    "bounce": "bounce", "dropped": "dropped", "spamreport": "spam_report",
}
UNSUBSCRIBING = frozenset({"unsubscribe", "group_unsubscribe"})
COUNTED = frozenset({"delivered", "open", "click", "deferred"})
KNOWN = COUNTED | UNSUBSCRIBING | set(SUPPRESSING)
# Drops caused by the message or our account, not by the address: they suppress no one.
DROPS_NOT_ABOUT_THE_ADDRESS = ("spam content", "invalid smtpapi header",
                               "recipient list over package quota")

blueprint = Blueprint("sendgrid_webhook", __name__, url_prefix="/webhooks",
                      description="Inbound webhooks from the e-mail provider.")


class DeliveryDirectory(Protocol):
    """Finds the supporter a delivery (one recipient of one mailing) went to."""

    def supporter_for(self, conn: Connection, delivery_id: str) -> str | None:
        """The supporter id, or None for a delivery we never made."""
        ...


class TableDeliveryDirectory:
    """Reads `mail_deliveries`, the rows the fan-out planner writes."""

    def supporter_for(self, conn: Connection, delivery_id: str) -> str | None:
        """The supporter id, or None for a delivery we never made."""
        found = conn.execute(select(mail_deliveries.c.supporter_id)
                             .where(mail_deliveries.c.delivery_id == delivery_id)).scalar()
        return None if found is None else str(found)


@dataclass
class Tally:
    """What one webhook post did, by number of events."""

    received: int = 0
    applied: int = 0
    counted: int = 0
    duplicates: int = 0
    ignored: int = 0


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
    settings = services().settings
    raw = request.get_data()
    refusal = signature_refusal(
        raw, request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER),
        settings.sendgrid_webhook_public_key, settings.sendgrid_webhook_max_age, time.time())
    if refusal is not None:
        log.warning("SendGrid webhook refused: %s", refusal)
        return problem(403, "Forbidden", refusal)
    directory = current_app.extensions.get("campaign.delivery_directory",
                                           TableDeliveryDirectory())
    tally = apply_events(services(), directory, _parse(raw), correlation_id(),
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
        events = json.loads(raw)
    except ValueError:
        raise BadRequest("the body is not JSON") from None
    if not isinstance(events, list):
        raise BadRequest("the body must be a JSON array of events")
    return events


def apply_events(
    services: Services, directory: DeliveryDirectory, events: Sequence[Any],
    correlation: str, now: datetime,
) -> Tally:
    """Apply each new, known event once, in one transaction; the rest are counted as such."""
    tally = Tally(received=len(events))
    usable = [e for e in events if _usable(e)]
    tally.ignored = len(events) - len(usable)
    counts: Counter[tuple[str, str]] = Counter()
    with services.engine.begin() as conn:
        fresh = _claim(conn, (e["sg_event_id"] for e in usable), now)
        for event in usable:
            if event["sg_event_id"] not in fresh:
                tally.duplicates += 1
                continue
            fresh.discard(event["sg_event_id"])  # a repeat within this post is a duplicate too
            mailing_id = _text(event.get("mailing_id"))
            if mailing_id:
                counts[(mailing_id, _label(event))] += 1
                tally.counted += 1
            if _apply(services, directory, conn, event, correlation, now):
                tally.applied += 1
        upsert(conn, mailing_event_counts,
               [{"mailing_id": m, "event_type": t, "count": n} for (m, t), n in counts.items()],
               ["mailing_id", "event_type"],
               lambda new: {"count": mailing_event_counts.c.count + new.count})
    return tally


def _usable(event: Any) -> bool:
    return (isinstance(event, Mapping) and event.get("event") in KNOWN
            and bool(_text(event.get("sg_event_id"))))


def _claim(conn: Connection, ids: Iterable[str], now: datetime) -> set[str]:
    """Record the ids; return those never seen before (a concurrent post waits, then skips).

    Sorted, so two posts sharing ids lock them in the same order and cannot deadlock.
    """
    rows = [{"sg_event_id": i, "received_at": now} for i in sorted(set(ids))]
    return upsert(conn, sendgrid_events, rows, ["sg_event_id"],
                  returning=sendgrid_events.c.sg_event_id)


def _apply(
    services: Services, directory: DeliveryDirectory, conn: Connection,
    event: Mapping[str, Any], correlation: str, now: datetime,
) -> bool:
    """Suppress or unsubscribe the delivery's supporter; True if that appended an event."""
    kind = event["event"]
    if kind in COUNTED or _label(event) == "blocked" or _drop_not_about_address(event):
        return False
    delivery_id = _text(event.get("delivery_id"))
    supporter_id = directory.supporter_for(conn, delivery_id) if delivery_id else None
    if supporter_id is None:
        log.info("SendGrid %s event %s names no delivery of ours: ignored", kind,
                 event["sg_event_id"])
        return False
    at = _event_time(event.get("timestamp"), now)
    command: Suppress | Unsubscribe = (
        Unsubscribe(supporter_id=supporter_id, at=at, via="provider") if kind in UNSUBSCRIBING
        else Suppress(supporter_id=supporter_id, reason=SUPPRESSING[kind], at=at))
    meta = Meta(actor=ACTOR, correlation_id=correlation,
                causation_id=f"sendgrid:{event['sg_event_id']}")
    try:
        return bool(services.commands.handle(command, meta, conn=conn).events)
    except DomainError as exc:  # erased or unknown supporter: nothing to do
        log.info("SendGrid %s event for supporter %s ignored: %s", kind, supporter_id, exc.code)
        return False


def _label(event: Mapping[str, Any]) -> str:
    """The counter an event adds to; a `blocked` bounce is about us, not the address."""
    if event["event"] == "bounce" and event.get("type") == "blocked":
        return "blocked"
    return str(event["event"])


def _drop_not_about_address(event: Mapping[str, Any]) -> bool:
    reason = str(event.get("reason") or "").lower()
    return event["event"] == "dropped" and reason.startswith(DROPS_NOT_ABOUT_THE_ADDRESS)


def _event_time(value: Any, now: datetime) -> datetime:
    """When SendGrid saw the event, or now if it did not say plausibly."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e11:
        return datetime.fromtimestamp(value, UTC)
    return now


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
