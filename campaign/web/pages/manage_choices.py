"""The lists a supporter picks from on a page: languages, countries and timezones.

People choose from lists named in their own language rather than typing codes: countries
by their name in the page's language ("Кыргызстан" on a Kyrgyz page), languages each in
its own ("Español", "Русский"), so someone who cannot read the page can still find theirs.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import NamedTuple
from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
from babel.dates import get_timezone, get_timezone_location

from campaign.domain.countries import ISO_3166_ALPHA_2
from campaign.infra import i18n
from campaign.web.pages.messages import N_

ZONE_AREAS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
              "Europe", "Indian", "Pacific")
"""The IANA areas of present-day places; the rest are aliases kept for old systems
("US/Eastern", "EST5EDT"), which a list for people only makes longer."""
AREA_NAMES = {"Africa": N_("Africa"), "America": N_("America"),
              "Antarctica": N_("Antarctica"), "Arctic": N_("Arctic"), "Asia": N_("Asia"),
              "Atlantic": N_("Atlantic Ocean"), "Australia": N_("Australia"),
              "Europe": N_("Europe"), "Indian": N_("Indian Ocean"), "Pacific": N_("Pacific Ocean")}
"""What the timezone list's groups are called, translated by the page."""


class Choice(NamedTuple):
    """One option of a select: the value the form sends and what the reader sees."""

    value: str
    label: str


def languages(current: str | None = None) -> list[Choice]:
    """The shipped locales, each named in itself; `current` too when it is not one of them
    (someone who signed up in German keeps German until they choose another)."""
    tags = list(i18n.LOCALES)
    if current and current not in tags:
        tags.append(current)
    return [Choice(tag, _capitalised(i18n.language_name(tag, tag) if tag in i18n.LOCALES
                                     else _own_name(tag)))
            for tag in tags]


def countries(locale: str) -> list[Choice]:
    """Every assigned country, named and ordered as the reader's language has it."""
    return list(_countries(locale))


def country_name(code: str, locale: str) -> str:
    """A country's name in the reader's language, or its code when Babel has none."""
    return dict(_countries(locale)).get(code, code)


def timezones(locale: str, current: str | None = None) -> list[tuple[str, list[Choice]]]:
    """IANA zones of present-day places by area (the area's English name, which the page
    translates; "" for UTC and for `current` if it is an old alias), each labelled with its
    city in the reader's language and its IANA name."""
    grouped = dict(_zones(locale))
    if current and not any(current == zone.value for zones in grouped.values()
                           for zone in zones):
        grouped[""] = [*grouped.get("", []), Choice(current, current)]
    return [(area, grouped[area]) for area in ("", *ZONE_AREAS) if area in grouped]


@cache
def _countries(locale: str) -> tuple[Choice, ...]:
    names = Locale.parse(_babel(locale)).territories
    found = [Choice(code, names.get(code, code)) for code in ISO_3166_ALPHA_2]
    return tuple(sorted(found, key=lambda choice: _sort_key(choice.label)))


@cache
def _zones(locale: str) -> tuple[tuple[str, list[Choice]], ...]:
    grouped: dict[str, list[Choice]] = {"": [Choice("UTC", "UTC")]}
    for zone in available_timezones():
        area = zone.split("/")[0]
        if area in ZONE_AREAS:
            city = get_timezone_location(get_timezone(zone), _babel(locale), return_city=True)
            grouped.setdefault(area, []).append(Choice(zone, f"{city} ({zone})"))
    return tuple((area, sorted(zones, key=lambda z: _sort_key(z.label)))
                 for area, zones in grouped.items())


def _own_name(tag: str) -> str:
    """A language not shipped, named in itself when Babel knows it ("de" → "Deutsch")."""
    try:
        return Locale.parse(tag.replace("-", "_")).get_display_name() or tag
    except (UnknownLocaleError, ValueError):
        return tag


def _babel(locale: str) -> str:
    """Babel's locale for a shipped one: British English, as campaign.infra.i18n formats."""
    return "en_GB" if locale == "en" else locale


def _sort_key(label: str) -> str:
    """Accents and case aside, as a reader looks names up ("Österreich" near "Oman")."""
    plain = unicodedata.normalize("NFKD", label)
    return "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]
