"""The double opt-in e-mail: each sign-up (and each allowed re-send) plans one mailing.

Like every e-mail it goes through the log: a checkpointed subscription plans a
`signup_confirmation` mailing per `SupporterRegistered` or `ConfirmationRequested`, and the
mail workers send it with the supporter's signed confirmation link. The mailing id derives
from the causing event, so reading an event twice plans nothing twice. Someone who has
confirmed, been suppressed or erased by the time the planner runs gets nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from campaign.application.commands import CommandHandler
from campaign.domain import supporter
from campaign.infra.tables import supporters
from campaign.mail.planning import one_per_cause
from events import StoredEvent, Subscription
from events.schema import events

CONFIRMATION_MAILER = "confirmation_mailer"
CAUSES = frozenset({supporter.SupporterRegistered.type_name,
                    supporter.ConfirmationRequested.type_name})


def confirmation_mailer(commands: CommandHandler) -> Subscription:
    """The subscription that plans the confirmation e-mail of each sign-up."""
    return one_per_cause(commands, CONFIRMATION_MAILER, "signup_confirmation", CAUSES,
                         _still_waiting, "confirmations", _confirmed_since)


def _confirmed_since(conn: Connection, cause: StoredEvent) -> bool:
    """Whether the supporter confirmed after this request. A planner running late (workers
    catching up) must not ask again someone who confirmed and has since unsubscribed:
    `_still_waiting` lets the unsubscribed through, for their requests to come back."""
    e = events.c
    return conn.execute(select(e.position).where(
        e.stream_id == supporter.supporter_stream(cause.data["supporter_id"]),
        e.type == supporter.ConsentConfirmed.type_name, e.position > cause.position,
    ).limit(1)).first() is not None


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
