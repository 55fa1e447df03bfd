"""The naive fan-out, for comparison only: one queue message and one provider request per person.

`bench/fanout.py` runs the worker as `dramatiq bench.fanout_naive` in place of `workers.main`:
like it, this module builds the wiring from the environment and declares the product's actors,
but on a copy of the wiring whose `mail_dispatcher` enqueues one message per delivery row, under
the same name, so the Procfile's unchanged clock drives it; and it declares `send_one` on the
same broker and queue. Planning stays the product's
(`mailing_planner` writes the delivery rows). Nothing in the product imports this.

It keeps the product's guarantees per unit of work, so the comparison is about batching
alone: a claim (advisory lock) per message, addresses read and decrypted at the last moment,
the real `sendgrid` client, and the outcome recorded on a stream of its own
(`naivedelivery-<id>`, NO_STREAM: a redelivered message finds it and sends nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import dramatiq
from sqlalchemy import Connection, select

from campaign.bootstrap import Container, build
from campaign.domain import mailing
from campaign.domain.codec import from_data
from campaign.infra.clock import utc_now
from campaign.infra.logs import configure_logging
from campaign.infra.tables import actions, mail_deliveries, supporters
from campaign.mail.links import MailLinks
from campaign.mail.message import Batch, Personalization
from campaign.mail.rendering import (
    Rendered,
    Slot,
    deadline_time,
    fallback_name,
    reader_deadline,
    render,
)
from campaign.mail.sending import claimed
from campaign.mail.transport import Transport
from campaign.settings import Settings
from events import NO_STREAM, ConcurrencyError, NewEvent, StoredEvent, Subscription
from events.personal_data import MASK
from workers.actors import MAIL_QUEUE, declare_actors

log = logging.getLogger(__name__)

DISPATCHER = "mail_dispatcher"  # the product's name: the Procfile's clock ticks it
ACCEPTED = "NaiveDeliveryAccepted"


def delivery_stream(delivery_id: str) -> str:
    """Where one recipient's outcome is recorded."""
    return f"naivedelivery-{delivery_id}"


def send_one(container: Container, transport: Transport, delivery_id: str, now: datetime) -> bool:
    """Send one recipient's e-mail unless it was sent or another worker is sending it."""
    with claimed(container.engine, f"naive:{delivery_id}") as mine:
        if not mine:
            return False
        stream = delivery_stream(delivery_id)
        with container.engine.connect() as conn:
            if container.store.stream_version(stream, conn=conn):
                return False
            built = _build(container, conn, delivery_id)
        message_id = transport.send(built).message_id if built.personalizations else None
        try:
            container.store.append(stream, [NewEvent(ACCEPTED, {
                "delivery_id": delivery_id, "message_id": message_id or "",
                "accepted_at": now.isoformat()})], NO_STREAM)
        except ConcurrencyError:
            return False
        return built.personalizations != ()


def _build(container: Container, conn: Connection, delivery_id: str) -> Batch:
    """A one-person batch: the template rendered for this message alone."""
    row = conn.execute(
        select(mail_deliveries.c.delivery_id, mail_deliveries.c.mailing_id,
               mail_deliveries.c.batch_id, supporters)
        .join(supporters, supporters.c.supporter_id == mail_deliveries.c.supporter_id)
        .where(mail_deliveries.c.delivery_id == delivery_id)).one()
    planned, locales = _planned(container, conn, row.mailing_id)
    if planned.kind != "action_launched" or planned.action_id is None:
        raise LookupError(f"the naive fan-out sends action alerts only, not {planned.kind}")
    locale = locales[row.batch_id]
    action_row = conn.execute(
        select(actions).where(actions.c.action_id == planned.action_id)).one()
    document = action_row.document
    rendered = render(planned.kind, locale, {
        "action": document, "update_number": document["update_number"],
        "close_reason": "", "close_note": "",
        "manage_page": MailLinks(container.settings.public_base_url,
                                 container.links).manage_page(locale)})
    person = _personalization(container, conn, row, planned.action_id, document, rendered)
    sender_name, sender_email = container.settings.mail_sender
    return Batch(
        batch_id=delivery_id, from_email=sender_email, from_name=sender_name or "",
        reply_to=None, subject=rendered.subject, html=rendered.html, text=rendered.text,
        personalizations=() if person is None else (person,),
        custom_args={"mailing_id": planned.mailing_id, "batch_id": row.batch_id},
        categories=(planned.kind,),
    )


