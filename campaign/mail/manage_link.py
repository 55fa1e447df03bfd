"""The "manage my data" e-mail: one short-lived link to the address on file, when asked.

A public request names an address; `address_requests` (campaign.application.supporters)
turns a known one into `ManageLinkRequested` on that supporter's stream. This checkpointed
subscription plans one `manage_link` mailing per such event, and the mail workers send it
with a link signed when the batch is composed, valid for an hour from then. The mailing id
derives from the causing event, so reading an event twice plans nothing twice. Someone
erased or suppressed by the time the planner runs gets nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from campaign.application.commands import CommandHandler
from campaign.domain import supporter
from campaign.infra.tables import supporters
from campaign.mail.planning import one_per_cause
from events import Subscription

MANAGE_LINK_MAILER = "manage_link_mailer"


def manage_link_mailer(commands: CommandHandler) -> Subscription:
    """The subscription that plans the manage-link e-mail of each request for one."""
    return one_per_cause(commands, MANAGE_LINK_MAILER, "manage_link",
                         frozenset({supporter.ManageLinkRequested.type_name}), _reachable,
                         "manage_links")


def _reachable(conn: Connection, supporter_ids: set[str]) -> dict[str, str]:
    """Locale by supporter, for those still on file whose address takes mail."""
    c = supporters.c
    rows = conn.execute(
        select(c.supporter_id, c.locale).where(
            c.supporter_id.in_(sorted(supporter_ids)), c.suppressed.is_(None),
            c.erased.is_(False))
    )
    return {row.supporter_id: row.locale or "en" for row in rows}
