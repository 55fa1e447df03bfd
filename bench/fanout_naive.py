"""The naive fan-out, for comparison only: one queue message and one provider request per person.

`bench/fanout.py` runs the worker as `dramatiq workers.main bench.fanout_naive`: this module
imports after `workers.main` (broker installed, product actors declared), declares
`send_one(delivery_id)` on the same broker and queue, and puts a dispatcher that enqueues one
message per delivery row in place of the product's `mail_dispatcher`, under the same name, so
the Procfile's unchanged clock drives it. Planning stays the product's (`mailing_planner`
writes the delivery rows). Nothing in the product imports this.

It keeps the product's guarantees per unit of work, so the comparison is about batching
alone: a claim (advisory lock) per message, addresses read and decrypted at the last moment,
the real `sendgrid` client, and the outcome recorded on a stream of its own
(`naivedelivery-<id>`, NO_STREAM: a redelivered message finds it and sends nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import dramatiq
from sqlalchemy import Connection, select

from campaign.bootstrap import Services, transport_from_settings
from campaign.domain import mailing
from campaign.domain.codec import from_data
from campaign.infra.clock import utc_now
from campaign.infra.tables import actions, mail_deliveries, supporters
from campaign.mail.message import Batch, Personalization
from campaign.mail.rendering import deadline_for, render
from campaign.mail.sending import claimed
from campaign.mail.transport import Transport
from campaign.web.pages.unsubscribe import unsubscribe_url
from events import NO_STREAM, ConcurrencyError, NewEvent, StoredEvent, Subscription, as_utc
from events.personal_data import MASK
from workers import main as worker_main
from workers.actors import MAIL_QUEUE

log = logging.getLogger(__name__)

DISPATCHER = "mail_dispatcher"  # the product's name: the Procfile's clock ticks it
ACCEPTED = "NaiveDeliveryAccepted"


def delivery_stream(delivery_id: str) -> str:
    """Where one recipient's outcome is recorded."""
    return f"naivedelivery-{delivery_id}"


def send_one(services: Services, transport: Transport, delivery_id: str, now: datetime) -> bool:
    """Send one recipient's e-mail unless it was sent or another worker is sending it."""
    with claimed(services, f"naive:{delivery_id}") as mine:
        if not mine:
            return False
        stream = delivery_stream(delivery_id)
        with services.engine.connect() as conn:
            if services.store.stream_version(stream, conn=conn):
                return False
            built = _build(services, conn, delivery_id)
        message_id = transport.send(built).message_id if built.personalizations else None
        try:
            services.store.append(stream, [NewEvent(ACCEPTED, {
                "delivery_id": delivery_id, "message_id": message_id or "",
                "accepted_at": now.isoformat()})], NO_STREAM)
        except ConcurrencyError:
            return False
        return built.personalizations != ()


def _build(services: Services, conn: Connection, delivery_id: str) -> Batch:
    """A one-person batch: the template rendered for this message alone."""
    row = conn.execute(
        select(mail_deliveries.c.delivery_id, mail_deliveries.c.mailing_id,
               mail_deliveries.c.batch_id, supporters)
        .join(supporters, supporters.c.supporter_id == mail_deliveries.c.supporter_id)
        .where(mail_deliveries.c.delivery_id == delivery_id)).one()
    planned = _planned(services, conn, row.mailing_id)
    if planned.kind != "action_launched" or planned.action_id is None:
        raise LookupError(f"the naive fan-out sends action alerts only, not {planned.kind}")
    locale = next(b.locale for b in planned.batches if b.batch_id == row.batch_id)
    action_row = conn.execute(
        select(actions).where(actions.c.action_id == planned.action_id)).one()
    document = action_row.document
    rendered = render(planned.kind, locale, {
        "action": document, "update_number": document["update_number"],
        "close_reason": "", "close_note": ""})
    person = _personalization(services, conn, row, planned.action_id, action_row.deadline_at)
    sender_name, sender_email = services.settings.mail_sender
    return Batch(
        batch_id=delivery_id, from_email=sender_email, from_name=sender_name or "",
        reply_to=None, subject=rendered.subject, html=rendered.html, text=rendered.text,
        personalizations=() if person is None else (person,),
        custom_args={"mailing_id": planned.mailing_id, "batch_id": row.batch_id},
        categories=(planned.kind,),
    )


def _planned(services: Services, conn: Connection, mailing_id: str) -> mailing.MailingPlanned:
    first = services.store.read_stream(mailing.mailing_stream(mailing_id), conn=conn)[0]
    event = from_data(first.type, first.data)
    assert isinstance(event, mailing.MailingPlanned)
    return event


def _personalization(
    services: Services, conn: Connection, row: Any, action_id: str, deadline_at: datetime,
) -> Personalization | None:
    """The same per-person work as the product's batches: decrypt, sign two links, localise."""
    if row.erased or row.unsubscribed or row.suppressed is not None:
        return None
    stream = f"supporter-{row.supporter_id}"
    email = services.vault.open(conn, stream, "email", row.email_sealed)
    name = services.vault.open(conn, stream, "name", row.name_sealed)
    if email == MASK:
        return None
    base = services.settings.public_base_url.rstrip("/")
    leave = unsubscribe_url(base, services.links.sign("unsubscribe", row.supporter_id))
    pledge = f"{base}/act/{action_id}?token={services.links.sign('supporter', row.supporter_id)}"
    _, sender = services.settings.mail_sender
    return Personalization(
        to_email=email, to_name=name if name != MASK else "",
        substitutions={"-name-": name or "friend", "-unsubscribe_url-": leave,
                       "-pledge_url-": pledge,
                       "-deadline_local-": deadline_for(as_utc(deadline_at),
                                                        row.timezone or "UTC")},
        headers={"List-Unsubscribe": f"<{leave}>, <mailto:{sender}?subject=unsubscribe>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        custom_args={"delivery_id": row.delivery_id},
    )


def dispatch_each(send: Callable[[str], object]) -> Subscription:
    """The outbox, naively: one queue message per delivery row of each planned mailing."""

    def react(conn: Connection, events: Sequence[StoredEvent]) -> None:
        for event in events:
            for delivery_id in conn.execute(
                    select(mail_deliveries.c.delivery_id)
                    .where(mail_deliveries.c.mailing_id == event.data["mailing_id"])
                    .order_by(mail_deliveries.c.batch_id, mail_deliveries.c.supporter_id)
            ).scalars():
                send(delivery_id)

    return Subscription(DISPATCHER, react, frozenset({mailing.MailingPlanned.type_name}))


def declare(broker: dramatiq.Broker, services: Services) -> dramatiq.Actor[Any, Any]:
    """Declare `send_one` and put the per-recipient dispatcher in place of the product's."""
    transport = transport_from_settings(services.settings)

    def send_one_actor(delivery_id: str) -> None:
        """Send one recipient's e-mail (idempotent: its outcome is recorded once)."""
        send_one(services, transport, delivery_id, utc_now())

    actor: dramatiq.Actor[Any, Any] = dramatiq.actor(
        broker=broker, actor_name="send_one", queue_name=MAIL_QUEUE, time_limit=120_000,
        max_retries=12, min_backoff=2_000, max_backoff=600_000, throws=(LookupError,),
    )(send_one_actor)
    services.subscriptions = [dispatch_each(actor.send) if s.name == DISPATCHER else s
                              for s in services.subscriptions]
    return actor


send_one_message = declare(worker_main.broker, worker_main.services)
