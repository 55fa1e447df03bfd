"""Catch-up projection: each mailing about an action, from its plan to letters confirmed.

It follows the log in order, so "afterwards" means later in the log: a pledge counts for a
mailing when the batch that reached its supporter was accepted before it. Each person counts
once per mailing and stage (pledged, confirmed ≥ 1 letter), however many pledges or letters
they made. Caught up by the clock rather than inline: every pledge and letter of a popular
action would otherwise update the same few rows in the writer's transaction.

The people of a batch are its `mail_deliveries` rows (written with the plan, before the
`MailingPlanned` event), minus those its outcome lists as left out. Mailings about no action
(a sign-up confirmation, a manage link) are not kept: they have no funnel to show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, insert, literal, select, update

from campaign.domain import mailing, pledge
from campaign.domain.codec import from_data
from campaign.infra.tables import (
    mail_deliveries,
    mailing_batch_failures,
    mailing_recipients,
    mailing_response_hours,
    mailings,
)
from campaign.read_models.mailing_funnel import hour_of
from events import StoredEvent
from events.projections import Mode
from events.sql import update_rows, upsert

RESPONSES = {pledge.Pledged.type_name: ("pledged_at", "pledged"),
             pledge.LetterConfirmed.type_name: ("confirmed_at", "confirmed")}
"""A response to a mailing: the recipient's column it stamps and the counter it adds to."""


class MailingsProjection:
    """Mailing rows with batch outcomes, the people each reached, and who responded."""

    name = "mailings"
    mode: Mode = "catch-up"
    tables: Sequence[Table] = (mailings, mailing_recipients, mailing_batch_failures,
                               mailing_response_hours)
    event_types: frozenset[str] | None = frozenset({
        mailing.MailingPlanned.type_name, mailing.BatchesPlanned.type_name,
        mailing.BatchAccepted.type_name,
        mailing.BatchFailed.type_name, mailing.MailingCompleted.type_name, *RESPONSES})
    reads = frozenset({"data"})  # what a rebuild reads of each event

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Apply each event in log order: a response counts only for mailings sent before it.
        The responses between two mailing events are stamped together."""
        responses: list[StoredEvent] = []
        for stored in events:
            if stored.type in RESPONSES:
                responses.append(stored)
                continue
            _responded(conn, responses)
            responses = []
            event = from_data(stored.type, stored.data)
            if isinstance(event, mailing.MailingPlanned):
                _planned(conn, event)
            elif isinstance(event, mailing.BatchesPlanned):
                _part_planned(conn, event)
            elif isinstance(event, mailing.BatchAccepted):
                _accepted(conn, event)
            elif isinstance(event, mailing.BatchFailed):
                _failed(conn, event)
            elif isinstance(event, mailing.MailingCompleted):
                conn.execute(update(mailings).where(mailings.c.mailing_id == event.mailing_id)
                             .values(completed_at=event.completed_at))
        _responded(conn, responses)

    def replay(self) -> MailingsReplay:
        """A rebuild's way: `apply`, without the responses that can stamp nobody yet."""
        return MailingsReplay(self)


class MailingsReplay:
    """`apply` on the emptied tables: until a batch is accepted no one was sent anything,
    so the responses before it (the whole log's, for a campaign that mails no one) stamp
    nothing and are passed over without reading who was sent what."""

    def __init__(self, projection: MailingsProjection) -> None:
        self.projection = projection
        self.sent = False

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        if not self.sent:
            first = next((n for n, e in enumerate(events)
                          if e.type == mailing.BatchAccepted.type_name), None)
            if first is None:
                events = [e for e in events if e.type not in RESPONSES]
            else:
                self.sent = True
                events = [*(e for e in events[:first] if e.type not in RESPONSES),
                          *events[first:]]
        self.projection.apply(conn, events)

    def finish(self, conn: Connection) -> None:
        """Nothing is held back: `apply` wrote as it went."""


def _planned(conn: Connection, event: mailing.MailingPlanned) -> None:
    if event.action_id is None:
        return
    m = mailings.c
    earlier = conn.execute(select(func.count()).select_from(mailings).where(
        m.action_id == event.action_id, m.kind == event.kind)).scalar_one()
    conn.execute(insert(mailings).values(
        mailing_id=event.mailing_id, action_id=event.action_id, kind=event.kind,
        sequence=earlier + 1, planned_at=event.planned_at,
        batches_planned=len(event.batches),
        recipients_planned=sum(b.recipients for b in event.batches),
        batches_accepted=0, batches_failed=0, recipients_sent=0, recipients_failed=0,
        pledged=0, confirmed=0,
        completed_at=None if event.batches or event.more_to_plan else event.planned_at))


