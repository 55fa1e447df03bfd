"""One-click unsubscribe (RFC 8058): POST unsubscribes at once; GET shows a confirmation page.

Mail clients POST `List-Unsubscribe=One-Click` to the URL in the `List-Unsubscribe` header
without any further interaction, so the POST must act on the signed token alone. A person
who opens the link in a browser gets a page with one button instead: link scanners that
GET every URL in a message must not unsubscribe anyone.

Unsubscribing can be undone: the "Unsubscribed" page offers to subscribe again, which only
e-mails a fresh confirmation link (double opt-in); nothing re-subscribes without its click.
The pages speak the supporter's language.
"""

from __future__ import annotations

from flask import Blueprint, Response, url_for

from campaign.application.errors import AuthError
from campaign.application.supporters import subscribe_again
from campaign.domain import supporter
from campaign.domain.base import DomainError
from campaign.infra.clock import utc_now
from campaign.web.context import container
from campaign.web.pages import N_, keep_link_private, page, supporter_locale, supporter_meta

blueprint = keep_link_private(Blueprint("unsubscribe", __name__))

INVALID = (N_("Link not valid"), N_("This unsubscribe link is not valid."))


def link_subject(token: str) -> str | None:
    """The supporter the link names, checked by signature only: after erasure the link
    still answers, and changes nothing (one-click unsubscribe must never fail)."""
    try:
        return container().links.verify("unsubscribe", token)
    except AuthError:
        return None


@blueprint.get("/unsubscribe/<token>")
def confirm_page(token: str) -> Response:
    """Ask before acting: a GET may come from a link scanner, not from the person."""
    supporter_id = link_subject(token)
    if supporter_id is None:
        return page(404, *INVALID)
    return page(200, N_("Unsubscribe"), N_("You will receive no more urgent actions."),
                N_("Unsubscribe from urgent actions"), (("List-Unsubscribe", "One-Click"),),
                locale=supporter_locale(supporter_id))


@blueprint.post("/unsubscribe/<token>")
def one_click(token: str) -> Response:
    """Unsubscribe with no further interaction; repeating it is harmless."""
    supporter_id = link_subject(token)
    if supporter_id is None:
        return page(404, *INVALID)
    command = supporter.Unsubscribe(supporter_id=supporter_id, at=utc_now(), via="one_click")
    try:
        container().commands.handle(command, supporter_meta(supporter_id))
    except DomainError as exc:
        if exc.code != "supporter_erased":
            raise
    return page(200, N_("Unsubscribed"), N_("You will receive no more urgent actions. Thank "
                                            "you for every letter you wrote."),
                N_("Subscribe again"), locale=supporter_locale(supporter_id),
                target=url_for("unsubscribe.resubscribe", token=token))


@blueprint.post("/unsubscribe/<token>/resubscribe")
def resubscribe(token: str) -> Response:
    """Undo an unsubscribe the safe way: e-mail a fresh confirmation link, change nothing."""
    supporter_id = link_subject(token)
    if supporter_id is None:
        return page(404, *INVALID)
    locale = supporter_locale(supporter_id)
    if not subscribe_again(container().commands, supporter_id, supporter_meta(supporter_id),
                           utc_now()):
        return page(404, *INVALID, locale=locale)
    return page(200, N_("Check your inbox"),
                N_("We have sent you an e-mail with a link to confirm. You will receive "
                   "urgent actions again once you click it."), locale=locale)
