"""The action editor's mail operations, shared by the JSON API and the console.

Preview, test send and the stop preview (campaign.mail.preview, campaign.mail.stop_preview)
take the mail links and settings the Container is built from; this module hands them over
once, for both faces.
"""

from __future__ import annotations

from campaign.bootstrap import mail_config
from campaign.domain.base import DomainError
from campaign.mail.errors import SendError
from campaign.mail.links import MailLinks
from campaign.mail.preview import Preview, PreviewKind, campaigner_address, preview, send_test
from campaign.mail.stop_preview import StopPreview, stop_preview
from campaign.web.context import container


def action_preview(action_id: str, kind: PreviewKind, language: str, timezone: str) -> Preview:
    """The action's `kind` e-mail for a reader in `language` and `timezone`."""
    found = container()
    links = MailLinks(found.settings.public_base_url, found.links)
    with found.engine.connect() as conn:
        return preview(conn, action_id, kind, language, timezone, links)


def test_send(action_id: str, kind: PreviewKind, language: str, timezone: str,
              token_id: str) -> tuple[Preview, str]:
    """Send the preview to the address of `token_id`; what was sent, and where to."""
    found = container()
    with found.engine.connect() as conn:
        to_email = campaigner_address(conn, token_id)
    shown = action_preview(action_id, kind, language, timezone)
    try:
        send_test(found.transport, mail_config(found.settings), shown, to_email)
    except SendError as refused:
        raise DomainError("test_send_refused",
                          f"the mail provider did not take the test: {refused}") from None
    return shown, to_email


def close_preview(action_id: str) -> StopPreview:
    """What closing the action would cancel now."""
    found = container()
    with found.engine.connect() as conn:
        return stop_preview(conn, found.store, action_id)
