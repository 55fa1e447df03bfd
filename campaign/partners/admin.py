"""What admins do with partners: register one, rotate its secret or API key, switch its
endpoint, change what it follows.

Shared by the API and the CLI. Each use case appends its event and writes the credentials
it issues in one transaction, so a partner never exists without its secret, nor a secret
without its partner. The secret and the API key are returned once and kept nowhere in clear.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from campaign.application.access import hash_token
from campaign.application.commands import CommandHandler, Meta, Outcome
from campaign.domain import partner
from campaign.domain.base import carry
from campaign.infra.tables import actions, cases
from campaign.partners.credentials import (
    new_api_key,
    new_signing_secret,
    retire_secrets,
    store_secret,
)
from campaign.partners.ssrf import check_webhook_url
from events.personal_data import Vault

DEFAULT_OVERLAP = timedelta(hours=24)
MAX_OVERLAP = timedelta(days=30)


@dataclass(frozen=True)
class PartnerForm:
    """What a campaigner says about a new partner: partner.PARTNER_FIELDS, and an id."""

    name: str
    contact_email: str
    webhook_url: str
    case_ids: tuple[str, ...] = ()
    action_ids: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    event_types: tuple[str, ...] = partner.PARTNER_EVENT_TYPES
    auto_approve_developments: bool = False
    partner_id: str | None = None


@dataclass(frozen=True)
class Issued:
    """Credentials shown once: the signing secret, and the API key on registration."""

    partner_id: str
    secret_id: str
    signing_secret: str
    api_key: str | None
    version: int
    overlap_until: datetime | None = None


@dataclass(frozen=True)
class IssuedApiKey:
    """A new API key, shown once; only its hash is kept."""

    partner_id: str
    api_key: str
    version: int


def register_partner(
    commands: CommandHandler, vault: Vault, form: PartnerForm, meta: Meta, now: datetime,
    allow_private: bool = False, conn: Connection | None = None,
) -> Issued:
    """Register a partner with a fresh signing secret and API key.

    Raises UnsafeWebhookUrl when the webhook URL is not https or not public (unless
    WEBHOOK_ALLOW_PRIVATE), DomainError when the partner exists or the form breaks a rule.
    """
    check_webhook_url(form.webhook_url, allow_private)
    partner_id = form.partner_id or str(uuid.uuid4())
    secret, api_key, secret_id = new_signing_secret(), new_api_key(), str(uuid.uuid4())
    command = carry(partner.RegisterPartner, form, partner_id=partner_id, registered_at=now,
                    api_key_hash=hash_token(api_key))
    with commands.transaction(conn) as tx:
        outcome = commands.handle(command, meta, conn=tx)
        store_secret(tx, vault, partner_id, secret_id, secret, now)
    return Issued(partner_id, secret_id, secret, api_key, outcome.version)


def rotate_secret(
    commands: CommandHandler, vault: Vault, partner_id: str, overlap: timedelta, meta: Meta,
    now: datetime, conn: Connection | None = None,
) -> Issued:
    """Issue a new current secret; the older ones keep verifying until `now + overlap`."""
    if not timedelta(0) <= overlap <= MAX_OVERLAP:
        raise ValueError(f"the overlap must be between 0 and {MAX_OVERLAP.days} days")
    secret, secret_id = new_signing_secret(), str(uuid.uuid4())
    overlap_until = now + overlap
    command = partner.RotatePartnerSecret(partner_id=partner_id, secret_id=secret_id,
                                          rotated_at=now, overlap_until=overlap_until)
    with commands.transaction(conn) as tx:
        outcome = commands.handle(command, meta, conn=tx)
        retire_secrets(tx, partner_id, overlap_until)
        store_secret(tx, vault, partner_id, secret_id, secret, now)
    return Issued(partner_id, secret_id, secret, None, outcome.version, overlap_until)


def set_endpoint(
    commands: CommandHandler, partner_id: str, enabled: bool, meta: Meta, now: datetime,
    conn: Connection | None = None,
) -> Outcome:
    """Enable or disable the partner's webhooks on a campaigner's word; idempotent."""
    command: partner.Command = (
        partner.EnablePartnerEndpoint(partner_id=partner_id, enabled_at=now) if enabled
        else partner.DisablePartnerEndpoint(partner_id=partner_id, reason="campaigner",
                                            disabled_at=now))
    return commands.handle(command, meta, conn=conn)


def change_follows(
    commands: CommandHandler, partner_id: str, follows: partner.Follows, meta: Meta,
    now: datetime, expected_version: int | None = None, conn: Connection | None = None,
) -> Outcome:
    """Follow `follows` from now on (nothing changes if it already does).

    The outbox judges each event by what the partner follows when it reads the event, and
    the feed by what it follows when it is read; deliveries already made are sent as made.
    """
    command = carry(partner.ChangePartnerFollows, follows, partner_id=partner_id,
                    changed_at=now)
    return commands.handle(command, meta, expected_version=expected_version, conn=conn)


def rotate_api_key(
    commands: CommandHandler, partner_id: str, meta: Meta, now: datetime,
    conn: Connection | None = None,
) -> IssuedApiKey:
    """Issue a new API key, shown once; the old one stops working as this commits.

    No overlap: a key is rotated because it may have leaked, and the partner gets the new
    one from the same admin who rotates it.
    """
    api_key = new_api_key()
    command = partner.RotatePartnerApiKey(partner_id=partner_id,
                                          api_key_hash=hash_token(api_key), rotated_at=now)
    outcome = commands.handle(command, meta, conn=conn)
    return IssuedApiKey(partner_id, api_key, outcome.version)


def unknown_follows(conn: Connection, case_ids: tuple[str, ...], action_ids: tuple[str, ...]
                    ) -> dict[str, list[str]]:
    """The followed cases and actions that do not exist, by field; empty when all do."""
    known_cases = set(conn.execute(
        select(cases.c.case_id).where(cases.c.case_id.in_(case_ids))).scalars())
    known_actions = set(conn.execute(
        select(actions.c.action_id).where(actions.c.action_id.in_(action_ids))).scalars())
    errors: dict[str, list[str]] = {}
    if missing := [c for c in case_ids if c not in known_cases]:
        errors["case_ids"] = [f"no case {', '.join(missing)}"]
    if missing := [a for a in action_ids if a not in known_actions]:
        errors["action_ids"] = [f"no action {', '.join(missing)}"]
    return errors
