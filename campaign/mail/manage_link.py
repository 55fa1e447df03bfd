"""The "manage my data" e-mail: one short-lived link to the address on file, when asked.

A public request names an address; `address_requests` (campaign.application.supporters)
turns a known one into `ManageLinkRequested` on that supporter's stream. This checkpointed
subscription plans one `manage_link` mailing per such event, and the mail workers send it
with a link signed when the batch is composed, valid for an hour from then. The mailing id
derives from the causing event, so reading an event twice plans nothing twice. Someone
erased or suppressed by the time the planner runs gets nothing.
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

MANAGE_LINK_MAILER = "manage_link_mailer"


def manage_link_mailing_id(cause: StoredEvent) -> str:
    """One manage-link mailing per request that reached a supporter."""
    return str(uuid.uuid5(NAMESPACE, f"manage_link:{cause.event_id}"))


def manage_link_mailer(commands: CommandHandler) -> Subscription:
    """The subscription that plans the manage-link e-mail of each request for one."""

    def react(conn: Connection, events: Sequence[StoredEvent]) -> None:
        reachable = _reachable(conn, {e.data["supporter_id"] for e in events})
        for cause in events:
            supporter_id = cause.data["supporter_id"]
            mailing_id = manage_link_mailing_id(cause)
            if supporter_id not in reachable or is_planned(conn, commands, mailing_id):
                continue
            record_mailing(conn, commands, mailing.PlanMailing(
                mailing_id=mailing_id, kind="manage_link", action_id=None, case_id=None,
                cause_event_id=str(cause.event_id), batches=(), planned_at=cause.recorded_at,
            ), [Recipient(supporter_id, reachable[supporter_id])],
                policy_meta("manage_links", cause))

    return Subscription(MANAGE_LINK_MAILER, react,
                        frozenset({supporter.ManageLinkRequested.type_name}))


def _reachable(conn: Connection, supporter_ids: set[str]) -> dict[str, str]:
    """Locale by supporter, for those still on file whose address takes mail."""
    c = supporters.c
    rows = conn.execute(
        select(c.supporter_id, c.locale).where(
            c.supporter_id.in_(sorted(supporter_ids)), c.suppressed.is_(None),
            c.erased.is_(False))
    )
    return {row.supporter_id: row.locale or "en" for row in rows}
