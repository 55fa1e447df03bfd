"""Inline projection: recipients left out of a mail batch, and why, for operators.

The rows come from the `failed` list of each batch outcome (BatchAccepted, BatchFailed):
delivery, mailing, batch and supporter ids and a reason, never a name or an address. A
batch has one outcome, so a delivery fails at most once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Table, func, insert, select

from campaign.domain import mailing
from campaign.domain.codec import from_data
from campaign.infra.tables import mail_recipient_failures
from events import StoredEvent
from events.projections import Mode
from events.records import as_utc


class MailRecipientFailuresProjection:
    """One row per recipient a batch left out."""

    name = "mail_recipient_failures"
    mode: Mode = "inline"
    tables: Sequence[Table] = (mail_recipient_failures,)
    event_types: frozenset[str] | None = frozenset({mailing.BatchAccepted.type_name,
                                                    mailing.BatchFailed.type_name})

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Insert the failures each outcome lists."""
        rows = [row for stored in events for row in _rows(stored)]
        if rows:
            conn.execute(insert(mail_recipient_failures), rows)


def _rows(stored: StoredEvent) -> list[dict[str, object]]:
    outcome = from_data(stored.type, stored.data)
    assert isinstance(outcome, mailing.BatchAccepted | mailing.BatchFailed)
    at = outcome.accepted_at if isinstance(outcome, mailing.BatchAccepted) else outcome.failed_at
    return [{"delivery_id": failure.delivery_id, "mailing_id": outcome.mailing_id,
             "batch_id": outcome.batch_id, "supporter_id": failure.supporter_id,
             "reason": failure.reason, "failed_at": at} for failure in outcome.failed]


@dataclass(frozen=True)
class RecipientFailure:
    """One recipient a batch left out, as operators see it: ids and a reason."""

    delivery_id: str
    mailing_id: str
    batch_id: str
    supporter_id: str
    reason: str
    failed_at: datetime


def recipient_failures(conn: Connection, mailing_id: str | None = None,
                       limit: int = 100) -> tuple[int, list[RecipientFailure]]:
    """How many recipients were left out (of `mailing_id`, or of any mailing), and the
    latest `limit` of them, newest first."""
    f = mail_recipient_failures.c
    where = [] if mailing_id is None else [f.mailing_id == mailing_id]
    total = conn.execute(select(func.count()).select_from(mail_recipient_failures)
                         .where(*where)).scalar_one()
    rows = conn.execute(select(mail_recipient_failures).where(*where)
                        .order_by(f.failed_at.desc(), f.delivery_id).limit(limit))
    return int(total), [RecipientFailure(r.delivery_id, r.mailing_id, r.batch_id,
                                         r.supporter_id, r.reason, as_utc(r.failed_at))
                        for r in rows]
