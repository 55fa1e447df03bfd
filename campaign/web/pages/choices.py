"""What the sign-up form offers to choose from, named in the page's language.

Countries are the ISO 3166-1 codes the domain accepts, named as CLDR names them in the
reader's language. Timezones are CLDR's canonical IANA zones (one per city, so no city
shows twice), grouped by region and named after their city in the reader's language; each
lists the other IANA names of the same zone, so the page's script can find the one the
browser reports ("Asia/Calcutta" or "Asia/Kolkata"). Sorted by name, as the reader reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Final
from zoneinfo import available_timezones

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone, get_timezone_location

from campaign.domain.countries import ISO_3166_ALPHA_2
from campaign.infra import i18n
from campaign.web.pages import N_

UTC: Final = "UTC"
REGIONS: Final = {
    "Africa": N_("Africa"), "America": N_("Americas"), "Antarctica": N_("Antarctica"),
    "Arctic": N_("Arctic"), "Asia": N_("Asia"), "Atlantic": N_("Atlantic Ocean"),
    "Australia": N_("Australia"), "Europe": N_("Europe"), "Indian": N_("Indian Ocean"),
    "Pacific": N_("Pacific Ocean"),
}


@dataclass(frozen=True)
class Zone:
    """One option of the timezone select."""

    name: str
    label: str
    aliases: tuple[str, ...]


@cache
def languages() -> tuple[tuple[str, str], ...]:
    """The shipped locales, each named in its own language ("Русский", "العربية")."""
    return tuple((tag, _capitalised(i18n.language_name(tag, tag))) for tag in i18n.LOCALES)


@cache
def countries(locale: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of every country the domain accepts, by name in `locale`."""
    names = Locale.parse(_babel(locale)).territories
    found = ((code, names.get(code, code)) for code in ISO_3166_ALPHA_2)
    return tuple(sorted(found, key=lambda pair: pair[1].casefold()))


@cache
def timezones(locale: str) -> tuple[tuple[str, tuple[Zone, ...]], ...]:
    """(region label, zones) for the select, regions and zones by name in `locale`."""
    gettext = i18n.translations(locale, "pages").gettext
    grouped: dict[str, list[Zone]] = defaultdict(list)
    for name in _canonical_zones():
        city = get_timezone_location(get_timezone(name), _babel(locale), return_city=True)
        grouped[name.split("/")[0]].append(Zone(name, city, _aliases().get(name, ())))
    regions = ((gettext(REGIONS[region]),
                tuple(sorted(zones, key=lambda zone: zone.label.casefold())))
               for region, zones in grouped.items())
    return tuple(sorted(regions, key=lambda pair: pair[0].casefold()))


def country_zone(country: str) -> str | None:
    """The one timezone of `country`, if it has only one (Kyrgyzstan: "Asia/Bishkek")."""
    zones: list[str] = get_global("territory_zones").get(country, [])
    return zones[0] if len(zones) == 1 and zones[0] in available_timezones() else None


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


def _babel(locale: str) -> str:
    return "en_GB" if locale == "en" else locale


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]
