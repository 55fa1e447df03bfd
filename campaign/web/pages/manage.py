""""Manage my data": `/manage` asks for a link, `/manage/<token>` is what the link opens.

Asking takes an address and always answers the same, after the same work: the request is
only recorded, and a registered address is e-mailed an hour-long link a moment later
(campaign.application.supporters, campaign.mail.manage_link). The link's page lets the
person download their data, choose which actions they receive, or erase their data,
through the same use cases as the API. Like every page, a GET changes nothing.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response as ResponseBase

from campaign.application.commands import Meta
from campaign.application.supporters import (
    erase_supporter,
    export_supporter,
    request_manage_link,
)
from campaign.domain import supporter
from campaign.domain.base import DomainError
from campaign.domain.values import validate_country, validate_email
from campaign.infra.clock import utc_now
from campaign.infra.tables import supporters
from campaign.web.context import container, correlation_id
from campaign.web.pages import keep_link_private, link_subject, page, supporter_meta

blueprint = keep_link_private(Blueprint("manage_page", __name__))

ASK = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Manage your data</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 2em auto">
<h1>Manage your data</h1>
<p>Give the address you signed up with. We will e-mail it a link, valid for one hour, to
download your data, choose which actions you receive, or erase your data.</p>
<form method="post"><p><label>E-mail address
<input type="email" name="email" required maxlength="254"></label></p>
<button type="submit">Send me the link</button></form>
</body></html>"""
ASKED = ("Check your inbox", "If this address is registered with us, we have sent it a link "
         "to manage your data. It works for one hour.")
INVALID = ("Link not valid", "This link is not valid or has expired: it works for one hour. "
           "Ask for a new one on the page /manage.")
DONE = {"subscriptions": "Your choice is saved."}


@blueprint.get("/manage")
def ask_form() -> Response:
    """The form that asks for a link."""
    return Response(ASK, mimetype="text/html")


@blueprint.post("/manage")
def ask() -> Response:
    """Record the request; the same answer whether or not the address is registered."""
    email = request.form.get("email", "").strip()
    try:
        validate_email(email)
    except DomainError:
        return page(422, "Please check the address", "That is not an e-mail address.")
    meta = Meta(actor="public", correlation_id=correlation_id())
    request_manage_link(container().commands, email, meta, utc_now())
    return page(202, *ASKED)


@blueprint.get("/manage/<token>")
def show(token: str) -> Response:
    """The person's choices and the three things they can do with their data."""
    supporter_id = link_subject("manage", token)
    if supporter_id is None:
        return page(404, *INVALID)
    with container().engine.connect() as conn:
        row = conn.execute(select(supporters).where(
            supporters.c.supporter_id == supporter_id)).one()
    return Response(render_template(
        "pages/manage.html", notice=DONE.get(request.args.get("done", ""), ""),
        consented=row.consented, unsubscribed=row.unsubscribed, all_actions=row.all_actions,
        countries=", ".join(row.countries)), mimetype="text/html")


@blueprint.post("/manage/<token>")
def act(token: str) -> ResponseBase:
    """Download, save a choice of actions, or erase; then the page again (or a goodbye)."""
    supporter_id = link_subject("manage", token)
    if supporter_id is None:
        return page(404, *INVALID)
    meta = supporter_meta(supporter_id)
    match request.form.get("do"):
        case "export":
            return _download(supporter_id)
        case "subscriptions":
            return _change_subscriptions(token, supporter_id, meta)
        case "erase" if request.form.get("confirm") == "yes":
            erase_supporter(container().commands, container().vault, supporter_id,
                            "supporter", meta, utc_now())
            return page(200, "Your data is erased", "We can no longer read your e-mail "
                        "address or name, and will send you nothing more. Thank you for "
                        "every letter you wrote.")
        case "erase":
            return page(422, "Please confirm", "Tick the box to confirm the erasure.")
    return page(400, "Nothing to do", "The form sent nothing this page knows.")


def _download(supporter_id: str) -> Response:
    body = json.dumps(export_supporter(container().commands, supporter_id),
                      ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="my-urgent-action-data.json"',
        "Cache-Control": "no-store"})


def _change_subscriptions(token: str, supporter_id: str, meta: Meta) -> ResponseBase:
    everything = request.form.get("all_actions") != "no"
    countries = tuple(dict.fromkeys(
        code.upper() for code in re.split(r"[\s,;]+", request.form.get("countries", ""))
        if code))
    try:
        for code in countries:
            validate_country(code)
    except DomainError:
        return page(422, "Please check the countries", "Give two-letter country codes, "
                    "like KG or RU, separated by commas.")
    with container().engine.connect() as conn:
        case_ids = tuple(conn.execute(select(supporters.c.case_ids).where(
            supporters.c.supporter_id == supporter_id)).scalar_one())
    try:
        container().commands.handle(supporter.ChangeSubscriptions(
            supporter_id=supporter_id, all_actions=everything, countries=countries,
            case_ids=case_ids, changed_at=utc_now()), meta)
    except DomainError as exc:
        return page(409, "Not possible", exc.message[:1].upper() + exc.message[1:] + ".")
    return redirect(f"/manage/{token}?{urlencode({'done': 'subscriptions'})}", code=303)
