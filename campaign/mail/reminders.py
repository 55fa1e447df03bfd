"""Reminder e-mails: the reminders one deadline scan claimed become batched mailings.

The scan (campaign/application/deadlines.py) calls `ReminderMailer.send_reminders` inside the
transaction that marks the reminders sent, so the mailing is planned exactly when the
marks commit, and a scan that fails plans nothing. One mailing per action and reminder
kind, in batches by the language each pledger receives the action in, like any other: ten
thousand pledgers of one action reminded at the same hour cost ten requests, not ten
thousand. The e-mail itself names the deadline
in each supporter's timezone and links back to their pledge.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from campaign.application.commands import CommandHandler, Meta
from campaign.application.deadlines import ACTOR
from campaign.application.reminders import DueReminder
from campaign.domain import mailing
from campaign.infra.tables import actions, pledges, supporters
from campaign.mail.planning import NAMESPACE, Recipient, in_their_language, record_mailing
from events import as_utc


def reminder_mailing_id(reminders: Sequence[DueReminder]) -> str:
    """Fixed by the reminders it carries: a rolled-back scan plans the same id again."""
    key = "|".join(sorted(r.reminder_id for r in reminders))
    return str(uuid.uuid5(NAMESPACE, f"pledge_reminder:{key}"))


class ReminderMailer:
    """Plans `pledge_reminder` mailings for claimed reminders (the default ReminderSender)."""

    def __init__(self, commands: CommandHandler) -> None:
        self.commands = commands

    def send_reminders(self, conn: Connection, reminders: Sequence[DueReminder],
                       now: datetime) -> None:
        """One mailing per (action, kind), planned through `conn`."""
        rows = conn.execute(
            select(pledges.c.pledge_id, pledges.c.action_id, pledges.c.supporter_id,
                   supporters.c.locale, actions.c.case_id)
            .join(supporters, supporters.c.supporter_id == pledges.c.supporter_id)
            .join(actions, actions.c.action_id == pledges.c.action_id)
            .where(pledges.c.pledge_id.in_(sorted({r.pledge_id for r in reminders})))
        )
        pledged = {row.pledge_id: row for row in rows}
        groups: dict[tuple[str, str], list[DueReminder]] = defaultdict(list)
        for reminder in reminders:
            if reminder.pledge_id in pledged:
                groups[(pledged[reminder.pledge_id].action_id, reminder.kind)].append(reminder)
        meta = Meta(actor=ACTOR, correlation_id=f"reminders-{as_utc(now).isoformat()}")
        for (action_id, _kind), group in sorted(groups.items()):
            people = [pledged[r.pledge_id] for r in group]
            recipients = [Recipient(p.supporter_id, p.locale or "en") for p in people]
            record_mailing(conn, self.commands, mailing.PlanMailing(
                mailing_id=reminder_mailing_id(group), kind="pledge_reminder",
                action_id=action_id, case_id=people[0].case_id, cause_event_id=None,
                batches=(), planned_at=now,
            ), in_their_language(conn, action_id, recipients), meta)
