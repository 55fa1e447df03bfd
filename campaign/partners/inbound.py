"""Inbound case developments: a partner's signed report becomes a development on the case.

The signature is checked over the raw bytes before anything is parsed, with every secret
the partner may still sign with (the current one and those in a rotation's overlap). Each
`webhook-id` is claimed with a unique key in the transaction that records the development,
so a redelivery — even one racing the first — appends nothing.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import Connection
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from campaign.application.commands import CommandHandler, Meta
from campaign.domain import case
from campaign.domain.values import Occurrence
from campaign.infra.tables import partner_inbound_messages
from campaign.partners.registry import PartnerRecord
from events.sql import upsert

log = logging.getLogger(__name__)

TOLERANCE: Final = timedelta(minutes=5)
HEADERS: Final = ("webhook-id", "webhook-timestamp", "webhook-signature")
_WEBHOOK_ID: Final = re.compile(r"^[\x21-\x7e]{1,255}$")
_TIMESTAMP: Final = re.compile(r"^\d{1,11}$")  # up to year 5138: datetime copes


class SignatureRefused(Exception):
    """Raised when an inbound call is not signed by the partner, recently (HTTP 401)."""


@dataclass(frozen=True)
class Report:
    """A development as the partner reported it, after validation."""

    case_id: str
    kind: case.DevelopmentKind
    occurred: Occurrence
    summary: str
    source_url: str | None
    development_id: str | None = None


@dataclass(frozen=True)
class Received:
    """What an inbound call did: recorded (perhaps pending approval), or a repeat."""

    case_id: str
    development_id: str
    duplicate: bool
    pending_approval: bool


def verify_signature(
    raw: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: datetime,
) -> str:
    """The `webhook-id` of a call signed with one of `secrets` within 5 minutes of `now`.

    Raises SignatureRefused naming the fault. The library raises ValueError, binascii.Error,
    IndexError and others on malformed headers; all of them are refusals, never crashes.
    """
    found = {name: headers.get(name) for name in HEADERS}
    webhook_id, timestamp = found["webhook-id"], found["webhook-timestamp"]
    if not all(found.values()):
        raise SignatureRefused("webhook-id, webhook-timestamp and webhook-signature are required")
    if not webhook_id or not _WEBHOOK_ID.match(webhook_id):
        raise SignatureRefused("webhook-id must be 1-255 visible ASCII characters")
    if not timestamp or not _TIMESTAMP.match(timestamp):
        raise SignatureRefused("webhook-timestamp must be a Unix time in seconds")
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(now - signed_at) > TOLERANCE:
        raise SignatureRefused("webhook-timestamp is more than 5 minutes away from now")
    if not secrets:
        raise SignatureRefused("the partner has no signing secret")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureRefused("the body is not UTF-8, so no signature can match it") from None
    for secret in secrets:
        try:
            Webhook(secret).verify(raw, {k: v for k, v in found.items() if v}, json_parse=False)
        except WebhookVerificationError:
            continue
        except Exception:  # noqa: BLE001 - malformed headers make the library raise anything
            raise SignatureRefused("webhook-signature is malformed") from None
        return webhook_id
    raise SignatureRefused("the signature does not match")


def record_report(
    commands: CommandHandler, partner: PartnerRecord, webhook_id: str, report: Report,
    correlation_id: str, now: datetime,
) -> Received:
    """Record the development once per `webhook-id`, pending approval unless the partner's
    developments are approved automatically. DomainError when the case refuses it."""
    development_id = report.development_id or _derived_id(partner.partner_id, webhook_id)
    pending = not partner.auto_approve_developments
    with commands.engine.begin() as conn:
        if not _claim(conn, partner.partner_id, webhook_id, report.case_id, development_id, now):
            log.info("inbound webhook %s from partner %s already received", webhook_id,
                     partner.partner_id)
            return Received(report.case_id, development_id, duplicate=True,
                            pending_approval=pending)
        command = case.RecordDevelopment(
            case_id=report.case_id, development_id=development_id, kind=report.kind,
            occurred=report.occurred, summary=report.summary,
            source=case.DevelopmentSource(kind="partner", partner_id=partner.partner_id,
                                          url=report.source_url),
            recorded_at=now, requires_approval=pending,
        )
        meta = Meta(actor=f"partner:{partner.partner_id}", correlation_id=correlation_id,
                    causation_id=f"webhook:{webhook_id}")
        commands.handle(command, meta, conn=conn)
    return Received(report.case_id, development_id, duplicate=False, pending_approval=pending)


def _derived_id(partner_id: str, webhook_id: str) -> str:
    """A development id that a redelivery of the same message derives again."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"partner:{partner_id}/webhook:{webhook_id}"))


def _claim(
    conn: Connection, partner_id: str, webhook_id: str, case_id: str, development_id: str,
    now: datetime,
) -> bool:
    """Insert the message's key; False when it was there (a concurrent claim waits for ours)."""
    return bool(upsert(conn, partner_inbound_messages, [{
        "partner_id": partner_id, "webhook_id": webhook_id, "case_id": case_id,
        "development_id": development_id, "received_at": now,
    }], ["partner_id", "webhook_id"], returning=partner_inbound_messages.c.webhook_id))
