"""Reading the partner registry: who partners are, what they follow, how to sign for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from campaign.application.access import hash_token
from campaign.domain.partner import FOLLOW_FIELDS, Follows, partner_stream
from campaign.infra.tables import partner_secrets, partners
from campaign.partners.payloads import PartnerEvent
from events.personal_data import MASK, Vault

SECRET_FIELD_PREFIX = "webhook-secret/"


@dataclass(frozen=True)
class PartnerRecord:
    """A partner as delivery, the feed and inbound calls need it (no contact, no credentials)."""

    partner_id: str
    name: str
    webhook_url: str
    follows: Follows
    auto_approve_developments: bool
    endpoint_enabled: bool


def get_partner(conn: Connection, partner_id: str) -> PartnerRecord | None:
    """The partner, or None if there is no such partner."""
    row = conn.execute(select(partners).where(partners.c.partner_id == partner_id)).one_or_none()
    return None if row is None else _record(row)


def partners_with_endpoint(conn: Connection) -> list[PartnerRecord]:
    """Every partner whose webhook endpoint is enabled, by id."""
    rows = conn.execute(select(partners).where(partners.c.endpoint_enabled.is_(True))
                        .order_by(partners.c.partner_id))
    return [_record(row) for row in rows]


def follows(partner: PartnerRecord, event: PartnerEvent) -> bool:
    """Whether `partner` wants `event`: a type it chose, about something it follows."""
    return partner.follows.covers(event.type, event.case_id, event.action_id, event.country)


def signing_secrets(conn: Connection, vault: Vault, partner_id: str, now: datetime) -> list[str]:
    """The partner's "whsec_…" secrets: the current one first, then those still overlapping."""
    now = now.astimezone(UTC)  # SQLite compares the stored UTC wall times as text
    rows = conn.execute(
        select(partner_secrets.c.secret_id, partner_secrets.c.sealed_secret)
        .where(partner_secrets.c.partner_id == partner_id,
               or_(partner_secrets.c.expires_at.is_(None), partner_secrets.c.expires_at > now))
        .order_by(partner_secrets.c.expires_at.is_not(None), partner_secrets.c.created_at.desc())
    ).all()
    opened = (vault.open(conn, partner_stream(partner_id), SECRET_FIELD_PREFIX + row.secret_id,
                         row.sealed_secret) for row in rows)
    return [secret for secret in opened if secret != MASK]


def partner_for_api_key(conn: Connection, api_key: str) -> PartnerRecord | None:
    """The partner holding `api_key`, or None; only the key's hash is stored."""
    row = conn.execute(
        select(partners).where(partners.c.api_key_hash == hash_token(api_key))
    ).one_or_none()
    return None if row is None else _record(row)


def _record(row: Any) -> PartnerRecord:
    return PartnerRecord(
        partner_id=row.partner_id, name=row.name, webhook_url=row.webhook_url,
        follows=Follows(**{f: tuple(getattr(row, f)) for f in FOLLOW_FIELDS}),
        auto_approve_developments=row.auto_approve_developments,
        endpoint_enabled=row.endpoint_enabled,
    )