PARTS = frozenset({mailing.MailingPlanned.type_name, mailing.BatchesPlanned.type_name})


def _planned(container: Container, conn: Connection, mailing_id: str
             ) -> tuple[mailing.MailingPlanned, dict[str, str]]:
    """The mailing's plan and each batch's locale, from every part planned so far."""
    stream = container.store.read_stream(mailing.mailing_stream(mailing_id), conn=conn)
    event = from_data(stream[0].type, stream[0].data)
    assert isinstance(event, mailing.MailingPlanned)
    return event, {batch["batch_id"]: batch["locale"] for part in stream if part.type in PARTS
                   for batch in part.data["batches"]}


def _personalization(
    container: Container, conn: Connection, row: Any, action_id: str, document: dict[str, Any],
    rendered: Rendered,
) -> Personalization | None:
    """The same per-person work as the product's batches: decrypt, sign two links, localise."""
    if row.erased or row.unsubscribed or row.suppressed is not None:
        return None
    stream = f"supporter-{row.supporter_id}"
    email = container.vault.open(conn, stream, "email", row.email_sealed)
    name = container.vault.open(conn, stream, "name", row.name_sealed)
    if email == MASK:
        return None
    links = MailLinks(container.settings.public_base_url, container.links)
    leave = links.unsubscribe(row.supporter_id)
    pledge = links.pledge(action_id, row.supporter_id)
    _, sender = container.settings.mail_sender
    values: dict[Slot, str] = {"name": name or fallback_name(rendered.locale),
                               "unsubscribe_url": leave, "pledge_url": pledge}
    if deadline_time(document) is not None:
        values["deadline_local"] = reader_deadline(document, row.timezone or "UTC",
                                                   rendered.locale)
    return Personalization(
        to_email=email, to_name=name if name != MASK else "",
        substitutions=rendered.substitutions(values),
        headers={"List-Unsubscribe": f"<{leave}>, <mailto:{sender}?subject=unsubscribe>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        custom_args={"delivery_id": row.delivery_id},
    )


def dispatch_each(send: Callable[[str], object]) -> Subscription:
    """The outbox, naively: one queue message per delivery row of each planned part."""

    def react(conn: Connection, events: Sequence[StoredEvent]) -> None:
        for event in events:
            batch_ids = [batch["batch_id"] for batch in event.data["batches"]]
            for delivery_id in conn.execute(
                    select(mail_deliveries.c.delivery_id)
                    .where(mail_deliveries.c.mailing_id == event.data["mailing_id"],
                           mail_deliveries.c.batch_id.in_(batch_ids))
                    .order_by(mail_deliveries.c.batch_id, mail_deliveries.c.supporter_id)
            ).scalars():
                send(delivery_id)

    return Subscription(DISPATCHER, react, frozenset({mailing.MailingPlanned.type_name,
                                                      mailing.BatchesPlanned.type_name}))


def naive_wiring(product: Container) -> Container:
    """The product's wiring with the per-recipient dispatcher as its `mail_dispatcher`."""
    return replace(product, subscriptions={
        **product.subscriptions, DISPATCHER: dispatch_each(product.queue.sender("send_one"))})


def declare(container: Container) -> None:
    """Declare the product's actors and `send_one` on the container's broker."""

    def send_one_actor(delivery_id: str) -> None:
        """Send one recipient's e-mail (idempotent: its outcome is recorded once)."""
        send_one(container, container.transport, delivery_id, utc_now())

    declare_actors(container)
    dramatiq.actor(
        broker=container.broker, actor_name="send_one", queue_name=MAIL_QUEUE,
        time_limit=120_000, max_retries=12, min_backoff=2_000, max_backoff=600_000,
        throws=(LookupError,),
    )(send_one_actor)


settings = Settings.from_env()
configure_logging(settings.log_level, settings.log_format)
container = naive_wiring(build(settings))
declare(container)
