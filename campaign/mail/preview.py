"""An action's e-mail as one supporter would get it, before anyone gets it: preview and test send.

Campaigners check an action's e-mail in each language, and the deadline on a reader's
clock, before launching it; drafts too. The e-mail is rendered by the code that renders
the batches (`composing.action_context`, `rendering.render`) and personalised as a
supporter with no name in `timezone` would be, with links that lead nowhere (a preview
holds no one's token). A test send is that e-mail, its subject marked as a test, sent
through the configured transport to the campaigner's own address only: no supporter's
data goes into it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final, Literal, get_args
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import Connection, select

from campaign.application.errors import NotFound
from campaign.domain.base import DomainError
from campaign.infra.i18n import negotiate
from campaign.infra.tables import actions, api_tokens
from campaign.mail.composing import action_context
from campaign.mail.links import MailLinks
from campaign.mail.message import (
    Batch,
    MailConfig,
    Personalization,
    recipient_problem,
    substitute,
)
from campaign.mail.rendering import Slot, deadline_time, fallback_name, reader_deadline, render
from campaign.mail.transport import Accepted, Transport

PreviewKind = Literal["action_launched", "action_updated", "action_closed"]
PREVIEW_KINDS: Final[tuple[PreviewKind, ...]] = get_args(PreviewKind)
TEST_MARK: Final = "[TEST]"
"""Put before a test send's subject, so nobody takes it for the real mailing."""
TEST_CATEGORY: Final = "test_send"
NOWHERE: Final = "preview-only"
"""Stands where a supporter's signed token would be in a link: it opens nothing."""


@dataclass(frozen=True)
class Preview:
    """The e-mail a reader in `language` and `timezone` gets; `language` is the shipped
    locale it is written in (the action's own when it has no current translation there)."""

    kind: PreviewKind
    language: str
    timezone: str
    subject: str
    html: str
    text: str


def preview(conn: Connection, action_id: str, kind: PreviewKind, locale: str, timezone: str,
            links: MailLinks) -> Preview:
    """The `kind` e-mail of the action for a reader whose locale is `locale`.

    NotFound for an unknown action; DomainError `deadline_unshowable` when `timezone`
    cannot show the deadline (a zone that does not exist).
    """
    document = _document(conn, action_id)
    context, language = action_context(conn, action_id, document, negotiate(locale), links)
    rendered = render(kind, language, context)
    values = _values(action_id, document, language, timezone, links)
    subs = rendered.substitutions(values)
    return Preview(kind, rendered.locale, timezone, rendered.subject,
                   substitute(rendered.html, subs), substitute(rendered.text, subs))


def send_test(transport: Transport, config: MailConfig, shown: Preview, to_email: str
              ) -> Accepted:
    """Send `shown` to `to_email` alone, its subject marked as a test.

    DomainError `unusable_address` when the address could not be sent to.
    """
    person = Personalization(to_email=to_email, to_name="")
    batch_id = f"test-{uuid.uuid4()}"
    problem = recipient_problem(person, {"batch_id": batch_id})
    if problem is not None:
        raise DomainError("unusable_address", f"the token's e-mail address: {problem}")
    return transport.send(Batch(
        batch_id=batch_id, from_email=config.sender_email, from_name=config.sender_name,
        reply_to=None, subject=f"{TEST_MARK} {shown.subject}", html=shown.html,
        text=shown.text, personalizations=(person,), custom_args={"batch_id": batch_id},
        categories=(shown.kind, TEST_CATEGORY),
    ))


def _document(conn: Connection, action_id: str) -> dict[str, object]:
    row = conn.execute(select(actions.c.document).where(actions.c.action_id == action_id)
                       ).one_or_none()
    if row is None:
        raise NotFound(f"no action {action_id}")
    document: dict[str, object] = row.document
    return document


def _values(action_id: str, document: dict[str, object], language: str, timezone: str,
            links: MailLinks) -> dict[Slot, str]:
    """What a supporter with no name would find in the slots, with links that open nothing."""
    base = links.base_url.rstrip("/")
    values: dict[Slot, str] = {
        "name": fallback_name(language),
        "unsubscribe_url": f"{base}/unsubscribe/{NOWHERE}",
        "pledge_url": f"{base}/act/{action_id}?token={NOWHERE}",
    }
    if deadline_time(document) is not None:
        try:
            values["deadline_local"] = reader_deadline(document, timezone, language)
        except (OverflowError, ValueError, ZoneInfoNotFoundError):
            raise DomainError("deadline_unshowable",
                              f"the deadline cannot be shown in timezone {timezone!r}") from None
    return values


def campaigner_address(conn: Connection, token_id: str) -> str:
    """The campaigner's own address, kept with their token, where test sends go.

    DomainError `token_has_no_email` when the token has none: a test send goes nowhere
    else, least of all to a supporter.
    """
    found = conn.execute(select(api_tokens.c.email).where(api_tokens.c.token_id == token_id)
                         ).scalar_one_or_none()
    if not found:
        raise DomainError("token_has_no_email", "this token has no e-mail address of its own "
                          "to send a test to: give the token one (an admin can)")
    return str(found)
