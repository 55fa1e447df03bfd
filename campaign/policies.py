"""Policies: what one aggregate's events make other aggregates do, driven by the log.

Each policy is a checkpointed subscription; its commands are appended in the same
transaction that moves its checkpoint, so a crash neither loses nor repeats them
(and the commands are idempotent anyway).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from campaign.domain import action, pledge
from campaign.domain.codec import from_data
from campaign.handlers import CommandHandler, Meta
from campaign.tables import pledges
from events import StoredEvent, Subscription


def policy_meta(name: str, cause: StoredEvent) -> Meta:
    """Metadata for a command a policy issues: it acts for the event that caused it."""
    return Meta(actor=f"policy:{name}",
                correlation_id=str(cause.metadata.get("correlation_id") or cause.event_id),
                causation_id=str(cause.event_id))


def open_pledgers(conn: Connection, action_id: str) -> list[str]:
    """Supporters with an open pledge on the action."""
    return list(conn.execute(
        select(pledges.c.supporter_id)
        .where(pledges.c.action_id == action_id, pledges.c.status == "open")
        .order_by(pledges.c.supporter_id)
    ).scalars())


def pledge_policy(commands: CommandHandler) -> Subscription:
    """Stop action cancels open pledges; a deadline extension moves their due time."""

    def react(conn: Connection, events: Sequence[StoredEvent]) -> None:
        for stored in events:
            event = from_data(stored.type, stored.data)
            meta = policy_meta("pledges", stored)
            if isinstance(event, action.ActionClosed):
                for supporter_id in open_pledgers(conn, event.action_id):
                    commands.handle(pledge.CancelPledge(
                        action_id=event.action_id, supporter_id=supporter_id,
                        reason="action_closed", at=event.closed_at), meta, conn=conn)
            elif isinstance(event, action.DeadlineExtended):
                for supporter_id in open_pledgers(conn, event.action_id):
                    commands.handle(pledge.MoveDueDate(
                        action_id=event.action_id, supporter_id=supporter_id,
                        new_due_at=event.new_deadline.ends_at(), at=event.extended_at),
                        meta, conn=conn)

    return Subscription(
        "pledge_policy", react,
        frozenset({action.ActionClosed.type_name, action.DeadlineExtended.type_name}),
    )
