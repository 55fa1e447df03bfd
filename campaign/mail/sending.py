"""Sending one planned batch: look up the people, render once, one provider request.

Queue messages carry only the batch id; addresses are read and decrypted here, at the
last moment, so someone who unsubscribed or was erased since planning is skipped. The
batch's outcome is recorded on the mailing's stream; a redelivered message finds it and
sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, or_, select, update

from campaign.application.commands import Meta
from campaign.bootstrap import Services
from campaign.domain import case, mailing
from campaign.domain.base import fold
from campaign.domain.codec import from_data
from campaign.domain.values import AtLocalTime
from campaign.infra.tables import actions, mail_batches, mail_deliveries, supporters
from campaign.mail.errors import PermanentSendError
from campaign.mail.message import Batch, Personalization
from campaign.mail.rendering import deadline_for, render
from campaign.mail.transport import Transport
from campaign.web.pages.confirmation import confirm_url
from campaign.web.pages.unsubscribe import unsubscribe_url
from events import StoredEvent, Subscription, as_utc
from events.personal_data import MASK, Opener
from events.sql import advisory_slot

META_ACTOR = "worker:fanout"
LOST_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Outcome:
    """What happened to a batch on this attempt."""

    sent: bool
    recipients: int
    message_id: str | None = None
    busy: bool = False
    """Another worker held the batch: ask again later, its holder may yet die before sending."""


def batch_mailing_id(batch_id: str) -> str:
    """Batch ids are `<mailing id>-<n>` (see campaign.mailings)."""
    return batch_id.rsplit("-", 1)[0]


@contextmanager
def claimed(services: Services, batch_id: str) -> Iterator[bool]:
    """Hold the right to send this batch; False when another worker holds it right now.

    Two copies of one message (at-least-once delivery) must not both reach the provider.
    """
    with advisory_slot(services.engine, batch_id) as mine:
        yield mine


def send_batch(services: Services, transport: Transport, batch_id: str, now: datetime) -> Outcome:
    """Send one batch unless its outcome is recorded or another worker is sending it."""
    with claimed(services, batch_id) as mine:
        if not mine:
            return Outcome(sent=False, recipients=0, busy=True)
        return _send(services, transport, batch_id, now)


def _send(services: Services, transport: Transport, batch_id: str, now: datetime) -> Outcome:
    mailing_id = batch_mailing_id(batch_id)
    stream = mailing.mailing_stream(mailing_id)
    with services.engine.connect() as conn:
        state, _ = services.commands.load(conn, stream, mailing.AGGREGATE)
        if not state.planned or batch_id not in state.batches:
            raise LookupError(f"batch {batch_id} was never planned")
        if batch_id in state.outcomes:
            return Outcome(sent=False, recipients=0)
        planned = _planned_event(services, conn, stream)
        batch = _build(services, conn, planned, state.batches[batch_id])
    meta = Meta(actor=META_ACTOR, correlation_id=f"mailing:{mailing_id}")
    if not batch.personalizations:  # everyone left since planning: nothing to send
        record_outcome(services, mailing.RecordBatchAccepted(mailing_id, batch_id, "", now), meta)
        return Outcome(sent=False, recipients=0)
    stamp_attempt(services, batch_id, now)
    try:
        accepted = transport.send(batch)
    except PermanentSendError as exc:
        record_outcome(services, mailing.RecordBatchFailed(
            mailing_id, batch_id, exc.status, exc.reason[:500], now), meta)
        return Outcome(sent=False, recipients=len(batch.personalizations))
    record_outcome(services, mailing.RecordBatchAccepted(
        mailing_id, batch_id, accepted.message_id or "", now), meta)
    return Outcome(True, len(batch.personalizations), accepted.message_id)


def record_outcome(
    services: Services, command: mailing.RecordBatchAccepted | mailing.RecordBatchFailed,
    meta: Meta,
) -> None:
    """Record a batch's outcome on its mailing's stream, one recorder per mailing at a time.

    Every batch of a mailing records on the same stream. Batches finishing together would
    conflict, and once the handler's retries ran out the message would be retried and the
    batch, already accepted, sent again. On PostgreSQL a per-mailing lock makes them queue
    instead (SQLite runs one writer at a time anyway).
    """
    with services.engine.begin() as conn, \
            advisory_slot(conn, f"mailing-outcomes:{command.mailing_id}", wait=True):
        services.commands.handle(command, meta, conn=conn)


def stamp_attempt(services: Services, batch_id: str, now: datetime) -> None:
    """Note that a worker is trying this batch now, so the sweep leaves it alone."""
    with services.engine.begin() as conn:
        conn.execute(update(mail_batches).where(mail_batches.c.batch_id == batch_id)
                     .values(last_attempt_at=as_utc(now)))


def lost_batches(services: Services, now: datetime, quiet_for: timedelta = LOST_AFTER,
                 limit: int = 1000) -> list[str]:
    """Batches with no outcome and no attempt for `quiet_for`: their message is gone.

    A batch being retried is tried at least every `max_backoff` (10 minutes), and one
    waiting out a rate limit far sooner, so a quiet quarter hour means the message was
    lost (a flushed or failed-over Redis) or its retries were spent. Reads one index range.
    """
    cutoff = as_utc(now) - quiet_for
    b = mail_batches.c
    with services.engine.connect() as conn:
        return list(conn.execute(
            select(b.batch_id)
            .where(b.outcome.is_(None), b.planned_at < cutoff,
                   or_(b.last_attempt_at.is_(None), b.last_attempt_at < cutoff))
            .order_by(b.planned_at).limit(limit)
        ).scalars())


def _planned_event(services: Services, conn: Connection, stream: str) -> mailing.MailingPlanned:
    first = services.store.read_stream(stream, conn=conn)[0]
    event = from_data(first.type, first.data)
    assert isinstance(event, mailing.MailingPlanned)
    return event


def _build(
    services: Services, conn: Connection, planned: mailing.MailingPlanned,
    plan: mailing.BatchPlan,
) -> Batch:
    action_row = None
    if planned.action_id is not None:
        action_row = conn.execute(
            select(actions).where(actions.c.action_id == planned.action_id)).one()
    rendered = render(planned.kind, plan.locale,
                      _context(services, conn, planned, action_row))
    sender_name, sender_email = services.settings.mail_sender
    recipients = _recipients(conn, plan.batch_id)
    opener = services.vault.opener(conn, (f"supporter-{r.supporter_id}" for r in recipients))
    people = [_personalization(services, opener, r, planned, action_row, sender_email)
              for r in recipients]
    return Batch(
        batch_id=plan.batch_id, from_email=sender_email, from_name=sender_name or "",
        reply_to=None, subject=rendered.subject, html=rendered.html, text=rendered.text,
        personalizations=tuple(p for p in people if p is not None),
        custom_args={"mailing_id": planned.mailing_id, "batch_id": plan.batch_id},
        categories=(planned.kind,),
    )


def _context(
    services: Services, conn: Connection, planned: mailing.MailingPlanned, action_row: Any,
) -> dict[str, Any]:
    if action_row is None:
        return {}
    document = action_row.document
    context: dict[str, Any] = {"action": document, "update_number": document["update_number"],
                               "close_reason": document.get("close_reason") or "",
                               "close_note": document.get("close_note") or ""}
    if planned.kind == "case_development":
        context["development"] = _development(services, conn, planned)
    return context


def _development(
    services: Services, conn: Connection, planned: mailing.MailingPlanned
) -> dict[str, str]:
    """The development the mailing announces: the one its cause recorded or approved."""
    assert planned.case_id is not None and planned.cause_event_id is not None
    history = services.store.read_stream(case.case_stream(planned.case_id), conn=conn)
    cause = next(e for e in history if str(e.event_id) == planned.cause_event_id)
    development_id = cause.data["development_id"]
    state = fold(case.AGGREGATE, (from_data(e.type, e.data) for e in history))
    found = state.developments[development_id]
    when = found.occurred
    text = (f"{when.local.at:%d %B %Y, %H:%M} ({when.local.timezone})"
            if isinstance(when, AtLocalTime) else f"{when.day:%d %B %Y}")
    return {"summary": found.summary, "when": text}


def _recipients(conn: Connection, batch_id: str) -> list[Any]:
    return list(conn.execute(
        select(mail_deliveries.c.delivery_id, supporters)
        .join(supporters, supporters.c.supporter_id == mail_deliveries.c.supporter_id)
        .where(mail_deliveries.c.batch_id == batch_id)
        .order_by(mail_deliveries.c.supporter_id)
    ))


def _personalization(
    services: Services, opener: Opener, row: Any, planned: mailing.MailingPlanned,
    action_row: Any, sender: str,
) -> Personalization | None:
    """One recipient's address and links; None for someone who can no longer be mailed."""
    if not _still_mailable(row, planned.kind):
        return None
    stream = f"supporter-{row.supporter_id}"
    email = opener.open(stream, "email", row.email_sealed)
    name = opener.open(stream, "name", row.name_sealed)
    if email == MASK:
        return None
    base = services.settings.public_base_url.rstrip("/")
    links = services.links
    leave = unsubscribe_url(base, links.sign("unsubscribe", row.supporter_id))
    substitutions = {"-name-": name or "friend", "-unsubscribe_url-": leave}
    if action_row is None:
        substitutions["-confirm_url-"] = confirm_url(base, links.sign("confirm", row.supporter_id))
    else:
        substitutions["-pledge_url-"] = (f"{base}/act/{planned.action_id}"
                                         f"?token={links.sign('supporter', row.supporter_id)}")
        substitutions["-deadline_local-"] = deadline_for(as_utc(action_row.deadline_at),
                                                         row.timezone or "UTC")
    return Personalization(
        to_email=email, to_name=name if name != MASK else "",
        substitutions=substitutions,
        headers={"List-Unsubscribe": f"<{leave}>, <mailto:{sender}?subject=unsubscribe>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        custom_args={"delivery_id": row.delivery_id},
    )


def _still_mailable(row: Any, kind: mailing.MailingKind) -> bool:
    """Checked again at sending: people unsubscribe, bounce or confirm after planning."""
    if row.erased or row.suppressed is not None:
        return False
    if kind == "signup_confirmation":
        return not row.consented or bool(row.unsubscribed)  # confirmed meanwhile: done
    return not row.unsubscribed


def dispatch_batches(send: Callable[[str], object]) -> Subscription:
    """The outbox: each planned batch becomes one queue message, after its event committed.

    If the broker is down the subscription stops at that event and the next clock tick
    tries again, so a mailing planned while Redis was away still goes out.
    """

    def react(conn: Connection, events: Sequence[StoredEvent]) -> None:
        for event in events:
            for batch in event.data["batches"]:
                send(batch["batch_id"])

    return Subscription("mail_dispatcher", react,
                        frozenset({mailing.MailingPlanned.type_name}))
