"""What stopping an action would cancel, counted before the campaigner confirms.

Closing an action cancels its open pledges (`application.pledges`), with them their
pending reminders (`application.reminders`), and the mail about it still queued: batches
of its launch, updates and case news not yet handed to the provider go to no one
(`composing`; the stop notice itself still goes out). The counts are read from the read
models; which mailings are the action's follows from the log (their ids derive from the
events that caused them, `planning.mailing_id_for`), two short streams.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from campaign.application.errors import NotFound
from campaign.domain import action, case
from campaign.domain.mailing import MailingKind
from campaign.infra.tables import (
    actions,
    mail_batches,
    mail_deliveries,
    pledge_reminders,
    pledges,
)
from campaign.mail.planning import mailing_id_for
from events import EventStore

MAILED: dict[str, MailingKind] = {
    action.ActionLaunched.type_name: "action_launched",
    action.ActionUpdated.type_name: "action_updated",
}
CASE_NEWS = frozenset({case.DevelopmentRecorded.type_name, case.DevelopmentApproved.type_name})


@dataclass(frozen=True)
class StopPreview:
    """Counts of what closing the action would cancel now."""

    action_id: str
    status: str
    open_pledges: int
    """Pledges (one per supporter) still open: they are cancelled."""
    pending_reminders: int
    """Reminder e-mails scheduled for those pledges and not yet sent."""
    queued_batches: int
    """Mail batches about the action planned and not yet handed to the provider."""
    queued_emails: int
    """E-mails (one per recipient) in those batches."""


def stop_preview(conn: Connection, store: EventStore, action_id: str) -> StopPreview:
    """What `CloseAction` would cancel if it were handled now; NotFound for no such action."""
    row = conn.execute(select(actions.c.status, actions.c.case_id)
                       .where(actions.c.action_id == action_id)).one_or_none()
    if row is None:
        raise NotFound(f"no action {action_id}")
    opened = (pledges.c.action_id == action_id) & (pledges.c.status == "open")
    open_pledges = conn.execute(select(func.count()).select_from(pledges).where(opened))
    reminders = conn.execute(
        select(func.count()).select_from(pledge_reminders.join(
            pledges, pledges.c.pledge_id == pledge_reminders.c.pledge_id))
        .where(opened, pledge_reminders.c.status == "pending"))
    queued = (mail_batches.c.mailing_id.in_(_mailings(conn, store, action_id, row.case_id))
              & mail_batches.c.outcome.is_(None))
    batches = conn.execute(select(func.count()).select_from(mail_batches).where(queued))
    emails = conn.execute(
        select(func.count()).select_from(mail_deliveries.join(
            mail_batches, mail_batches.c.batch_id == mail_deliveries.c.batch_id)).where(queued))
    return StopPreview(action_id, row.status, open_pledges.scalar_one(),
                       reminders.scalar_one(), batches.scalar_one(), emails.scalar_one())


def _mailings(conn: Connection, store: EventStore, action_id: str, case_id: str) -> list[str]:
    """The ids of the mailings the action's events and its case's news may have planned."""
    found = [mailing_id_for(MAILED[e.type], action_id, e)
             for e in store.read_stream(action.action_stream(action_id), conn=conn)
             if e.type in MAILED]
    found += [mailing_id_for("case_development", action_id, e)
              for e in store.read_stream(case.case_stream(case_id), conn=conn)
              if e.type in CASE_NEWS]
    return found
