"""The `campaign` command: run, migrate, the demo, tokens, projections, subscriptions, partners,
status.

Secrets, tokens and API keys go to stdout once, everything else to stderr, so
`campaign partners add … > credentials` captures exactly what must be handed over.
"""

from __future__ import annotations

import sys
from datetime import timedelta

import click
from flask.cli import FlaskGroup
from sentry_sdk.integrations.dramatiq import DramatiqIntegration
from sentry_sdk.integrations.flask import FlaskIntegration
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from campaign.application.access import ROLES, Role, create_token
from campaign.cli.context import (
    cli_meta,
    container_from_env,
    redacted,
    refusing,
    settings_from_env,
)
from campaign.cli.keys import keys
from campaign.cli.status import status
from campaign.cli.subscriptions import subscriptions
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import load_demo
from campaign.domain.partner import PARTNER_EVENT_TYPES
from campaign.infra.clock import utc_now
from campaign.infra.database import DatabaseNotMigrated, current_revision, upgrade
from campaign.infra.error_reports import start_error_reports
from campaign.infra.tables import partners as partners_table
from campaign.partners.admin import PartnerForm, register_partner, rotate_secret
from campaign.read_models.mail_recipient_failures import recipient_failures
from campaign.web.app import create_app
from events import rebuild
from workers.actors import QUEUES
from workers.embedded import probes, start_if_embedded


def _create_app() -> object:
    """The app `campaign run` serves; without Redis, with the workers inside."""
    settings = settings_from_env()  # errors reported before the broker is made, as in wsgi
    start_error_reports(settings.sentry_dsn, settings.sentry_environment,
                        [FlaskIntegration(), DramatiqIntegration()])
    container = container_from_env()
    return create_app(container, probes(container, start_if_embedded(container)), QUEUES)


class CampaignGroup(FlaskGroup):
    """Flask's command group; a database that cannot be reached is one line, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            raise click.ClickException(settings_from_env().database_unreachable(exc)) from None


@click.group(cls=CampaignGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Urgent-action campaigns: `campaign run` serves the app (see README)."""


