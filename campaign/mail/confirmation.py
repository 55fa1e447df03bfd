"""The double opt-in e-mail: each sign-up (and each allowed re-send) plans one mailing.

Like every e-mail it goes through the log: a checkpointed subscription plans a
`signup_confirmation` mailing per `SupporterRegistered` or `ConfirmationRequested`, and the
mail workers send it with the supporter's signed confirmation link. The mailing id derives
from the causing event, so reading an event twice plans nothing twice. Someone who has
confirmed, been suppressed or erased by the time the planner runs gets nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, select

from campaign.application.commands import CommandHandler, policy_meta
from campaign.domain import mailing, supporter
from campaign.infra.tables import supporters
from campaign.mail.planning import NAMESPACE, Recipient, is_planned, record_mailing
from events import StoredEvent, Subscription

CONFIRMATION_MAILER = "confirmation_mailer"
CAUSES = frozenset({supporter.SupporterRegistered.type_name,
                    supporter.ConfirmationRequested.type_name})


def confirmation_mailing_id(cause: StoredEvent) -> str:
    """One confirmation mailing per causing event."""
    return str(uuid.uuid5(NAMESPACE, f"signup_confirmation:{cause.event_id}"))


def confirmation_mailer(commands: CommandHandler) -> Subscription:
    """The subscription that plans the confirmation e-mail of each sign-up."""

    def react(conn: Connection, events: Sequence[StoredEvent]) -> None:
        waiting = _still_waiting(conn, {e.data["supporter_id"] for e in events})
        for cause in events:
            supporter_id = cause.data["supporter_id"]
            mailing_id = confirmation_mailing_id(cause)
            if supporter_id not in waiting or is_planned(conn, commands, mailing_id):
                continue
            record_mailing(conn, commands, mailing.PlanMailing(
                mailing_id=mailing_id, kind="signup_confirmation", action_id=None,
                case_id=None, cause_event_id=str(cause.event_id), batches=(),
                planned_at=cause.recorded_at,
            ), [Recipient(supporter_id, waiting[supporter_id])],
                policy_meta("confirmations", cause))

    return Subscription(CONFIRMATION_MAILER, react, CAUSES)


def _still_waiting(conn: Connection, supporter_ids: set[str]) -> dict[str, str]:
    """Locale by supporter, for those who may still be asked to confirm."""
    c = supporters.c
    rows = conn.execute(
        select(c.supporter_id, c.locale).where(
            c.supporter_id.in_(sorted(supporter_ids)),
            (c.consented.is_(False)) | (c.unsubscribed.is_(True)),
            c.suppressed.is_(None), c.erased.is_(False))
    )
    return {row.supporter_id: row.locale or "en" for row in rows}
