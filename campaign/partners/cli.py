"""`campaign partners add|list|rotate-secret`: the registry from the command line.

Secrets and API keys go to stdout once, everything else to stderr, so
`campaign partners add … > credentials` captures exactly what must be handed over.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import click
from sqlalchemy import select

from campaign.application.commands import Meta
from campaign.bootstrap import Services, bootstrap
from campaign.domain.base import DomainError
from campaign.domain.partner import PARTNER_EVENT_TYPES
from campaign.infra.clock import utc_now
from campaign.infra.database import DatabaseNotMigrated, ensure_migrated
from campaign.infra.tables import partners as partners_table
from campaign.partners.admin import PartnerForm, register_partner, rotate_secret
from campaign.partners.ssrf import UnsafeWebhookUrl
from campaign.settings import ConfigError, Settings

T = TypeVar("T")


def _services() -> Services:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    services = bootstrap(settings)
    try:
        ensure_migrated(services.engine)
    except DatabaseNotMigrated as exc:
        raise click.ClickException(str(exc)) from None
    return services


def _meta() -> Meta:
    return Meta(actor="cli", correlation_id=f"cli-{uuid.uuid4()}")


@click.group("partners")
def partners() -> None:
    """Solidarity partners: register them, list them, rotate their signing secrets."""


@partners.command("add")
@click.option("--name", required=True, help="The organisation's name.")
@click.option("--contact-email", required=True, help="Who to write to at the partner.")
@click.option("--webhook-url", required=True, help="https URL receiving signed webhooks.")
@click.option("--case", "case_ids", multiple=True, help="A case id to follow (repeatable).")
@click.option("--action", "action_ids", multiple=True, help="An action id to follow.")
@click.option("--country", "countries", multiple=True, help="An ISO country code to follow.")
@click.option("--event-type", "event_types", multiple=True,
              type=click.Choice(PARTNER_EVENT_TYPES), help="Default: every type.")
@click.option("--auto-approve", is_flag=True,
              help="Publish the partner's case developments without a campaigner's approval.")
@click.option("--id", "partner_id", default=None, help="A slug id; generated when absent.")
def add(name: str, contact_email: str, webhook_url: str, case_ids: tuple[str, ...],
        action_ids: tuple[str, ...], countries: tuple[str, ...], event_types: tuple[str, ...],
        auto_approve: bool, partner_id: str | None) -> None:
    """Register a partner and print its signing secret and API key, once."""
    services = _services()
    form = PartnerForm(name=name, contact_email=contact_email, webhook_url=webhook_url,
                       case_ids=case_ids, action_ids=action_ids, countries=countries,
                       event_types=event_types or PARTNER_EVENT_TYPES,
                       auto_approve_developments=auto_approve, partner_id=partner_id)
    issued = _refusing(lambda: register_partner(services, form, _meta(), utc_now()))
    click.echo(f"partner {issued.partner_id} registered; shown once, keep them secret:",
               err=True)
    click.echo(f"signing_secret: {issued.signing_secret}")
    click.echo(f"api_key: {issued.api_key}")


@partners.command("list")
def list_partners() -> None:
    """One line per partner: id, endpoint state, webhook URL, name."""
    with _services().engine.connect() as conn:
        rows = conn.execute(select(partners_table).order_by(partners_table.c.partner_id)).all()
    for row in rows:
        state = "enabled" if row.endpoint_enabled else f"disabled ({row.disabled_reason})"
        click.echo(f"{row.partner_id}\t{state}\t{row.webhook_url}\t{row.name}")


@partners.command("rotate-secret")
@click.argument("partner_id")
@click.option("--overlap-hours", default=24, show_default=True,
              type=click.IntRange(0, 720), help="How long the old secret stays valid.")
def rotate(partner_id: str, overlap_hours: int) -> None:
    """Issue a new signing secret for PARTNER_ID and print it, once."""
    services = _services()
    issued = _refusing(lambda: rotate_secret(services, partner_id,
                                             timedelta(hours=overlap_hours), _meta(), utc_now()))
    click.echo(f"new secret for {partner_id}; the old one verifies until "
               f"{issued.overlap_until:%Y-%m-%d %H:%M} UTC:", err=True)
    click.echo(f"signing_secret: {issued.signing_secret}")


def _refusing(attempt: Callable[[], T]) -> T:
    try:
        return attempt()
    except (UnsafeWebhookUrl, DomainError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
