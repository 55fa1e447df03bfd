"""The one wiring point: settings in, a typed and frozen Container out, built once per process.

Everything the processes share is made here and nowhere else: the engine and the store with
its projections, the command handler, the keys, the transport, the queue, and every
subscription. Nothing changes the Container once it is built. Code below this module is
given the three or four things it uses, never the Container; the faces (the web app, the
workers, the demo, the command line) unpack it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import dramatiq
from sqlalchemy import Engine

from campaign.application.access import SupporterLinks
from campaign.application.commands import CommandHandler, command_routes
from campaign.application.pledges import pledge_policy
from campaign.application.reminders import ReminderSender, reminder_schedule
from campaign.application.supporters import address_requests
from campaign.domain import partner
from campaign.infra.event_mapping import EventMapper
from campaign.infra.metrics import count_appended
from campaign.infra.queue import Queue, create_broker
from campaign.mail.alerts import partner_alerts
from campaign.mail.composing import Composer
from campaign.mail.confirmation import confirmation_mailer
from campaign.mail.file_transport import FileTransport
from campaign.mail.links import MailLinks
from campaign.mail.manage_link import manage_link_mailer
from campaign.mail.message import MailConfig
from campaign.mail.planning import plan_mailings
from campaign.mail.reminders import ReminderMailer
from campaign.mail.sendgrid import SendGridTransport
from campaign.mail.sending import SEND_BATCH, BatchSender, dispatch_batches
from campaign.mail.transport import Transport
from campaign.partners.letter_reports import letter_reports_subscription
from campaign.partners.webhooks.deliveries import endpoint_switches
from campaign.partners.webhooks.delivery import DELIVER_WEBHOOK, Deliverer
from campaign.partners.webhooks.http import PinnedSender
from campaign.partners.webhooks.outbox import FOLLOW_SECONDS
from campaign.partners.webhooks.outbox import NAME as WEBHOOK_OUTBOX
from campaign.read_models.action_dashboard import ActionDashboardProjection
from campaign.read_models.action_translations import ActionTranslationsProjection
from campaign.read_models.actions import ActionsProjection
from campaign.read_models.audit import AuditProjection
from campaign.read_models.cases import CasesProjection
from campaign.read_models.daily_activity import DailyActivity
from campaign.read_models.mail_batches import MailBatchesProjection
from campaign.read_models.mail_recipient_failures import MailRecipientFailuresProjection
from campaign.read_models.mailings import MailingsProjection
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
from events.keyring import KeyRing
from events.personal_data import BlindIndex, Vault


@dataclass(frozen=True)
class Container:
    """What the web app, the workers, the clock and the command line share in one process."""

    settings: Settings
    engine: Engine
    store: EventStore
    commands: CommandHandler  # carries the event mapper: personal fields sealed and opened
    vault: Vault
    blind_index: BlindIndex
    links: SupporterLinks
    broker: dramatiq.Broker
    queue: Queue
    transport: Transport
    batches: BatchSender
    deliverer: Deliverer
    reminder_sender: ReminderSender
    projections: Mapping[str, Projection]
    subscriptions: Mapping[str, Subscription]
    """Every checkpointed subscription the clock runs, by name (catch-up projections too)."""
    follow_seconds: float
    """How long one run of the webhook outbox follows the log: 0 when embedded."""

    @property
    def subscription_names(self) -> tuple[str, ...]:
        """Every subscription the clock has run: those above and the webhook outbox."""
        return tuple(sorted({*self.subscriptions, WEBHOOK_OUTBOX}))


def build(
    settings: Settings, *, engine: Engine | None = None, broker: dramatiq.Broker | None = None,
    transport: Transport | None = None, http: PinnedSender | None = None,
    reminder_sender: ReminderSender | None = None,
) -> Container:
    """The Container for `settings`; tests pass their own engine, broker, transport, HTTP
    sender for webhooks or reminder sender."""
    engine = engine or create_store_engine(settings.database_url)
    broker = broker or create_broker(settings.redis_url)
    ring = KeyRing(settings.secret_keys)
    vault, blind_index = Vault(ring), BlindIndex(ring)
    store = EventStore(engine, upcasters=upcasters(), observers=[count_appended])
    store.projections = all_projections(store, vault, blind_index)
    commands = CommandHandler(store, EventMapper(vault), command_routes())
    queue = Queue(broker)
    transport = transport or transport_from_settings(settings)
    links = SupporterLinks(ring)
    config = mail_config(settings)
    composer = Composer(store, vault, MailLinks(settings.public_base_url, links), config)
    subscriptions = all_subscriptions(commands, queue, transport, config,
                                      settings.reminder_offsets_days, blind_index)
    return Container(
        settings=settings, engine=engine, store=store, commands=commands, vault=vault,
        blind_index=blind_index, links=links, broker=broker, queue=queue,
        transport=transport, batches=BatchSender(commands, composer, transport),
        deliverer=Deliverer(commands, vault, http or PinnedSender(),
                            allow_private=settings.webhook_allow_private,
                            wake=queue.sender(DELIVER_WEBHOOK)),
        reminder_sender=reminder_sender or ReminderMailer(commands),
        projections={p.name: p for p in store.projections},
        subscriptions={s.name: s for s in subscriptions},
        follow_seconds=FOLLOW_SECONDS if settings.uses_redis else 0.0,
    )


def upcasters() -> Upcasters:
    """Every step from an old event schema to the current one; stored rows are never rewritten."""
    registry = Upcasters()
    registry.register(partner.PartnerRegistered.type_name, 1)(partner.contact_stored_in_clear)
    return registry


def all_projections(store: EventStore, vault: Vault, blind_index: BlindIndex) -> list[Projection]:
    """Every read model of the product, inline and catch-up."""
    return [
        StreamDirectory(),
        ActionsProjection(store),
        ActionTranslationsProjection(store),
        CasesProjection(store),
        PledgesProjection(),
        LetterCountsProjection(),
        ActionDashboardProjection(),
        SupportersProjection(vault, blind_index),
        DailyActivity(),
        MailBatchesProjection(),
        MailRecipientFailuresProjection(),
        MailingsProjection(),
        PartnersProjection(store),
        AuditProjection(),
    ]


def all_subscriptions(
    commands: CommandHandler, queue: Queue, transport: Transport, mail: MailConfig,
    reminder_offsets: Sequence[int], blind_index: BlindIndex,
) -> list[Subscription]:
    """Every subscription the clock runs: catch-up projections, policies, the mail outbox.

    The webhook outbox is not among them: it follows the log on its own actor, which keeps
    following for a while instead of running once per tick.
    """
    catch_up = [p for p in commands.store.projections if p.mode == "catch-up"]
    return [
        *(projection_subscription(p) for p in catch_up),
        pledge_policy(commands),
        address_requests(commands, blind_index),
        plan_mailings(commands),
        confirmation_mailer(commands),
        manage_link_mailer(commands),
        reminder_schedule(reminder_offsets),
        letter_reports_subscription(commands),
        endpoint_switches(),
        dispatch_batches(queue.sender(SEND_BATCH)),
        partner_alerts(mail, transport),
    ]


def mail_config(settings: Settings) -> MailConfig:
    """The part of the settings campaign e-mail needs."""
    sender_name, sender_email = settings.mail_sender
    return MailConfig(sender_name=sender_name or "", sender_email=sender_email,
                      public_base_url=settings.public_base_url,
                      alert_to=settings.campaign_alert_email or sender_email)


def transport_from_settings(settings: Settings) -> Transport:
    """SendGrid when SENDGRID_API_KEY is set, else `.eml` files under VAR_DIR/outbox."""
    if settings.sendgrid_api_key:
        return SendGridTransport(
            api_key=settings.sendgrid_api_key, host=settings.sendgrid_api_host,
            timeout_seconds=settings.sendgrid_timeout, sandbox=settings.sendgrid_sandbox,
        )
    return FileTransport(settings.var_dir / "outbox")
