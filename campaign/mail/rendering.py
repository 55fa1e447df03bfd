"""Campaign e-mails from Jinja templates, per locale with English as the fallback.

A batch shares one rendered text; what differs per person (name, links, the deadline in
their own timezone) is left as `-placeholders-` that the provider substitutes per
recipient, so a thousand people cost one request, not a thousand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound
from markupsafe import escape

from campaign.domain.mailing import MailingKind

LANGUAGE_NAMES = {
    "ar": "Arabic", "de": "German", "en": "English", "es": "Spanish", "fa": "Persian",
    "fr": "French", "it": "Italian", "ja": "Japanese", "kk": "Kazakh", "ky": "Kyrgyz",
    "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ru": "Russian", "tg": "Tajik",
    "tr": "Turkish", "uk": "Ukrainian", "uz": "Uzbek", "zh": "Chinese",
}
SUBJECTS: dict[MailingKind, str] = {
    "action_launched": "URGENT ACTION {ua}: {title}",
    "action_updated": "UPDATE {update} TO URGENT ACTION {ua}: {title}",
    "action_closed": "STOP ACTION {ua}: please stop sending appeals",
    "case_development": "News on urgent action {ua}: {title}",
    "pledge_reminder": "Reminder: your appeals for urgent action {ua} are due soon",
    "signup_confirmation": "Please confirm: urgent actions by e-mail",
    "manage_link": "Your link to manage your urgent-action data",
}

_env = Environment(
    loader=PackageLoader("campaign.mail", "templates"),
    autoescape=False,  # plain text; the HTML layout escapes it as a whole
    undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=False,
)


@dataclass(frozen=True)
class Rendered:
    """One mailing's subject and bodies for one template and locale, with placeholders."""

    subject: str
    text: str
    html: str


def render(kind: MailingKind, locale: str, context: dict[str, Any]) -> Rendered:
    """The e-mail for `kind` in `locale` (or its language, or English).

    `context["action"]` is the action's document for every kind but the sign-up
    confirmation and the manage link, which are about no action.
    """
    action = context.get("action")
    extra = {}
    if action is not None:
        extra["languages"] = languages_phrase(action["languages"], action["own_language_welcome"])
    text = _template(kind, locale).render(locale=locale, **extra, **context)
    subject = SUBJECTS[kind]
    if action is not None:
        subject = subject.format(ua=action["ua_number"], title=action["title"],
                                 update=context.get("update_number", ""))
    html = _env.get_template("layout.html").render(
        locale=locale, subject=escape(subject), text_body=escape(text))
    return Rendered(subject, text, html)


def _template(kind: MailingKind, locale: str) -> Any:
    for candidate in (locale, locale.split("-")[0], "en"):
        try:
            return _env.get_template(f"{kind}.{candidate}.txt")
        except TemplateNotFound:
            continue
    raise TemplateNotFound(f"{kind}.en.txt")


def languages_phrase(languages: list[str], own_language_welcome: bool) -> str:
    """ "Russian, Kyrgyz, English or your own language", as the action document says."""
    names = [LANGUAGE_NAMES.get(tag.split("-")[0], tag) for tag in languages]
    if own_language_welcome:
        names.append("your own language")
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def deadline_for(ends_at: datetime, timezone: str) -> str:
    """The moment appeals stop, in the reader's own timezone: "27 October 2010, 19:00"."""
    local = ends_at.astimezone(ZoneInfo(timezone))
    return f"{local.day} {local:%B %Y, %H:%M} ({timezone})"
