"""The page behind "Tell us you will write" in every action e-mail: `/act/<action id>`.

The link carries a signed token naming the supporter and this action, so the page knows
who is reading without a login, and opens nothing else: not another action, not the
person's data (a forwarded e-mail hands on only this pledge). It helps write the letter:
the asks, and per official the salutation, postal address (with a button that copies it,
where JavaScript runs), e-mail, fax and the languages to write in; the deadline as people
say it, in the reader's timezone when it has a time; or that the action was stopped. Two
forms go through the same use cases and command handler as the API: pledge letters, then
confirm each letter sent, per official and channel. A form sent twice (a double click, a
reload) changes nothing, because the letter's id is fixed when the page is drawn.

The page is in the language of its content (the action's, or the translation the reader
gets): its chrome, dates, numbers and language names all follow it (`render_page`).
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, redirect, request
from sqlalchemy import Select, select
from werkzeug.wrappers import Response as ResponseBase

from campaign.application.commands import Meta
from campaign.application.errors import NotFound
from campaign.application.pledges import SentLetter, confirm_letter, pledge_as_supporter
from campaign.domain import pledge
from campaign.domain.base import DomainError
from campaign.infra import i18n
from campaign.infra.clock import utc_now
from campaign.infra.tables import actions, supporters
from campaign.mail.rendering import reader_deadline
from campaign.read_models.action_translations import in_language
from campaign.web.context import container
from campaign.web.pages import (
    N_,
    action_link_subject,
    keep_link_private,
    page,
    render_page,
    supporter_meta,
)
from events import as_utc

blueprint = keep_link_private(Blueprint("action_page", __name__))

CHANNELS = ("post", "email", "fax", "online")
# ASCII digits only: str.isdigit() also takes "²", which int() then refuses.
LETTERS = re.compile(r"[0-9]{1,3}")
# Rules about the day a letter was sent: the form's fault, not a conflict.
LETTER_DATE_RULES = frozenset({"sent_in_future", "sent_before_issue", "date_out_of_range"})
INVALID = (N_("Link not valid"), N_("This link is not valid or has expired. Use the link in "
                                    "the latest e-mail about this action."))
NO_ACTION = (N_("No such action"), N_("This urgent action does not exist."))
REFUSED = {
    "sent_in_future": N_("A letter cannot be confirmed before the day it was sent."),
    "sent_before_issue": N_("A letter cannot have been sent before the action was issued."),
    "date_out_of_range": N_("Give the day the letter was sent."),
    "already_pledged": N_("You have already pledged letters for this action."),
    "action_not_open": N_("This action takes no more pledges."),
    "unknown_target": N_("Choose an official of this action."),
    "duplicate_letter": N_("That letter was already confirmed: reload the page to confirm "
                           "another one."),
    "pledge_cancelled": N_("Your pledge was cancelled when the action was stopped."),
    "no_pledge": N_("Pledge to write first."),
    "consent_required": N_("Confirm your e-mail address first, with the link we sent when "
                           "you signed up."),
}
"""What the page says when a rule refuses the form, by the rule's code."""


@blueprint.get("/act/<action_id>")
def show(action_id: str) -> Response:
    """The action, the reader's pledge and the forms to pledge or confirm a letter."""
    supporter_id = action_link_subject(request.args.get("token", ""), action_id)
    if supporter_id is None:
        return page(404, *INVALID)
    return _page(action_id, supporter_id, 200, notice=_DONE.get(request.args.get("done", "")))


