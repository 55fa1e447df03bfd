"""Composing one planned batch: the mailing rendered once, personalised per recipient.

A batch shares one rendered text, in the batch's locale; what differs per person (name,
links, and a deadline with a time, on their own clock) goes in as substitutions
(campaign.mail.rendering: a text and an HTML key per value, both unguessable). A date-only
deadline is the same day for every reader and is written into the shared text. Addresses
are read and decrypted here, at the last moment, so someone who unsubscribed, paused
e-mail, bounced, confirmed or was erased since planning is left out.

A batch about an action stopped since it was planned goes to no one: stopping cancels
the queued mail (campaign.mail.stop_preview counts it beforehand).

One recipient never blocks a batch: whoever's e-mail cannot be made (a deadline their
timezone cannot show, a name that would break a header, an unusable address, anything
`message.recipient_problem` refuses) is left out and returned as a failure with a reason
that names no one; the others are sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import Connection, Text, bindparam, literal_column, select

from campaign.domain import case, mailing
from campaign.domain.base import fold
from campaign.domain.codec import from_data
from campaign.infra.tables import actions, mail_deliveries, supporters
from campaign.mail.links import MailLinks
from campaign.mail.message import Batch, MailConfig, Personalization, recipient_problem
from campaign.mail.rendering import (
    Rendered,
    Slot,
    deadline_time,
    fallback_name,
    reader_deadline,
    render,
)
from campaign.read_models.action_translations import in_language
from events import EventStore
from events.personal_data import MASK, Opener, Vault
from events.schema import personal_data_keys
from events.sql import DriverRead

DEADLINE_UNSHOWABLE = "the deadline cannot be shown in the recipient's timezone"
UNREADABLE = "the recipient's personal data cannot be read"
DUPLICATE_ADDRESS = "the same address as another recipient of the batch"


@dataclass(frozen=True)
class Composed:
    """A batch ready for the transport, and the recipients left out of it."""

    batch: Batch
    failed: tuple[mailing.RecipientFailure, ...]


class Unmailable(Exception):
    """Raised when one recipient's e-mail cannot be made; `reason` names no one."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Composer:
    """Builds the Batch a transport sends for one planned batch of a mailing."""

    def __init__(self, store: EventStore, vault: Vault, links: MailLinks,
                 config: MailConfig) -> None:
        self.store = store
        self.vault = vault
        self.links = links
        self.config = config

    def batch(self, conn: Connection, planned: mailing.MailingPlanned,
              plan: mailing.BatchPlan) -> Composed:
        """The batch `plan` of `planned`, for whoever of its recipients can still be mailed."""
        action_row = None
        if planned.action_id is not None:
            action_row = conn.execute(
                select(actions).where(actions.c.action_id == planned.action_id)).one()
        context, language = self._context(conn, planned, action_row, plan.locale)
        rendered = render(planned.kind, language, context)
        recipients = [] if _stopped(planned, action_row) else _recipients(conn, plan.batch_id)
        opener = self.vault.opener_for((r.subject_id, r.wrapped_key, r.key_id)
                                       for r in recipients)
        ids = {"mailing_id": planned.mailing_id, "batch_id": plan.batch_id}
        people: list[Personalization] = []
        failed: list[mailing.RecipientFailure] = []
        addresses: set[str] = set()
        for row in recipients:
            try:
                person = self._personalization(opener, row, planned, action_row, rendered)
                if person is not None:
                    _admit(person, ids, addresses)
                    people.append(person)
            except Unmailable as left_out:
                failed.append(mailing.RecipientFailure(row.delivery_id, row.supporter_id,
                                                       left_out.reason))
        batch = Batch(
            batch_id=plan.batch_id, from_email=self.config.sender_email,
            from_name=self.config.sender_name, reply_to=None, subject=rendered.subject,
            html=rendered.html, text=rendered.text, personalizations=tuple(people),
            custom_args=ids, categories=(planned.kind,),
        )
        return Composed(batch, tuple(failed))

    def _context(self, conn: Connection, planned: mailing.MailingPlanned, action_row: Any,
                 locale: str) -> tuple[dict[str, Any], str]:
        """What the templates read, and the language it is in (the e-mail's language).

        The planner put the language each recipient receives the action in as the batch's
        locale; a translation outdated since then leaves the action's own language.
        """
        if action_row is None:
            return {}, locale
        assert planned.action_id is not None
        context, language = action_context(conn, planned.action_id, action_row.document,
                                           locale, self.links)
        if planned.kind == "case_development":
            context["development"] = self._development(conn, planned)
        return context, language

    def _development(self, conn: Connection, planned: mailing.MailingPlanned
                     ) -> dict[str, Any]:
        """The development the mailing announces: the one its cause recorded or approved."""
        assert planned.case_id is not None and planned.cause_event_id is not None
        history = self.store.read_stream(case.case_stream(planned.case_id), conn=conn)
        cause = next(e for e in history if str(e.event_id) == planned.cause_event_id)
        state = fold(case.AGGREGATE, (from_data(e.type, e.data) for e in history))
        found = state.developments[cause.data["development_id"]]
        return {"summary": found.summary, "occurred": found.occurred}

    def _personalization(self, opener: Opener, row: Any, planned: mailing.MailingPlanned,
                         action_row: Any, rendered: Rendered) -> Personalization | None:
        """One recipient's address and links; None for someone who can no longer be mailed.

        Raises Unmailable when their e-mail cannot be made.
        """
        if not _still_mailable(row, planned.kind):
            return None
        email = _open(opener, row.supporter_id, "email", row.email_sealed)
        name = _open(opener, row.supporter_id, "name", row.name_sealed)
        if email == MASK:
            return None
        leave = self.links.unsubscribe(row.supporter_id)
        values: dict[Slot, str] = {"name": name or fallback_name(rendered.locale),
                                   "unsubscribe_url": leave}
        if planned.kind == "manage_link":
            values["manage_url"] = self.links.manage(row.supporter_id)
        elif action_row is None:
            values["confirm_url"] = self.links.confirm(row.supporter_id)
        else:
            assert planned.action_id is not None
            values["pledge_url"] = self.links.pledge(planned.action_id, row.supporter_id)
            if deadline_time(action_row.document) is not None:  # else the same day for all
                values["deadline_local"] = _deadline(action_row.document, row.timezone or "UTC",
                                                     rendered.locale)
        sender = self.config.sender_email
        return Personalization(
            to_email=email, to_name=name if name != MASK else "",
            substitutions=rendered.substitutions(values),
            headers={"List-Unsubscribe": f"<{leave}>, <mailto:{sender}?subject=unsubscribe>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
            custom_args={"delivery_id": row.delivery_id},
        )


def action_context(conn: Connection, action_id: str, document: dict[str, Any], locale: str,
                   links: MailLinks) -> tuple[dict[str, Any], str]:
    """What an action's templates read for a reader in `locale`, and the language it is in.

    Shared by the batches that are sent and the campaigner's preview and test send
    (campaign.mail.preview), so a preview is the e-mail supporters get.
    """
    found, language = in_language(conn, action_id, document, locale)
    return {"action": found, "update_number": found["update_number"],
            "close_reason": found.get("close_reason") or "",
            "close_note": found.get("close_note") or "",
            "manage_page": links.manage_page(language)}, language


def _admit(person: Personalization, ids: dict[str, str], addresses: set[str]) -> None:
    """Raise Unmailable unless SendGrid would take `person` in a batch already holding
    `addresses`; else note their address there."""
    problem = recipient_problem(person, {**ids, **person.custom_args})
    if problem is not None:
        raise Unmailable(problem)
    address = person.to_email.strip().lower()
    if address in addresses:
        raise Unmailable(DUPLICATE_ADDRESS)
    addresses.add(address)


def _open(opener: Opener, supporter_id: str, field: str, sealed: str | None) -> str:
    try:
        return opener.open(f"supporter-{supporter_id}", field, sealed or "")
    except ValueError:  # not base64, not UTF-8: a damaged value, not an erased one
        raise Unmailable(UNREADABLE) from None


def _deadline(document: dict[str, Any], timezone: str, locale: str) -> str:
    """A deadline with a time, on the reader's clock; some are beyond what it can show."""
    try:
        return reader_deadline(document, timezone, locale)
    except (OverflowError, ValueError, ZoneInfoNotFoundError):
        raise Unmailable(DEADLINE_UNSHOWABLE) from None


def _recipients(conn: Connection, batch_id: str) -> list[Any]:
    """The batch's deliveries with what composing reads of each supporter (no more: the
    subscription lists alone would be two JSON documents to decode per recipient), and
    their data keys, in the same statement (none for someone whose key was destroyed)."""
    return list(_RECIPIENTS.rows(conn, {"batch_id": batch_id}))


def _recipients_read() -> DriverRead:
    """Read once per batch of a thousand: on the driver's cursor, not SQLAlchemy's rows."""
    c, k = supporters.c, personal_data_keys.c
    subject = literal_column("'supporter-'", Text) + c.supporter_id
    return DriverRead(
        select(mail_deliveries.c.delivery_id, c.supporter_id, c.email_sealed, c.name_sealed,
               c.timezone, c.consented, c.unsubscribed, c.email_paused, c.suppressed, c.erased,
               subject.label("subject_id"), k.wrapped_key, k.key_id)
        .join(supporters, supporters.c.supporter_id == mail_deliveries.c.supporter_id)
        .outerjoin(personal_data_keys, k.subject_id == subject)
        .where(mail_deliveries.c.batch_id == bindparam("batch_id"))
        .order_by(mail_deliveries.c.supporter_id))


_RECIPIENTS = _recipients_read()


def _stopped(planned: mailing.MailingPlanned, action_row: Any) -> bool:
    """Whether the action was stopped since this mailing was planned: its queued appeals
    are cancelled (only the stop notice itself still goes out)."""
    return (action_row is not None and action_row.status == "closed"
            and planned.kind != "action_closed")


def _still_mailable(row: Any, kind: mailing.MailingKind) -> bool:
    """Checked again at sending: people unsubscribe, bounce or confirm after planning."""
    if row.erased or row.suppressed is not None:
        return False
    if kind == "signup_confirmation":
        return not row.consented or bool(row.unsubscribed)  # confirmed meanwhile: done
    if kind == "manage_link":
        return True  # asked for by the person: unsubscribing does not take away their data
    return not row.unsubscribed and not row.email_paused
