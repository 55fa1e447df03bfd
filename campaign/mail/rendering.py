"""Campaign e-mails from Jinja templates, per locale with English as the fallback.

A batch shares one rendered text; what differs per person (name, links, the deadline in
their own timezone) is left as placeholders that the provider substitutes per recipient,
so a thousand people cost one request, not a thousand.

Every value is encoded for where it lands:

- Campaigner text (title, summary, targets …) is rendered into the plain text as it is;
  the HTML part is that text HTML-escaped as a whole inside `layout.html`.
- The subject is made single-line (`message.single_line`): a title with a line break
  cannot add a header. Header encoding (RFC 2047) is the mail library's or SendGrid's.
- Per-recipient values are substituted by the transport after escaping, so each slot has
  two keys: the text key (value as it is) in the text part and the HTML key (value
  HTML-escaped) in the HTML part. The HTML part is the escaped text with each text key
  swapped for its HTML key; keys use only characters escaping leaves alone.
- Keys carry a random nonce drawn for each rendering (`secrets`, 128 bits), so no
  campaigner or supporter text can spell one: a title containing `-name-`, or anything
  else, arrives literally, and a name cannot expand into another recipient's link.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound
from markupsafe import escape

from campaign.domain.mailing import MailingKind
from campaign.mail.message import single_line

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

Slot = Literal["name", "unsubscribe_url", "confirm_url", "manage_url", "pledge_url",
               "deadline_local"]
SLOTS: tuple[Slot, ...] = ("name", "unsubscribe_url", "confirm_url", "manage_url", "pledge_url",
                           "deadline_local")
"""What differs per recipient; templates write `{{ slot.name }}` where it goes."""

_env = Environment(
    loader=PackageLoader("campaign.mail", "templates"),
    autoescape=False,  # plain text; the HTML layout escapes it as a whole
    undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=False,
)


@dataclass(frozen=True)
class Placeholders:
    """One rendering's substitution keys: unguessable, one for each part a value lands in."""

    nonce: str = field(default_factory=lambda: secrets.token_hex(16))

    def text_key(self, slot: Slot) -> str:
        """Where `slot` goes in the text part (and in the HTML part before `to_html`)."""
        return f"-{slot}-{self.nonce}-text-"

    def html_key(self, slot: Slot) -> str:
        """Where `slot` goes in the HTML part."""
        return f"-{slot}-{self.nonce}-html-"

    def to_html(self, escaped: str) -> str:
        """The escaped text with each text key swapped for its HTML key."""
        for slot in SLOTS:
            escaped = escaped.replace(self.text_key(slot), self.html_key(slot))
        return escaped

    def substitutions(self, values: Mapping[Slot, str]) -> dict[str, str]:
        """One recipient's substitutions: each value as it is for text, escaped for HTML."""
        found = {self.text_key(slot): value for slot, value in values.items()}
        found.update({self.html_key(slot): str(escape(value)) for slot, value in values.items()})
        return found


@dataclass(frozen=True)
class Rendered:
    """One mailing's subject and bodies for one template and locale, with placeholders."""

    subject: str
    text: str
    html: str
    placeholders: Placeholders

    def substitutions(self, values: Mapping[Slot, str]) -> dict[str, str]:
        """The substitutions that put one recipient's `values` into this e-mail."""
        return self.placeholders.substitutions(values)


def render(kind: MailingKind, locale: str, context: dict[str, Any]) -> Rendered:
    """The e-mail for `kind` in `locale` (or its language, or English).

    `context["action"]` is the action's document for every kind but the sign-up
    confirmation and the manage link, which are about no action.
    """
    placeholders = Placeholders()
    action = context.get("action")
    extra = {}
    if action is not None:
        extra["languages"] = languages_phrase(action["languages"], action["own_language_welcome"])
    slot = {name: placeholders.text_key(name) for name in SLOTS}
    text = _template(kind, locale).render(locale=locale, slot=slot, **extra, **context)
    subject = SUBJECTS[kind]
    if action is not None:
        subject = subject.format(ua=action["ua_number"], title=action["title"],
                                 update=context.get("update_number", ""))
    subject = single_line(subject)
    html = _env.get_template("layout.html").render(
        locale=locale, subject=escape(subject), text_body=escape(text))
    return Rendered(subject, text, placeholders.to_html(html), placeholders)


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
