"""The double opt-in link: `/confirm/<token>` from the confirmation e-mail.

A GET shows a page with one button and changes nothing (mail scanners open links); the
button's POST confirms the address and the consent. The token is the signed, expiring
`confirm` link (campaign.mail.links), the same one `POST /api/v1/supporters/confirm` takes.
Both pages speak the supporter's language; a link that is not valid, the visitor's.
"""

from __future__ import annotations

from flask import Blueprint, Response

from campaign.domain import supporter
from campaign.domain.base import DomainError
from campaign.infra.clock import utc_now
from campaign.web.context import container
from campaign.web.pages import (
    N_,
    keep_link_private,
    link_subject,
    page,
    supporter_locale,
    supporter_meta,
)

blueprint = keep_link_private(Blueprint("confirmation", __name__))

INVALID = (N_("Link not valid"), N_("This confirmation link is not valid or has expired. "
                                    "Sign up again to receive a new one."))


@blueprint.get("/confirm/<token>")
def confirm_page(token: str) -> Response:
    """Ask before acting: a GET may come from a link scanner, not from the person."""
    supporter_id = link_subject("confirm", token)
    if supporter_id is None:
        return page(404, *INVALID)
    return page(200, N_("Confirm your subscription"),
                N_("Confirm that you want to receive urgent actions by e-mail."),
                N_("Yes, send me urgent actions"), locale=supporter_locale(supporter_id))


@blueprint.post("/confirm/<token>")
def confirm(token: str) -> Response:
    """Confirm the address and consent; confirming twice is harmless."""
    supporter_id = link_subject("confirm", token)
    if supporter_id is None:
        return page(404, *INVALID)
    command = supporter.ConfirmConsent(supporter_id=supporter_id, confirmed_at=utc_now())
    try:
        container().commands.handle(command, supporter_meta(supporter_id))
    except DomainError as exc:
        if exc.code != "supporter_erased":
            raise
        return page(404, *INVALID)
    return page(200, N_("Subscription confirmed"),
                N_("Thank you. You will receive urgent actions by e-mail; every one of them "
                   "has a link to unsubscribe."), locale=supporter_locale(supporter_id))
