"""Languages: the shipped catalogues, and dates, numbers and names as each locale says them.

Babel is used directly, the same way for e-mails (rendered in workers, without Flask) and
for supporter pages. Templates use Jinja's `jinja2.ext.i18n`; each rendering passes the
callables of `gettext_context(locale, domain)`, so one shared Jinja environment serves
every language at once (nothing is installed globally per request or per batch).

Catalogues live in `campaign/translations/<locale>/LC_MESSAGES/<domain>.po`, one domain for
e-mails (`mail`) and one for pages (`pages`); `make translations` compiles them to `.mo`.
English is the source language: its text is the message ids themselves.

An e-mail or a page is in one language only; `negotiate` picks which shipped locale a
person's language tag maps to, and `direction` says whether it is written right to left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_datetime_format, get_timezone_name
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

LOCALES: Final = ("en", "es", "fr", "ar", "ru", "ky")
"""The locales every e-mail and page is shipped complete in; English is the source."""
SOURCE_LOCALE: Final = "en"
DOMAINS: Final = ("mail", "pages")
TRANSLATIONS_DIR: Final = Path(__file__).resolve().parents[1] / "translations"

_FORMATTING: Final = {"en": "en_GB"}
"""Dates as the networks write them: "20 January 2027", not "January 20, 2027"."""

Direction = Literal["ltr", "rtl"]


class CatalogueMissing(RuntimeError):
    """A shipped locale's compiled catalogue is absent: `make translations` was not run."""


def negotiate(tag: str | None) -> str:
    """The shipped locale for a language tag ("ru-KG" → "ru", "de" → "en")."""
    language = (tag or "").replace("_", "-").split("-")[0].lower()
    return language if language in LOCALES else SOURCE_LOCALE


def direction(locale: str) -> Direction:
    """"rtl" for a language written right to left (Arabic), else "ltr"."""
    return "rtl" if _locale(locale).character_order == "right-to-left" else "ltr"


@cache
def translations(locale: str, domain: str) -> NullTranslations:
    """The compiled catalogue of `domain` in `locale` (the message ids for English).

    Raises CatalogueMissing rather than falling back to English in silence.
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown message domain {domain!r}")
    if negotiate(locale) != locale:
        raise ValueError(f"not a shipped locale: {locale!r}")
    if locale == SOURCE_LOCALE:
        return NullTranslations()
    compiled = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{domain}.mo"
    if not compiled.is_file():
        raise CatalogueMissing(f"{compiled} is missing: run `make translations`")
    with compiled.open("rb") as file:
        return Translations(file, domain=domain)


def gettext_context(locale: str, domain: str) -> dict[str, Callable[..., str]]:
    """`gettext` and `ngettext` for one rendering, as Jinja's i18n extension calls them.

    They behave as the extension's "new style" callables: variables are passed as keyword
    arguments and interpolated after translation, escaped when the template autoescapes.
    """
    catalogue = translations(locale, domain)

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        return _interpolate(context, catalogue.gettext(message), variables)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, count: int,
                 **variables: Any) -> str:
        variables.setdefault("num", count)
        return _interpolate(context, catalogue.ngettext(singular, plural, count), variables)

    return {"gettext": gettext, "ngettext": ngettext}


def _interpolate(context: Context, text: str, variables: dict[str, Any]) -> str:
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables if variables else text


def language_name(tag: str, locale: str) -> str:
    """A language's name in the reader's language ("ky" read in Russian: "киргизский")."""
    try:
        name = Locale.parse(tag.replace("-", "_")).get_display_name(_format_locale(locale))
    except (UnknownLocaleError, ValueError):
        return tag
    return name or tag


def or_list(items: Iterable[str], locale: str) -> str:
    """"Russian, Kyrgyz or English", joined as the reader's language joins alternatives."""
    return format_list(list(items), style="or", locale=_format_locale(locale))


def day(value: date, locale: str) -> str:
    """A calendar date as the reader writes it: "27 October 2010", "27 октября 2010 г."."""
    return format_date(value, format="long", locale=_format_locale(locale))


def number(value: int | float, locale: str) -> str:
    """A count with the reader's digit grouping: "1,200", "1 200"."""
    return format_decimal(value, locale=_format_locale(locale))


def moment(at: datetime, timezone: str, locale: str) -> str:
    """An instant on the reader's clock, with their zone named.

    Raises OverflowError or ValueError when the zone cannot show the instant (a moment at
    the edge of the calendar); callers decide what the reader sees instead.
    """
    local = at.astimezone(ZoneInfo(timezone))
    where = _format_locale(locale)
    pattern = get_datetime_format("long", locale=where)
    text = str(pattern).replace("{1}", format_date(local, format="long", locale=where))
    text = text.replace("{0}", format_time(local, format="short", locale=where))
    return f"{text} ({get_timezone_name(local, locale=where)})"


def deadline_phrase(deadline_on: date, deadline_time: time | None, action_timezone: str,
                    reader_timezone: str, locale: str) -> str:
    """The deadline as people say it: the date alone when the action gives no time (it is
    the same day everywhere the action is read); with a time, that moment on the reader's
    clock with the zone named."""
    if deadline_time is None:
        return day(deadline_on, locale)
    at = datetime.combine(deadline_on, deadline_time, tzinfo=ZoneInfo(action_timezone))
    return moment(at, reader_timezone, locale)


def _format_locale(locale: str) -> str:
    return _FORMATTING.get(locale, locale)


@cache
def _locale(locale: str) -> Locale:
    return Locale.parse(_format_locale(locale))