@main.group(cls=click.Group)
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest)."""
    settings = settings_from_env()
    try:
        migrated = upgrade(settings.database_url, revision)
    except DatabaseNotMigrated as exc:
        raise click.ClickException(str(exc)) from None
    if migrated:
        click.echo(f"database at {revision}: {redacted(settings.database_url)}")
    else:
        click.echo("database left one migration past this code, which runs on it (rolling "
                   f"deploy): {redacted(settings.database_url)}")


@db.command("current")
def db_current() -> None:
    """Print the revision the database is at."""
    click.echo(current_revision(container_from_env(migrated=False).engine) or "not migrated")


@main.command("demo", with_appcontext=False)
def demo() -> None:
    """Load the seed case of Azimzhan Askarov and UA 135/10, with demo supporters."""
    loaded = load_demo(container_from_env())
    click.echo("demo loaded" if loaded else "demo already loaded")
    click.echo(f"  case:   /api/v1/cases/{seed.CASE_ID}")
    click.echo(f"  action: /api/v1/actions/{seed.ACTION_ID}  (and /stats)")
    click.echo("  a token to read them: campaign tokens create --role viewer --name me")


@main.group(cls=click.Group)
def tokens() -> None:
    """Campaigner API tokens."""


@tokens.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", required=True, help="Who or what will use the token.")
@click.option("--email", default=None,
              help="The campaigner's own address: the console's test sends go there.")
def tokens_create(role: Role, name: str, email: str | None) -> None:
    """Create a token and print it once; only its hash is stored."""
    token_id, token = create_token(container_from_env().engine, name, role, email=email,
                                   created_by="cli")
    click.echo(f"token {token_id} ({role}) for {name}; shown once, keep it secret:", err=True)
    click.echo(token)


@main.group(cls=click.Group)
def projections() -> None:
    """Read models derived from the event log."""


@projections.command("list")
def projections_list() -> None:
    """List the projections and whether they are inline or catch-up."""
    for projection in container_from_env(migrated=False).projections.values():
        click.echo(f"{projection.name}\t{projection.mode}")


@projections.command("rebuild")
@click.argument("name", required=False)
def projections_rebuild(name: str | None) -> None:
    """Rebuild NAME (or every projection) from position 0."""
    container = container_from_env()
    known = container.projections
    if name is not None and name not in known:
        raise click.ClickException(f"no projection {name!r}; known: {', '.join(known)}")
    targets = [known[name]] if name else list(known.values())
    last = container.store.head()
    for projection in targets:
        with click.progressbar(length=last, label=f"rebuilding {projection.name}",
                               file=sys.stderr) as bar:
            applied = rebuild(container.store, projection,
                              on_progress=lambda _n, position: bar.update(position - bar.pos))
        click.echo(f"{projection.name}: {applied} events applied")


@main.group("mail", cls=click.Group)
def mail() -> None:
    """Campaign e-mail as operators follow it."""


@mail.command("failures")
@click.option("--mailing", "mailing_id", default=None, help="Only this mailing's recipients.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
def mail_failures(mailing_id: str | None, limit: int) -> None:
    """Recipients left out of their batch, newest first: when, mailing, supporter, reason."""
    with container_from_env().engine.connect() as conn:
        total, found = recipient_failures(conn, mailing_id, limit)
    for f in found:
        click.echo(f"{f.failed_at:%Y-%m-%d %H:%M:%S} UTC\t{f.mailing_id}\t{f.supporter_id}\t"
                   f"{f.reason}")
    click.echo(f"{total} recipients left out", err=True)


@main.group("partners", cls=click.Group)
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
def partners_add(name: str, contact_email: str, webhook_url: str, case_ids: tuple[str, ...],
                 action_ids: tuple[str, ...], countries: tuple[str, ...],
                 event_types: tuple[str, ...], auto_approve: bool,
                 partner_id: str | None) -> None:
    """Register a partner and print its signing secret and API key, once."""
    c = container_from_env()
    form = PartnerForm(name=name, contact_email=contact_email, webhook_url=webhook_url,
                       case_ids=case_ids, action_ids=action_ids, countries=countries,
                       event_types=event_types or PARTNER_EVENT_TYPES,
                       auto_approve_developments=auto_approve, partner_id=partner_id)
    issued = refusing(lambda: register_partner(
        c.commands, c.vault, form, cli_meta(), utc_now(),
        allow_private=c.settings.webhook_allow_private))
    click.echo(f"partner {issued.partner_id} registered; shown once, keep them secret:",
               err=True)
    click.echo(f"signing_secret: {issued.signing_secret}")
    click.echo(f"api_key: {issued.api_key}")


@partners.command("list")
def partners_list() -> None:
    """One line per partner: id, endpoint state, webhook URL, name."""
    with container_from_env().engine.connect() as conn:
        rows = conn.execute(select(partners_table).order_by(partners_table.c.partner_id)).all()
    for row in rows:
        state = "enabled" if row.endpoint_enabled else f"disabled ({row.disabled_reason})"
        click.echo(f"{row.partner_id}\t{state}\t{row.webhook_url}\t{row.name}")


@partners.command("rotate-secret")
@click.argument("partner_id")
@click.option("--overlap-hours", default=24, show_default=True,
              type=click.IntRange(0, 720), help="How long the old secret stays valid.")
def partners_rotate(partner_id: str, overlap_hours: int) -> None:
    """Issue a new signing secret for PARTNER_ID and print it, once."""
    c = container_from_env()
    issued = refusing(lambda: rotate_secret(c.commands, c.vault, partner_id,
                                             timedelta(hours=overlap_hours), cli_meta(), utc_now()))
    click.echo(f"new secret for {partner_id}; the old one verifies until "
               f"{issued.overlap_until:%Y-%m-%d %H:%M} UTC:", err=True)
    click.echo(f"signing_secret: {issued.signing_secret}")


main.add_command(keys)
main.add_command(subscriptions)
main.add_command(status)
