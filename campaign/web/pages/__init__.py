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
`<html lang dir>` says which it is (`templates/pages/base.html`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, render_template_string

from campaign.application.access import Purpose
from campaign.application.commands import Meta
from campaign.application.errors import AuthError
from campaign.infra import i18n
from campaign.web.context import container, correlation_id

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="{{ url_for('static', filename='pages.css') }}"></head>
<body class="short">
<h1>{{ title }}</h1><p>{{ message }}</p>
{% if button %}<form method="post">{% for name, value in fields %}<input type="hidden"
name="{{ name }}" value="{{ value }}">{% endfor %}
<button type="submit">{{ button }}</button></form>{% endif %}
</body></html>"""


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
         fields: tuple[tuple[str, str], ...] = ()) -> Response:
    """A page with a title, a message and, optionally, a form with one button."""
    body = render_template_string(PAGE, title=title, message=message, button=button,
                                  fields=fields)
    return Response(body, status=status, mimetype="text/html")


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
