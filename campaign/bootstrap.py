"""The one wiring point: settings in, the store and its projections and subscriptions out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from campaign.application.access import SupporterLinks
from campaign.application.commands import CommandHandler, command_routes
from campaign.application.pledges import pledge_policy
from campaign.application.reminders import ReminderSender, reminder_schedule
from campaign.infra.event_mapping import EventMapper
from campaign.mail.confirmation import confirmation_mailer
from campaign.mail.file_transport import FileTransport
from campaign.mail.planning import plan_mailings
from campaign.mail.reminders import ReminderMailer
from campaign.mail.transport import Transport
from campaign.partners.letter_reports import letter_reports_subscription
from campaign.partners.webhooks.deliveries import endpoint_switches
from campaign.read_models.actions import ActionsProjection
from campaign.read_models.cases import CasesProjection
from campaign.read_models.daily_activity import DailyActivity
from campaign.read_models.mail_batches import MailBatchesProjection
from campaign.read_models.partners import PartnersProjection
from campaign.read_models.pledges import LetterCountsProjection, PledgesProjection
from campaign.read_models.stream_directory import StreamDirectory
from campaign.read_models.supporters import SupportersProjection
from campaign.settings import Settings
from events import (
    EventStore,
    Projection,
    Subscription,
    Upcasters,
    create_store_engine,
    projection_subscription,
)
from events.personal_data import BlindIndex, Vault


def all_projections(store: EventStore, vault: Vault, blind_index: BlindIndex) -> list[Projection]:
    """Every read model of the product, inline and catch-up."""
    return [
        StreamDirectory(),
        ActionsProjection(store),
        CasesProjection(store),
        PledgesProjection(),
        LetterCountsProjection(),
        SupportersProjection(vault, blind_index),
        DailyActivity(),
        MailBatchesProjection(),
        PartnersProjection(store),
    ]


@dataclass
class Services:
    """What request handlers, the CLI and workers share; built once per process."""

    settings: Settings
    engine: Engine
    store: EventStore
    commands: CommandHandler
    mapper: EventMapper
    vault: Vault
    blind_index: BlindIndex
    links: SupporterLinks
    # Reminder e-mails: the deadline scan hands it each batch of due reminders.
    reminder_sender: ReminderSender
    subscriptions: Sequence[Subscription] = field(default_factory=list)

    @property
    def projections(self) -> Sequence[Projection]:
        """The store's projections, inline and catch-up."""
        return self.store.projections

    def projection(self, name: str) -> Projection:
        """The projection called `name`; KeyError names the ones that exist."""
        for projection in self.projections:
            if projection.name == name:
                return projection
        known = ", ".join(p.name for p in self.projections)
        raise KeyError(f"no projection {name!r}; known: {known}")

    def subscription(self, name: str) -> Subscription:
        """The subscription called `name`."""
        for subscription in self.subscriptions:
            if subscription.name == name:
                return subscription
        raise KeyError(f"no subscription {name!r}")


def bootstrap(settings: Settings, engine: Engine | None = None) -> Services:
    """Build the services for `settings`; tests pass their own engine."""
    engine = engine or create_store_engine(settings.database_url)
    vault, blind_index = Vault(settings.secret_key), BlindIndex(settings.secret_key)
    store = EventStore(engine, upcasters=Upcasters())
    store.projections = all_projections(store, vault, blind_index)
    mapper = EventMapper(vault)
    commands = CommandHandler(store, mapper, command_routes())
    subscriptions = [
        *(projection_subscription(p) for p in store.projections if p.mode == "catch-up"),
        pledge_policy(commands),
        plan_mailings(commands),
        confirmation_mailer(commands),
        reminder_schedule(settings.reminder_offsets_days),
        letter_reports_subscription(commands),
        endpoint_switches(),
    ]
    return Services(
        settings=settings, engine=engine, store=store, commands=commands, mapper=mapper,
        vault=vault, blind_index=blind_index, links=SupporterLinks(settings.secret_key),
        reminder_sender=ReminderMailer(commands), subscriptions=subscriptions,
    )


def transport_from_settings(settings: Settings) -> Transport:
    """SendGrid when SENDGRID_API_KEY is set, else `.eml` files under VAR_DIR/outbox."""
    if settings.sendgrid_api_key:
        from campaign.mail.sendgrid import SendGridTransport

        return SendGridTransport(
            api_key=settings.sendgrid_api_key, host=settings.sendgrid_api_host,
            timeout_seconds=settings.sendgrid_timeout, sandbox=settings.sendgrid_sandbox,
        )

    return FileTransport(settings.var_dir / "outbox")