def _page(action_id: str, supporter_id: str, status: int, **extra: Any) -> Response:
    """The act page in the language of its content, with `extra` (a notice, an error)."""
    context = _context(action_id, supporter_id)
    if context is None:
        return page(404, *NO_ACTION)
    locale = context.get("content_locale") or i18n.negotiate(
        context["action"].get("language", "en"))
    context["action_status"] = context.pop("status")  # `status` is the response's
    numbers = {k: i18n.number(v, locale) for k, v in extra.pop("error_vars", {}).items()}
    return render_page("pages/act.html", locale, status, **context,
                       **_reading_aids(context, locale), error_vars=numbers, **extra)


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
            return _page(action_id, supporter_id, 400,
                         error=N_("The form sent nothing this page knows."))
    except _FormError as exc:
        return _page(action_id, supporter_id, 422, error=str(exc), error_vars=exc.variables)
    except NotFound:
        return page(404, *INVALID)
    except DomainError as exc:
        status = 422 if exc.code in LETTER_DATE_RULES else 409
        refusal = REFUSED.get(exc.code, N_("That is not possible at the moment."))
        return _page(action_id, supporter_id, status, error=refusal)
    return redirect(f"/act/{action_id}?{urlencode({'token': token, 'done': done})}", code=303)


_DONE = {"pledged": N_("Thank you: your pledge is recorded."),
         "letter": N_("Thank you: your letter is counted.")}


class _FormError(ValueError):
    """A field of the form is missing or malformed; the message is a catalogue message id,
    and `variables` what the page puts in its placeholders."""

    def __init__(self, message: str, **variables: int) -> None:
        super().__init__(message)
        self.variables = variables


def _pledge(action_id: str, supporter_id: str, letters: str, meta: Meta) -> str:
    most = pledge.MAX_LETTERS_PROMISED
    if not LETTERS.fullmatch(letters) or not 1 <= int(letters) <= most:
        raise _FormError(N_("Say how many letters you will write: from %(least)s to "
                            "%(most)s."), least=1, most=most)
    pledge_as_supporter(container().commands, action_id, supporter_id, (), int(letters), meta,
                        utc_now())
    return "pledged"


def _letter(action_id: str, supporter_id: str, form: Any, meta: Meta) -> str:
    try:
        sent_on = date.fromisoformat(form.get("sent_on", ""))
        letter_id = str(uuid.UUID(form.get("letter_id", "")))
    except ValueError:
        raise _FormError(N_("Give the day the letter was sent.")) from None
    channel = form.get("channel", "")
    if channel not in CHANNELS:
        raise _FormError(N_("Say how the letter was sent: by post, e-mail, fax or online."))
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
        "deadline_passed": utc_now() >= deadline, "timezone": timezone,
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


def _reading_aids(context: dict[str, Any], locale: str) -> dict[str, Any]:
    """What the page words for the reader in `locale`: the deadline as people say it, the
    languages to write in named in theirs, and a fixed letter id per official's form."""
    document = context["action"]
    return {
        "deadline": _deadline(document, context["timezone"], locale),
        "appeal_languages": [i18n.language_name(tag, locale) for tag in document["languages"]],
        "letter_ids": {t["target_id"]: str(uuid.uuid4()) for t in document["targets"]},
        "channels_of": _channels_of,
        "channel_names": CHANNEL_NAMES, "pledge_states": PLEDGE_STATES,
        "close_reasons": CLOSE_REASONS,
    }


def _deadline(document: dict[str, Any], reader_timezone: str, locale: str) -> str:
    """The deadline as people say it, as the e-mails say it; in UTC when the reader's zone
    cannot show it (a date at the edge of the calendar stored before dates were checked)."""
    try:
        return reader_deadline(document, reader_timezone, locale)
    except (OverflowError, ValueError):
        return reader_deadline(document, "UTC", locale)


def _channels_of(target: dict[str, Any]) -> list[str]:
    """The channels a letter to `target` can take: e-mail and fax only where it has them."""
    return [channel for channel in CHANNELS
            if channel in ("post", "online") or target.get(channel)]


CHANNEL_NAMES = {"post": N_("by post"), "email": N_("by e-mail"), "fax": N_("by fax"),
                 "online": N_("online")}
PLEDGE_STATES = {"open": N_("open"), "fulfilled": N_("fulfilled"), "lapsed": N_("lapsed"),
                 "cancelled": N_("cancelled")}
CLOSE_REASONS = {"released": N_("The person was released."),
                 "charges_dropped": N_("The charges were dropped."),
                 "sentence_reduced": N_("The sentence was reduced."),
                 "died": N_("The person has died."),
                 "no_longer_needed": N_("Appeals are no longer needed.")}
