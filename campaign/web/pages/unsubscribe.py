"""One-click unsubscribe (RFC 8058): POST unsubscribes at once; GET shows a confirmation page.

Mail clients POST `List-Unsubscribe=One-Click` to the URL in the `List-Unsubscribe` header
without any further interaction, so the POST must act on the signed token alone. A person
who opens the link in a browser gets a page with one button instead: link scanners that
GET every URL in a message must not unsubscribe anyone.
"""

from __future__ import annotations

from flask import Blueprint, Response

from campaign.application.errors import AuthError
from campaign.domain import supporter
from campaign.domain.base import DomainError
from campaign.infra.clock import utc_now
from campaign.web.context import container
from campaign.web.pages import keep_link_private, page, supporter_meta

blueprint = keep_link_private(Blueprint("unsubscribe", __name__))


def link_subject(token: str) -> str | None:
    """The supporter the link names, checked by signature only: after erasure the link
    still answers, and changes nothing (one-click unsubscribe must never fail)."""
    try:
        return container().links.verify("unsubscribe", token)
    except AuthError:
        return None

def _page(status: int, title: str, message: str, ask: bool = False) -> Response:
    if not ask:
        return page(status, title, message)
    return page(status, title, message, "Unsubscribe from urgent actions",
                (("List-Unsubscribe", "One-Click"),))


@blueprint.get("/unsubscribe/<token>")
def confirm_page(token: str) -> Response:
    """Ask before acting: a GET may come from a link scanner, not from the person."""
    if link_subject(token) is None:
        return _page(404, "Link not valid", "This unsubscribe link is not valid.")
    return _page(200, "Unsubscribe", "You will receive no more urgent actions.", ask=True)


@blueprint.post("/unsubscribe/<token>")
def one_click(token: str) -> Response:
    """Unsubscribe with no further interaction; repeating it is harmless."""
    supporter_id = link_subject(token)
    if supporter_id is None:
        return _page(404, "Link not valid", "This unsubscribe link is not valid.")
    command = supporter.Unsubscribe(supporter_id=supporter_id, at=utc_now(), via="one_click")
    try:
        container().commands.handle(command, supporter_meta(supporter_id))
    except DomainError as exc:
        if exc.code != "supporter_erased":
            raise
    return _page(200, "Unsubscribed", "You will receive no more urgent actions. Thank you "
                 "for every letter you wrote.")
