"""Composing one planned batch: the mailing rendered once, personalised per recipient.

A batch shares one rendered text; what differs per person (name, links, the deadline in
their own timezone) goes in as substitutions. Addresses are read and decrypted here, at
the last moment, so someone who unsubscribed, bounced, confirmed or was erased since
planning is left out.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from campaign.domain import case, mailing
from campaign.domain.base import fold
from campaign.domain.codec import from_data
from campaign.domain.values import AtLocalTime
from campaign.infra.tables import actions, mail_deliveries, supporters
from campaign.mail.links import MailLinks
from campaign.mail.message import Batch, MailConfig, Personalization
from campaign.mail.rendering import deadline_for, render
from events import EventStore, as_utc
from events.personal_data import MASK, Opener, Vault


class Composer:
    """Builds the Batch a transport sends for one planned batch of a mailing."""

    def __init__(self, store: EventStore, vault: Vault, links: MailLinks,
                 config: MailConfig) -> None:
        self.store = store
        self.vault = vault
        self.links = links
        self.config = config

    def batch(self, conn: Connection, planned: mailing.MailingPlanned,
              plan: mailing.BatchPlan) -> Batch:
        """The batch `plan` of `planned`, for whoever of its recipients can still be mailed."""
        action_row = None
        if planned.action_id is not None:
            action_row = conn.execute(
                select(actions).where(actions.c.action_id == planned.action_id)).one()
        rendered = render(planned.kind, plan.locale, self._context(conn, planned, action_row))
        recipients = _recipients(conn, plan.batch_id)
        opener = self.vault.opener(conn, (f"supporter-{r.supporter_id}" for r in recipients))
        people = [self._personalization(opener, r, planned, action_row) for r in recipients]
        return Batch(
            batch_id=plan.batch_id, from_email=self.config.sender_email,
            from_name=self.config.sender_name, reply_to=None, subject=rendered.subject,
            html=rendered.html, text=rendered.text,
            personalizations=tuple(p for p in people if p is not None),
            custom_args={"mailing_id": planned.mailing_id, "batch_id": plan.batch_id},
            categories=(planned.kind,),
        )

    def _context(self, conn: Connection, planned: mailing.MailingPlanned,
                 action_row: Any) -> dict[str, Any]:
        if action_row is None:
            return {}
        document = action_row.document
        context: dict[str, Any] = {"action": document,
                                   "update_number": document["update_number"],
                                   "close_reason": document.get("close_reason") or "",
                                   "close_note": document.get("close_note") or ""}
        if planned.kind == "case_development":
            context["development"] = self._development(conn, planned)
        return context

    def _development(self, conn: Connection, planned: mailing.MailingPlanned
                     ) -> dict[str, str]:
        """The development the mailing announces: the one its cause recorded or approved."""
        assert planned.case_id is not None and planned.cause_event_id is not None
        history = self.store.read_stream(case.case_stream(planned.case_id), conn=conn)
        cause = next(e for e in history if str(e.event_id) == planned.cause_event_id)
        state = fold(case.AGGREGATE, (from_data(e.type, e.data) for e in history))
        found = state.developments[cause.data["development_id"]]
        when = found.occurred
        text = (f"{when.local.at:%d %B %Y, %H:%M} ({when.local.timezone})"
                if isinstance(when, AtLocalTime) else f"{when.day:%d %B %Y}")
        return {"summary": found.summary, "when": text}

    def _personalization(self, opener: Opener, row: Any, planned: mailing.MailingPlanned,
                         action_row: Any) -> Personalization | None:
        """One recipient's address and links; None for someone who can no longer be mailed."""
        if not _still_mailable(row, planned.kind):
            return None
        stream = f"supporter-{row.supporter_id}"
        email = opener.open(stream, "email", row.email_sealed)
        name = opener.open(stream, "name", row.name_sealed)
        if email == MASK:
            return None
        leave = self.links.unsubscribe(row.supporter_id)
        substitutions = {"-name-": name or "friend", "-unsubscribe_url-": leave}
        if planned.kind == "manage_link":
            substitutions["-manage_url-"] = self.links.manage(row.supporter_id)
        elif action_row is None:
            substitutions["-confirm_url-"] = self.links.confirm(row.supporter_id)
        else:
            assert planned.action_id is not None
            substitutions["-pledge_url-"] = self.links.pledge(planned.action_id,
                                                              row.supporter_id)
            substitutions["-deadline_local-"] = deadline_for(as_utc(action_row.deadline_at),
                                                             row.timezone or "UTC")
        sender = self.config.sender_email
        return Personalization(
            to_email=email, to_name=name if name != MASK else "",
            substitutions=substitutions,
            headers={"List-Unsubscribe": f"<{leave}>, <mailto:{sender}?subject=unsubscribe>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
            custom_args={"delivery_id": row.delivery_id},
        )


def _recipients(conn: Connection, batch_id: str) -> list[Any]:
    return list(conn.execute(
        select(mail_deliveries.c.delivery_id, supporters)
        .join(supporters, supporters.c.supporter_id == mail_deliveries.c.supporter_id)
        .where(mail_deliveries.c.batch_id == batch_id)
        .order_by(mail_deliveries.c.supporter_id)
    ))


def _still_mailable(row: Any, kind: mailing.MailingKind) -> bool:
    """Checked again at sending: people unsubscribe, bounce or confirm after planning."""
    if row.erased or row.suppressed is not None:
        return False
    if kind == "signup_confirmation":
        return not row.consented or bool(row.unsubscribed)  # confirmed meanwhile: done
    if kind == "manage_link":
        return True  # asked for by the person: unsubscribing does not take away their data
    return not row.unsubscribed
