""""Manage my data": `/manage` asks for a link, `/manage/<token>` is what the link opens.

Asking takes an address and always answers the same, after the same work: the request is
only recorded, and a registered address is e-mailed an hour-long link a moment later
(campaign.application.supporters, campaign.mail.manage_link). The asking page speaks the
visitor's language (`?lang=`, else what the browser asks for); the link's page speaks the
supporter's, and after they choose another, the new one.

The link's page changes language, country and timezone, which actions they receive (all,
by country, by case), pauses and resumes campaign e-mail, downloads their data, and erases
it after a page that asks "are you sure?" — through the same use cases and command
handler as the API. Like every page, a GET changes nothing.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request, url_for
from werkzeug.wrappers import Response as ResponseBase

from campaign.application.commands import Meta
from campaign.application.supporters import (
    erase_supporter,
    export_supporter,
    request_manage_link,
)
from campaign.domain import preferences
from campaign.domain.base import DomainError
from campaign.domain.values import validate_email
from campaign.infra import i18n
from campaign.infra.clock import utc_now
from campaign.web.context import container, correlation_id
from campaign.web.pages import (
    N_,
    keep_link_private,
    link_subject,
    page,
    render_page,
    request_locale,
    supporter_locale,
    supporter_meta,
)
from campaign.web.pages.choices import language_links
from campaign.web.pages.manage_view import (
    FormError,
    case_choices,
    page_context,
    preferences_command,
    subscriptions_command,
    supporter_row,
)

blueprint = keep_link_private(Blueprint("manage_page", __name__))

INVALID = (N_("Link not valid"), N_("This link is not valid or has expired: it works for one "
                                    "hour. Ask for a new one."))
DONE = {"preferences": N_("Your language, country and timezone are saved."),
        "subscriptions": N_("Your choice of actions is saved."),
        "paused": N_("E-mail is paused: we send you no urgent actions and no reminders "
                     "until you resume it."),
        "resumed": N_("E-mail is on again: you will receive the next urgent actions.")}
REFUSED = {"consent_required": N_("Confirm your e-mail address first, with the link we sent "
                                  "when you signed up.")}


@blueprint.get("/manage")
def ask_form() -> Response:
    """The form that asks for a link, in the visitor's language."""
    return _ask_page(request_locale(), 200)


@blueprint.post("/manage")
def ask() -> Response:
    """Record the request; the same answer whether or not the address is registered."""
    locale = request_locale()
    email = request.form.get("email", "").strip()
    try:
        validate_email(email)
    except DomainError:
        return _ask_page(locale, 422, email=email, error=N_("That is not an e-mail address."))
    meta = Meta(actor="public", correlation_id=correlation_id())
    request_manage_link(container().commands, email, meta, utc_now())
    return page(202, N_("Check your inbox"), N_(
        "If this address is registered with us, we have sent it a link to manage your "
        "subscription and your data. It works for one hour."), locale=locale)


@blueprint.get("/manage/<token>")
def show(token: str) -> Response:
    """The person's choices and what they can do with their data."""
    supporter_id = link_subject("manage", token)
    if supporter_id is None:
        return invalid()
    return _page(token, supporter_id, 200, done=DONE.get(request.args.get("done", "")))


@blueprint.post("/manage/<token>")
def act(token: str) -> ResponseBase:
    """Save one form of the page, or download; then the page again (post, redirect, get)."""
    supporter_id = link_subject("manage", token)
    if supporter_id is None:
        return invalid()
    do = request.form.get("do", "")
    if do == "export":
        return _download(supporter_id)
    try:
        command = _command(do, supporter_id)
        if command is None:
            return _page(token, supporter_id, 400, error=N_("The form sent nothing this page "
                                                             "knows."))
        container().commands.handle(command, supporter_meta(supporter_id))
    except FormError as exc:
        return _page(token, supporter_id, 422, error=str(exc))
    except DomainError as exc:
        refusal = REFUSED.get(exc.code, N_("That is not possible at the moment."))
        return _page(token, supporter_id, 409, error=refusal)
    done = {"pause": "paused", "resume": "resumed"}.get(do, do)
    return redirect(f"{url_for('manage_page.show', token=token)}?{urlencode({'done': done})}",
                    code=303)


@blueprint.get("/manage/<token>/erase")
def confirm_erase(token: str) -> Response:
    """Ask "are you sure?" before erasing: the button posts, a GET changes nothing."""
    supporter_id = link_subject("manage", token)
    if supporter_id is None:
        return invalid()
    return render_page("pages/manage_erase.html", supporter_locale(supporter_id),
                       back=url_for("manage_page.show", token=token))


@blueprint.post("/manage/<token>/erase")
def erase(token: str) -> Response:
    """Erase the person's data; every link we sent them stops working with it."""
    supporter_id = link_subject("manage", token)
    if supporter_id is None:
        return invalid()
    locale = supporter_locale(supporter_id)  # read before erasure forgets it
    erase_supporter(container().commands, container().vault, supporter_id, "supporter",
                    supporter_meta(supporter_id), utc_now())
    return page(200, N_("Your data is erased"), N_(
        "We can no longer read your e-mail address or name, and will send you nothing more. "
        "Thank you for every letter you wrote."), locale=locale)


def invalid() -> Response:
    """The page of a link that is forged, expired, or whose supporter was erased."""
    return page(404, *INVALID)


def _ask_page(locale: str, status: int, **extra: Any) -> Response:
    """The form that asks for a link, in `locale`, with `extra` (the address, a fault)."""
    switch = language_links(lambda tag: url_for("manage_page.ask_form", lang=tag))
    return render_page("pages/manage_ask.html", locale, status, switch=switch, **extra)


def _page(token: str, supporter_id: str, status: int, **extra: Any) -> Response:
    with container().engine.connect() as conn:
        row = supporter_row(conn, supporter_id)
        offered = case_choices(conn, row.case_ids)
    locale = i18n.negotiate(row.locale)
    return render_page("pages/manage.html", locale, status, **page_context(row, offered, locale),
                       erase_url=url_for("manage_page.confirm_erase", token=token), **extra)


def _command(do: str, supporter_id: str) -> preferences.Command | None:
    now = utc_now()
    match do:
        case "preferences":
            with container().engine.connect() as conn:
                row = supporter_row(conn, supporter_id)
            return preferences_command(request.form, row, supporter_id, now)
        case "subscriptions":
            with container().engine.connect() as conn:
                offered = case_choices(conn, supporter_row(conn, supporter_id).case_ids)
            return subscriptions_command(request.form, offered, supporter_id, now)
        case "pause":
            return preferences.PauseEmail(supporter_id=supporter_id, at=now)
        case "resume":
            return preferences.ResumeEmail(supporter_id=supporter_id, at=now)
    return None


def _download(supporter_id: str) -> Response:
    body = json.dumps(export_supporter(container().commands, supporter_id),
                      ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="my-urgent-action-data.json"',
        "Cache-Control": "no-store"})
