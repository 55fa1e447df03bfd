"""The public sign-up page: `/join`, and `/join?action=<id>` or `?case=<id>` from a case.

It posts to the same use case as `POST /api/v1/supporters`, after the same checks (its
schema), and answers the same whether or not the address is known: the request is only
recorded (campaign.application.supporters), and the page says "check your inbox" either
way. Nothing is sent to the person but the confirmation e-mail until they click its link.

It works without JavaScript: the timezone is a select, which a small script pre-selects
from the browser's own zone when scripts run. A section may frame it on its own website
(these responses alone say `frame-ancestors *`), or post its own plain HTML form to it
(docs/embedding.md); it sets no cookie, so a frame loses nothing to third-party cookie
blocking. The page is in the language asked with `?lang=`, else the browser's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response as ResponseBase

from campaign.application.commands import Meta
from campaign.application.supporters import Registration, request_sign_up
from campaign.domain.base import DomainError
from campaign.infra import i18n
from campaign.infra.clock import utc_now
from campaign.infra.tables import actions
from campaign.read_models.action_translations import in_language
from campaign.web.api.supporter_schemas import SignUpSchema
from campaign.web.context import container, correlation_id
from campaign.web.headers import allow_framing
from campaign.web.pages import N_, page, render_page, request_locale
from campaign.web.pages.choices import (
    countries,
    country_zone,
    language_links,
    languages,
    timezones,
)

blueprint = Blueprint("join_page", __name__)
blueprint.before_request(allow_framing)

MAX_ID: Final = 500
PUBLIC: Final = ("launched", "closed")
"""An action a stranger may see the title of: a draft is nobody's business yet."""
FAULTS: Final = {
    "email": N_("Enter your e-mail address, like name@example.org."),
    "name": N_("Enter your name, on one line."),
    "locale": N_("Choose the language of your e-mails."),
    "country": N_("Choose your country."),
    "timezone": N_("Choose your timezone."),
    "consent": N_("Tick the box to agree: we can send you nothing without it."),
    "topic": N_("This link names no urgent action we know. You can sign up for all "
                "urgent actions."),
}
ZONE_NEEDED: Final = N_("Your country has several timezones: choose yours.")
DOMAIN_FIELDS: Final = {"invalid_email": "email", "not_single_line": "name",
                        "invalid_language": "locale", "invalid_country": "country",
                        "invalid_timezone": "timezone"}


@dataclass(frozen=True)
class Topic:
    """The case a sign-up from an action's or a case's page asks for, and its title."""

    case_id: str
    title: str
    param: tuple[str, str]
    """The query parameter that named it: ("action", id) or ("case", id)."""


@blueprint.get("/join")
def form() -> Response:
    """The empty form, in the visitor's language, about the action or case named."""
    locale = request_locale()
    topic, unknown = _topic(locale)
    faults = {"topic": FAULTS["topic"]} if unknown else {}
    return _form(locale, topic, {"locale": locale, "receive": "case"}, faults, 200)


@blueprint.post("/join")
def join() -> ResponseBase:
    """Record the sign-up and show "check your inbox"; or the form again, faults named."""
    locale = request_locale()
    topic, unknown = _topic(locale)
    values = {name: request.form.get(name, "").strip()
              for name in ("email", "name", "locale", "country", "timezone", "consent",
                           "receive")}
    faults = {"topic": FAULTS["topic"]} if unknown else _faults(values)
    if not faults:
        faults = _sign_up(values, topic)
    if faults:
        return _form(locale, topic, values, faults, 422)
    return redirect(url_for("join_page.sent", lang=locale), code=303)


@blueprint.get("/join/sent")
def sent() -> Response:
    """Check your inbox: the same words for a new, a waiting and a known address."""
    return render_page("pages/join_sent.html", request_locale())


@blueprint.errorhandler(TooManyRequests)
def too_many(exc: TooManyRequests) -> Response:
    """The sign-up limits, as a page: the person can read it and try later."""
    return page(429, N_("Too many sign-ups"),
                N_("Too many sign-ups came from your network or from everyone just now. "
                   "Please try again in a few minutes."))


def _faults(values: dict[str, str]) -> dict[str, str]:
    """Each field's fault, checked as the API checks a sign-up; a missing timezone is the
    country's one zone when it has only one."""
    if not values["timezone"] and (zone := country_zone(values["country"])):
        values["timezone"] = zone
    checked = {k: values[k] for k in ("email", "name", "locale", "country", "timezone")}
    faults = {field: FAULTS[field] for field in SignUpSchema().validate(checked)}
    if "timezone" in faults and not values["timezone"]:
        if "country" in faults:
            del faults["timezone"]  # the country's fault says it: its zone would do
        else:
            faults["timezone"] = ZONE_NEEDED
    if values["locale"] not in i18n.LOCALES:
        faults["locale"] = FAULTS["locale"]
    if values["consent"] != "yes":
        faults["consent"] = FAULTS["consent"]
    return faults


def _sign_up(values: dict[str, str], topic: Topic | None) -> dict[str, str]:
    """Record the request (as the API does); a rule the domain still refuses is the field's."""
    only_case = topic is not None and values["receive"] != "all"
    form = Registration(
        email=values["email"], name=values["name"], locale=values["locale"],
        country=values["country"], timezone=values["timezone"], all_actions=not only_case,
        case_ids=(topic.case_id,) if only_case and topic else ())
    meta = Meta(actor="public", correlation_id=correlation_id())
    try:
        request_sign_up(container().commands, form, meta, utc_now())
    except DomainError as exc:
        field = DOMAIN_FIELDS.get(exc.code, "email")
        return {field: FAULTS[field]}
    return {}


def _topic(locale: str) -> tuple[Topic | None, bool]:
    """The case named by `?action=` or `?case=`, and whether a name was given but unknown;
    its action's title in `locale` when the action has a translation in it."""
    action_id, case_id = request.args.get("action", ""), request.args.get("case", "")
    if not action_id and not case_id:
        return None, False
    if max(len(action_id), len(case_id)) > MAX_ID:
        return None, True  # no id of ours is that long: not worth a query
    c = actions.c
    query = select(c.action_id, c.case_id, c.document).where(c.status.in_(PUBLIC))
    if action_id:
        query = query.where(c.action_id == action_id)
    else:
        query = query.where(c.case_id == case_id).order_by(
            c.issued_on.desc(), c.update_number.desc(), c.action_id).limit(1)
    with container().engine.connect() as conn:
        row = conn.execute(query).first()
        if row is None:
            return None, True
        document, _ = in_language(conn, row.action_id, row.document, locale)
    param = ("action", action_id) if action_id else ("case", case_id)
    return Topic(row.case_id, document["title"], param), False


def _form(locale: str, topic: Topic | None, values: dict[str, str], faults: dict[str, str],
          status: int) -> Response:
    kept = dict([topic.param]) if topic else {}
    base = url_for("join_page.form")
    return render_page(
        "pages/join.html", locale, status, values=values, faults=faults, topic=topic,
        post_url=f"{url_for('join_page.join')}?{urlencode({'lang': locale, **kept})}",
        switch=language_links(lambda tag: f"{base}?{urlencode({'lang': tag, **kept})}"),
        languages=languages(), countries=countries(locale), timezones=timezones(locale))


