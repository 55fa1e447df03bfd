"""The few plain HTML pages supporters reach from links in their e-mail.

A link opened in a browser shows a page with one button; only the button's POST acts.
Mail scanners GET every URL in a message, and must not confirm or unsubscribe anyone.

These URLs carry the link's token, so their responses tell browsers to send no Referer
(a link followed from the page, or a resource it loads, must not learn the token), and
the request logs show them redacted (campaign.web.redaction).

Pages carry no inline style or script: their one stylesheet is /static/pages.css, and
campaign.web.headers sends the Content-Security-Policy that holds them to it.

A page is in one language, the language of what it shows (`render_page`): its strings come
from the `pages` catalogue of that locale, its dates and numbers are formatted for it, and
`<html lang dir>` says which it is (`templates/pages/base.html`). A page about a supporter
speaks their language (`supporter_locale`); a public page the one the visitor asked for
with `lang`, else the best their browser accepts (`request_locale`). A page that only tells
something, a title and a sentence with at most one button, is `page`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from sqlalchemy import select

from campaign.application.access import Purpose
from campaign.application.commands import Meta
from campaign.application.errors import AuthError
from campaign.infra import i18n
from campaign.infra.tables import supporters
from campaign.web.context import container, correlation_id


def N_(message: str) -> str:  # noqa: N802 (gettext's name for it)
    """Mark `message` for the `pages` catalogue; `page` translates it when it renders."""
    return message


def locale_context(locale: str) -> dict[str, Any]:
    """What every page template needs to speak `locale`: its gettext callables, `lang` and
    `dir`, and formatters bound to it (`day`, `number`, `language_name`, `or_list`)."""
    return {
        **i18n.gettext_context(locale, "pages"),
        "lang": locale, "dir": i18n.direction(locale),
        "day": lambda value: i18n.day(value, locale),
        "number": lambda value: i18n.number(value, locale),
        "language_name": lambda tag: i18n.language_name(tag, locale),
        "or_list": lambda items: i18n.or_list(items, locale),
    }


def render_page(template: str, locale: str, status: int = 200, **context: Any) -> Response:
    """`template` rendered wholly in `locale` (a shipped one: see `i18n.negotiate`)."""
    body = render_template(template, **locale_context(locale), **context)
    return Response(body, status=status, mimetype="text/html")


def page(status: int, title: str, message: str, button: str | None = None,
         fields: tuple[tuple[str, str], ...] = (), locale: str | None = None,
         target: str | None = None) -> Response:
    """A page with a title, a message and, optionally, a form with one button.

    `title`, `message` and `button` are English message ids of the `pages` catalogue (mark
    them with `N_`), shown in `locale`; text the catalogue does not hold is shown as given.
    Without `locale`, the page speaks the visitor's language (`request_locale`) if that
    catalogue holds all three, else English: a page never mixes two languages. The form
    posts `fields` to `target`, by default to the page's own URL.
    """
    if locale is None:
        locale = request_locale()
        if not all(_translates(locale, text) for text in (title, message, button) if text):
            locale = i18n.SOURCE_LOCALE
    catalogue = i18n.translations(locale, "pages")

    def translated(text: str) -> str:
        return catalogue.gettext(text) if text else text  # "" would read the header

    return render_page("pages/message.html", locale, status, title=translated(title),
                       message=translated(message),
                       button=translated(button) if button else None,
                       fields=fields, target=target)


def _translates(locale: str, text: str) -> bool:
    """True if the `pages` catalogue of `locale` has its own words for `text`."""
    return locale == i18n.SOURCE_LOCALE or i18n.translations(locale, "pages").gettext(
        text) != text


def request_locale() -> str:
    """The language a visitor asked for with `lang` (a shipped one; in the query, or a form
    field), else the first their browser accepts (by preference: "ky-KG, ru" is Kyrgyz),
    else English."""
    for tag in (request.values.get("lang", ""), *request.accept_languages.values()):
        language = tag.replace("_", "-").split("-")[0].lower()
        if language in i18n.LOCALES:
            return language
    return i18n.SOURCE_LOCALE


def supporter_locale(supporter_id: str) -> str:
    """The shipped locale closest to the supporter's language; the visitor's once the
    supporter is erased (their language is forgotten with the rest)."""
    with container().engine.connect() as conn:
        tag = conn.execute(select(supporters.c.locale).where(
            supporters.c.supporter_id == supporter_id)).scalar_one_or_none()
    return i18n.negotiate(tag) if tag else request_locale()


def link_subject(purpose: Purpose, token: str) -> str | None:
    """The supporter a signed link of `purpose` names; None if forged, expired, another
    purpose's, or the supporter was erased."""
    try:
        with container().engine.connect() as conn:
            return container().links.holder(conn, purpose, token)
    except AuthError:
        return None


def action_link_subject(token: str, action_id: str) -> str | None:
    """The supporter an action e-mail's link names, if it is valid and for `action_id`."""
    try:
        with container().engine.connect() as conn:
            link = container().links.action_holder(conn, token)
    except AuthError:
        return None
    return link.supporter_id if link.action_id == action_id else None


def keep_link_private(blueprint: Blueprint) -> Blueprint:
    """Every response of `blueprint` asks browsers to send no Referer: its URLs hold tokens."""

    @blueprint.after_request
    def no_referrer(response: Response) -> Response:
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return blueprint


def supporter_meta(supporter_id: str) -> Meta:
    """Event metadata for what a supporter did through one of these pages."""
    return Meta(actor=f"supporter:{supporter_id}", correlation_id=correlation_id())
