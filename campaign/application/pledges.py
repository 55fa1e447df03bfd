"""Pledges: making one with its action's facts, and what an action's events do to open ones.

The pledge policy is a checkpointed subscription: its commands are appended in the same
transaction that moves its checkpoint, so a crash neither loses nor repeats them (and the
commands are idempotent anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, select

from campaign.application.commands import CommandHandler, Meta, Outcome, policy_meta
from campaign.application.errors import NotFound
from campaign.application.supporters import require_supporter
from campaign.domain import action, pledge
from campaign.domain.base import DomainError
from campaign.domain.codec import from_data
from campaign.infra.tables import actions, pledges
from events import StoredEvent, Subscription, as_utc


def make_pledge(
    commands: CommandHandler, action_id: str, supporter_id: str, target_ids: tuple[str, ...],
    letters_promised: int, meta: Meta, now: datetime, conn: Connection | None = None,
) -> Outcome:
    """Pledge letters to an action, with the action's facts read in the same transaction.

    The facts come from the actions read model, which the action's own appends keep
    current in their transactions: replaying the action's stream on every pledge cost a
    sixth of the request.
    """
    with commands.transaction(conn) as tx:
        row = tx.execute(select(actions.c.status, actions.c.deadline_at, actions.c.document)
                         .where(actions.c.action_id == action_id)).one_or_none()
        if row is None:
            raise NotFound(f"no action {action_id}")
        due_at = row.deadline_at
        command = pledge.MakePledge(
            action_id=action_id, supporter_id=supporter_id, target_ids=target_ids,
            letters_promised=letters_promised, pledged_at=now,
            action_open=row.status == "launched",
            action_target_ids=tuple(t["target_id"] for t in row.document["targets"]),
            due_at=as_utc(due_at),
        )
        return commands.handle(command, meta, conn=tx)


def pledge_as_supporter(
    commands: CommandHandler, action_id: str, supporter_id: str, target_ids: tuple[str, ...],
    letters_promised: int, meta: Meta, now: datetime, conn: Connection | None = None,
) -> Outcome:
    """A supporter's own pledge, checked the same way wherever it is made (API or page).

    NotFound for an unknown supporter; DomainError `supporter_erased` once erased and
    `consent_required` before the address is confirmed; then `make_pledge`, all in one
    transaction from check to write.
    """
    with commands.transaction(conn) as tx:
        row = require_supporter(tx, supporter_id)
        if row.erased:
            raise DomainError("supporter_erased", "the supporter was erased")
        if not row.consented:
            raise DomainError("consent_required", "confirm your e-mail address before pledging")
        return make_pledge(commands, action_id, supporter_id, target_ids, letters_promised,
                           meta, now, conn=tx)


@dataclass(frozen=True)
class SentLetter:
    """What a supporter says about one letter: its id, to whom, how, on which day."""

    letter_id: str
    target_id: str
    channel: pledge.Channel
    sent_on: date


def confirm_letter(
    commands: CommandHandler, action_id: str, supporter_id: str, letter: SentLetter, meta: Meta,
    now: datetime, *, expected_version: int | None = None, conn: Connection | None = None,
) -> Outcome:
    """Confirm one letter, with the action's issue date read in the same transaction."""
    with commands.transaction(conn) as tx:
        issued_on = tx.execute(select(actions.c.issued_on)
                               .where(actions.c.action_id == action_id)).scalar_one_or_none()
        if issued_on is None:
            raise NotFound(f"no action {action_id}")
        command = pledge.ConfirmLetter(
            action_id=action_id, supporter_id=supporter_id, letter_id=letter.letter_id,
            target_id=letter.target_id, channel=letter.channel, sent_on=letter.sent_on,
            confirmed_at=now, action_issued_on=issued_on,
        )
        return commands.handle(command, meta, expected_version=expected_version, conn=tx)


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
