"""The lists a supporter picks from on a page: languages, countries and timezones.

People choose from lists named in their own language rather than typing codes, on the
sign-up page and on the "manage my data" page alike (`templates/pages/choices.html` draws
the selects). Languages are each named in themselves ("Español", "Русский"), so someone who
cannot read the page can still find theirs. Countries are the ISO 3166-1 codes the domain
accepts, named as CLDR names them in the reader's language. Timezones are CLDR's canonical
IANA zones (one per city, so no city shows twice), grouped by region and named after their
city in the reader's language; each lists the other IANA names of the same zone, so the
sign-up page's script finds the one the browser reports ("Asia/Calcutta" or
"Asia/Kolkata"), and the manage page marks the zone a supporter chose under an old name.
Sorted by name as the reader looks names up: accents and case aside.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Mapping
from functools import cache
from typing import Final, NamedTuple
from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import get_timezone, get_timezone_location

from campaign.domain.countries import ISO_3166_ALPHA_2
from campaign.infra import i18n
from campaign.web.pages import N_

UTC: Final = "UTC"
UTC_LABEL: Final = N_("Coordinated Universal Time (UTC)")
REGIONS: Final = {
    "Africa": N_("Africa"), "America": N_("Americas"), "Antarctica": N_("Antarctica"),
    "Arctic": N_("Arctic"), "Asia": N_("Asia"), "Atlantic": N_("Atlantic Ocean"),
    "Australia": N_("Australia"), "Europe": N_("Europe"), "Indian": N_("Indian Ocean"),
    "Pacific": N_("Pacific Ocean"),
}
"""The IANA areas of present-day places, and what their group of the list is called; the
rest are names kept for old systems ("US/Eastern", "EST5EDT"), which a list for people
only makes longer."""


class Choice(NamedTuple):
    """One option of a select: the value the form sends and what the reader sees."""

    value: str
    label: str
    aliases: tuple[str, ...] = ()
    """Other names of the same value (a timezone's old IANA names), which select it too."""


def languages(current: str | None = None) -> list[Choice]:
    """The shipped locales, each named in itself; `current` too when it is not one of them
    (someone who signed up in German keeps German until they choose another)."""
    tags = list(i18n.LOCALES)
    if current and current not in tags:
        tags.append(current)
    return [Choice(tag, _capitalised(i18n.language_name(tag, tag) if tag in i18n.LOCALES
                                     else _own_name(tag)))
            for tag in tags]


@cache
def countries(locale: str) -> tuple[Choice, ...]:
    """Every country the domain accepts, named and ordered as the reader's language has it."""
    names = Locale.parse(_babel(locale)).territories
    found = (Choice(code, names.get(code, code)) for code in ISO_3166_ALPHA_2)
    return tuple(sorted(found, key=lambda choice: _sort_key(choice.label)))


def country_name(code: str, locale: str) -> str:
    """A country's name in the reader's language, or its code when Babel has none."""
    return _country_names(locale).get(code, code)


def timezones(locale: str, current: str | None = None
              ) -> tuple[tuple[str, tuple[Choice, ...]], ...]:
    """(group label, zones) for the select: first, ungrouped (label ""), UTC and `current`
    when no option stands for it (a zone kept for old systems, "EST5EDT"); then the
    regions, regions and zones by name in `locale`."""
    first, *regions = _timezones(locale)
    if current and current not in _offered():
        first = ("", (*first[1], Choice(current, current)))
    return (first, *regions)


def language_links(url: Callable[[str], str]) -> list[tuple[Choice, str]]:
    """Each shipped language with `url(tag)`, the page in it, for the language links."""
    return [(choice, url(choice.value)) for choice in languages()]


def country_zone(country: str) -> str | None:
    """The one timezone of `country`, if it has only one (Kyrgyzstan: "Asia/Bishkek")."""
    zones: list[str] = get_global("territory_zones").get(country, [])
    return zones[0] if len(zones) == 1 and zones[0] in available_timezones() else None


@cache
def _country_names(locale: str) -> dict[str, str]:
    return {choice.value: choice.label for choice in countries(locale)}


@cache
def _timezones(locale: str) -> tuple[tuple[str, tuple[Choice, ...]], ...]:
    gettext = i18n.translations(locale, "pages").gettext
    grouped: dict[str, list[Choice]] = defaultdict(list)
    for name in _canonical_zones():
        city = get_timezone_location(get_timezone(name), _babel(locale), return_city=True)
        grouped[name.split("/")[0]].append(Choice(name, city, _aliases().get(name, ())))
    regions = ((gettext(REGIONS[region]), tuple(sorted(zones, key=lambda z: _sort_key(z.label))))
               for region, zones in grouped.items())
    utc = Choice(UTC, gettext(UTC_LABEL), _utc_aliases())
    return (("", (utc,)), *sorted(regions, key=lambda pair: _sort_key(pair[0])))


@cache
def _offered() -> frozenset[str]:
    """Every zone name some option stands for, under its own name or an old one."""
    names = {UTC, *_utc_aliases(), *_canonical_zones()}
    return frozenset(names.union(*_aliases().values()))


@cache
def _canonical_zones() -> tuple[str, ...]:
    zones: Mapping[str, str] = get_global("zone_territories")
    present = available_timezones()
    return tuple(sorted(z for z in zones if z.split("/")[0] in REGIONS and z in present))


@cache
def _aliases() -> dict[str, tuple[str, ...]]:
    aliases: Mapping[str, str] = get_global("zone_aliases")
    present = available_timezones()
    found: dict[str, list[str]] = defaultdict(list)
    for alias, canonical in sorted(aliases.items()):
        if alias in present:
            found[canonical].append(alias)
    return {canonical: tuple(names) for canonical, names in found.items()}


@cache
def _utc_aliases() -> tuple[str, ...]:
    """The other names of UTC ("Etc/UTC", "Zulu"), which CLDR files under "Etc/UTC"."""
    others = ("Etc/UTC", *_aliases().get("Etc/UTC", ()))
    return tuple(name for name in others if name != UTC and name in available_timezones())


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
