"""Campaign e-mails from Jinja templates: one template per kind, in every shipped locale.

An e-mail is in one language: its words come from the `mail` catalogue of the locale it
is rendered in (`i18n.negotiate` maps any tag to a shipped one, English otherwise), its
dates, numbers and language names are formatted for that locale, and the HTML part says
which language and direction it is in (`<html lang dir>`). Strings go through gettext as
`{% trans %}` blocks (trimmed, as `make messages` extracts them) or, here, marked with
`N_` and translated when a mail is rendered.

A batch shares one rendered text; what differs per person (name, links, the deadline in
their own timezone) is left as placeholders that the provider substitutes per recipient,
so a thousand people cost one request, not a thousand.

Every value is encoded for where it lands:

- Campaigner text (title, summary, targets …) is rendered into the plain text as it is;
  the HTML part is that text HTML-escaped as a whole inside `layout.html`, so the two
  parts always say the same.
- The subject is made single-line (`message.single_line`): a title with a line break
  cannot add a header. Header encoding (RFC 2047) is the mail library's or SendGrid's.
- Per-recipient values are substituted by the transport after escaping, so each slot has
  two keys: the text key (value as it is) in the text part and the HTML key (value
  HTML-escaped) in the HTML part. The HTML part is the escaped text with each text key
  swapped for its HTML key; keys use only characters escaping leaves alone.
- In a right-to-left e-mail a fax number sits between left-to-right isolate marks, and
  the HTML part gives each line the direction of its own text (`unicode-bidi: plaintext`),
  so an official's number and a Latin address line are shown as written, not reordered.
- Keys carry a random nonce drawn for each rendering (`secrets`, 128 bits), so no
  campaigner or supporter text can spell one: a title containing `-name-`, or anything
  else, arrives literally, and a name cannot expand into another recipient's link.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from functools import cached_property
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import escape

from campaign.domain.mailing import MailingKind
from campaign.domain.values import AtLocalTime, Occurrence, OnDate
from campaign.infra import i18n
from campaign.mail.message import single_line


def N_(message: str) -> str:  # noqa: N802 (the name gettext's extractors know)
    """Marks `message` for the catalogue; it is translated where the e-mail is rendered."""
    return message


SUBJECTS: dict[MailingKind, str] = {
    "action_launched": N_("URGENT ACTION %(ua)s: %(title)s"),
    "action_updated": N_("UPDATE %(update)s TO URGENT ACTION %(ua)s: %(title)s"),
    "action_closed": N_("STOP ACTION %(ua)s: please stop sending appeals"),
    "case_development": N_("News on urgent action %(ua)s: %(title)s"),
    "pledge_reminder": N_("Reminder: your appeals for urgent action %(ua)s are due soon"),
    "signup_confirmation": N_("Please confirm: urgent actions by e-mail"),
    "manage_link": N_("Your link to manage your urgent-action data"),
}
CLOSE_REASONS = {
    "released": N_("released"),
    "charges_dropped": N_("charges dropped"),
    "sentence_reduced": N_("sentence reduced"),
    "died": N_("died"),
    "no_longer_needed": N_("no longer needed"),
    "other": N_("other reason"),
}
"""Why an action was stopped, as the stop notice says it (campaign.domain.action.CloseReason)."""
OWN_LANGUAGE = N_("your own language")
"""The last of the appeal languages when the action welcomes any: "… or your own language"."""
FRIEND = N_("friend")
"""Who "Dear …," greets when the supporter gave no name."""

Slot = Literal["name", "unsubscribe_url", "confirm_url", "manage_url", "pledge_url",
               "deadline_local"]
SLOTS: tuple[Slot, ...] = ("name", "unsubscribe_url", "confirm_url", "manage_url", "pledge_url",
                           "deadline_local")
"""What differs per recipient; templates write `{{ slot.name }}` where it goes."""

_env = Environment(
    loader=PackageLoader("campaign.mail", "templates"),
    autoescape=False,  # plain text; the HTML layout escapes it as a whole
    undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=False,
    extensions=["jinja2.ext.i18n"],
)
_env.policies["ext.i18n.trimmed"] = True  # as `make messages` extracts them


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
        keys = self._keys
        found = {keys[slot][0]: value for slot, value in values.items()}
        found.update({keys[slot][1]: str(escape(value)) for slot, value in values.items()})
        return found

    @cached_property
    def _keys(self) -> dict[Slot, tuple[str, str]]:
        """Each slot's text and HTML keys, made once per rendering, not per recipient."""
        return {slot: (self.text_key(slot), self.html_key(slot)) for slot in SLOTS}


@dataclass(frozen=True)
class Rendered:
    """One mailing's subject and bodies for one template and locale, with placeholders."""

    subject: str
    text: str
    html: str
    placeholders: Placeholders
    locale: str
    """The shipped locale the e-mail is written in."""

    def substitutions(self, values: Mapping[Slot, str]) -> dict[str, str]:
        """The substitutions that put one recipient's `values` into this e-mail."""
        return self.placeholders.substitutions(values)


