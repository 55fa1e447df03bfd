"""Supporter pages in API tests: a response's HTML, the language it declares, and the words
it must show in a locale."""

from __future__ import annotations

import re
from typing import Any

from campaign.infra import i18n


def text(response: Any) -> str:
    """The response's body, as the page's HTML."""
    return str(response.get_data(as_text=True))


def html_lang(html: str) -> tuple[str, str]:
    """The `lang` and `dir` of the page's `<html>` element."""
    found = re.search(r'<html lang="([^"]+)" dir="([^"]+)">', html)
    assert found, html[:200]
    return found[1], found[2]


def in_(locale: str, message: str, **variables: str) -> str:
    """`message` as the `pages` catalogue of `locale` has it, as the page shows it."""
    translated = i18n.translations(locale, "pages").gettext(message)
    assert locale == "en" or translated != message, f"{locale} lacks {message!r}"
    return translated % variables if variables else translated
