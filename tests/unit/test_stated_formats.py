"""The spec's patterns accept exactly what the server's checks accept, character by character.

A pattern that takes less than its check makes a fuzzer (or a client) think valid text is
invalid; one that takes more lets the spec promise what the server refuses with a 422.
Every code point of the Basic Multilingual Plane (where every control, separator and space
is) and a sample of the others is tried alone, between letters, and after spaces (blank
text), except the lone surrogates JSON text cannot carry (ApiSchema refuses them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import marshmallow as ma
import pytest

from campaign.web.api import formats

CODE_POINTS = [chr(n) for n in [*range(0x10000), *range(0x10000, 0x110000, 251)]
               if not 0xD800 <= n <= 0xDFFF]
STATED = {
    "single line": formats.single_line_text(),
    "visible single line": formats.single_line_text(visible=True),
    "plain text": formats.plain_text(),
    "visible plain text": formats.plain_text(visible=True),
}


def texts() -> Iterator[str]:
    for ch in CODE_POINTS:
        yield ch
        yield f"a{ch}b"
        yield f"  {ch}"


def server_takes(validator: formats.Stated, text: str) -> bool:
    try:
        validator(text)
    except ma.ValidationError:
        return False
    return True


@pytest.mark.parametrize("name", STATED)
def test_each_text_pattern_accepts_exactly_what_its_domain_check_accepts(name: str) -> None:
    validator = STATED[name]
    pattern = re.compile(validator.regex.pattern)

    disagree = [text for text in texts()
                if bool(pattern.fullmatch(text)) != server_takes(validator, text)]

    assert disagree[:10] == []


def test_the_language_pattern_is_the_domain_rule() -> None:
    samples = ["en", "pt-BR", "zh-Hant-TW", "es-419", "EN", "pt-br", "en-", "e", "abcd",
               "sr-Latn", "sr-latn", "en-US-x", "en\n", ""]
    pattern = re.compile(formats.LANGUAGE.regex.pattern)

    assert [bool(pattern.fullmatch(s)) for s in samples] == [
        server_takes(formats.LANGUAGE, s) for s in samples]


def test_every_country_and_timezone_the_spec_lists_is_taken_and_nothing_else() -> None:
    assert all(server_takes(formats.COUNTRY, code) for code in formats.COUNTRY.choices)
    assert all(server_takes(formats.TIMEZONE, zone) for zone in formats.TIMEZONE.choices)
    assert not any(server_takes(formats.COUNTRY, code) for code in ("XX", "gb", "GBR", ""))
    assert not any(server_takes(formats.TIMEZONE, zone) for zone in ("Mars/Base", "", "utc "))


def test_the_locales_an_action_is_written_or_translated_in_are_the_shipped_ones_alone() -> None:
    assert formats.LOCALE.choices == ["en", "es", "fr", "ar", "ru", "ky"]
    assert all(server_takes(formats.LOCALE, tag) for tag in formats.LOCALE.choices)
    assert not any(server_takes(formats.LOCALE, tag) for tag in ("de", "RU", "ru-RU", "en ", ""))