def render(kind: MailingKind, locale: str, context: dict[str, Any]) -> Rendered:
    """The e-mail for `kind`, wholly in the shipped locale `locale` maps to.

    `context["action"]` is the action's document for every kind but the sign-up
    confirmation and the manage link, which are about no action; `update_number`,
    `close_reason`, `close_note` and `development` (its `summary` and `occurred`) go with
    the kinds that tell them.
    """
    locale = i18n.negotiate(locale)
    placeholders = Placeholders()
    slot = {name: placeholders.text_key(name) for name in SLOTS}
    values = {**context, **_formatted(context, locale, slot)}
    text = _env.get_template(f"{kind}.txt").render(
        slot=slot, ltr=_left_to_right(locale), **values, **i18n.gettext_context(locale, "mail"))
    subject = _subject(kind, locale, values)
    html = _env.get_template("layout.html").render(
        lang=locale, dir=i18n.direction(locale), subject=escape(subject), text_body=escape(text))
    return Rendered(subject, text, placeholders.to_html(html), placeholders, locale)


def _left_to_right(locale: str) -> Callable[[str], str]:
    """How the e-mail in `locale` writes a number that reads left to right (a fax number):
    in right-to-left text, between Unicode's left-to-right isolate marks, or its digit
    groups would be shown in reverse ("44 20 68 312 996+"); elsewhere, as it is."""
    if i18n.direction(locale) != "rtl":
        return str
    return lambda value: f"\u2066{value}\u2069"


def _subject(kind: MailingKind, locale: str, values: dict[str, Any]) -> str:
    """The subject in `locale`, on one line whatever the title holds."""
    subject = i18n.translations(locale, "mail").gettext(SUBJECTS[kind])
    action = values.get("action")
    if action is not None:
        subject %= {"ua": action["ua_number"], "title": action["title"],
                    "update": values["update"]}
    return single_line(subject)


def _formatted(context: dict[str, Any], locale: str, slot: Mapping[Slot, str]
               ) -> dict[str, Any]:
    """The context's values as the reader's locale writes them."""
    action = context.get("action")
    if action is None:
        return {}
    words = i18n.translations(locale, "mail")
    timed = deadline_time(action) is not None
    reason = context.get("close_reason") or ""
    found: dict[str, Any] = {
        "languages": languages_phrase(action["languages"], action["own_language_welcome"],
                                      locale),
        "deadline_has_time": timed,
        "deadline": (slot["deadline_local"] if timed
                     else i18n.day(date.fromisoformat(action["deadline"]["on"]), locale)),
        "update": i18n.number(context.get("update_number", action.get("update_number", 0)),
                              locale),
        "close_reason": words.gettext(CLOSE_REASONS[reason]) if reason in CLOSE_REASONS
        else reason,
    }
    development = context.get("development")
    if development is not None:
        found["development"] = {"summary": development["summary"],
                                "when": occurred_phrase(development["occurred"], locale)}
    return found


def languages_phrase(languages: list[str], own_language_welcome: bool,
                     locale: str = "en") -> str:
    """The appeal languages in the reader's language, as alternatives: "Russian, Kyrgyz,
    English or your own language", "русский, киргизский, английский или ваш родной язык"."""
    locale = i18n.negotiate(locale)
    names = [i18n.language_name(tag, locale) for tag in languages]
    if own_language_welcome:
        names.append(i18n.translations(locale, "mail").gettext(OWN_LANGUAGE))
    return i18n.or_list(names, locale) if names else ""


def fallback_name(locale: str) -> str:
    """Who the greeting names when a supporter gave no name ("Dear friend,")."""
    return i18n.translations(i18n.negotiate(locale), "mail").gettext(FRIEND)


def deadline_time(action: Mapping[str, Any]) -> time | None:
    """The deadline's local wall time ("17:00" or "17:00:00"), if the action gives one."""
    raw = action["deadline"].get("time")
    return None if raw is None else time.fromisoformat(raw)


def reader_deadline(action: Mapping[str, Any], reader_timezone: str, locale: str) -> str:
    """The deadline as `i18n.deadline_phrase` says it to a reader in `reader_timezone`.

    Raises OverflowError, ValueError or ZoneInfoNotFoundError when their zone cannot show
    it (a moment at the edge of the calendar, a zone that does not exist).
    """
    deadline = action["deadline"]
    return i18n.deadline_phrase(date.fromisoformat(deadline["on"]), deadline_time(action),
                                deadline["timezone"], reader_timezone, i18n.negotiate(locale))


def occurred_phrase(occurred: Occurrence, locale: str) -> str:
    """When a development happened: its day, or its local time with the zone named."""
    if isinstance(occurred, OnDate):
        return i18n.day(occurred.on, locale)
    assert isinstance(occurred, AtLocalTime)
    try:
        return i18n.moment(occurred.local.instant(), occurred.local.timezone, locale)
    except (OverflowError, ValueError):  # at the edge of the calendar: the day still reads
        return i18n.day(occurred.day, locale)
