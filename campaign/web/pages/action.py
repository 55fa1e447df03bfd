"""The page behind "Tell us you will write" in every action e-mail: `/act/<action id>`.

The link carries a signed token naming the supporter and this action, so the page knows
who is reading without a login, and opens nothing else: not another action, not the
person's data (a forwarded e-mail hands on only this pledge). It shows the action as the
e-mail did (asks, officials with addresses, the deadline in the reader's timezone, or that
the action was stopped), and two forms: pledge letters, then confirm each letter sent. Both
go through the same use cases and command handler as the API; a form sent twice (a double
click, a reload) changes nothing, because the letter's id is fixed when the page is drawn.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, redirect, render_template, request
from sqlalchemy import Select, select
from werkzeug.wrappers import Response as ResponseBase

from campaign.application.commands import Meta
from campaign.application.errors import NotFound
from campaign.application.pledges import SentLetter, confirm_letter, pledge_as_supporter
from campaign.domain import pledge
from campaign.domain.action import DEADLINE_NOTICE
from campaign.domain.base import DomainError
from campaign.infra.clock import utc_now
from campaign.infra.tables import actions, supporters
from campaign.mail.rendering import deadline_for, languages_phrase
from campaign.read_models.action_translations import in_language
from campaign.web.context import container
from campaign.web.pages import action_link_subject, keep_link_private, page, supporter_meta
from events import as_utc

blueprint = keep_link_private(Blueprint("action_page", __name__))

CHANNELS = ("post", "email", "fax", "online")
# ASCII digits only: str.isdigit() also takes "²", which int() then refuses.
LETTERS = re.compile(r"[0-9]{1,3}")
# Rules about the day a letter was sent: the form's fault, not a conflict.
LETTER_DATE_RULES = frozenset({"sent_in_future", "sent_before_issue", "date_out_of_range"})
INVALID = ("Link not valid", "This link is not valid or has expired. Use the link in the "
           "latest e-mail about this action.")


@blueprint.get("/act/<action_id>")
def show(action_id: str) -> Response:
    """The action, the reader's pledge and the forms to pledge or confirm a letter."""
    supporter_id = action_link_subject(request.args.get("token", ""), action_id)
    if supporter_id is None:
        return page(404, *INVALID)
    context = _context(action_id, supporter_id)
    if context is None:
        return page(404, "No such action", "This urgent action does not exist.")
    context["notice"] = _DONE.get(request.args.get("done", ""), "")
    return Response(render_template("pages/act.html", **context), mimetype="text/html")


@blueprint.post("/act/<action_id>")
def act(action_id: str) -> ResponseBase:
    """Pledge, or confirm one letter; then back to the page (post, redirect, get)."""
    token = request.args.get("token", "")
    supporter_id = action_link_subject(token, action_id)
    if supporter_id is None:
        return page(404, *INVALID)
    form = request.form
    meta = supporter_meta(supporter_id)
    try:
        if form.get("do") == "pledge":
            done = _pledge(action_id, supporter_id, form.get("letters", ""), meta)
        elif form.get("do") == "letter":
            done = _letter(action_id, supporter_id, form, meta)
        else:
            return page(400, "Nothing to do", "The form sent nothing this page knows.")
    except _FormError as exc:
        return page(422, "Please check the form", str(exc))
    except NotFound:
        return page(404, *INVALID)
    except DomainError as exc:
        if exc.code in LETTER_DATE_RULES:
            return page(422, "Please check the form", _sentence(exc.message))
        return page(409, "Not possible", _sentence(exc.message))
    return redirect(f"/act/{action_id}?{urlencode({'token': token, 'done': done})}", code=303)


_DONE = {"pledged": "Thank you: your pledge is recorded.",
         "letter": "Thank you: your letter is counted."}


class _FormError(ValueError):
    """A field of the form is missing or malformed."""


