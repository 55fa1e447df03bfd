"""Every shipped locale has every message of every e-mail and page, and serves it.

The messages are extracted afresh from the source here (the same mapping `make messages`
uses), so a string added to a template or a page fails this test until each catalogue
translates it.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from campaign.infra import i18n

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [locale for locale in i18n.LOCALES if locale != i18n.SOURCE_LOCALE]


def extracted(domain: str) -> set[str]:
    """Message ids the source holds for `domain` (a plural's singular form stands for it)."""
    with (i18n.TRANSLATIONS_DIR / f"{domain}.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    found: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalogue(locale: str, domain: str) -> Catalog:
    path = i18n.TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as file:
        return read_po(file, locale=locale, domain=domain)


def lacking(held: Catalog, messages: set[str]) -> list[str]:
    """The `messages` that `held` does not translate (absent, empty or fuzzy)."""
    return sorted(m for m in messages if m not in held or untranslated(held[m]))


def untranslated(entry: object) -> bool:
    strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)  # type: ignore[attr-defined]
    return entry.fuzzy or not all(strings)  # type: ignore[attr-defined]


@pytest.mark.parametrize("domain", i18n.DOMAINS)
@pytest.mark.parametrize("locale", TRANSLATED)
def test_each_catalogue_translates_every_message_of_the_source(locale: str,
                                                               domain: str) -> None:
    missing = lacking(catalogue(locale, domain), extracted(domain))
    assert not missing, f"{locale}/{domain}.po lacks {len(missing)} message(s): {missing}"


@pytest.mark.parametrize("domain", i18n.DOMAINS)
@pytest.mark.parametrize("locale", TRANSLATED)
def test_each_translation_keeps_the_placeholders_of_its_message(locale: str,
                                                                domain: str) -> None:
    problems = [(entry.id, [str(e) for e in errors])
                for entry, errors in catalogue(locale, domain).check()]
    assert not problems, f"{locale}/{domain}.po: {problems}"


@pytest.mark.parametrize("domain", i18n.DOMAINS)
@pytest.mark.parametrize("locale", TRANSLATED)
def test_the_compiled_catalogue_serves_what_the_po_file_says(locale: str, domain: str) -> None:
    """A stale .mo would send yesterday's wording: `make translations` rebuilds it."""
    compiled_path = i18n.TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{domain}.mo"
    assert compiled_path.is_file(), f"{compiled_path} missing: run `make translations`"
    with compiled_path.open("rb") as file:
        compiled = {as_key(entry.id): as_key(entry.string) for entry in read_mo(file)
                    if entry.id}
    source = {as_key(entry.id): as_key(entry.string) for entry in catalogue(locale, domain)
              if entry.id and not untranslated(entry)}
    assert compiled == source


def as_key(value: object) -> object:
    """A plural's forms (a list in compiled catalogues, a tuple in .po files) as a tuple."""
    return tuple(value) if isinstance(value, list | tuple) else value


def test_a_message_missing_from_a_catalogue_is_named(tmp_path: Path) -> None:
    """The check above can fail: a catalogue without a message the source has."""
    held = Catalog(locale="ru", domain="mail")
    held.add("Held", "Есть")
    held.add("Fuzzy", "Нечётко", flags=("fuzzy",))
    assert lacking(held, {"Held", "Fuzzy", "Not yet translated"}) == [
        "Fuzzy", "Not yet translated"]


def test_plural_messages_compare_between_po_and_mo() -> None:
    held = Catalog(locale="ru", domain="pages")
    held.add(("%(num)s letter", "%(num)s letters"), ("%(num)s письмо", "%(num)s письма",
                                                     "%(num)s писем"))
    buffer = io.BytesIO()
    write_mo(buffer, held)
    buffer.seek(0)
    compiled = {as_key(e.id): as_key(e.string) for e in read_mo(buffer) if e.id}
    assert compiled == {as_key(e.id): as_key(e.string) for e in held if e.id}


def test_every_shipped_locale_has_its_direction() -> None:
    assert {locale: i18n.direction(locale) for locale in i18n.LOCALES} == {
        "en": "ltr", "es": "ltr", "fr": "ltr", "ar": "rtl", "ru": "ltr", "ky": "ltr"}