def _part_planned(conn: Connection, event: mailing.BatchesPlanned) -> None:
    """A later part adds its batches and people to the mailing's (none for one about no action)."""
    m = mailings.c
    conn.execute(update(mailings).where(m.mailing_id == event.mailing_id).values(
        batches_planned=m.batches_planned + len(event.batches),
        recipients_planned=m.recipients_planned + sum(b.recipients for b in event.batches)))


def _accepted(conn: Connection, event: mailing.BatchAccepted) -> None:
    action_id = _action_of(conn, event.mailing_id)
    if action_id is None:
        return
    left_out = [f.delivery_id for f in event.failed]
    d = mail_deliveries.c
    people = select(d.delivery_id, d.mailing_id, literal(action_id), d.supporter_id,
                    literal(event.accepted_at, mailing_recipients.c.sent_at.type)
                    ).where(d.batch_id == event.batch_id)
    if left_out:
        people = people.where(d.delivery_id.not_in(left_out))
    sent = conn.execute(insert(mailing_recipients).from_select(
        ["delivery_id", "mailing_id", "action_id", "supporter_id", "sent_at"], people)
        .returning(mailing_recipients.c.delivery_id)).scalars().all()
    _outcome(conn, event.mailing_id, event.accepted_at, batches_accepted=1,
             recipients_sent=len(sent), recipients_failed=len(left_out))


def _failed(conn: Connection, event: mailing.BatchFailed) -> None:
    if _action_of(conn, event.mailing_id) is None:
        return
    held = conn.execute(select(func.count()).select_from(mail_deliveries)
                        .where(mail_deliveries.c.batch_id == event.batch_id)).scalar_one()
    conn.execute(insert(mailing_batch_failures).values(
        batch_id=event.batch_id, mailing_id=event.mailing_id, status=event.status,
        reason=event.reason, recipients=held, failed_at=event.failed_at))
    _outcome(conn, event.mailing_id, event.failed_at, batches_failed=1, recipients_failed=held)


def _outcome(conn: Connection, mailing_id: str, at: Any, **increments: int) -> None:
    m = mailings.c
    conn.execute(update(mailings).where(m.mailing_id == mailing_id).values(
        first_outcome_at=func.coalesce(m.first_outcome_at, at), last_outcome_at=at,
        **{name: m[name] + n for name, n in increments.items()}))


def _responded(conn: Connection, responses: Sequence[StoredEvent]) -> None:
    """Stamp each supporter's first response on every mailing of the action they were sent;
    count the people per mailing and hour. Their recipient rows are read in one query."""
    r = mailing_recipients.c
    sent: dict[tuple[str, str], list[dict[str, Any]]] = {}
    people = sorted({e.data["supporter_id"] for e in responses})
    for start in range(0, len(people), 1000):
        rows = conn.execute(select(r.delivery_id, r.mailing_id, r.supporter_id, r.action_id,
                                   r.pledged_at, r.confirmed_at)
                            .where(r.supporter_id.in_(people[start:start + 1000])))
        for found in rows:
            sent.setdefault((found.supporter_id, found.action_id), []).append(
                dict(found._mapping))
    if not sent:
        return
    stamps: list[tuple[str, dict[str, Any]]] = []
    counted: Counter[tuple[str, str]] = Counter()
    hours: Counter[tuple[str, str, datetime]] = Counter()
    for stored in responses:
        column, counter = RESPONSES[stored.type]
        at = datetime.fromisoformat(stored.data[column])
        for row in sent.get((stored.data["supporter_id"], stored.data["action_id"]), ()):
            if row[column] is None:
                row[column] = at
                stamps.append((row["delivery_id"], {column: at}))
                counted[(row["mailing_id"], counter)] += 1
                hours[(row["mailing_id"], counter, hour_of(at))] += 1
    update_rows(conn, mailing_recipients, "delivery_id", stamps)
    for (mailing_id, counter), n in sorted(counted.items()):
        conn.execute(update(mailings).where(mailings.c.mailing_id == mailing_id)
                     .values({counter: mailings.c[counter] + n}))
    upsert(conn, mailing_response_hours, [
        {"mailing_id": m, "stage": stage, "hour": hour, "people": n}
        for (m, stage, hour), n in sorted(hours.items())], ["mailing_id", "stage", "hour"],
        lambda added: {"people": mailing_response_hours.c.people + added.people})


def _action_of(conn: Connection, mailing_id: str) -> str | None:
    """The action a kept mailing is about; None for a mailing about no action."""
    found = conn.execute(select(mailings.c.action_id)
                         .where(mailings.c.mailing_id == mailing_id)).scalar()
    return None if found is None else str(found)
