"""Inline projection: every planned mail batch and its outcome, for the lost-batch sweep.

`last_attempt_at` is not from the log: the worker stamps it on each attempt. A rebuild
clears it, which at worst makes the next sweep enqueue a batch that was still being
retried; sending stays idempotent, so that costs one redundant look, never an e-mail.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, update

from campaign.domain import mailing
from campaign.infra.tables import mail_batches
from events import StoredEvent
from events.projections import Mode

PLANS = frozenset({mailing.MailingPlanned.type_name, mailing.BatchesPlanned.type_name})
"""The events that plan batches: a mailing's first part, and each later one."""
OUTCOMES = {mailing.BatchAccepted.type_name: "accepted",
            mailing.BatchFailed.type_name: "failed"}


class MailBatchesProjection:
    """One row per planned batch; the outcome once the provider took or refused it."""

    name = "mail_batches"
    mode: Mode = "inline"
    tables: Sequence[Table] = (mail_batches,)
    event_types: frozenset[str] | None = frozenset({*PLANS, *OUTCOMES})

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Insert the batches of each part of a plan; record each outcome."""
        for stored in events:
            if stored.type in PLANS:
                rows = [{"batch_id": batch["batch_id"], "mailing_id": stored.data["mailing_id"],
                         "planned_at": stored.recorded_at} for batch in stored.data["batches"]]
                if rows:
                    conn.execute(mail_batches.insert(), rows)
            else:
                conn.execute(update(mail_batches)
                             .where(mail_batches.c.batch_id == stored.data["batch_id"])
                             .values(outcome=OUTCOMES[stored.type]))