def _pledge(action_id: str, supporter_id: str, letters: str, meta: Meta) -> str:
    most = pledge.MAX_LETTERS_PROMISED
    if not LETTERS.fullmatch(letters) or not 1 <= int(letters) <= most:
        raise _FormError(f"Say how many letters you will write: a number from 1 to {most}.")
    pledge_as_supporter(container().commands, action_id, supporter_id, (), int(letters), meta,
                        utc_now())
    return "pledged"


def _letter(action_id: str, supporter_id: str, form: Any, meta: Meta) -> str:
    try:
        sent_on = date.fromisoformat(form.get("sent_on", ""))
        letter_id = str(uuid.UUID(form.get("letter_id", "")))
    except ValueError:
        raise _FormError("Give the day the letter was sent.") from None
    channel = form.get("channel", "")
    if channel not in CHANNELS:
        raise _FormError(f"Say how the letter was sent: one of {', '.join(CHANNELS)}.")
    letter = SentLetter(letter_id, form.get("target_id", ""), channel, sent_on)
    confirm_letter(container().commands, action_id, supporter_id, letter, meta, utc_now())
    return "letter"


def select_supporter(supporter_id: str) -> Select[Any]:
    """What the page needs of the reader: consent, erasure, timezone, locale (no personal
    data)."""
    c = supporters.c
    return (select(c.consented, c.erased, c.timezone, c.locale)
            .where(c.supporter_id == supporter_id))


def _context(action_id: str, supporter_id: str) -> dict[str, Any] | None:
    commands = container().commands
    with commands.engine.connect() as conn:
        row = conn.execute(select(actions.c.status, actions.c.deadline_at, actions.c.document)
                           .where(actions.c.action_id == action_id)).one_or_none()
        if row is None or row.status == "drafted":  # not public yet
            return None
        reader = conn.execute(select_supporter(supporter_id)).one_or_none()
        state, _ = commands.load(conn, f"pledge-{action_id}-{supporter_id}", pledge.AGGREGATE)
        # In the reader's language when the action exists in it, as their e-mails are.
        document, content_locale = in_language(
            conn, action_id, row.document, reader.locale if reader is not None else None)
    targets = document["targets"]
    deadline = as_utc(row.deadline_at)
    timezone = (reader.timezone if reader is not None else None) or "UTC"
    mine = state if state.status != "none" else None
    chosen = set(mine.target_ids) if mine is not None and mine.target_ids else None
    return {
        "action": document, "content_locale": content_locale, "status": row.status,
        "deadline_passed": utc_now() >= deadline, "deadline_notice": DEADLINE_NOTICE,
        "deadline_local": _deadline_in(deadline, timezone),
        "languages": languages_phrase(document["languages"], document["own_language_welcome"]),
        "consented": bool(reader is not None and reader.consented and not reader.erased),
        "can_pledge": bool(reader is not None and reader.consented and not reader.erased
                           and row.status == "launched"),
        "primary_targets": sum(1 for t in targets if t["role"] == "primary") or 1,
        "pledge": None if mine is None else {
            "status": mine.status, "letters_promised": mine.letters_promised,
            "letters_confirmed": mine.letters_confirmed,
            "letters": sorted(mine.letters.values(), key=lambda letter: letter.confirmed_at)},
        "pledge_targets": [t for t in targets if chosen is None or t["target_id"] in chosen],
        "target_names": {t["target_id"]: t["title"] for t in targets},
        "channels": CHANNELS, "letter_id": str(uuid.uuid4()),
        "today": utc_now().astimezone(ZoneInfo(timezone)).date().isoformat(),
    }


def _deadline_in(deadline: datetime, timezone: str) -> str:
    """The deadline in the reader's timezone, or in UTC when that zone cannot show it (a
    date at the edge of the calendar stored before dates were checked)."""
    try:
        return deadline_for(deadline, timezone)
    except (OverflowError, ValueError):
        return deadline_for(deadline, "UTC")


def _sentence(message: str) -> str:
    """A rule's message as the page says it: capitalised, ending with a full stop."""
    text = message[:1].upper() + message[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."
